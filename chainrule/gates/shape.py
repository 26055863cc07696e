"""Shape gates: they move values around without changing them, so each backward moves
the gradient back the same way (reshape back, transpose back, scatter back, sum
the copies of a broadcast or tile)."""

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor, _plain_index
from .common import as_tensor, method, normalize_axis, sum_to


class Reshape(Gate):
    derivative = "d/dx reshape(x) = 1 (the gradient is reshaped back)"
    forwards_gradient = True

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, grad, out, x):
        return grad.reshape(x.shape)


class Permute(Gate):
    derivative = "d/dx transpose(x) = 1 (the gradient is transposed back)"
    forwards_gradient = True

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, grad, out, x):
        return grad.transpose(tuple(xp.argsort(self.axes)))


class BroadcastTo(Gate):
    derivative = "d/dx broadcast(x) = 1 (the copies' gradients are summed)"
    forwards_gradient = True

    def forward(self, x):
        return xp.broadcast_to(x, self.shape)

    def backward(self, grad, out, x):
        return sum_to(grad, x.shape)


class GetItem(Gate):
    """x[index]; the gradient is scattered back, adding up where an index repeats."""

    derivative = "d/dx x[i] = 1 at i, 0 elsewhere"
    fresh_gradients = True

    def forward(self, x):
        return x[self.index]

    def backward(self, grad, out, x):
        return scatter_add(grad, x.shape, self.index)


class ScatterAdd(Gate):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (GetItem's backward, differentiable itself)."""

    derivative = "d/dg scatter(g) = 1 at the index"
    forwards_gradient = True

    def forward(self, g):
        return _scatter_add_arrays(g, self.shape, self.index)

    def backward(self, grad, out, g):
        return grad[self.index]


def scatter_add(grad, shape, index):
    if isinstance(grad, Tensor):
        return ScatterAdd.apply(grad, shape=shape, index=index)
    return _scatter_add_arrays(grad, shape, index)


def _scatter_add_arrays(g, shape, index):
    result = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        result[index] = g  # a basic index never repeats an element
    else:
        xp.add.at(result, index, g)
    return result


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) and not isinstance(p, bool) for p in parts)


class Concatenate(Gate):
    derivative = "d/dx_k concat(x_1..x_n) = 1 on x_k's slice"

    def forward(self, *xs):
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, grad, out, *xs):
        grads, start = [], 0
        for x in xs:
            stop = start + x.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(grad[index])
            start = stop
        return tuple(grads)


class Pad(Gate):
    derivative = "d/dx pad(x) = 1 inside, the padding gets none"
    forwards_gradient = True

    def forward(self, x):
        return xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, grad, out, x):
        return grad[tuple(slice(before, before + n) for (before, _), n in zip(self.widths, x.shape))]


class Flip(Gate):
    derivative = "d/dx flip(x) = 1 (the gradient is flipped back)"
    forwards_gradient = True

    def forward(self, x):
        return xp.flip(x, self.axes)

    def backward(self, grad, out, x):
        return flip(grad, self.axes) if isinstance(grad, Tensor) else xp.flip(grad, self.axes)


class Tile(Gate):
    derivative = "d/dx tile(x) = 1 (the copies' gradients are summed)"
    fresh_gradients = True

    def forward(self, x):
        return xp.tile(x, self.reps)

    def backward(self, grad, out, x):
        shape = (1,) * (len(self.reps) - x.ndim) + x.shape
        # Split each tiled axis into (copies, original) and sum over the copies.
        split = grad.reshape(tuple(n for pair in zip(self.reps, shape) for n in pair))
        summed = split.sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return summed.reshape(x.shape)


class Repeat(Gate):
    derivative = "d/dx repeat(x) = 1 (each element's copies' gradients are summed)"
    fresh_gradients = True

    def forward(self, x):
        return xp.repeat(x, self.repeats, axis=self.axis)

    def backward(self, grad, out, x):
        n = x.shape[self.axis]
        split = grad.reshape(x.shape[:self.axis] + (n, self.repeats) + x.shape[self.axis + 1:])
        return split.sum(axis=self.axis + 1)


# ----- user-facing functions -------------------------------------------------------
def _shape_argument(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    x = as_tensor(x)
    shape = _shape_argument(shape)
    target = _resolve_shape(x, shape)
    if target == x.shape:
        return x
    return Reshape.apply(x, shape=target)


def _resolve_shape(x, shape):
    """``shape`` with a -1 filled in, or a clear error when the sizes cannot match."""
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    unknown = [n for n in shape if n == -1]
    fits = (known == x.size) if not unknown else (len(unknown) == 1 and known > 0 and x.size % known == 0)
    if not fits or any(n < -1 for n in shape):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}")
    return tuple(x.size // known if n == -1 else int(n) for n in shape)


def transpose(x, *axes):
    """Reverse the axes, or put them in the order given (like NumPy's transpose)."""
    x = as_tensor(x)
    axes = _shape_argument(axes) or tuple(reversed(range(x.ndim)))
    if len(axes) != x.ndim or sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    axes = tuple(a % x.ndim for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, axes=axes)


def swapaxes(x, axis1, axis2):
    x = as_tensor(x)
    a, b = (normalize_axis(axis, x.ndim, "swapaxes")[0] for axis in (axis1, axis2))
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return transpose(x, order)


def swap_last_two(x):
    return swapaxes(x, -1, -2)


def squeeze(x, axis=None):
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "squeeze") if axis is not None else tuple(
        i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis):
    x = as_tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for a new axis of a tensor of shape {x.shape} "
                         f"(valid: {-x.ndim - 1} to {x.ndim})")
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def flatten(x, start_axis=0, end_axis=-1):
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_axis(a, x.ndim, "flatten")[0] for a in (start_axis, end_axis))
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def broadcast_to(x, *shape):
    x = as_tensor(x)
    shape = _shape_argument(shape)
    try:
        xp.broadcast_shapes(x.shape, shape)
        if len(shape) < x.ndim or xp.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to {shape}") from None
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def getitem(x, index):
    x = as_tensor(x)
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(f"getitem: index {_describe(index)} does not fit a tensor of shape {x.shape}: {error}") from None


def _describe(index):
    if isinstance(index, xp.ndarray):
        return f"array(shape={index.shape}, dtype={index.dtype})"
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(i) for i in index) + ")"
    return repr(index)


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    axis = normalize_axis(axis, tensors[0].ndim, "concatenate")[0]
    first = tensors[0].shape
    for position, t in enumerate(tensors):
        if t.ndim != len(first) or t.shape[:axis] + t.shape[axis + 1:] != first[:axis] + first[axis + 1:]:
            raise ValueError(f"concatenate: tensor {position} has shape {t.shape}, but tensor 0 has shape {first}; "
                             f"all dimensions except axis {axis} must match")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    for position, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {position} has shape {t.shape}, but tensor 0 has shape "
                             f"{tensors[0].shape}; all must have the same shape")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


def split(x, sections, axis=0):
    """Split into ``sections`` equal parts (an int) or at the given indices (a list), like NumPy."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "split")[0]
    n = x.shape[axis]
    if isinstance(sections, int):
        if sections < 1 or n % sections:
            raise ValueError(f"split: axis {axis} of shape {x.shape} (size {n}) does not divide into {sections} equal parts")
        bounds = list(range(0, n + 1, n // sections))
    else:
        bounds = [0] + [int(i) for i in sections] + [n]
    lead = (slice(None),) * axis
    return [x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def pad(x, widths, value=0.0):
    """Constant padding; ``widths`` is one (before, after) pair per axis, as in NumPy's pad."""
    x = as_tensor(x)
    widths = tuple((int(a), int(b)) for a, b in widths)
    if len(widths) != x.ndim or any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(f"pad: widths {widths} must be one non-negative (before, after) pair for each of the "
                         f"{x.ndim} axes of shape {x.shape}")
    if not any(a or b for a, b in widths):
        return x  # nothing to pad (NumPy's pad also rejects the empty widths of a 0-d array)
    return Pad.apply(x, widths=widths, value=value)


def flip(x, axis=None):
    x = as_tensor(x)
    return Flip.apply(x, axes=normalize_axis(axis, x.ndim, "flip"))


def tile(x, reps):
    x = as_tensor(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    reps = (1,) * (x.ndim - len(reps)) + reps
    return Tile.apply(x, reps=reps)


def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (NumPy's repeat; None flattens first)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = flatten(x), 0
    if not isinstance(repeats, int) or repeats < 0:
        raise ValueError(f"repeat: repeats must be a non-negative int, got {repeats!r}")
    return Repeat.apply(x, repeats=repeats, axis=normalize_axis(axis, x.ndim, "repeat")[0])


for _name, _function in [("reshape", reshape), ("transpose", transpose), ("permute", transpose),
                         ("swapaxes", swapaxes), ("swap_last_two", swap_last_two), ("squeeze", squeeze),
                         ("unsqueeze", unsqueeze), ("flatten", flatten), ("broadcast_to", broadcast_to),
                         ("expand", broadcast_to), ("flip", flip), ("tile", tile), ("repeat", repeat),
                         ("split", split), ("__getitem__", getitem)]:
    method(_name, _function)
Tensor.T = property(transpose)
Tensor.mT = property(swap_last_two)
