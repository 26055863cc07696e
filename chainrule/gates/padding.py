"""Padding with the input's own values: reflect, replicate and circular (PyTorch's F.pad modes).

Along each padded axis, every output position copies one input position, so the padding is
``take`` with an index array per axis: reflect mirrors about the edge without repeating it
(d c b | a b c d | c b a), replicate repeats the edge (a a | a b c d | d d), circular wraps
around (c d | a b c d | a b). The middle of each index array is the identity. The gradient
folds the copies back: the middle's gradient as it is, plus each border position's gradient
added at the position it copied, one border position at a time (borders are a few pixels
wide; each step is a whole slice of the other axes). Zero padding is shape.Pad.
"""

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Shape

#: The padding along each padded axis: (axis, the input position each output position copies, where the unpadded
#: middle starts).
Copies: TypeAlias = tuple[tuple[int, npt.NDArray[np.intp], int], ...]


def source_positions(mode: str, size: int, before: int, after: int) -> npt.NDArray[np.intp]:
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
    axes: Copies

    def forward(self, x: Array) -> Array:
        return gather(x, self.axes)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return CopyPadFold.apply(grad, axes=self.axes, shape=x.shape)
        return fold(grad, self.axes, x.shape)


class CopyPadFold(Gate):
    """CopyPad's backward as a gate (for gradients of gradients); its own backward is CopyPad."""

    derivative = "d/dg fold(g) = 1 at each copy (the gradient is gathered again)"
    fresh_gradients = True
    axes: Copies
    shape: tuple[int, ...]

    def forward(self, grad: Array) -> Array:
        return fold(grad, self.axes, self.shape)

    def backward(self, grad: Any, out: Any, g: Any) -> Any:
        if isinstance(grad, Tensor):
            return CopyPad.apply(grad, axes=self.axes)
        return gather(grad, self.axes)


def gather(x: Array, axes: Copies) -> Array:
    for axis, positions, _ in axes:
        x = xp.take(x, positions, axis=axis)
    return x


def fold(grad: Array, axes: Copies, shape: Shape) -> Array:
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
