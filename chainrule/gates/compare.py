"""Comparisons and what is built on their boolean results: masks, logic, positions of extremes.

Comparisons (``==``, ``<``, ``eq``, ``gt``, ...), logic (``&``, ``|``, ``~``), ``any``/``all`` and
``argmax``/``argmin`` give boolean or integer tensors, which carry no gradient (as in PyTorch):
they are computed on the arrays directly, outside the graph. ``masked_fill`` is differentiable in
the tensor it fills, since it is ``where(mask, value, input)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Dims, Number, TensorLike
from .common import as_tensor, data, normalize_axis, one_of, operation
from .elementwise import where


def _compare(ufunc: Callable[[Any, Any], Any], where_: str, input: TensorLike, other: TensorLike) -> Tensor:
    """``ufunc`` on the two operands' values, or a clear error when their shapes cannot broadcast."""
    a, b = data(input), data(other)
    try:
        return Tensor(ufunc(a, b))
    except ValueError:
        shapes = [getattr(v, "shape", ()) for v in (a, b)]
        raise ValueError(
            f"{where_}: shapes {shapes[0]} and {shapes[1]} cannot broadcast together; aligned from "
            "the right, each pair of dimensions must be equal or one of them 1"
        ) from None


@operation("eq", "__eq__")
def eq(input: TensorLike, other: TensorLike) -> Tensor:
    """``input == other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.equal, "eq", input, other)


@operation("ne", "__ne__")
def ne(input: TensorLike, other: TensorLike) -> Tensor:
    """``input != other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.not_equal, "ne", input, other)


@operation("lt", "__lt__")
def lt(input: TensorLike, other: TensorLike) -> Tensor:
    """``input < other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.less, "lt", input, other)


@operation("le", "__le__")
def le(input: TensorLike, other: TensorLike) -> Tensor:
    """``input <= other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.less_equal, "le", input, other)


@operation("gt", "__gt__")
def gt(input: TensorLike, other: TensorLike) -> Tensor:
    """``input > other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.greater, "gt", input, other)


@operation("ge", "__ge__")
def ge(input: TensorLike, other: TensorLike) -> Tensor:
    """``input >= other`` elementwise (a boolean tensor, no gradient)."""
    return _compare(xp.greater_equal, "ge", input, other)


@operation()
def equal(input: TensorLike, other: TensorLike) -> bool:
    """True when both have the same shape and the same values (PyTorch's ``equal``: one Python bool)."""
    a, b = xp.asarray(data(input)), xp.asarray(data(other))
    return a.shape == b.shape and bool((a == b).all())


# ----- logic on boolean (or integer) tensors ---------------------------------------------------
def _integral(input: TensorLike, where_: str) -> Array:
    array = xp.asarray(data(input))
    if array.dtype.kind not in "biu":
        raise TypeError(f"{where_}: needs boolean or integer tensors, got dtype {array.dtype}")
    return array


@operation("logical_and")
def logical_and(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise "both are nonzero" (a boolean tensor)."""
    return _compare(xp.logical_and, "logical_and", input, other)


@operation("logical_or")
def logical_or(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise "either is nonzero" (a boolean tensor)."""
    return _compare(xp.logical_or, "logical_or", input, other)


@operation("logical_xor")
def logical_xor(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise "exactly one is nonzero" (a boolean tensor)."""
    return _compare(xp.logical_xor, "logical_xor", input, other)


@operation("logical_not")
def logical_not(input: TensorLike) -> Tensor:
    """Elementwise "is zero" (a boolean tensor)."""
    return Tensor(xp.logical_not(data(input)))


@operation("bitwise_and", "__and__", "__rand__")
def bitwise_and(input: TensorLike, other: TensorLike) -> Tensor:
    """``input & other`` for boolean (mask) or integer tensors."""
    return _compare(xp.bitwise_and, "bitwise_and", _integral(input, "bitwise_and"), _integral(other, "bitwise_and"))


@operation("bitwise_or", "__or__", "__ror__")
def bitwise_or(input: TensorLike, other: TensorLike) -> Tensor:
    """``input | other`` for boolean (mask) or integer tensors."""
    return _compare(xp.bitwise_or, "bitwise_or", _integral(input, "bitwise_or"), _integral(other, "bitwise_or"))


@operation("bitwise_xor", "__xor__", "__rxor__")
def bitwise_xor(input: TensorLike, other: TensorLike) -> Tensor:
    """``input ^ other`` for boolean (mask) or integer tensors."""
    return _compare(xp.bitwise_xor, "bitwise_xor", _integral(input, "bitwise_xor"), _integral(other, "bitwise_xor"))


@operation("bitwise_not", "__invert__")
def bitwise_not(input: TensorLike) -> Tensor:
    """``~input``: a boolean mask inverted, or an integer's bits flipped."""
    return Tensor(xp.invert(_integral(input, "bitwise_not")))


# ----- reductions to booleans and positions -----------------------------------------------------
def _reduced(
    method: Callable[..., Any],
    input: TensorLike,
    dim: Dims,
    keepdim: bool,
    axis: Dims,
    keepdims: bool | None,
    where_: str,
    one_dim: bool = False,
) -> Tensor:
    array = xp.asarray(data(input))
    dim = one_of(dim, axis, "dim", "axis", where_)
    keepdim = bool(one_of(keepdim or None, keepdims, "keepdim", "keepdims", where_))
    if dim is not None:
        if one_dim and not isinstance(dim, (int, xp.integer)):
            raise TypeError(f"{where_}: dim must be one int (or None for the flattened tensor), got {dim!r}")
        axes = normalize_axis(dim, array.ndim, where_)
        dim = (axes[0] if axes else None) if one_dim else axes
    if one_dim and array.size == 0:
        raise ValueError(f"{where_}: the tensor of shape {array.shape} is empty; it has no largest or smallest element")
    return Tensor(xp.asarray(method(array, axis=dim, keepdims=keepdim)))


@operation("argmax")
def argmax(
    input: TensorLike,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the largest element along ``dim`` (None: in the flattened tensor); the first one on ties."""
    return _reduced(xp.argmax, input, dim, keepdim, axis, keepdims, "argmax", one_dim=True)


@operation("argmin")
def argmin(
    input: TensorLike,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the smallest element along ``dim`` (None: in the flattened tensor); the first one on ties."""
    return _reduced(xp.argmin, input, dim, keepdim, axis, keepdims, "argmin", one_dim=True)


@operation("any")
def any(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Whether any element along ``dim`` (None: all of them) is nonzero (a boolean tensor)."""
    return _reduced(xp.any, input, dim, keepdim, axis, keepdims, "any")


@operation("all")
def all(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Whether every element along ``dim`` (None: all of them) is nonzero (a boolean tensor)."""
    return _reduced(xp.all, input, dim, keepdim, axis, keepdims, "all")


# ----- masks ------------------------------------------------------------------------------------
@operation("masked_fill")
def masked_fill(input: TensorLike, mask: TensorLike, value: Number | TensorLike) -> Tensor:
    """``value`` where the boolean ``mask`` (broadcast to the input's shape) is True, the input elsewhere:
    ``where(mask, value, input)``, so the gradient reaches the input where the mask is False (and a 0-d
    tensor ``value`` where it is True)."""
    x = as_tensor(input)
    condition = xp.asarray(data(mask))
    if condition.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a boolean tensor, got dtype {condition.dtype}")
    if xp.ndim(data(value)) != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {xp.shape(data(value))}")
    try:
        shape = xp.broadcast_shapes(condition.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(
            f"masked_fill: mask of shape {condition.shape} does not broadcast to the input's shape {x.shape}"
        )
    fill = as_tensor(value, like=x)
    if fill.dtype != x.dtype:
        fill = fill.astype(x.dtype) if fill.requires_grad else Tensor(fill.data.astype(x.dtype))
    return where(condition, fill, x)
