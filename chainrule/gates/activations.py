"""More activations, with PyTorch's values at their kinks: hardtanh, relu6, hardsigmoid, hardswish,
logsigmoid, selu, celu, mish and softsign (relu, leaky_relu, elu, gelu, ... are in elementwise.py).

They are ``nn.functional`` functions, as in PyTorch (``selu`` and ``celu`` also ``chainrule.*``);
``inplace`` is accepted for PyTorch's signatures and the result is always a new tensor.

The hard functions are piecewise linear. At a kink PyTorch takes the slope of the flat side:
hardtanh's gradient is 0 at min_val and max_val (clamp's is 1 there), hardsigmoid's 0 at +-3,
hardswish's 0 at -3 and 1 at 3.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Number, TensorLike
from . import common
from .common import data, floating, operation, stable_softplus
from .elementwise import Elu, abs, softplus, tanh

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Hardtanh(Gate):
    """x limited to [low, high]; slope 1 strictly inside, 0 elsewhere (also at the ends, as in PyTorch)."""

    derivative = "d/dx hardtanh(x) = 1 if low<x<high else 0"
    fresh_gradients = True
    low: Number
    high: Number

    def forward(self, x: Array) -> Any:
        return xp.clip(x, self.low, self.high)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        x = data(x)
        return grad * ((x > self.low) & (x < self.high))


class Hardsigmoid(Gate):
    """relu6(x + 3) / 6: slope 1/6 strictly between -3 and 3, 0 elsewhere."""

    derivative = "d/dx hardsigmoid(x) = 1/6 if -3<x<3 else 0"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        out = xp.clip(x + 3, 0, 6)
        out /= 6
        return out

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        x = data(x)
        return grad * (((x > -3) & (x < 3)) * (1 / 6))


class Hardswish(Gate):
    """x * relu6(x + 3) / 6: slope 0 up to -3, x/3 + 1/2 between, 1 from 3 on."""

    derivative = "d/dx hardswish(x) = 0 if x<=-3, x/3+1/2 if x<3, else 1"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        out = xp.clip(x + 3, 0, 6)
        out *= x
        out /= 6
        return out

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        values = data(x)
        between, above = (values > -3) & (values < 3), values >= 3
        if isinstance(x, Tensor):
            return grad * ((x * (1 / 3) + 0.5) * between + above)
        local = x / 3
        local += 0.5
        local *= between
        local += above
        return grad * local


class LogSigmoid(Gate):
    """log(sigmoid(x)) = -softplus(-x), which never overflows."""

    derivative = "d/dx log(sigmoid(x)) = sigmoid(-x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return -stable_softplus(-x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * common.sigmoid(-x)


# ----- user-facing functions (nn.functional) -----------------------------------------
def _bounds(low: float, high: float, where: str) -> tuple[Number, Number]:
    for name, value in (("min_val", low), ("max_val", high)):
        if not common.is_number(value):
            raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    if low > high:
        raise ValueError(f"{where}: min_val ({low}) must not exceed max_val ({high})")
    return common.plain_number(low), common.plain_number(high)


@operation(functional=True, exported=False)
def hardtanh(input: TensorLike, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x limited to [min_val, max_val]; the gradient is 0 at the two ends, as in PyTorch."""
    low, high = _bounds(min_val, max_val, "hardtanh")
    return Hardtanh.apply(floating(input), low=low, high=high)


@operation(functional=True, exported=False)
def relu6(input: TensorLike, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh between 0 and 6."""
    return Hardtanh.apply(floating(input), low=0, high=6)


@operation(functional=True, exported=False)
def hardsigmoid(input: TensorLike, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6, a piecewise-linear sigmoid."""
    return Hardsigmoid.apply(floating(input))


@operation(functional=True, exported=False)
def hardswish(input: TensorLike, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6 (MobileNetV3's activation)."""
    return Hardswish.apply(floating(input))


@operation(functional=True, exported=False)
def logsigmoid(input: TensorLike) -> Tensor:
    """log(1 / (1 + e^-x)), without overflow."""
    return LogSigmoid.apply(floating(input))


@operation(functional=True)
def selu(input: TensorLike, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return Elu.apply(floating(input), alpha=SELU_ALPHA, scale=SELU_SCALE)


@operation(functional=True)
def celu(input: TensorLike, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (e^(x/alpha) - 1))."""
    if not common.is_number(alpha) or alpha == 0:
        raise ValueError(f"celu: alpha must be a non-zero number, got {alpha!r}")
    plain_alpha = common.plain_number(alpha)
    return Elu.apply(floating(input), alpha=plain_alpha, input_scale=1 / plain_alpha)


@operation(functional=True, exported=False)
def mish(input: TensorLike, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)), composed from gates."""
    x = floating(input)
    return x * tanh(softplus(x))


@operation(functional=True, exported=False)
def softsign(input: TensorLike) -> Tensor:
    """x / (1 + |x|), composed from gates."""
    x = floating(input)
    return x / (abs(x) + 1)
