"""Padding with the input's own values: reflect, replicate and circular (PyTorch's F.pad modes).

Along each padded axis, every output position copies one input position, so the padding is
``take`` with an index array per axis: reflect mirrors about the edge without repeating it
(d c b | a b c d | c b a), replicate repeats the edge (a a | a b c d | d d), circular wraps
around (c d | a b c d | a b). The middle of each index array is the identity. The gradient
folds the copies back: the middle's gradient as it is, plus each border position's gradient
added at the position it copied, one border position at a time (borders are a few pixels
wide; each step is a whole slice of the other axes). Zero padding is shape.Pad.
"""

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor


def source_positions(mode, size, before, after):
    """For each output position along an axis of ``size`` padded by ``before`` and ``after``, the input
    position it copies."""
    positions = xp.arange(-before, size + after)
    if mode == "reflect":
        positions = xp.abs(positions)
        return xp.where(positions > size - 1, 2 * (size - 1) - positions, positions)
    if mode == "replicate":
        return xp.clip(positions, 0, size - 1)
    return positions % size  # circular


class CopyPad(Gate):
    """x gathered along each axis of ``self.axes``: (axis, positions, before) with ``positions`` the input
    position each output position copies and ``before`` where the unpadded middle starts."""

    derivative = "d/dx pad(x) = 1 at each copy (the copies' gradients add up where they were copied from)"
    fresh_gradients = True

    def forward(self, x):
        return gather(x, self.axes)

    def backward(self, grad, out, x):
        if isinstance(grad, Tensor):
            return CopyPadFold.apply(grad, axes=self.axes, shape=x.shape)
        return fold(grad, self.axes, x.shape)


class CopyPadFold(Gate):
    """CopyPad's backward as a gate (for gradients of gradients); its own backward is CopyPad."""

    derivative = "d/dg fold(g) = 1 at each copy (the gradient is gathered again)"
    fresh_gradients = True

    def forward(self, grad):
        return fold(grad, self.axes, self.shape)

    def backward(self, grad, out, g):
        if isinstance(grad, Tensor):
            return CopyPad.apply(grad, axes=self.axes)
        return gather(grad, self.axes)


def gather(x, axes):
    for axis, positions, _ in axes:
        x = xp.take(x, positions, axis=axis)
    return x


def fold(grad, axes, shape):
    """gather's adjoint: each output position's gradient added at the input position it copied."""
    for axis, positions, before in reversed(axes):
        size = shape[axis]
        moved = xp.moveaxis(grad, axis, 0)
        folded = moved[before : before + size].copy()
        for j in [*range(before), *range(before + size, len(positions))]:
            folded[positions[j]] += moved[j]
        grad = xp.moveaxis(folded, 0, axis)
    return grad


__all__ = ["CopyPad", "CopyPadFold", "source_positions", "gather", "fold"]
