"""Indexing along one dimension: gather and the scatters, index_select, masked_select, take_along_dim,
one_hot, and the ``Select`` gate that sort, topk, max(dim), cummax and their kin share.

``gather`` reads ``input`` at ``index`` along ``dim`` (out[i][j] = input[index[i][j]][j] for dim 0);
scattering writes or adds ``src`` there. The two are each other's backward: gather's gradient is
scattered back, adding up where an index repeats, and the gradient of a scatter-add is gathered. Both
directions are gates, so gradients of gradients come out of the same two.

Positions are addressed in the flattened array (a "linear" index), which turns a scatter into one
``ufunc.at`` or ``bincount`` over a 1-d array: the fast paths NumPy has for repeated indices.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Number, Shape, TensorLike, ValuesIndices
from . import common
from .common import as_tensor, data, operation
from .shape import _dim, broadcast_to, flatten


# ----- positions in the flattened array ------------------------------------------------
def linear_positions(shape: Shape, dim: int, index: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.intp]:
    """For each element of ``index`` (an int array with ``shape``'s number of dimensions, no larger than it
    off ``dim``), the position in a flattened C-ordered array of ``shape`` of the element it names: its own
    coordinates, with ``index`` along ``dim``."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    positions = index.astype(xp.intp, copy=True)
    positions *= strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            positions += (xp.arange(n, dtype=xp.intp) * strides[d]).reshape((n,) + (1,) * (index.ndim - d - 1))
    return positions


def _scatter_add_arrays(
    src: Array,
    shape: Shape,
    dim: int,
    index: npt.NDArray[np.integer[Any]],
    positions: npt.NDArray[np.intp] | None = None,
) -> Array:
    """Zeros of ``shape`` with ``src`` (index's shape) added at ``index`` along ``dim`` (``positions``: their
    linear positions, when already known). ``add.at`` on the flat array: 0.10 against 0.25 ms for bincount
    (which also adds in float64 and needs a cast back) for 65,536 values into (1024, 512) float32."""
    if positions is None:
        positions = linear_positions(shape, dim, index)
    result = xp.zeros(math.prod(shape), dtype=src.dtype)
    xp.add.at(result, positions.reshape(-1), src.reshape(-1))
    return result.reshape(shape)


def gathered(x: Any, dim: int, index: npt.NDArray[np.integer[Any]]) -> Any:
    """``x`` read at ``index`` along ``dim`` (index no larger than x off ``dim``), on an array or a Tensor."""
    if any(i != n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        x = x[tuple(slice(None) if d == dim else slice(0, i) for d, i in enumerate(index.shape))]
    if isinstance(x, Tensor):
        return Gather.apply(x, dim=dim, index=index)
    return xp.take_along_axis(x, index, dim)


def scattered_add(src: Any, shape: tuple[int, ...], dim: int, index: npt.NDArray[np.integer[Any]]) -> Any:
    """Zeros of ``shape`` with ``src`` added at ``index`` along ``dim``, on an array or a Tensor."""
    if isinstance(src, Tensor):
        return ScatterAddAlong.apply(src, shape=shape, dim=dim, index=index)
    return _scatter_add_arrays(src, shape, dim, index)


class Gather(Gate):
    """x[index] along dim, x already cut to index's size off dim; the gradient is scattered back and adds
    up where an index repeats."""

    derivative = "d/dx gather(x) = 1 at each gathered position, summed over repeats"
    fresh_gradients = True
    dim: int
    index: npt.NDArray[np.integer[Any]]
    positions: npt.NDArray[np.intp] | None = None

    def forward(self, x: Array) -> Array:
        if not x.flags.c_contiguous:
            return xp.take_along_axis(x, self.index, self.dim)
        # One take from the flat array at the linear positions (kept for the backward): 0.09 against 0.45 ms
        # for take_along_axis, which builds an index array per dimension, at (1024, 512) -> (1024, 64).
        self.positions = linear_positions(x.shape, self.dim, self.index)
        return x.reshape(-1).take(self.positions)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return scattered_add(grad, x.shape, self.dim, self.index)
        return _scatter_add_arrays(grad, x.shape, self.dim, self.index, self.positions)


class ScatterAddAlong(Gate):
    """Zeros of ``shape`` with src added at index along dim; the gradient is gathered."""

    derivative = "d/dsrc scatter_add(src) = the upstream gradient at each target position"
    fresh_gradients = True
    input_names = ("src",)
    shape: tuple[int, ...]
    dim: int
    index: npt.NDArray[np.integer[Any]]
    positions: npt.NDArray[np.intp]

    def forward(self, src: Array) -> Array:
        self.positions = linear_positions(self.shape, self.dim, self.index)
        return _scatter_add_arrays(src, self.shape, self.dim, self.index, self.positions)

    def backward(self, grad: Any, out: Any, src: Any) -> Any:
        if isinstance(grad, Tensor) or not grad.flags.c_contiguous:
            return gathered(grad, self.dim, self.index)
        return grad.reshape(-1).take(self.positions)


class ScatterAddInto(Gate):
    """x with src added at index along dim (repeats add up), in one copy of x: x's gradient is the upstream
    gradient, src's is gathered from it."""

    derivative = "d/dx scatter_add(x,src) = 1; d/dsrc scatter_add(x,src) = 1 at its position"
    input_names = ("x", "src")
    dim: int
    index: npt.NDArray[np.integer[Any]]
    positions: npt.NDArray[np.intp]

    def forward(self, x: Array, src: Array) -> Array:
        self.positions = linear_positions(x.shape, self.dim, self.index)
        out = x.copy()  # C order, so the flat view below is a view
        xp.add.at(out.reshape(-1), self.positions.reshape(-1), src.reshape(-1).astype(out.dtype, copy=False))
        return out

    def backward(self, grad: Any, out: Any, x: Any, src: Any) -> tuple[Any, Any]:
        if not self.wants(1):
            return grad, None
        if isinstance(grad, Tensor) or not grad.flags.c_contiguous:
            return grad, gathered(grad, self.dim, self.index)
        return grad, grad.reshape(-1).take(self.positions)


class Scatter(Gate):
    """x with src written at index along dim (the last write wins where an index repeats, as NumPy assigns;
    PyTorch leaves that order unspecified). x's gradient is 0 where it was overwritten; src's is gathered
    (every src element that names a position gets its gradient, as in PyTorch)."""

    derivative = "d/dx scatter(x,src) = 1 where not written; d/dsrc scatter(x,src) = 1 at its position"
    fresh_gradients = True
    input_names = ("x", "src")
    dim: int
    index: npt.NDArray[np.integer[Any]]
    kept: npt.NDArray[np.bool_]

    def forward(self, x: Array, src: Array) -> Array:
        out = x.copy()
        positions = linear_positions(x.shape, self.dim, self.index).reshape(-1)
        out.reshape(-1)[positions] = src.reshape(-1)
        kept = xp.ones(x.size, dtype=bool)
        kept[positions] = False
        self.kept = kept.reshape(x.shape)
        return out

    def backward(self, grad: Any, out: Any, x: Any, src: Any) -> tuple[Any, Any]:
        return (
            grad * self.kept if self.wants(0) else None,
            gathered(grad, self.dim, self.index) if self.wants(1) else None,
        )


_IDENTITY: dict[str, int] = {"sum": 0, "mean": 0, "prod": 1}
_ACCUMULATE: dict[str, np.ufunc] = {
    "sum": xp.add,
    "mean": xp.add,
    "prod": xp.multiply,
    "amax": xp.maximum,
    "amin": xp.minimum,
}


def _scatter_reduce_arrays(
    x: Array,
    src: Array,
    dim: int,
    index: npt.NDArray[np.integer[Any]],
    reduce: str,
    include_self: bool,
) -> tuple[Array, npt.NDArray[np.intp]]:
    """PyTorch's scatter_reduce on arrays: the result, and how many values met at each position."""
    out = x.copy()
    flat = out.reshape(-1)
    positions = linear_positions(x.shape, dim, index).reshape(-1)
    if not include_self:
        flat[positions] = _IDENTITY[reduce] if reduce in _IDENTITY else _extreme(out.dtype, reduce)
    _ACCUMULATE[reduce].at(flat, positions, src.reshape(-1).astype(out.dtype, copy=False))
    counts = xp.bincount(positions, minlength=x.size).reshape(x.shape) + include_self
    if reduce == "mean":
        divisor = xp.maximum(counts, 1)  # a position nothing was scattered to keeps its own value
        if out.dtype.kind == "f":
            out /= divisor
        else:
            out //= divisor
    return out, counts


def _extreme(dtype: np.dtype[Any], reduce: str) -> float:
    """What amax (amin) starts from: the lowest (highest) value of ``dtype``."""
    if dtype.kind == "f":
        return -xp.inf if reduce == "amax" else xp.inf
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Gate):
    """PyTorch's scatter_reduce: src reduced into x at index along dim by sum, prod, mean, amax or amin, with
    or without x's own values. Gradients as PyTorch's, exact where values are 0 (prod); amax and amin split
    the gradient evenly among the values tied for the result (counting x only where it takes part)."""

    derivative = "d/dx scatter_reduce(x,src) and d/dsrc: the reduction's derivative at each position"
    fresh_gradients = True
    input_names = ("x", "src")
    dim: int
    index: npt.NDArray[np.integer[Any]]
    reduce: str
    include_self: bool
    counts: npt.NDArray[np.intp]
    own: npt.NDArray[np.bool_]

    def forward(self, x: Array, src: Array) -> Array:
        out, counts = _scatter_reduce_arrays(x, src, self.dim, self.index, self.reduce, self.include_self)
        self.counts = counts
        scattered = counts > self.include_self
        # Positions where x's own value takes part: everywhere with include_self, else where nothing landed.
        self.own = xp.ones(x.shape, dtype=bool) if self.include_self else ~scattered
        return out

    def backward(self, grad: Any, out: Any, x: Any, src: Any) -> tuple[Any, Any]:
        dim, index, own = self.dim, self.index, self.own
        if self.reduce == "sum":
            return grad * own, gathered(grad, dim, index)
        if self.reduce == "mean":
            share = grad / xp.maximum(self.counts, 1).astype(data(grad).dtype)
            return share * own, gathered(share, dim, index)
        if self.reduce in ("amax", "amin"):
            x_wins = (data(x) == data(out)) & own
            src_wins = data(src) == gathered(data(out), dim, index)
            ties = x_wins + _scatter_add_arrays(src_wins.astype(xp.float64), x.shape, dim, index)
            share = grad / xp.maximum(ties, 1).astype(data(grad).dtype)
            return share * x_wins, gathered(share, dim, index) * src_wins
        return self._product_gradients(grad, out, x, src)

    def _product_gradients(self, grad: Any, out: Any, x: Any, src: Any) -> tuple[Any, Any]:
        """The product of the others, for x and for src, without dividing by a 0 (PyTorch's formula)."""
        dim, index = self.dim, self.index
        x_zero, src_zero = data(x) == 0, data(src) == 0
        ones_for_x_zeros = common.where(x_zero, 1, x)
        without_x_zeros = _scatter_reduce(ones_for_x_zeros, src, dim, index, "prod", self.include_self)
        grad_x = grad * without_x_zeros / ones_for_x_zeros * self.own
        zeros_at = _scatter_add_arrays(src_zero.astype(xp.float64), x.shape, dim, index)
        lone_zero = src_zero & (gathered(zeros_at, dim, index) == 1)
        ones_for_lone_zeros = common.where(lone_zero, 1, src)
        without_lone_zero = _scatter_reduce(x, ones_for_lone_zeros, dim, index, "prod", self.include_self)
        others = gathered(grad * out, dim, index) / common.where(src_zero, 1, src)
        grad_src = common.where(lone_zero, gathered(grad * without_lone_zero, dim, index), others)
        return grad_x, grad_src


def _scatter_reduce(
    x: Any, src: Any, dim: int, index: npt.NDArray[np.integer[Any]], reduce: str, include_self: bool
) -> Any:
    """scatter_reduce on arrays or Tensors (a Tensor on either side records the gate)."""
    if isinstance(x, Tensor) or isinstance(src, Tensor):
        return ScatterReduce.apply(
            as_tensor(x), as_tensor(src), dim=dim, index=index, reduce=reduce, include_self=include_self
        )
    return _scatter_reduce_arrays(x, src, dim, index, reduce, include_self)[0]


class Select(Gate):
    """Values picked from x along dim at indices chosen by the caller (a sort order, the place of a maximum),
    and those indices: two outputs. The gradient of the values goes back to where they were picked from."""

    derivative = "d/dx select(x) = 1 at each picked position"
    fresh_gradients = True
    dim: int
    index: npt.NDArray[np.integer[Any]]
    squeeze: bool

    def forward(self, x: Array) -> tuple[Array, Array]:
        values = xp.take_along_axis(x, self.index, self.dim)
        if self.squeeze:
            return values.squeeze(self.dim), self.index.squeeze(self.dim)
        return values, self.index

    def backward(self, grads: tuple[Any, ...], outs: tuple[Any, ...], x: Any) -> Any:
        g = grads[0]
        if g is None:
            return None
        return scattered_add(g.reshape(self.index.shape), x.shape, self.dim, self.index)


def select(input: TensorLike, dim: int, index: npt.NDArray[np.integer[Any]], keepdim: bool = True) -> ValuesIndices:
    """(values, indices) of ``input`` at ``index`` (an int array, ``input``'s number of dimensions) along
    ``dim``; ``keepdim=False`` drops ``dim`` (index has size 1 there). A 0-d input has one element, at 0."""
    x = as_tensor(input)
    if x.ndim == 0:
        values, indices = Select.apply(x.reshape(1), dim=0, index=index.reshape(1), squeeze=False)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    return ValuesIndices(*Select.apply(x, dim=dim, index=index, squeeze=not keepdim))


# ----- checks ----------------------------------------------------------------------------
def _index_array(index: TensorLike, where: str, name: str = "index") -> npt.NDArray[np.int64]:
    array = xp.asarray(data(index))
    if array.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} must hold integers (int64 as PyTorch's), got dtype {array.dtype}")
    return array.astype(xp.int64, copy=False)


def _check_bounds(index: Array, size: int, dim: int, where: str) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(
            f"{where}: index {bad} is out of bounds for dimension {dim} with size {size} (valid: 0 to {size - 1})"
        )


@overload
def _along(
    input: TensorLike, dim: int, index: TensorLike, where: str
) -> tuple[Tensor, int, npt.NDArray[np.int64], None]: ...
@overload
def _along(
    input: TensorLike, dim: int, index: TensorLike, where: str, src: TensorLike
) -> tuple[Tensor, int, npt.NDArray[np.int64], Tensor]: ...
def _along(
    input: TensorLike, dim: int, index: TensorLike, where: str, src: TensorLike | None = None
) -> tuple[Tensor, int, npt.NDArray[np.int64], Tensor | None]:
    """``input``, ``dim`` and ``index`` checked as PyTorch's gather and scatter need them; also ``src``, cut to
    index's shape. Returns (x, dim, index, src)."""
    x = as_tensor(input)
    index = _index_array(index, where)
    if x.ndim == 0:
        x = x.reshape(1)
        index = index.reshape(1) if index.ndim == 0 else index
    dim = _dim(x, dim, where)
    if index.ndim != x.ndim:
        raise ValueError(
            f"{where}: index has {index.ndim} dimensions (shape {index.shape}) but input has "
            f"{x.ndim} (shape {x.shape}); they must have the same number"
        )
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise ValueError(
            f"{where}: index of shape {index.shape} is larger than input of shape {x.shape} in a "
            f"dimension other than dim {dim}"
        )
    _check_bounds(index, x.shape[dim], dim, where)
    if src is not None:
        src = as_tensor(src)
        if src.ndim == 0 and index.ndim == 1:
            src = src.reshape(1)  # a 0-d input, handled as 1-d
        if src.ndim != index.ndim or any(i > n for i, n in zip(index.shape, src.shape)):
            raise ValueError(
                f"{where}: src of shape {src.shape} must have index's number of dimensions and be "
                f"at least as large as index ({index.shape}) in each"
            )
        src = _cut(src, index.shape)
    return x, dim, index, src


def _shaped(out: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``out`` in ``shape`` (a 0-d input was handled as 1-d)."""
    return out if out.shape == shape else out.reshape(shape)


def _cut(x: Tensor, shape: Shape) -> Tensor:
    """x's leading corner of ``shape`` (a differentiable slice when it is smaller)."""
    if x.shape == tuple(shape):
        return x
    return x[tuple(slice(0, n) for n in shape)]


# ----- user-facing functions -------------------------------------------------------
@operation("gather")
def gather(input: TensorLike, dim: int, index: TensorLike, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index`` (``out[i][j] = input[index[i][j]][j]`` for dim 0); the
    result has index's shape. The gradient adds up where an index repeats."""
    index_argument = index
    x, dim, index, _ = _along(input, dim, index, "gather")
    cut = list(index.shape)
    cut[dim] = x.shape[dim]
    return _shaped(Gather.apply(_cut(x, cut), dim=dim, index=index), xp.shape(data(index_argument)))


@operation("scatter_add")
def scatter_add(input: TensorLike, dim: int, index: TensorLike, src: TensorLike) -> Tensor:
    """``input`` with ``src`` added at ``index`` along ``dim`` (the inverse of gather:
    ``out[index[i][j]][j] += src[i][j]`` for dim 0); repeated indices add up."""
    x, dim, index, src = _along(input, dim, index, "scatter_add", src)
    return _shaped(ScatterAddInto.apply(x, src, dim=dim, index=index), xp.shape(data(input)))


@operation("scatter")
def scatter(
    input: TensorLike,
    dim: int,
    index: TensorLike,
    src: TensorLike | float | None = None,
    *,
    value: float | None = None,
    reduce: str | None = None,
) -> Tensor:
    """``input`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``. Where an index
    repeats, one of the values is kept (the last, here). ``reduce="add"`` or ``"multiply"`` reduces instead,
    as ``scatter_reduce`` with "sum" or "prod"."""
    if src is None and value is None or src is not None and value is not None:
        raise TypeError("scatter: give either src (a tensor or a number) or value=")
    fill: Number | None = value
    if fill is None and common.is_number(src):
        fill, src = src, None
    if fill is not None:
        x = as_tensor(input)
        src = Tensor(xp.full(xp.shape(data(index)), fill, dtype=x.dtype))
    assert src is not None  # given, or made from the number given
    if reduce is not None:
        kinds = {"add": "sum", "multiply": "prod"}
        if reduce not in kinds:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply' (or use scatter_reduce), got {reduce!r}")
        return scatter_reduce(input, dim, index, src, kinds[reduce])
    x, dim, index, src = _along(input, dim, index, "scatter", src)
    return _shaped(Scatter.apply(x, src, dim=dim, index=index), xp.shape(data(input)))


@operation("scatter_reduce")
def scatter_reduce(
    input: TensorLike, dim: int, index: TensorLike, src: TensorLike, reduce: str, *, include_self: bool = True
) -> Tensor:
    """``src`` reduced into ``input`` at ``index`` along ``dim``: ``reduce`` is "sum", "prod", "mean", "amax"
    or "amin"; with ``include_self=False`` the values of ``input`` where something lands are left out.

    Gradients are PyTorch's, exact at zeros for "prod"; for "amax"/"amin" the values tied for the result
    share its gradient evenly. (PyTorch counts ``input``'s value among the ties even with
    ``include_self=False``; here it is left out there, so the shares add up to the whole gradient.)"""
    if reduce not in _ACCUMULATE:
        raise ValueError(f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin'; got {reduce!r}")
    x, dim, index, src = _along(input, dim, index, "scatter_reduce", src)
    out = ScatterReduce.apply(x, src, dim=dim, index=index, reduce=reduce, include_self=bool(include_self))
    return _shaped(out, xp.shape(data(input)))


@operation("index_select")
def index_select(input: TensorLike, dim: int, index: TensorLike) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in ``index`` (1-d), in that order."""
    x = as_tensor(input)
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-d, got shape {index.shape}")
    dim = _dim(x, dim, "index_select")
    if x.ndim == 0:  # as PyTorch: one index, and a 0-d result
        if index.size != 1:
            raise ValueError(f"index_select: a 0-d input takes exactly one index, got {index.size}")
        _check_bounds(index, 1, 0, "index_select")
        return x.reshape(1)[index.reshape(-1)].reshape(())
    _check_bounds(index, x.shape[dim], dim, "index_select")
    return x[(slice(None),) * dim + (index.reshape(-1),)]


@operation("masked_select")
def masked_select(input: TensorLike, mask: TensorLike) -> Tensor:
    """The elements of ``input`` where ``mask`` (booleans, broadcasting with input) is True, as a 1-d tensor."""
    x = as_tensor(input)
    mask = xp.asarray(data(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_select: mask must be boolean, got dtype {mask.dtype}")
    try:
        shape = xp.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ValueError(
            f"masked_select: mask of shape {mask.shape} does not broadcast with input of shape {x.shape}"
        ) from None
    return broadcast_to(x, shape)[xp.broadcast_to(mask, shape)]


@operation("take_along_dim")
def take_along_dim(input: TensorLike, indices: TensorLike, dim: int | None = None) -> Tensor:
    """``input`` at ``indices`` along ``dim``, the two broadcast against each other off ``dim`` (NumPy's
    take_along_axis); with ``dim=None`` both are flattened first."""
    x = as_tensor(input)
    index = _index_array(indices, "take_along_dim", "indices")
    if dim is None:
        x, index = flatten(x), index.reshape(-1)
        dim = 0
    else:
        dim = _dim(x, dim, "take_along_dim")
    if index.ndim != x.ndim:
        raise ValueError(
            f"take_along_dim: indices have {index.ndim} dimensions (shape {index.shape}) but input "
            f"has {x.ndim} (shape {x.shape})"
        )
    _check_bounds(index, x.shape[dim], dim, "take_along_dim")
    try:
        shape = xp.broadcast_shapes(
            x.shape[:dim] + (1,) + x.shape[dim + 1 :], index.shape[:dim] + (1,) + index.shape[dim + 1 :]
        )
    except ValueError:
        raise ValueError(
            f"take_along_dim: input of shape {x.shape} and indices of shape {index.shape} do not "
            f"broadcast off dim {dim}"
        ) from None
    x = broadcast_to(x, shape[:dim] + (x.shape[dim],) + shape[dim + 1 :])
    index = xp.broadcast_to(index, shape[:dim] + (index.shape[dim],) + shape[dim + 1 :])
    return Gather.apply(x, dim=dim, index=xp.ascontiguousarray(index))


@operation(functional=True, exported=False)
def one_hot(tensor: TensorLike, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot rows: shape (..., num_classes), int64, a 1 at each index (no gradient).
    ``num_classes=-1`` takes the largest index + 1."""
    labels = _index_array(tensor, "one_hot", "tensor")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, xp.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got {num_classes!r}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; give num_classes")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(f"one_hot: class {bad} is outside 0..{num_classes - 1} (num_classes={num_classes})")
    return Tensor((labels[..., None] == xp.arange(num_classes)).astype(xp.int64))
