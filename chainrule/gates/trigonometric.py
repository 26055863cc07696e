"""Trigonometric and hyperbolic functions and their inverses (sin, cos and tanh live in elementwise.py).

At the ends of a domain the gradients are IEEE's, as in PyTorch: asin and acos at +-1, acosh at 1
and atanh at +-1 have infinite slopes, and outside the domain values and gradients are NaN.
atan2 at (0, 0), where the angle jumps, takes gradient 0 for both inputs, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple, Unpack

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from . import common
from .common import data, floating, operands, operation, sum_to

_G = TypeVar("_G", bound=Gate)
_Arrays = TypeVarTuple("_Arrays")


def _quietly(function: Callable[[_G, Unpack[_Arrays]], Any]) -> Callable[[_G, Unpack[_Arrays]], Any]:
    """``function`` with NumPy's divide-by-zero and invalid-value warnings off: at the ends of a domain the
    infinite or NaN slope is the answer."""

    def run(self: _G, *args: *_Arrays) -> Any:
        with xp.errstate(divide="ignore", invalid="ignore"):
            return function(self, *args)

    return run


class Tan(Gate):
    derivative = "d/dx tan(x) = 1 + tan(x)^2"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.tan(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad + grad * out * out


class Asin(Gate):
    derivative = "d/dx asin(x) = 1/sqrt(1-x^2)"
    fresh_gradients = True

    @_quietly
    def forward(self, x: Array) -> Any:
        return xp.arcsin(x)

    @_quietly
    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / common.sqrt(1 - x * x)


class Acos(Gate):
    derivative = "d/dx acos(x) = -1/sqrt(1-x^2)"
    fresh_gradients = True

    @_quietly
    def forward(self, x: Array) -> Any:
        return xp.arccos(x)

    @_quietly
    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return -grad / common.sqrt(1 - x * x)


class Atan(Gate):
    derivative = "d/dx atan(x) = 1/(1+x^2)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.arctan(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / (x * x + 1)


class Atan2(Gate):
    """The angle of the point (other, input), in (-pi, pi]; the gradient is 0 for both at (0, 0)."""

    derivative = "d/dx atan2(x,y) = y/(x^2+y^2); d/dy atan2(x,y) = -x/(x^2+y^2)"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Any:
        return xp.arctan2(x, y)

    @_quietly
    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        squared = x * x + y * y
        radius = common.where(data(squared) == 0, 1, squared)  # at the origin the numerators are 0
        scaled = grad / radius
        return (
            sum_to(scaled * y, x.shape) if self.wants(0) else None,
            sum_to(-scaled * x, y.shape) if self.wants(1) else None,
        )


class Sinh(Gate):
    derivative = "d/dx sinh(x) = cosh(x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.sinh(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * common.cosh(x)


class Cosh(Gate):
    derivative = "d/dx cosh(x) = sinh(x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.cosh(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * common.sinh(x)


class Asinh(Gate):
    derivative = "d/dx asinh(x) = 1/sqrt(x^2+1)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.arcsinh(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / common.sqrt(x * x + 1)


class Acosh(Gate):
    derivative = "d/dx acosh(x) = 1/sqrt(x^2-1)"
    fresh_gradients = True

    @_quietly
    def forward(self, x: Array) -> Any:
        return xp.arccosh(x)

    @_quietly
    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / common.sqrt(x * x - 1)


class Atanh(Gate):
    derivative = "d/dx atanh(x) = 1/(1-x^2)"
    fresh_gradients = True

    @_quietly
    def forward(self, x: Array) -> Any:
        return xp.arctanh(x)

    @_quietly
    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / (1 - x * x)


# ----- user-facing functions -------------------------------------------------------
@operation("tan")
def tan(input: TensorLike) -> Tensor:
    """Tangent of each element (in radians)."""
    return Tan.apply(floating(input))


@operation("asin", "arcsin", aliases=("arcsin",))
def asin(input: TensorLike) -> Tensor:
    """Inverse sine, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return Asin.apply(floating(input))


@operation("acos", "arccos", aliases=("arccos",))
def acos(input: TensorLike) -> Tensor:
    """Inverse cosine, in [0, pi] (NaN outside [-1, 1])."""
    return Acos.apply(floating(input))


@operation("atan", "arctan", aliases=("arctan",))
def atan(input: TensorLike) -> Tensor:
    """Inverse tangent, in (-pi/2, pi/2)."""
    return Atan.apply(floating(input))


@operation("atan2", "arctan2", aliases=("arctan2",))
def atan2(input: TensorLike, other: TensorLike) -> Tensor:
    """The angle of the point (x=other, y=input), in (-pi, pi], broadcasting."""
    x, y = operands(input, other)
    return Atan2.apply(floating(x), floating(y))


@operation("sinh")
def sinh(input: TensorLike) -> Tensor:
    """Hyperbolic sine of each element."""
    return Sinh.apply(floating(input))


@operation("cosh")
def cosh(input: TensorLike) -> Tensor:
    """Hyperbolic cosine of each element."""
    return Cosh.apply(floating(input))


@operation("asinh", "arcsinh", aliases=("arcsinh",))
def asinh(input: TensorLike) -> Tensor:
    """Inverse hyperbolic sine."""
    return Asinh.apply(floating(input))


@operation("acosh", "arccosh", aliases=("arccosh",))
def acosh(input: TensorLike) -> Tensor:
    """Inverse hyperbolic cosine (NaN below 1)."""
    return Acosh.apply(floating(input))


@operation("atanh", "arctanh", aliases=("arctanh",))
def atanh(input: TensorLike) -> Tensor:
    """Inverse hyperbolic tangent (+-inf at +-1, NaN beyond)."""
    return Atanh.apply(floating(input))


arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh
