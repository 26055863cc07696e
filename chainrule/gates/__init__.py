"""The gates, one module per family. Importing this package declares the operations and attaches
the operators and methods (``x + y``, ``x.sum()``) to Tensor (see ``common.operation``)."""

from . import arithmetic, shape  # noqa: F401  (the stub lists operations in the order these imports declare them)
from . import (activations, compare, contractions, conv, conversion, diagonals, elementwise, exponential,  # noqa: F401
               in_place, indexing, linalg, nn_ops, padding, pooling, predicates, reduce, resample, rounding, scans,
               sorting, trigonometric)
from .activations import (celu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, relu6, selu,  # noqa: F401
                          softsign)
from .arithmetic import (Add, AddConstant, Div, Mul, Neg, Pow, PowConstant, Reciprocal, Scale, Sub, add, div,
                         mul, neg, pow, reciprocal, sub)
from .common import OPERATIONS, operation
from .compare import (all, any, argmax, argmin, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge, gt,
                      le, logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, ne)
from .contractions import Einsum, einsum
from .conversion import Clone, clone
from .diagonals import diag, diagonal, tril, triu
from .elementwise import (Abs, Cast, Clip, Cos, Elu, Erf, Exp, LeakyRelu, Log, Maximum, Minimum, Relu, Sigmoid, Sin,
                          Softplus, Sqrt, Tanh, Where, abs, cast, clamp_max, clamp_min, clip, cos, elu, erf, exp,
                          gelu, leaky_relu, lerp, log, maximum, minimum, relu, sigmoid, sin, softplus, sqrt, tanh,
                          where)
from .exponential import exp2, expm1, log1p, log2, log10, logaddexp, rsqrt
from .indexing import (gather, index_select, masked_select, one_hot, scatter, scatter_add,  # noqa: F401
                       scatter_reduce, take_along_dim)
from .linalg import MatMul, dot, matmul, outer
from .nn_ops import log_softmax, softmax
from .predicates import allclose, isclose, isfinite, isinf, isnan
from .reduce import (LogSumExp, Max, Mean, Min, Prod, RootOfSquares, Sum, amax, amin, logsumexp, max, mean, min, norm,
                     prod, std, sum, var)
from .rounding import ceil, fix, floor, floor_divide, fmod, remainder, round, sign, trunc
from .scans import cummax, cummin, cumprod, cumsum, logcumsumexp
from .shape import (BroadcastTo, Concatenate, Flip, GetItem, Pad, Permute, Repeat, Reshape, ScatterAdd, Tile,
                    broadcast_to, cat, concat, concatenate, flatten, flip, getitem, pad, permute, repeat,
                    repeat_interleave, reshape, roll, split, squeeze, stack, swapaxes, tile, transpose, unsqueeze)
from .sorting import argsort, kthvalue, median, msort, sort, topk
from .trigonometric import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh,
                            atan, atan2, atanh, cosh, sinh, tan)
