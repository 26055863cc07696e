"""Pooling gates on NCHW arrays: max and average over windows, max-unpooling, adaptive max pooling.

The windows are conv.Geometry's: the loops run over the kh*kw kernel offsets, each a strided
view holding that tap of every window (see conv.py), never over pixels. ``ceil_mode`` is a
geometry whose padded image has extra rows and columns at the bottom and right (-inf for max,
not counted by the mean). 1-d pooling is 2-d pooling of a (N, C, 1, L) view (functional.layers).

Max pooling sends each window's gradient to its first maximum in row-major order, as PyTorch
does on ties; ``max_pool2d(return_indices=True)`` also returns those positions as indices
into each input plane (H*W), which ``max_unpool2d`` reads to put values back. Adaptive max
pooling (output size given, windows of uneven size) gathers each window into a row and
takes its first argmax.

Under ``create_graph=True`` the backwards build the gradient from differentiable gates
(AvgPool2d and AvgPool2dSpread are each the other's backward; max pooling and unpooling
scatter and gather through shape.ScatterAdd and GetItem), so second derivatives work too.
"""

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Number
from .common import data
from .conv import Geometry, from_batch_last, is_batch_last, new_image, to_batch_last
from .shape import scatter_add


# ----- max pooling -------------------------------------------------------------------------
class MaxPool2d(Gate):
    """Largest value in each window. The gradient goes to the window's first maximum in
    row-major order (as PyTorch does on ties), found again in backward by comparing
    each kernel offset's view with the output, so forward is only kh*kw maximums. The
    last offset needs no comparison: it takes every window whose maximum was not found
    before (so a window whose maximum is NaN sends its gradient to its last position).

    (Measured: the maximum over kh*kw strided views is 5-20x faster than reshaping to
    (N, C, OH, kh, OW, kw) and reducing, even when the windows tile the input, and
    recomputing the argmax in backward beats tracking it in forward.)"""

    derivative = "d/dx max over window = 1 at the window's first maximum, 0 elsewhere"
    fresh_gradients = True
    geometry: Geometry
    #: The input padded with -inf, kept by forward when there is padding (None: the input itself).
    padded: Array | None

    def forward(self, x: Array) -> Array | tuple[Array, Array]:
        padded = self.geometry.pad(x, -xp.inf)
        self.padded = padded if self.geometry.padding else None
        return across_windows(xp.maximum, padded, self.geometry)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        geometry = self.geometry
        padded = data(self.padded if self.padded is not None else x)
        out = data(out)
        if isinstance(grad, Tensor):
            return self._graph_backward(grad, padded, out)
        offsets = list(geometry.offsets())
        layout = is_batch_last(padded)
        if layout and not is_batch_last(grad):  # e.g. from a flatten: one copy beats mixed-layout passes below
            grad = from_batch_last(to_batch_last(grad))
        dpadded = new_image(geometry.padded_shape, grad.dtype, layout, fill=None if geometry.tiles else 0)
        taken: Array | None = None  # windows whose maximum has been found at an earlier offset
        scratch = None if geometry.tiles else new_image(out.shape, grad.dtype, layout)
        last = len(offsets) - 1
        for k, (_, _, index) in enumerate(offsets):
            if k == last and k > 0:
                assert taken is not None  # set at offset 0
                hit = xp.logical_not(taken, out=taken)  # the maximum is here if it was nowhere before
            else:
                hit = padded[index] == out
            if taken is None:
                taken = hit
            elif k < last:
                xp.greater(hit, taken, out=hit)  # on booleans: hit and not taken
                taken |= hit
            if geometry.tiles:
                xp.multiply(grad, hit, out=dpadded[index])
            else:
                xp.multiply(grad, hit, out=scratch)
                dpadded[index] += scratch
        return geometry.crop(dpadded)

    def _graph_backward(self, grad: Tensor, padded: Array, out: Array) -> Tensor:
        """The same routing as a differentiable scatter of ``grad`` to the first maxima's flat positions."""
        geometry = self.geometry
        n, c, hp, wp = geometry.padded_shape
        rows, columns = first_maxima(padded, out, geometry)
        planes = (xp.arange(n * c) * (hp * wp)).reshape(n, c, 1, 1)
        flat: Tensor = scatter_add(grad.reshape(-1), (n * c * hp * wp,), (rows * wp + columns + planes).reshape(-1))
        return geometry.crop(flat.reshape(geometry.padded_shape))


def first_maxima(padded: Array, out: Array, geometry: Geometry) -> tuple[Array, Array]:
    """Where each window's maximum ``out`` first occurs (row-major; a window with none, a NaN window, at its
    last position, as MaxPool2d's backward routes it): (rows, columns) in the padded image, each (N, C, OH, OW)."""
    rows = xp.zeros(out.shape, dtype=xp.int64)
    columns = xp.zeros(out.shape, dtype=xp.int64)
    found = xp.zeros(out.shape, dtype=bool)
    window_rows = xp.arange(geometry.oh).reshape(-1, 1) * geometry.sh
    window_columns = xp.arange(geometry.ow).reshape(1, -1) * geometry.sw
    offsets = list(geometry.offsets())
    for k, (i, j, index) in enumerate(offsets):
        hit = ~found if k == len(offsets) - 1 else (padded[index] == out) & ~found
        found |= hit
        xp.copyto(rows, window_rows + i * geometry.dh, where=hit)
        xp.copyto(columns, window_columns + j * geometry.dw, where=hit)
    return rows, columns


class MaxPool2dWithIndices(MaxPool2d):
    """MaxPool2d that also returns, for each window, the flat position (row * W + column) of its first
    maximum in its input plane, as ``max_pool2d(..., return_indices=True)`` does in PyTorch."""

    #: The values output, kept by forward for backward.
    out: Array

    def forward(self, x: Array) -> tuple[Array, Array]:
        out = cast("Array", super().forward(x))  # MaxPool2d's forward: the values alone
        self.out = out  # backward compares with the values even when nothing holds that output any more
        geometry = self.geometry
        rows, columns = first_maxima(self.padded if self.padded is not None else x, out, geometry)
        return out, (rows - geometry.ph) * geometry.input_shape[3] + (columns - geometry.pw)

    def backward(self, grads: Any, outs: Any, x: Any) -> Any:
        return super().backward(grads[0], self.out, x)


class MaxUnpool(Gate):
    """Each value of x (N, C, ...) written at its flat index into a zero plane of ``output_shape`` (the inverse
    of max pooling on the maxima; ``positions`` is (plane rows, flat indices), each (N*C, ...)). Indices that
    repeat (overlapping windows) hold the same value, and each copy reads the gradient there, as in PyTorch."""

    derivative = "d/dx unpool(x) = 1 at each value's index (the gradient is read back there)"
    fresh_gradients = True
    positions: tuple[Array, Array]
    output_shape: tuple[int, ...]

    def forward(self, x: Array) -> Array:
        n, c = x.shape[:2]
        planes = xp.zeros((n * c, math.prod(self.output_shape)), dtype=x.dtype)
        planes[self.positions] = x.reshape(n * c, -1)
        return planes.reshape((n, c) + self.output_shape)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        n, c = x.shape[:2]
        return grad.reshape(n * c, -1)[self.positions].reshape(x.shape)


class AdaptiveMaxPool2d(Gate):
    """Largest value of each adaptive window: output row i covers input rows floor(i*H/OH) to
    ceil((i+1)*H/OH), and likewise for columns, so windows may differ in size and overlap. Each window is
    gathered into one row (a short window repeats its last position, which cannot change the first
    maximum); forward returns the values and their flat positions (row * W + column) in the input plane."""

    derivative = "d/dx max over window = 1 at the window's first maximum, 0 elsewhere (overlaps add up)"
    fresh_gradients = True
    #: The input positions of each window along each axis (``window_positions``), (OH, kh) and (OW, kw).
    rows: Array
    columns: Array
    #: Each maximum's flat position in its input plane, kept by forward for backward.
    indices: Array

    def forward(self, x: Array) -> tuple[Array, Array]:
        n, c, h, w = x.shape
        (oh, kh), (ow, kw) = self.rows.shape, self.columns.shape
        windows = x[:, :, self.rows][..., self.columns]  # (N, C, OH, kh, OW, kw)
        windows = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        first = windows.argmax(axis=-1)[..., None]  # row-major first maximum (a NaN counts as one)
        out = xp.take_along_axis(windows, first, axis=-1)[..., 0]
        first = first[..., 0]
        rows = self.rows[xp.arange(oh).reshape(-1, 1), first // kw]
        columns = self.columns[xp.arange(ow), first % kw]
        self.indices = rows * w + columns
        return out, self.indices

    def backward(self, grads: Any, outs: Any, x: Any) -> Any:
        n, c, h, w = x.shape
        planes = (xp.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
        flat = (self.indices + planes).reshape(-1)
        return scatter_add(grads[0].reshape(-1), (n * c * h * w,), flat).reshape(x.shape)


def adaptive_windows(size: int, output_size: int) -> tuple[Array, Array]:
    """PyTorch's adaptive windows along one axis: (starts, ends) of output_size windows over size pixels."""
    i = xp.arange(output_size)
    return (i * size) // output_size, -((-(i + 1) * size) // output_size)


def window_positions(size: int, output_size: int) -> Array:
    """The input positions each adaptive window covers, padded to the widest window by repeating its last
    position: an (output_size, widest) int array."""
    starts, ends = adaptive_windows(size, output_size)
    widest = int((ends - starts).max())
    positions: Array = xp.minimum(starts[:, None] + xp.arange(widest), ends[:, None] - 1)
    return positions


# ----- average pooling -------------------------------------------------------------------
def across_windows(ufunc: Callable[..., Array], padded: Array, geometry: Geometry) -> Array:
    """``ufunc`` (maximum, add) folded over the kh*kw kernel offsets' views: (N, C, OH, OW), a new array in
    the input's memory order (batch-last stays batch-last)."""
    views = [padded[index] for _, _, index in geometry.offsets()]
    if len(views) == 1:
        return views[0].copy(order="K")
    total = ufunc(views[0], views[1])
    for view in views[2:]:
        ufunc(total, view, out=total)
    return total


def window_sum(padded: Array, geometry: Geometry) -> Array:
    """Sum over each window (N, C, OH, OW): kh*kw strided-view additions."""
    return across_windows(xp.add, padded, geometry)


def window_spread(grad: Array, geometry: Geometry) -> Array:
    """window_sum's adjoint: ``grad`` added to every position of its window, cropped to the input."""
    padded = new_image(geometry.padded_shape, grad.dtype, is_batch_last(grad), fill=None if geometry.tiles else 0)
    for _, _, index in geometry.offsets():
        if geometry.tiles:
            padded[index] = grad
        else:
            padded[index] += grad
    return geometry.crop(padded)


class AvgPool2d(Gate):
    """Mean over each window; ``self.scale`` is 1/(kh*kw), or per output pixel 1/(the window's count) when
    padding is not counted or ceil_mode's last windows hang over the edge."""

    derivative = "d/dx mean over window = 1/k for each of the window's k pixels"
    fresh_gradients = True
    geometry: Geometry
    scale: float | np.floating[Any] | Array

    def forward(self, x: Array) -> Array:
        return window_sum(self.geometry.pad(x), self.geometry) * self.scale

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return AvgPool2dSpread.apply(grad, geometry=self.geometry, scale=self.scale)
        return window_spread(grad * self.scale, self.geometry)


class AvgPool2dSpread(Gate):
    """AvgPool2d's backward as a gate (for gradients of gradients); its own backward is AvgPool2d."""

    derivative = "d/dx spread(x) = 1/k (the gradient is averaged back over each window)"
    fresh_gradients = True
    geometry: Geometry
    scale: float | np.floating[Any] | Array

    def forward(self, grad: Array) -> Array:
        return window_spread(grad * self.scale, self.geometry)

    def backward(self, grad: Any, out: Any, g: Any) -> Any:
        if isinstance(grad, Tensor):
            return AvgPool2d.apply(grad, geometry=self.geometry, scale=self.scale)
        return window_sum(self.geometry.pad(grad), self.geometry) * self.scale


def average_scale(
    geometry: Geometry, count_include_pad: bool, divisor_override: Number | None, dtype: npt.DTypeLike
) -> float | np.floating[Any] | Array:
    """The factor each window sum is multiplied by: a number, or an (OH, OW) array when windows count
    different numbers of pixels. As in PyTorch, the count includes the zero padding when
    ``count_include_pad``, but never ceil_mode's overhang past it."""
    if divisor_override:
        return 1 / divisor_override
    if not geometry.padding or (count_include_pad and not any(geometry.extra)):
        return 1 / (geometry.kh * geometry.kw)
    h, w = geometry.input_shape[2:]
    counted = xp.zeros((1, 1) + geometry.padded_shape[2:], dtype=dtype)
    if count_include_pad:
        counted[:, :, : h + 2 * geometry.ph, : w + 2 * geometry.pw] = 1
    else:
        counted[:, :, geometry.ph : geometry.ph + h, geometry.pw : geometry.pw + w] = 1
    scale: Array = (1 / window_sum(counted, geometry)[0, 0]).astype(dtype)
    return scale


__all__ = [
    "MaxPool2d",
    "MaxPool2dWithIndices",
    "MaxUnpool",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "AvgPool2dSpread",
    "first_maxima",
    "adaptive_windows",
    "window_positions",
    "across_windows",
    "window_sum",
    "window_spread",
    "average_scale",
]
