"""Exponentials and logarithms beyond e^x and ln x: bases 2 and 10, the accurate forms near 0 (expm1,
log1p), rsqrt and logaddexp.

At the singular points the values and gradients are IEEE's, as in PyTorch: rsqrt(0) = inf with
gradient -inf, log2(0) = -inf with gradient inf, log1p(-1) = -inf with gradient inf. Outside a domain
(log of a negative) the result is NaN. NumPy's divide-by-zero and invalid-value warnings are silenced
there, since the infinities and NaNs are the answer, as IEEE arithmetic and PyTorch give it.
"""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from . import common
from .common import floating, operands, operation, sum_to

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


class Rsqrt(Gate):
    derivative = "d/dx x^(-1/2) = -x^(-3/2)/2"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return 1 / xp.sqrt(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * -0.5 * out * out * out


class Log2(Gate):
    derivative = "d/dx log2(x) = 1/(x ln 2)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log2(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return grad / (x * _LN2)


class Log10(Gate):
    derivative = "d/dx log10(x) = 1/(x ln 10)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log10(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return grad / (x * _LN10)


class Exp2(Gate):
    derivative = "d/dx 2^x = 2^x ln 2"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.exp2(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * out * _LN2


class Expm1(Gate):
    derivative = "d/dx (e^x - 1) = e^x"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.expm1(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * (out + 1)


class Log1p(Gate):
    derivative = "d/dx ln(1 + x) = 1/(1 + x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log1p(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return grad / (x + 1)


class LogAddExp(Gate):
    """ln(e^x + e^y) without overflow (NumPy's logaddexp); each input's share of the gradient is a sigmoid of
    the difference, 1/2 each where x = y."""

    derivative = "d/dx ln(e^x+e^y) = sigmoid(x-y); d/dy ln(e^x+e^y) = sigmoid(y-x)"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Any:
        return xp.logaddexp(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        with xp.errstate(invalid="ignore"):
            share_x = common.sigmoid(x - y)
        return (
            sum_to(grad * share_x, x.shape) if self.wants(0) else None,
            sum_to(grad - grad * share_x, y.shape) if self.wants(1) else None,
        )


# ----- user-facing functions -------------------------------------------------------
@operation("rsqrt")
def rsqrt(input: TensorLike) -> Tensor:
    """1 / sqrt(x) for each element (inf at 0)."""
    return Rsqrt.apply(floating(input))


@operation("log2")
def log2(input: TensorLike) -> Tensor:
    """Base-2 logarithm of each element."""
    return Log2.apply(floating(input))


@operation("log10")
def log10(input: TensorLike) -> Tensor:
    """Base-10 logarithm of each element."""
    return Log10.apply(floating(input))


@operation("exp2")
def exp2(input: TensorLike) -> Tensor:
    """2 to the power of each element."""
    return Exp2.apply(floating(input))


@operation("expm1")
def expm1(input: TensorLike) -> Tensor:
    """e^x - 1, accurate for x near 0."""
    return Expm1.apply(floating(input))


@operation("log1p")
def log1p(input: TensorLike) -> Tensor:
    """ln(1 + x), accurate for x near 0."""
    return Log1p.apply(floating(input))


@operation("logaddexp")
def logaddexp(input: TensorLike, other: TensorLike) -> Tensor:
    """ln(e^input + e^other) elementwise, broadcasting, without overflow."""
    x, y = operands(input, other)
    return LogAddExp.apply(floating(x), floating(y))
