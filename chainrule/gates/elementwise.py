"""Elementwise gates: one input value in, one output value out, derivative applied pointwise.

Kinked functions (relu, abs, clip, max) have no derivative at the kink; each gate
states the value it uses there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, DType, Number, TensorLike
from . import common
from .common import (
    as_tensor,
    data,
    float_like,
    floating,
    operands,
    operation,
    plain_number,
    stable_sigmoid,
    stable_softplus,
    sum_to,
)


class Exp(Gate):
    derivative = "d/dx e^x = e^x"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.exp(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * out


class Log(Gate):
    derivative = "d/dx ln(x) = 1/x"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.log(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad / x


class Sqrt(Gate):
    derivative = "d/dx sqrt(x) = 1/(2*sqrt(x))"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.sqrt(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * 0.5 / out


class Abs(Gate):
    derivative = "d/dx |x| = sign(x)"  # 0 at x = 0
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.abs(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * xp.sign(data(x))


class Sin(Gate):
    derivative = "d/dx sin(x) = cos(x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.sin(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * common.cos(x)


class Cos(Gate):
    derivative = "d/dx cos(x) = -sin(x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.cos(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return -grad * common.sin(x)


class Tanh(Gate):
    derivative = "d/dx tanh(x) = 1-tanh(x)^2"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.tanh(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        # grad*(1 - out^2), written without the Python 1: NumPy takes a number into a ufunc about
        # 200 ns slower than an array, which is most of the cost on small tensors.
        return grad - grad * out * out


class Sigmoid(Gate):
    """Fused 1/(1+e^-x): one gate instead of four, and no overflow for large |x|."""

    derivative = "d/dx sigmoid(x) = sigmoid(x)*(1-sigmoid(x))"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return stable_sigmoid(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * out * (1 - out)


class Relu(Gate):
    derivative = "d/dx max(0,x) = 1 if x>0 else 0"  # 0 at x = 0, as in PyTorch
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return xp.maximum(x, 0)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if not isinstance(grad, xp.ndarray):  # a Tensor under create_graph
            return grad * (data(x) > 0)
        # dtype= makes NumPy cast the mask inside the float loop: 12 vs 22 us at (128, 512) float32.
        return xp.multiply(grad, x > 0, dtype=grad.dtype)

    def backward_in_place(self, grad: Array, out: Array, x: Array) -> Array:
        # grad is the walk's alone: mask it where it lies, still in cache from the gate that made it
        # (229 against 291 us at (1024, 512) float32, measured right after the product that made grad).
        xp.multiply(grad, x > 0, out=grad)
        return grad


# The kinked gates below avoid xp.where on their data: its branches mispredict when signs are mixed, and it took
# 2.2 ms for a (1024, 512) float32 array where a maximum or a multiply takes 0.15-0.3 ms.
class LeakyRelu(Gate):
    """x where x > 0, slope * x elsewhere. For 0 <= slope <= 1 that is max(x, slope * x), and the local
    derivative is max([x > 0], slope): 1 or slope exactly, in two passes without a branch."""

    derivative = "d/dx leaky_relu(x) = 1 if x>0 else slope"
    fresh_gradients = True
    slope: float

    def forward(self, x: Array) -> Any:
        if self.slope == 0:
            return xp.maximum(x, 0)  # not max(x, 0 * x), which is NaN at x = inf
        if 0 < self.slope <= 1:
            return xp.maximum(x, x * self.slope)
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        x = data(x)
        if 0 <= self.slope <= 1:
            local = xp.maximum(x > 0, self.slope, dtype=x.dtype)
        else:
            local = xp.where(x > 0, 1, self.slope).astype(x.dtype)
        return grad * local


class Elu(Gate):
    """x where x > 0, alpha * (e^x - 1) elsewhere: max(x, 0) + alpha * expm1(min(x, 0)), exact on either side
    (one of the two terms is 0). PyTorch's general form, which SELU and CELU use, scales the result by ``scale``
    and the negative side's input by ``input_scale``: scale * (max(x, 0) + alpha * expm1(input_scale * min(x, 0)))."""

    derivative = "d/dx elu(x) = 1 if x>0 else elu(x)+alpha"
    fresh_gradients = True
    alpha: Number
    scale = 1.0
    input_scale = 1.0

    def forward(self, x: Array) -> Any:
        negative_part = xp.minimum(x, 0, out=float_like(x))
        if self.input_scale != 1:
            negative_part *= self.input_scale
        xp.expm1(negative_part, out=negative_part)
        negative_part *= self.alpha
        out = xp.add(xp.maximum(x, 0), negative_part, out=negative_part)
        if self.scale != 1:
            out *= self.scale
        return out

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        # Where x <= 0 the slope is input_scale * scale * alpha * e^(input_scale x)
        #   = input_scale * (out + scale * alpha).
        if isinstance(grad, Tensor):
            negative_slope = (out + self.scale * self.alpha) * self.input_scale
            return common.where(data(x) > 0, grad * self.scale, grad * negative_slope)
        positive = x > 0
        local = xp.minimum(out, 0, out=float_like(out))  # scale * alpha * (e^x - 1) where x <= 0, else 0
        local += self.scale * self.alpha  # scale * alpha * e^x where x <= 0
        if self.input_scale != 1:
            local *= self.input_scale
        local *= xp.logical_not(positive)
        local += positive if self.scale == 1 else positive * self.scale  # one of the two terms is 0: exact
        return grad * local


class Erf(Gate):
    derivative = "d/dx erf(x) = 2/sqrt(pi)*e^(-x^2)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return _erf(x).astype(x.dtype, copy=False)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * (2 / math.sqrt(math.pi)) * common.exp(-(x * x))


_erf = xp.vectorize(math.erf, otypes=[float])


class Softplus(Gate):
    derivative = "d/dx ln(1+e^x) = sigmoid(x)"
    fresh_gradients = True

    def forward(self, x: Array) -> Any:
        return stable_softplus(x)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * common.sigmoid(x)


class Clip(Gate):
    derivative = "d/dx clip(x) = 1 if low<=x<=high else 0"
    fresh_gradients = True
    low: Number | None
    high: Number | None

    def forward(self, x: Array) -> Any:
        return xp.clip(x, self.low, self.high)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        x = data(x)
        inside = xp.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return grad * inside


class ClampBetween(Gate):
    """min(max(x, low), high) with tensor bounds, broadcasting (a missing bound is an infinite constant).
    As in PyTorch: x's gradient is 1 where low <= x <= high; low's where x < low < high; high's where x > high or
    high < low (then the result is high everywhere)."""

    derivative = (
        "d/dx clamp(x,l,h) = 1 if l<=x<=h else 0; d/dl clamp(x,l,h) = 1 if x<l<h else 0; "
        "d/dh clamp(x,l,h) = 1 if x>h or h<l else 0"
    )
    fresh_gradients = True
    input_names = ("x", "low", "high")

    def forward(self, x: Array, low: Array, high: Array) -> Any:
        return xp.minimum(xp.maximum(x, low), high)

    def backward(self, grad: Any, out: Any, x: Any, low: Any, high: Any) -> Any:
        x, low, high = data(x), data(low), data(high)
        inside = (x >= low) & (x <= high)
        below = (x < low) & (low < high)
        above = (x > high) | (high < low)
        return tuple(
            sum_to(grad * mask, shape) if self.wants(i) else None
            for i, (mask, shape) in enumerate(((inside, x.shape), (below, low.shape), (above, high.shape)))
        )


class Maximum(Gate):
    """Elementwise max. A tie sends half the gradient to each input (as PyTorch's maximum does)."""

    derivative = "d/dx max(x,y) = 1 if x>y else 0; d/dy max(x,y) = 1 if y>x else 0"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Any:
        return xp.maximum(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        share_x = _share(data(x), data(y))
        return sum_to(grad * share_x, x.shape), sum_to(grad * (1 - share_x), y.shape)


class Minimum(Gate):
    """Elementwise min; ties split the gradient evenly, like Maximum."""

    derivative = "d/dx min(x,y) = 1 if x<y else 0; d/dy min(x,y) = 1 if y<x else 0"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Any:
        return xp.minimum(x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        share_x = _share(data(y), data(x))
        return sum_to(grad * share_x, x.shape), sum_to(grad * (1 - share_x), y.shape)


def _share(winner: Array, loser: Array) -> Array:
    """1 where ``winner`` wins, 0.5 on a tie, 0 where it loses."""
    dtype = xp.result_type(winner.dtype, loser.dtype)
    share: Array = ((winner > loser) + 0.5 * (winner == loser)).astype(dtype)
    return share


class Where(Gate):
    """condition ? x : y; the gradient goes to whichever input was chosen."""

    derivative = "d/dx where(c,x,y) = c; d/dy where(c,x,y) = not c"
    fresh_gradients = True
    condition: npt.NDArray[np.bool_]

    def forward(self, x: Array, y: Array) -> Any:
        return xp.where(self.condition, x, y)

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> Any:
        zero = grad * 0
        return (
            sum_to(common.where(self.condition, grad, zero), x.shape) if self.wants(0) else None,
            sum_to(common.where(self.condition, zero, grad), y.shape) if self.wants(1) else None,
        )


class Cast(Gate):
    derivative = "d/dx x = 1"
    fresh_gradients = True
    dtype: np.dtype[Any]

    def forward(self, x: Array) -> Any:
        return x.astype(self.dtype)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad.astype(x.dtype)


# ----- user-facing functions -------------------------------------------------------
# The floating functions promote integer and boolean input to the default float, as PyTorch's do.
@operation("exp")
def exp(input: TensorLike) -> Tensor:
    """e to the power of each element."""
    return Exp.apply(floating(input))


@operation("log")
def log(input: TensorLike) -> Tensor:
    """Natural logarithm of each element (NaN below 0, -inf at 0)."""
    return Log.apply(floating(input))


@operation("sqrt")
def sqrt(input: TensorLike) -> Tensor:
    """Square root of each element."""
    return Sqrt.apply(floating(input))


@operation("abs", "__abs__")
def abs(input: TensorLike) -> Tensor:
    """Absolute value of each element (gradient 0 at 0)."""
    return Abs.apply(input)


@operation("sin")
def sin(input: TensorLike) -> Tensor:
    """The sine, elementwise; d/dx sin x = cos x."""
    return Sin.apply(floating(input))


@operation("cos")
def cos(input: TensorLike) -> Tensor:
    """The cosine, elementwise; d/dx cos x = -sin x."""
    return Cos.apply(floating(input))


@operation("tanh", functional=True)
def tanh(input: TensorLike) -> Tensor:
    """The hyperbolic tangent, elementwise; d/dx tanh x = 1 - tanh(x)^2."""
    return Tanh.apply(floating(input))


@operation("sigmoid", functional=True)
def sigmoid(input: TensorLike) -> Tensor:
    """1 / (1 + e^-x), without overflow."""
    return Sigmoid.apply(floating(input))


@operation("relu")
def relu(input: TensorLike) -> Tensor:
    """max(0, x) elementwise (gradient 0 at 0, as in PyTorch)."""
    return Relu.apply(input)


@operation("leaky_relu")
def leaky_relu(input: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, ``negative_slope * x`` elsewhere."""
    return LeakyRelu.apply(floating(input), slope=negative_slope)


@operation("elu")
def elu(input: TensorLike, alpha: float = 1.0) -> Tensor:
    """x where x > 0, ``alpha * (e^x - 1)`` elsewhere."""
    return Elu.apply(floating(input), alpha=alpha)


@operation("erf")
def erf(input: TensorLike) -> Tensor:
    """The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x."""
    return Erf.apply(floating(input))


@operation("gelu")
def gelu(input: TensorLike, approximate: str = "none") -> Tensor:
    """x * Phi(x), composed from gates; ``approximate="tanh"`` uses the tanh formula."""
    x = floating(input)
    if approximate == "tanh":
        inner = (x + x**3 * 0.044715) * math.sqrt(2 / math.pi)
        return x * (tanh(inner) + 1) * 0.5
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x * (erf(x * (1 / math.sqrt(2))) + 1) * 0.5


@operation("softplus")
def softplus(input: TensorLike) -> Tensor:
    """log(1 + e^x), without overflow."""
    return Softplus.apply(floating(input))


@operation("clip", "clamp")
def clip(input: TensorLike, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """Each element limited to [min, max] (either may be None; numbers or tensors that broadcast); gradient 1
    inside (bounds included), 0 outside. Tensor bounds get the gradient where they win, as in PyTorch."""
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    if (min is None or common.is_number(min)) and (max is None or common.is_number(max)):
        low_number = None if min is None else plain_number(min)
        high_number = None if max is None else plain_number(max)
        return Clip.apply(input, low=low_number, high=high_number)
    x = as_tensor(input)
    low = _unbounded(x, below=True) if min is None else as_tensor(min, like=x)
    high = _unbounded(x, below=False) if max is None else as_tensor(max, like=x)
    return ClampBetween.apply(x, low, high)


def _unbounded(x: Tensor, below: bool) -> Tensor:
    """The bound that never binds, in x's dtype: -inf or inf (an integer type's least or greatest value)."""
    if x.dtype.kind == "f":
        return Tensor(xp.asarray(-xp.inf if below else xp.inf, dtype=x.dtype))
    info = xp.iinfo(x.dtype) if x.dtype.kind in "iu" else xp.iinfo(xp.int64)
    return Tensor(xp.asarray(info.min if below else info.max, dtype=info.dtype))


@operation("clamp_min")
def clamp_min(input: TensorLike, min: TensorLike) -> Tensor:
    """max(input, min) elementwise, as clamp(input, min=min) (gradient 1 where input >= min)."""
    return clip(input, min=min)


@operation("clamp_max")
def clamp_max(input: TensorLike, max: TensorLike) -> Tensor:
    """min(input, max) elementwise, as clamp(input, max=max) (gradient 1 where input <= max)."""
    return clip(input, max=max)


@operation("lerp")
def lerp(input: TensorLike, end: TensorLike, weight: TensorLike) -> Tensor:
    """input + weight * (end - input), broadcasting; written as end - (end - input) * (1 - weight) where
    weight >= 0.5, as PyTorch does, so that weight 1 gives ``end`` exactly."""
    start = as_tensor(input)
    end = as_tensor(end, like=start)
    difference = end - start
    if common.is_number(weight):
        return start + difference * weight if weight < 0.5 else end - difference * (1 - weight)
    weight = as_tensor(weight, like=start)
    return where(data(weight) < 0.5, start + difference * weight, end - difference * (1 - weight))


@operation("maximum")
def maximum(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise larger of two tensors (broadcasting); a tie splits the gradient evenly."""
    return Maximum.apply(*operands(input, other))


@operation("minimum")
def minimum(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise smaller of two tensors (broadcasting); a tie splits the gradient evenly."""
    return Minimum.apply(*operands(input, other))


@operation()
def where(condition: TensorLike, input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise ``input`` where ``condition`` holds, else ``other`` (differentiable in both)."""
    x, y = operands(input, other)
    condition = xp.asarray(data(condition), dtype=bool)
    try:
        return Where.apply(x, y, condition=condition)
    except ValueError:
        try:
            xp.broadcast_shapes(condition.shape, x.shape, y.shape)
        except ValueError:
            raise ValueError(
                f"where: condition {condition.shape}, x {x.shape} and y {y.shape} cannot broadcast "
                "together; aligned from the right, dimensions must be equal or 1"
            ) from None
        raise


@operation("astype")
def cast(input: TensorLike, dtype: DType) -> Tensor:
    """A differentiable cast to another floating dtype; a cast to an integer or boolean dtype (or of a constant)
    gives a tensor outside the graph, as in PyTorch."""
    x = as_tensor(input)
    dtype = xp.dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != "f":
        return Tensor(x.data.astype(dtype))
    return Cast.apply(x, dtype=dtype)
