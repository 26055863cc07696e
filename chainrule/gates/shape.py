"""Shape gates: they move values around without changing them, so each backward moves
the gradient back the same way (reshape back, transpose back, scatter back, sum
the copies of a broadcast or tile)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor, _plain_index
from ..types import Array, Dims, Index, Shape, TensorLike
from .common import as_tensor, normalize_axis, one_of, operation, sum_to


class Reshape(Gate):
    derivative = "d/dx reshape(x) = 1 (the gradient is reshaped back)"
    shape: tuple[int, ...]
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return x.reshape(self.shape)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad.reshape(x.shape)


class Permute(Gate):
    derivative = "d/dx transpose(x) = 1 (the gradient is transposed back)"
    axes: tuple[int, ...]
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return x.transpose(self.axes)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        order = tuple(int(i) for i in xp.argsort(self.axes))
        return grad.permute(order) if isinstance(grad, Tensor) else grad.transpose(order)


class BroadcastTo(Gate):
    derivative = "d/dx broadcast(x) = 1 (the copies' gradients are summed)"
    shape: tuple[int, ...]
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return xp.broadcast_to(x, self.shape)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return sum_to(grad, x.shape)


class GetItem(Gate):
    """x[index]; the gradient is scattered back, adding up where an index repeats."""

    derivative = "d/dx x[i] = 1 at i, 0 elsewhere"
    index: Index
    fresh_gradients = True

    def forward(self, x: Array) -> Array:
        out: Array = x[self.index]  # NumPy's stubs type this as Any
        return out

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return scatter_add(grad, x.shape, self.index)


class ScatterAdd(Gate):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (GetItem's backward, differentiable itself)."""

    derivative = "d/dg scatter(g) = 1 at the index"
    shape: tuple[int, ...]
    index: Index
    forwards_gradient = True

    def forward(self, g: Array) -> Array:
        return _scatter_add_arrays(g, self.shape, self.index)

    def backward(self, grad: Any, out: Any, g: Any) -> Any:
        return grad[self.index]


def scatter_add(grad: Any, shape: tuple[int, ...], index: Index) -> Any:
    if isinstance(grad, Tensor):
        return ScatterAdd.apply(grad, shape=shape, index=index)
    return _scatter_add_arrays(grad, shape, index)


def _scatter_add_arrays(g: Array, shape: tuple[int, ...], index: Index) -> Array:
    result = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        result[index] = g  # a basic index never repeats an element
    else:
        xp.add.at(result, index, g)
    return result


def _is_basic(index: Index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) and not isinstance(p, bool) for p in parts)


class Concatenate(Gate):
    derivative = "d/dx_k concat(x_1..x_n) = 1 on x_k's slice"
    axis: int

    def forward(self, *xs: Array) -> Array:
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, grad: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        grads: list[Any] = []
        start = 0
        for x in xs:
            stop = start + x.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(grad[index])
            start = stop
        return tuple(grads)


class Pad(Gate):
    derivative = "d/dx pad(x) = 1 inside, the padding gets none"
    widths: tuple[tuple[int, int], ...]
    value: float
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad[tuple(slice(before, before + n) for (before, _), n in zip(self.widths, x.shape))]


class Flip(Gate):
    derivative = "d/dx flip(x) = 1 (the gradient is flipped back)"
    axes: tuple[int, ...]
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return xp.flip(x, self.axes)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return flip(grad, self.axes) if isinstance(grad, Tensor) else xp.flip(grad, self.axes)


class Roll(Gate):
    derivative = "d/dx roll(x) = 1 (the gradient is rolled back)"
    shifts: int | tuple[int, ...]  # a tuple exactly when axes is one
    axes: tuple[int, ...] | None
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return xp.roll(x, self.shifts, self.axes)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        shifts = self.shifts  # a tuple exactly when axes is one
        back = tuple(-s for s in cast("tuple[int, ...]", shifts)) if self.axes is not None else -cast(int, shifts)
        if isinstance(grad, Tensor):
            return roll(grad, back, self.axes)
        return xp.roll(grad, back, self.axes)


class Tile(Gate):
    derivative = "d/dx tile(x) = 1 (the copies' gradients are summed)"
    reps: tuple[int, ...]
    fresh_gradients = True

    def forward(self, x: Array) -> Array:
        return xp.tile(x, self.reps)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        shape = (1,) * (len(self.reps) - x.ndim) + x.shape
        # Split each tiled axis into (copies, original) and sum over the copies.
        split = grad.reshape(tuple(n for pair in zip(self.reps, shape) for n in pair))
        summed = split.sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return summed.reshape(x.shape)


class Repeat(Gate):
    derivative = "d/dx repeat(x) = 1 (each element's copies' gradients are summed)"
    repeats: int
    axis: int
    fresh_gradients = True

    def forward(self, x: Array) -> Array:
        return xp.repeat(x, self.repeats, axis=self.axis)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        n = x.shape[self.axis]
        split = grad.reshape(x.shape[: self.axis] + (n, self.repeats) + x.shape[self.axis + 1 :])
        return split.sum(axis=self.axis + 1)


# ----- user-facing functions -------------------------------------------------------
# PyTorch's names and meanings (dim, transpose of two dimensions, repeat as tiling); NumPy's axis is an alias.
def _shape_argument(shape: tuple[int | Shape, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return cast("tuple[int, ...]", tuple(shape))  # ints, as given


def _dim(input: Tensor, dim: int | np.integer[Any], where: str, extra: int = 0) -> int:
    """One dimension of ``input`` (``extra`` more allowed, for a new one) as a non-negative int, or a clear error."""
    ndim = input.ndim + extra
    bound = builtins.max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, xp.integer)) or not -bound <= dim < bound:
        raise ValueError(
            f"{where}: dimension {dim!r} is out of range for a tensor of shape {input.shape} "
            f"(valid: {-bound} to {bound - 1})"
        )
    return int(dim) % bound


@operation("reshape")
def reshape(input: TensorLike, *shape: int | Shape) -> Tensor:
    """The same elements in a new shape (one size may be -1: whatever is left)."""
    x = as_tensor(input)
    target = _resolve_shape(x, _shape_argument(shape))
    if target == x.shape:
        return x
    return Reshape.apply(x, shape=target)


@operation("view", exported=False)
def view(input: TensorLike, *shape: int | Shape) -> Tensor:
    """PyTorch's ``view``: the same elements in a new shape, as ``reshape`` (NumPy copies where a view cannot
    be made, so no ``contiguous()`` is needed first)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, xp.integer, tuple, list)):
        raise TypeError(
            f"view: expected a shape (ints, or one tuple of them), got {shape[0]!r}; to change the "
            "dtype, use .to(dtype)"
        )
    return reshape(input, *shape)


@operation("view_as", "reshape_as", exported=False)
def view_as(input: TensorLike, other: TensorLike) -> Tensor:
    """The tensor reshaped to ``other``'s shape."""
    return reshape(input, as_tensor(other).shape)


@operation("expand_as", exported=False)
def expand_as(input: TensorLike, other: TensorLike) -> Tensor:
    """The tensor broadcast to ``other``'s shape (as ``expand``)."""
    return broadcast_to(input, as_tensor(other).shape)


def _resolve_shape(x: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with a -1 filled in, or a clear error when the sizes cannot match."""
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    unknown = [n for n in shape if n == -1]
    size = x.data.size
    fits = (known == size) if not unknown else (len(unknown) == 1 and known > 0 and size % known == 0)
    if not fits or any(n < -1 for n in shape):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
    return tuple(size // known if n == -1 else int(n) for n in shape)


@operation("permute", properties=("T",))
def permute(input: TensorLike, *dims: int | Shape) -> Tensor:
    """The dimensions in the order ``dims`` (a permutation of them); with none given, reversed (``.T``)."""
    x = as_tensor(input)
    axes = _shape_argument(dims) or tuple(reversed(range(x.ndim)))
    if len(axes) != x.ndim:
        raise ValueError(f"permute: dims {axes} name {len(axes)} dimensions, but the tensor has shape {x.shape}")
    order = tuple(_dim(x, d, "permute") for d in axes)
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {axes} are not a permutation of the {x.ndim} dimensions of shape {x.shape}")
    if order == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, axes=order)


@operation("transpose", "swapaxes", aliases=("swapaxes",))
def transpose(input: TensorLike, dim0: int, dim1: int) -> Tensor:
    """``dim0`` and ``dim1`` swapped (PyTorch's transpose; NumPy's swapaxes). For all dimensions reversed, use
    ``.T`` or ``permute``."""
    x = as_tensor(input)
    a, b = _dim(x, dim0, "transpose"), _dim(x, dim1, "transpose")
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


swapaxes = transpose


@operation("swap_last_two", properties=("mT",), exported=False)
def swap_last_two(input: TensorLike) -> Tensor:
    """The last two dimensions swapped (``.mT``: a batch of matrices, each transposed)."""
    return transpose(input, -1, -2)


@operation("squeeze")
def squeeze(input: TensorLike, dim: Dims = None, *, axis: Dims = None) -> Tensor:
    """Size-1 dimensions removed: all of them, or those among ``dim`` (a dimension that is not 1 is left as
    it is, as in PyTorch)."""
    x = as_tensor(input)
    dim = one_of(dim, axis, "dim", "axis", "squeeze")
    dims = range(x.ndim) if dim is None else normalize_axis(dim, x.ndim, "squeeze")
    dropped = {d for d in dims if x.shape[d] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dropped))


@operation("unsqueeze")
def unsqueeze(input: TensorLike, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """A new size-1 dimension inserted at ``dim`` (negatives count from the end of the result)."""
    x = as_tensor(input)
    dim = one_of(dim, axis, "dim", "axis", "unsqueeze")
    if dim is None:
        raise TypeError("unsqueeze: missing the dimension to insert (dim=)")
    dim = _dim(x, dim, "unsqueeze", extra=1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


@operation("flatten", functional=True)
def flatten(input: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim`` to ``end_dim`` (inclusive) merged into one."""
    x = as_tensor(input)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = _dim(x, start_dim, "flatten"), _dim(x, end_dim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    merged = math.prod(x.shape[start : end + 1])
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1 :])


@operation("broadcast_to", "expand")
def broadcast_to(input: TensorLike, *shape: int | Shape) -> Tensor:
    """A read-only view of ``input`` repeated along size-1 (or new leading) dimensions to ``shape``; -1 keeps a
    dimension's size (as PyTorch's expand)."""
    x = as_tensor(input)
    target = _shape_argument(shape)
    lead = len(target) - x.ndim
    if lead >= 0:
        target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target))
    try:
        if lead < 0 or xp.broadcast_shapes(x.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to {target}") from None
    if target == x.shape:
        return x
    return BroadcastTo.apply(x, shape=target)


@operation("__getitem__", exported=False)
def getitem(input: TensorLike, index: Index) -> Tensor:
    """``input[index]``: basic and advanced (integer, boolean) indexing, as NumPy does it."""
    x = as_tensor(input)
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(
            f"getitem: index {_describe(index)} does not fit a tensor of shape {x.shape}: {error}"
        ) from None


def _describe(index: Index) -> str:
    if isinstance(index, xp.ndarray):
        return f"array(shape={index.shape}, dtype={index.dtype})"
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(i) for i in index) + ")"
    return repr(index)


@operation(aliases=("concatenate", "concat"))
def cat(tensors: Sequence[TensorLike], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors joined along ``dim``; all other dimensions must match."""
    inputs = [as_tensor(t) for t in tensors]
    if not inputs:
        raise ValueError("cat: needs at least one tensor")
    dim = _dim(inputs[0], one_of(dim, axis, "dim", "axis", "cat", 0), "cat")
    first = inputs[0].shape
    for position, t in enumerate(inputs):
        if t.ndim != len(first) or t.shape[:dim] + t.shape[dim + 1 :] != first[:dim] + first[dim + 1 :]:
            raise ValueError(
                f"cat: tensor {position} has shape {t.shape}, but tensor 0 has shape {first}; "
                f"all dimensions except dim {dim} must match"
            )
    return Concatenate.apply(*inputs, axis=dim)


concatenate = concat = cat


@operation()
def stack(tensors: Sequence[TensorLike], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors, all of one shape, joined along a new dimension ``dim``."""
    inputs = [as_tensor(t) for t in tensors]
    if not inputs:
        raise ValueError("stack: needs at least one tensor")
    for position, t in enumerate(inputs):
        if t.shape != inputs[0].shape:
            raise ValueError(
                f"stack: tensor {position} has shape {t.shape}, but tensor 0 has shape "
                f"{inputs[0].shape}; all must have the same shape"
            )
    dim = _dim(inputs[0], one_of(dim, axis, "dim", "axis", "stack", 0), "stack", extra=1)
    return cat([unsqueeze(t, dim) for t in inputs], dim)


@operation("split")
def split(
    tensor: TensorLike, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: int | None = None
) -> list[Tensor]:
    """Pieces along ``dim``, as PyTorch cuts them: an int is the size of each piece (the last may be smaller),
    a list the size of each piece in turn (summing to the dimension's size)."""
    x = as_tensor(tensor)
    dim = _dim(x, one_of(dim, axis, "dim", "axis", "split", 0), "split")
    n = x.shape[dim]
    sizes = split_size_or_sections
    if isinstance(sizes, (int, xp.integer)) and not isinstance(sizes, bool):
        if sizes < 1:
            raise ValueError(f"split: split_size must be a positive int, got {sizes}")
        sizes = [builtins.min(int(sizes), n - start) for start in range(0, n, int(sizes))] or [0]
    else:
        sizes = [int(size) for size in cast("Sequence[int]", sizes)]  # a bool here: iterating it raises TypeError
        if any(size < 0 for size in sizes) or builtins.sum(sizes) != n:
            raise ValueError(
                f"split: section sizes {sizes} must be non-negative and add up to {n}, the size of "
                f"dim {dim} of shape {x.shape}"
            )
    lead = (slice(None),) * dim
    pieces: list[Tensor] = []
    start = 0
    for size in sizes:
        pieces.append(x[lead + (slice(start, start + size),)])
        start += size
    return pieces


@operation()
def pad(input: TensorLike, widths: Sequence[tuple[int, int]], value: float = 0.0) -> Tensor:
    """Constant padding; ``widths`` is one (before, after) pair per dimension, as in NumPy's pad. (For
    PyTorch's last-dimension-first pairs and other modes, use ``nn.functional.pad``.)"""
    x = as_tensor(input)
    widths = tuple((int(a), int(b)) for a, b in widths)
    if len(widths) != x.ndim or any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(
            f"pad: widths {widths} must be one non-negative (before, after) pair for each of the "
            f"{x.ndim} dimensions of shape {x.shape}"
        )
    if not any(a or b for a, b in widths):
        return x  # nothing to pad (NumPy's pad also rejects the empty widths of a 0-d array)
    return Pad.apply(x, widths=widths, value=value)


@operation("flip")
def flip(input: TensorLike, dims: Dims = None, *, axis: Dims = None) -> Tensor:
    """The order of the elements reversed along ``dims`` (None: all); a repeated dimension is an error."""
    x = as_tensor(input)
    dims = one_of(dims, axis, "dims", "axis", "flip")
    if dims is not None and not isinstance(dims, (int, xp.integer)):
        dims = tuple(dims)
        if len({_dim(x, d, "flip") for d in dims}) != len(dims):
            raise ValueError(f"flip: dims {dims} name a dimension more than once (shape {x.shape})")
    return Flip.apply(x, axes=normalize_axis(dims, x.ndim, "flip"))


@operation("tile")
def tile(input: TensorLike, dims: int | Shape) -> Tensor:
    """The whole tensor repeated ``dims`` times along each dimension (NumPy's and PyTorch's tile)."""
    x = as_tensor(input)
    reps = (dims,) if isinstance(dims, int) else tuple(dims)
    if any(isinstance(r, bool) or not isinstance(r, (int, xp.integer)) or r < 0 for r in reps):
        raise ValueError(f"tile: repetitions must be non-negative ints, got {dims!r}")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    reps = (1,) * (len(shape) - len(reps)) + reps
    return Tile.apply(x.reshape(shape), reps=reps)


@operation("repeat", exported=False)
def repeat(input: TensorLike, *sizes: int | Shape) -> Tensor:
    """PyTorch's ``Tensor.repeat``: the whole tensor tiled ``sizes`` times along each dimension (at least one
    size per dimension). NumPy's repeat, which repeats each element, is ``repeat_interleave``."""
    x = as_tensor(input)
    reps = _shape_argument(sizes)
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat: {len(reps)} repetitions {reps} for a tensor of shape {x.shape}; give at least "
            f"one per dimension ({x.ndim})"
        )
    return tile(x, reps)


@operation("repeat_interleave")
def repeat_interleave(input: TensorLike, repeats: int, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``dim`` (None: the flattened tensor), as NumPy's repeat."""
    x = as_tensor(input)
    dim = one_of(dim, axis, "dim", "axis", "repeat_interleave")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, xp.integer)) or repeats < 0:
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int, got {repeats!r}")
    if dim is None:
        x, dim = flatten(x), 0
    return Repeat.apply(x, repeats=int(repeats), axis=_dim(x, dim, "repeat_interleave"))


@operation("roll")
def roll(input: TensorLike, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """The elements shifted ``shifts`` places along ``dims``, those pushed off the end coming back at the start;
    with ``dims=None``, along the flattened tensor (the shape is kept)."""
    x = as_tensor(input)
    many = not isinstance(shifts, (int, xp.integer))
    listed = tuple(shifts) if not isinstance(shifts, (int, xp.integer)) else (shifts,)
    if dims is None:
        if many and len(listed) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {listed}")
        shift = listed[0]
        if isinstance(shift, bool) or not isinstance(shift, (int, xp.integer)):
            raise TypeError(f"roll: shifts must be ints, got {shift!r}")
        return Roll.apply(x, shifts=int(shift), axes=None)
    dims = tuple(dims) if not isinstance(dims, (int, xp.integer)) else (dims,)
    if len(listed) != len(dims):
        raise ValueError(f"roll: shifts {listed} and dims {dims} must have the same length")
    if any(isinstance(s, bool) or not isinstance(s, (int, xp.integer)) for s in listed):
        raise TypeError(f"roll: shifts must be ints, got {listed}")
    axes = tuple(_dim(x, d, "roll") for d in dims)
    if x.ndim == 0:
        return Roll.apply(x, shifts=0, axes=None)  # one element: nothing moves
    return Roll.apply(x, shifts=tuple(int(s) for s in listed), axes=axes)
