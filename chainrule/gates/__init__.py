"""The gates, one module per family. Importing this package attaches the operators and
methods (``x + y``, ``x.sum()``) to Tensor."""

from . import arithmetic, elementwise, linalg, reduce, shape  # noqa: F401
from .arithmetic import (Add, AddConstant, Div, Mul, Neg, Pow, PowConstant, Reciprocal, Scale, Sub, add, div,
                         mul, neg, pow, reciprocal, sub)
from .elementwise import (Abs, Cast, Clip, Cos, Elu, Erf, Exp, LeakyRelu, Log, Maximum, Minimum, Relu, Sigmoid, Sin,
                          Softplus, Sqrt, Tanh, Where, abs, cast, clip, cos, elu, erf, exp, gelu, leaky_relu, log,
                          maximum, minimum, relu, sigmoid, sin, softplus, sqrt, tanh, where)
from .linalg import MatMul, dot, matmul, outer
from .reduce import LogSumExp, Max, Mean, Min, Prod, Sum, logsumexp, max, mean, min, norm, prod, std, sum, var
from .shape import (BroadcastTo, Concatenate, Flip, GetItem, Pad, Permute, Repeat, Reshape, ScatterAdd, Tile,
                    broadcast_to, concatenate, flatten, flip, getitem, pad, repeat, reshape, split, squeeze, stack,
                    swapaxes, tile, transpose, unsqueeze)
