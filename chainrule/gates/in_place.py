"""The in-place forms PyTorch users write: ``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``fill_``,
``zero_``, ``copy_``, ``masked_fill_``.

None of them is recorded in the graph. They follow the engine's in-place rules
(``Tensor._change_in_place``): on a tensor that requires grad they are refused while the graph is
being recorded (write them under ``chainrule.no_grad()``, as PyTorch's optimizers and
initialisations do), and each change is counted on the memory, so a gate that saved the old values
refuses to backpropagate through the new ones. Each returns the tensor itself.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Number, TensorLike
from .common import data, operation, plain_number


def _ufunc_in_place(tensor: Tensor, what: str, ufunc: np.ufunc, other: TensorLike) -> Tensor:
    other = plain_number(data(other))

    def change(array: Array) -> None:
        try:
            ufunc(array, other, out=array, casting="same_kind")
        except TypeError:  # NumPy's UFuncTypeError: the result's dtype cannot be written back
            operand = type(other) if isinstance(other, (int, float)) else xp.asarray(other).dtype
            result = ufunc.resolve_dtypes((array.dtype, operand, None))[-1]
            raise TypeError(
                f"{what}: the result is {result}, which cannot be written into this {array.dtype} "
                f"tensor in place; use the out-of-place form or convert the tensor first"
            ) from None
        except ValueError:
            shape = xp.shape(other)
            raise ValueError(
                f"{what}: an operand of shape {shape} cannot be broadcast to this tensor's shape "
                f"{array.shape} (an in-place result keeps the tensor's shape)"
            ) from None

    return tensor._change_in_place(what, change)


@operation("add_", exported=False)
def add_(input: Tensor, other: TensorLike, *, alpha: Number = 1) -> Tensor:
    """input += alpha * other, in place."""
    return _ufunc_in_place(input, "add_", xp.add, other if alpha == 1 else xp.multiply(data(other), alpha))


@operation("sub_", exported=False)
def sub_(input: Tensor, other: TensorLike, *, alpha: Number = 1) -> Tensor:
    """input -= alpha * other, in place."""
    return _ufunc_in_place(input, "sub_", xp.subtract, other if alpha == 1 else xp.multiply(data(other), alpha))


@operation("mul_", exported=False)
def mul_(input: Tensor, other: TensorLike) -> Tensor:
    """input *= other, in place."""
    return _ufunc_in_place(input, "mul_", xp.multiply, other)


@operation("div_", exported=False)
def div_(input: Tensor, other: TensorLike) -> Tensor:
    """input /= other, in place (true division, so the tensor must be floating point)."""
    return _ufunc_in_place(input, "div_", xp.divide, other)


@operation("clamp_", "clip_", exported=False)
def clamp_(input: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:
    """Each element limited to [min, max] in place (either may be None)."""
    if min is None and max is None:
        raise ValueError("clamp_: give min, max or both")
    low, high = plain_number(data(min)), plain_number(data(max))
    return input._change_in_place("clamp_", lambda array: xp.clip(array, low, high, out=array))


@operation("fill_", exported=False)
def fill_(input: Tensor, value: Number | TensorLike) -> Tensor:
    """Every element set to ``value`` (a number or a one-element tensor), in place."""
    return _fill(input, value, "fill_")


@operation("zero_", exported=False)
def zero_(input: Tensor) -> Tensor:
    """Every element set to 0, in place."""
    return _fill(input, 0, "zero_")


def _fill(tensor: Tensor, value: Number | TensorLike, what: str) -> Tensor:
    value = data(value)
    if xp.size(value) != 1:
        raise ValueError(f"{what}: value must be a number or a one-element tensor, got shape {xp.shape(value)}")
    return tensor._change_in_place(what, lambda array: array.fill(xp.asarray(value).item()))


@operation("copy_", exported=False)
def copy_(input: Tensor, src: TensorLike, non_blocking: bool = False) -> Tensor:
    """The values of ``src`` (broadcast to this tensor's shape, converted to its dtype) copied in, in place."""
    source = data(src)

    def change(array: Array) -> None:
        try:
            xp.copyto(array, source, casting="unsafe")
        except ValueError:
            raise ValueError(
                f"copy_: a source of shape {xp.shape(source)} cannot be broadcast to this tensor's shape {array.shape}"
            ) from None

    return input._change_in_place("copy_", change)


@operation("masked_fill_", exported=False)
def masked_fill_(input: Tensor, mask: TensorLike, value: Number | TensorLike) -> Tensor:
    """``value`` written where the boolean ``mask`` (broadcast to this tensor's shape) is True, in place."""
    condition = xp.asarray(data(mask))
    if condition.dtype != bool:
        raise TypeError(f"masked_fill_: mask must be a boolean tensor, got dtype {condition.dtype}")
    fill = xp.asarray(data(value)).item() if xp.size(data(value)) == 1 else None
    if fill is None:
        raise ValueError(
            f"masked_fill_: value must be a number or a one-element tensor, got shape {xp.shape(data(value))}"
        )

    def change(array: Array) -> None:
        try:
            xp.copyto(array, fill, where=xp.broadcast_to(condition, array.shape), casting="unsafe")
        except ValueError:
            raise ValueError(
                f"masked_fill_: mask of shape {condition.shape} does not broadcast to the tensor's shape {array.shape}"
            ) from None

    return input._change_in_place("masked_fill_", change)
