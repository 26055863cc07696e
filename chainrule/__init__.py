"""chainrule: backpropagation as it is taught and as it is used.

A computational graph of gates, each with a forward that caches what it needs and a
backward that applies the chain rule; on top of it, what it takes to train real networks.
"""

from . import collector, memory

memory.keep_freed_memory(memory.keep_from_environment())
collector.collect_less_often(collector.threshold_from_environment())

from .autograd import Gate, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad  # noqa: E402
from .gates import (abs, acos, acosh, add, allclose, amax, amin, arccos, arccosh, arcsin, arcsinh, arctan,  # noqa: E402
                    arctan2, arctanh, argsort, asin, asinh, atan, atan2, atanh, broadcast_to, cast, cat, ceil, celu,
                    clamp_max, clamp_min, clip, concat, concatenate, cos, cosh, cummax, cummin, cumprod, cumsum, diag,
                    diagonal, div, dot, einsum, elu, erf, exp, exp2, expm1, fix, flatten, flip, floor, floor_divide,
                    fmod, gather, gelu, index_select, isclose, isfinite, isinf, isnan, kthvalue, leaky_relu, lerp,
                    log, log1p, log2, log10, log_softmax, logaddexp, logcumsumexp, logsumexp, masked_select, matmul,
                    max, maximum, mean, median, min, minimum, msort, mul, neg, norm, outer, pad, permute, pow, prod,
                    reciprocal, relu, remainder, repeat_interleave, reshape, roll, round, rsqrt, scatter,
                    scatter_add, scatter_reduce, selu, sigmoid, sign, sin, sinh, softmax, softplus, sort, split,
                    sqrt, squeeze, stack, std, sub, sum, swapaxes, take_along_dim, tan, tanh, tile, topk, transpose,
                    tril, triu, trunc, unsqueeze, var, where)
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
    # rounding, powers, logarithms, trigonometry, activations, tests
    "floor", "ceil", "round", "trunc", "fix", "sign", "remainder", "fmod", "floor_divide",
    "rsqrt", "log2", "log10", "exp2", "expm1", "log1p", "logaddexp",
    "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
    "selu", "celu", "lerp", "clamp_min", "clamp_max", "isnan", "isinf", "isfinite", "isclose", "allclose",
    # indexing, scans, order statistics, matrices, einsum
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "masked_select", "take_along_dim",
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp",
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "amax", "amin",
    "tril", "triu", "diagonal", "diag", "roll", "einsum",
    "GradcheckError", "gradcheck", "gradgradcheck", "max_relative_error",
    "functional", "nn", "optim", "data", "viz", "load", "save", "explain", "practice", "__version__",
]
