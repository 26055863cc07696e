"""Resampling images as linear maps along their last two axes: interpolation (nearest, linear,
bilinear) and adaptive average pooling.

Each of these computes every output row from a few input rows with fixed weights, and
every output column likewise, so it is ``rows @ x @ columns^T`` for two small matrices:
rows (OH, H) acts on the height axis and columns (OW, W) on the width axis, each row of a
matrix holding one output position's weights (one 1 for nearest, two weights summing to 1
for linear, 1/k over a window for adaptive averages). The gradient is the same map with
the matrices transposed, so the gate is its own backward (second derivatives for free),
and both directions are matrix products, which BLAS runs faster than NumPy gathers two
neighbours per output element (measured: (32, 64, 32, 32) upsampled 2x bilinear, 12 ms
forward as products against 85 ms as gathers). Each output reads only a narrow band of the
input, so the products run in blocks of outputs, each with just its band (``along_axis``):
the work grows with the image, not with the square of its side.

The matrices follow PyTorch's source-index rules (``area_pixel_compute_source_index`` and
``nearest_idx`` in ATen's UpSample.h), computed in the input's precision as PyTorch does
(nearest in float32), so the same pixels are picked and weighted alike.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array


class Resample(Gate):
    """rows @ x @ columns^T over the last two axes of x; ``rows`` or ``columns`` None leaves that axis."""

    derivative = "d/dx (R x C^T) = R^T g C"
    fresh_gradients = True
    #: The (OH, H) map of the height axis and the (OW, W) map of the width axis, or None to leave that axis.
    rows: Array | None
    columns: Array | None

    def forward(self, x: Array) -> Array:
        return resample(x, self.rows, self.columns)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        rows = None if self.rows is None else xp.ascontiguousarray(self.rows.T)
        columns = None if self.columns is None else xp.ascontiguousarray(self.columns.T)
        if isinstance(grad, Tensor):
            return Resample.apply(grad, rows=rows, columns=columns)
        return resample(grad, rows, columns)


def resample(x: Array, rows: Array | None, columns: Array | None) -> Array:
    """rows @ x @ columns^T on arrays (a new array)."""
    out = x
    if columns is not None:
        out = along_axis(xp.ascontiguousarray(out), columns, -1)
    if rows is not None:
        out = along_axis(out, rows, -2)
    return out if out is not x else x.copy()


#: Output positions per block of a map. Each output reads a narrow band of the input (two neighbours, or a
#: window), so a block of outputs is a product with only the band it reads. Measured at (8, 32, 128, 128)
#: float32 upsampled 2x: the height map as one (256, 128) product per plane took 2,005 ms, in blocks of 16 to
#: 32 outputs 47 ms; the width map 1,023 against 18 ms. At 32x32 the blocks cost what the whole product does.
BLOCK = 16


def along_axis(x: Array, matrix: Array, axis: int) -> Array:
    """``matrix`` (O, I) applied along ``axis`` (-1 or -2) of x, block by block: each block of O's
    positions multiplies only the band of I its rows touch (a product per image plane, written in place)."""
    shape = list(x.shape)
    shape[axis] = len(matrix)
    out = xp.empty(shape, dtype=x.dtype)
    for start in range(0, len(matrix), BLOCK):
        stop = min(start + BLOCK, len(matrix))
        touched = xp.flatnonzero(matrix[start:stop].any(axis=0))
        if axis == -1:
            target = out[..., start:stop]
            if not len(touched):
                target[...] = 0
                continue
            low, high = touched[0], touched[-1] + 1
            xp.matmul(x[..., low:high], matrix[start:stop, low:high].T, out=target)
        else:
            target = out[..., start:stop, :]
            if not len(touched):
                target[...] = 0
                continue
            low, high = touched[0], touched[-1] + 1
            xp.matmul(matrix[start:stop, low:high], x[..., low:high, :], out=target)
    return out


# ----- the maps, one per axis, as PyTorch computes its source indices ---------------------
def linear_map(size: int, output_size: int, align_corners: bool, scale: float | None, dtype: np.dtype[Any]) -> Array:
    """Linear interpolation from ``size`` to ``output_size`` positions: (output_size, size) weights.

    ``scale`` is the user's scale factor (or None, when a size was given): PyTorch then steps
    1/scale input pixels per output pixel, not size/output_size."""
    o = xp.arange(output_size, dtype=dtype)
    if align_corners:
        step = dtype.type((size - 1) / (output_size - 1)) if output_size > 1 else dtype.type(0)
        source = step * o
    else:
        step = dtype.type(1 / scale if scale else size / output_size)
        source = xp.maximum(step * (o + dtype.type(0.5)) - dtype.type(0.5), 0)
    low = source.astype(xp.int64)
    high = low + (low < size - 1)
    weight_high = source - low
    matrix = xp.zeros((output_size, size), dtype=dtype)
    everywhere = xp.arange(output_size)
    matrix[everywhere, low] = 1 - weight_high
    matrix[everywhere, high] += weight_high
    return matrix


def nearest_map(size: int, output_size: int, scale: float | None, exact: bool, dtype: npt.DTypeLike) -> Array:
    """Nearest-neighbour sampling: output pixel o copies input floor(o * step) (``exact``: floor((o + 0.5)
    * step)), step = 1/scale or size/output_size, in float32 as PyTorch computes it."""
    f32 = xp.float32
    step = f32(1 / scale) if scale else f32(size) / f32(output_size)
    o = xp.arange(output_size, dtype=f32)
    if exact:
        o = o + f32(0.5)
    source = xp.minimum(xp.floor(o * step).astype(xp.int64), size - 1)
    if not exact and output_size in (size, 2 * size):  # PyTorch's exact shortcuts for these two
        source = xp.arange(output_size) * size // output_size
    matrix = xp.zeros((output_size, size), dtype=dtype)
    matrix[xp.arange(output_size), source] = 1
    return matrix


def area_map(size: int, output_size: int, dtype: npt.DTypeLike) -> Array:
    """Adaptive average pooling's windows: output o averages input floor(o*size/output_size) to
    ceil((o+1)*size/output_size), PyTorch's adaptive windows (which may overlap)."""
    o = xp.arange(output_size)
    starts, ends = (o * size) // output_size, -((-(o + 1) * size) // output_size)
    positions = xp.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def is_identity(matrix: Array) -> bool:

    return matrix.shape[0] == matrix.shape[1] and bool((matrix == xp.eye(len(matrix), dtype=matrix.dtype)).all())


__all__ = ["Resample", "resample", "along_axis", "linear_map", "nearest_map", "area_map", "is_identity"]
