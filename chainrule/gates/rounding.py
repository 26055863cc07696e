"""Rounding and integer division: floor, ceil, round, trunc, sign, remainder, fmod and floor_divide.

Rounding is piecewise constant, so its derivative is 0 wherever it exists; at the jumps there is
none, and PyTorch takes 0 there too. A remainder is x minus a piecewise-constant multiple of y,
so its derivative is 1 in x and minus that multiple in y.

Integer input stays integer (rounding an integer leaves it as it is), as in PyTorch; integer
division by zero raises ZeroDivisionError, as PyTorch's does, where floats give inf or NaN.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from .common import as_tensor, data, operands, operation, sum_to, zeros_like


class PiecewiseConstant(Gate):
    """A step function of its input: the gradient is 0 everywhere (also at the jumps, as in PyTorch)."""

    derivative = "d/dx step(x) = 0"
    fresh_gradients = True

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return zeros_like(grad)


class Floor(PiecewiseConstant):
    derivative = "d/dx floor(x) = 0"

    def forward(self, x: Array) -> Any:
        return xp.floor(x)


class Ceil(PiecewiseConstant):
    derivative = "d/dx ceil(x) = 0"

    def forward(self, x: Array) -> Any:
        return xp.ceil(x)


class Trunc(PiecewiseConstant):
    derivative = "d/dx trunc(x) = 0"

    def forward(self, x: Array) -> Any:
        return xp.trunc(x)


class Round(PiecewiseConstant):
    """To the nearest multiple of 10^-decimals, halves to even (NumPy's round, PyTorch's too)."""

    derivative = "d/dx round(x) = 0"
    decimals: int

    def forward(self, x: Array) -> Any:
        return xp.round(x, self.decimals)


class Sign(PiecewiseConstant):
    """-1, 0 or 1; NaN gives 0, as in PyTorch (NumPy's sign gives NaN)."""

    derivative = "d/dx sign(x) = 0"

    def forward(self, x: Array) -> Any:
        return ((x > 0).astype(x.dtype) - (x < 0)).astype(x.dtype, copy=False)


class Remainder(Gate):
    """x - floor(x / y) * y: the sign of y, as Python's %."""

    derivative = "d/dx remainder(x,y) = 1; d/dy remainder(x,y) = -floor(x/y)"

    def forward(self, x: Array, y: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.remainder(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            quotient = xp.floor_divide(data(x), data(y))
        return (
            sum_to(grad, x.shape) if self.wants(0) else None,
            sum_to(-grad * quotient, y.shape) if self.wants(1) else None,
        )


class Fmod(Gate):
    """x - trunc(x / y) * y: the sign of x, as C's fmod."""

    derivative = "d/dx fmod(x,y) = 1; d/dy fmod(x,y) = -trunc(x/y)"

    def forward(self, x: Array, y: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.fmod(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            quotient = xp.trunc(data(x) / data(y))
        return (
            sum_to(grad, x.shape) if self.wants(0) else None,
            sum_to(-grad * quotient, y.shape) if self.wants(1) else None,
        )


class FloorDivide(Gate):
    """floor(x / y), computed as Python's // (so that x == y * (x // y) + x % y)."""

    derivative = "d/dx floor_divide(x,y) = 0; d/dy floor_divide(x,y) = 0"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.floor_divide(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        return zeros_like(x) if self.wants(0) else None, zeros_like(y) if self.wants(1) else None


# ----- user-facing functions -------------------------------------------------------
def _rounded(gate: type[Gate], input: TensorLike, **constants: Any) -> Tensor:
    x = as_tensor(input)
    if x.data.dtype.kind in "biu":
        return Tensor(x.data.copy())  # an integer is already whole
    return gate.apply(x, **constants)


@operation("floor")
def floor(input: TensorLike) -> Tensor:
    """The largest whole number <= each element (gradient 0)."""
    return _rounded(Floor, input)


@operation("ceil")
def ceil(input: TensorLike) -> Tensor:
    """The smallest whole number >= each element (gradient 0)."""
    return _rounded(Ceil, input)


@operation("trunc", "fix", aliases=("fix",))
def trunc(input: TensorLike) -> Tensor:
    """Each element rounded towards zero (gradient 0)."""
    return _rounded(Trunc, input)


fix = trunc


@operation("round")
def round(input: TensorLike, *, decimals: int = 0) -> Tensor:
    """Each element rounded to ``decimals`` decimal places (negative: to tens, hundreds, ...), halves to even
    as in PyTorch and NumPy (round(2.5) is 2.0); gradient 0."""
    if isinstance(decimals, bool) or not isinstance(decimals, (int, xp.integer)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _rounded(Round, input, decimals=int(decimals))


@operation("sign")
def sign(input: TensorLike) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for NaN, as in PyTorch); gradient 0."""
    x = as_tensor(input)
    if x.data.dtype.kind == "b":
        return Tensor(x.data.copy())
    if x.data.dtype.kind in "iu":
        return Tensor(xp.sign(x.data))
    return Sign.apply(x)


def _divided(gate: type[Gate], input: TensorLike, other: TensorLike, where: str) -> Tensor:
    x, y = operands(input, other)
    if x.data.dtype.kind in "biu" and y.data.dtype.kind in "biu" and not xp.all(y.data):
        raise ZeroDivisionError(
            f"{where}: integer division by zero (divisor of shape {y.shape} holds a 0); floats give inf or NaN instead"
        )
    return gate.apply(x, y)


@operation("remainder", "__mod__", reflected=("__rmod__",))
def remainder(input: TensorLike, other: TensorLike) -> Tensor:
    """input - floor(input / other) * other, with the sign of ``other`` (Python's ``%``), broadcasting."""
    return _divided(Remainder, input, other, "remainder")


@operation("fmod")
def fmod(input: TensorLike, other: TensorLike) -> Tensor:
    """input - trunc(input / other) * other, with the sign of ``input`` (C's fmod), broadcasting."""
    return _divided(Fmod, input, other, "fmod")


@operation("floor_divide", "__floordiv__", reflected=("__rfloordiv__",))
def floor_divide(input: TensorLike, other: TensorLike) -> Tensor:
    """floor(input / other) (Python's ``//``), broadcasting; gradient 0 (PyTorch defines none)."""
    return _divided(FloorDivide, input, other, "floor_divide")
