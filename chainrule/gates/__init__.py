"""The gates, one module per family. Importing this package declares the operations and attaches
the operators and methods (``x + y``, ``x.sum()``) to Tensor (see ``common.operation``)."""

from . import arithmetic, shape  # noqa: F401  (the stub lists operations in the order these imports declare them)
from . import compare, conv, conversion, elementwise, in_place, linalg, nn_ops, padding, pooling, reduce  # noqa: F401
from . import resample  # noqa: F401
from .arithmetic import (Add, AddConstant, Div, Mul, Neg, Pow, PowConstant, Reciprocal, Scale, Sub, add, div,
                         mul, neg, pow, reciprocal, sub)
from .common import OPERATIONS, operation
from .compare import (all, any, argmax, argmin, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge, gt,
                      le, logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, ne)
from .conversion import Clone, clone
from .elementwise import (Abs, Cast, Clip, Cos, Elu, Erf, Exp, LeakyRelu, Log, Maximum, Minimum, Relu, Sigmoid, Sin,
                          Softplus, Sqrt, Tanh, Where, abs, cast, clip, cos, elu, erf, exp, gelu, leaky_relu, log,
                          maximum, minimum, relu, sigmoid, sin, softplus, sqrt, tanh, where)
from .linalg import MatMul, dot, matmul, outer
from .nn_ops import log_softmax, softmax
from .reduce import (LogSumExp, Max, Mean, Min, Prod, RootOfSquares, Sum, amax, amin, logsumexp, max, mean, min, norm,
                     prod, std, sum, var)
from .shape import (BroadcastTo, Concatenate, Flip, GetItem, Pad, Permute, Repeat, Reshape, ScatterAdd, Tile,
                    broadcast_to, cat, concat, concatenate, flatten, flip, getitem, pad, permute, repeat,
                    repeat_interleave, reshape, split, squeeze, stack, swapaxes, tile, transpose, unsqueeze)
