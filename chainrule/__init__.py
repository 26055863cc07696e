"""chainrule: backpropagation as it is taught and as it is used.

A computational graph of gates, each with a forward that caches what it needs and a
backward that applies the chain rule; on top of it, what it takes to train real networks.
Its names are PyTorch's, so a PyTorch program for the CPU runs with ``import chainrule as torch``.

Importing it changes nothing else in the process; ``tune_process_for_training()`` makes the
process-wide settings that speed up training, when a program asks for them.
"""

from .autograd import (Gate, detect_anomaly, enable_grad, grad, inference_mode, is_grad_enabled,  # noqa: E402
                       no_grad, set_grad_enabled)
from .gates import (abs, acos, acosh, add, all, allclose, amax, amin, any, arccos, arccosh, arcsin, arcsinh, arctan,  # noqa: E402
                    arctan2, arctanh, argmax, argmin, argsort, asin, asinh, atan, atan2, atanh, bitwise_and,
                    bitwise_not, bitwise_or, bitwise_xor, broadcast_to, cast, cat, ceil, celu, clamp_max, clamp_min,
                    clip, clone, concat, concatenate, cos, cosh, cummax, cummin, cumprod, cumsum, diag, diagonal,
                    div, dot, einsum, elu, eq, equal, erf, exp, exp2, expm1, fix, flatten, flip, floor, floor_divide,
                    fmod, gather, ge, gelu, gt, index_select, isclose, isfinite, isinf, isnan, kthvalue, le,
                    leaky_relu, lerp, log, log10, log1p, log2, log_softmax, logaddexp, logcumsumexp, logical_and,
                    logical_not, logical_or, logical_xor, logsumexp, lt, masked_fill, masked_select, matmul, max,
                    maximum, mean, median, min, minimum, msort, mul, ne, neg, norm, outer, pad, permute, pow, prod,
                    reciprocal, relu, remainder, repeat_interleave, reshape, roll, round, rsqrt, scatter,
                    scatter_add, scatter_reduce, selu, sigmoid, sign, sin, sinh, softmax, softplus, sort, split,
                    sqrt, squeeze, stack, std, sub, sum, swapaxes, take_along_dim, tan, tanh, tile, topk, transpose,
                    tril, triu, trunc, unsqueeze, var, where)
from .random import Generator, initial_seed, manual_seed  # noqa: E402
from .tensor import Tensor, tensor  # noqa: E402
from .devices import device  # noqa: E402
from .dtypes import (double, dtype, finfo, float16, float32, float64, get_default_dtype, half, iinfo,  # noqa: E402
                     int8, int16, int32, int64, is_floating_point, is_tensor, long, set_default_dtype, short, uint8)
from .factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,  # noqa: E402
                        linspace, multinomial, ones, ones_like, rand, rand_like, randint, randint_like, randn,
                        randn_like, randperm, zeros, zeros_like)

clamp = clip

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it from here)

from .check import GradcheckError, gradcheck, gradgradcheck, max_relative_error  # noqa: E402

from . import cuda, functional, nn, optim, data, utils, viz  # noqa: E402
from .io import load, save  # noqa: E402
from .tuning import ProcessTuning, tune_process_for_training  # noqa: E402
from .viz import explain, practice  # noqa: E402

# PyTorch's dtype names that are also Python's own: attributes (chainrule.float, chainrule.int, chainrule.bool),
# but kept out of __all__ so that `from chainrule import *` leaves the builtins alone.
from .dtypes import bool, float, int  # noqa: E402,A004

__all__ = [
    "Gate", "Tensor", "tensor", "grad", "no_grad", "enable_grad", "inference_mode", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "manual_seed", "initial_seed", "Generator",
    "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "bitwise_and", "bitwise_not", "bitwise_or",
    "bitwise_xor",
    "broadcast_to", "cast", "cat", "clamp", "clip", "clone", "concat", "concatenate", "cos", "div", "dot", "elu",
    "eq", "equal", "erf", "exp", "flatten", "flip", "ge", "gelu", "gt", "le", "leaky_relu", "log", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "lt", "masked_fill", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "norm", "outer", "pad", "permute", "pow", "prod",
    "reciprocal", "relu", "repeat_interleave", "reshape", "sigmoid", "sin", "softmax", "softplus", "split", "sqrt",
    "squeeze", "stack", "std", "sub", "sum", "swapaxes", "tanh", "tile", "transpose", "unsqueeze", "var", "where",
    "dtype", "float32", "float64", "float16", "double", "half", "int64", "long", "int32", "int16", "short", "int8",
    "uint8", "finfo", "iinfo", "get_default_dtype", "set_default_dtype", "is_floating_point", "is_tensor",
    "device", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "rand", "randn", "randint", "randperm",
    "multinomial", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
    "from_numpy", "as_tensor",
    # rounding, powers, logarithms, trigonometry, activations, tests
    "floor", "ceil", "round", "trunc", "fix", "sign", "remainder", "fmod", "floor_divide",
    "rsqrt", "log2", "log10", "exp2", "expm1", "log1p", "logaddexp",
    "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
    "selu", "celu", "lerp", "clamp_min", "clamp_max", "isnan", "isinf", "isfinite", "isclose", "allclose",
    # indexing, scans, order statistics, matrices, einsum
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "masked_select", "take_along_dim",
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp",
    "sort", "argsort", "msort", "topk", "kthvalue", "median", 
    "tril", "triu", "diagonal", "diag", "roll", "einsum",
    "GradcheckError", "gradcheck", "gradgradcheck", "max_relative_error",
    "cuda", "functional", "nn", "optim", "data", "utils", "viz", "load", "save", "explain", "practice", "__version__",
    "ProcessTuning", "tune_process_for_training",
]
