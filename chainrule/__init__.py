"""chainrule: backpropagation as it is taught and as it is used.

A computational graph of gates, each with a forward that caches what it needs and a
backward that applies the chain rule; on top of it, what it takes to train real networks.
"""

from . import collector, memory

memory.keep_freed_memory(memory.keep_from_environment())
collector.collect_less_often(collector.threshold_from_environment())

from .autograd import Gate, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad  # noqa: E402
from .gates import (abs, add, broadcast_to, cast, cat, clip, concat, concatenate, cos, div, dot, elu, erf, exp,
                    flatten, flip, gelu, leaky_relu, log, log_softmax, logsumexp, matmul, max, maximum, mean, min,
                    minimum, mul, neg, norm, outer, pad, permute, pow, prod, reciprocal, relu, repeat_interleave,
                    reshape, sigmoid, sin, softmax, softplus, split, sqrt, squeeze, stack, std, sub, sum, swapaxes,
                    tanh, tile, transpose, unsqueeze, var, where)
from .random import manual_seed
from .tensor import Tensor, tensor

clamp = clip

__version__ = "0.1.0"

from .check import GradcheckError, gradcheck, gradgradcheck, max_relative_error  # noqa: E402

from . import functional, nn, optim, data, viz  # noqa: E402
from .io import load, save  # noqa: E402
from .viz import explain, practice  # noqa: E402

__all__ = [
    "Gate", "Tensor", "tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "manual_seed",
    "abs", "add", "broadcast_to", "cast", "cat", "clamp", "clip", "concat", "concatenate", "cos", "div", "dot", "elu",
    "erf", "exp", "flatten", "flip", "gelu", "leaky_relu", "log", "log_softmax", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "neg", "norm", "outer", "pad", "permute", "pow", "prod",
    "reciprocal", "relu", "repeat_interleave", "reshape", "sigmoid", "sin", "softmax", "softplus", "split", "sqrt",
    "squeeze", "stack", "std", "sub", "sum", "swapaxes", "tanh", "tile", "transpose", "unsqueeze", "var", "where",
    "GradcheckError", "gradcheck", "gradgradcheck", "max_relative_error",
    "functional", "nn", "optim", "data", "viz", "load", "save", "explain", "practice", "__version__",
]
