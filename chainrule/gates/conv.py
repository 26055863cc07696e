"""Convolution gates on NCHW arrays, and the window geometry the pooling gates (pooling.py) share.

Convolutions and pools look at the input through windows: output pixel (oh, ow) sees the
kernel-sized patch that starts at (oh*stride, ow*stride) of the zero-padded input,
with taps spaced ``dilation`` apart. ``Geometry`` holds those numbers. Taking the
patches is free with strided views: for the kernel offset (i, j), the slice
``padded[:, :, i*d : ... : stride, j*d : ... : stride]`` holds tap (i, j) of every
window at once. So the loops here run over the kh*kw kernel offsets, never over pixels.

Convolution is im2col plus matrix products. With one group, the windows of the whole
batch are copied into one (C*kh*kw, OH*OW*N) matrix and multiplied by the weight as a
(O, C*kh*kw) matrix in a single BLAS call, which writes the output batch-last (see
is_batch_last); the backward is two more single products and col2im, the adjoint of
im2col, which adds each kernel offset's slice of the column gradient back at its window
position. With groups, the columns are (N, C*kh*kw, OH*OW) and the groups ride along as
a batch dimension of NumPy's batched matmul. (Measured on the LeNet step, page faults
aside: one product per sample in NCHW, 20 ms; one product per batch in a (C, N, H, W)
layout, 14 ms; batch-last, 9.5 ms. A (N*OH*OW, C*kh*kw) layout copies 3-element rows and
is 3-7x slower to build; dx as a transposed convolution, im2col of the gradient, is
slower than col2im, and so is col2im straight into the unpadded gradient.)

A transposed convolution is conv2d's input gradient used as a layer (ConvTranspose2d): its
forward is col2im of w^T @ x, its input gradient the convolution of the upstream gradient,
and its weight gradient the product of x with the gradient's columns. 1-d convolutions are
these 2-d ones on a (N, C, 1, L) view (functional.layers).

Under ``create_graph=True`` the backwards get Tensors and build the gradient from
differentiable gates instead (Im2Col and Col2Im, each the other's backward; Conv2d and
ConvTranspose2d, each the other's input gradient), so second derivatives work too.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from .common import swap_last_two

#: An (N, C, H, W) slice index: all samples, all channels, and the rows and columns of one kernel offset's taps.
ImageIndex = tuple[slice, slice, slice, slice]
#: An array, or a Tensor where a backward builds a graph (create_graph=True).
ArrayOrTensor = TypeVar("ArrayOrTensor", Array, Tensor)


class Geometry:
    """Where the windows of a conv or pool sit: kernel, stride, padding and dilation, per spatial axis.

    ``ceil_mode`` (pooling) rounds the window count up, as PyTorch does: a last window that starts inside
    the input or its left padding may hang over the end, so the padded image grows by ``extra`` rows and
    columns at the bottom and right. ``output_hw`` sets the window count instead (a transposed convolution's
    input size, which can be one less than what fits when output_padding reaches past the last window).
    ``one_dim`` words the size error for a 1-d input seen as height 1."""

    def __init__(
        self,
        input_shape: Sequence[int],
        kernel: Sequence[int],
        stride: Sequence[int],
        padding: Sequence[int],
        dilation: Sequence[int],
        where: str,
        ceil_mode: bool = False,
        output_hw: Sequence[int] | None = None,
        one_dim: bool = False,
    ) -> None:
        self.input_shape = tuple(input_shape)
        n, c, h, w = self.input_shape
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        extent_h, extent_w = self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1
        room_h, room_w = h + 2 * self.ph, w + 2 * self.pw
        if extent_h > room_h or extent_w > room_w:
            raise ValueError(
                _too_large(where, (self.kh, self.kw), (extent_h, extent_w), (room_h, room_w), (h, w), padding, one_dim)
            )
        if output_hw is not None:
            self.oh, self.ow = output_hw
        else:
            self.oh = _window_count(room_h, extent_h, self.sh, self.ph, ceil_mode)
            self.ow = _window_count(room_w, extent_w, self.sw, self.pw, ceil_mode)
        # Rows and columns past the padding that the last windows reach (ceil_mode only; never negative).
        self.extra = (
            max(0, (self.oh - 1) * self.sh + extent_h - room_h),
            max(0, (self.ow - 1) * self.sw + extent_w - room_w),
        )
        self.padded_shape: tuple[int, int, int, int] = (n, c, room_h + self.extra[0], room_w + self.extra[1])
        self.output_hw: tuple[int, int] = (self.oh, self.ow)
        # Windows that tile the input exactly: every input pixel is in exactly one window.
        self.tiles = (
            self.padded_shape[2:] == (self.oh * self.kh, self.ow * self.kw)
            and (self.sh, self.sw) == (self.kh, self.kw)
            and (self.dh, self.dw) == (1, 1)
        )

    @property
    def padding(self) -> int:
        return self.ph or self.pw or self.extra[0] or self.extra[1]

    def pad(self, x: Array, value: float = 0, batch_last: bool | None = None) -> Array:
        """x inside a border of ``value``, laid out as x is or as ``batch_last`` asks (x itself when that needs
        neither a border nor a copy)."""
        x_batch_last = is_batch_last(x)
        batch_last = x_batch_last if batch_last is None else batch_last
        if not self.padding and batch_last == x_batch_last:
            return x
        padded = new_image(self.padded_shape, x.dtype, batch_last, fill=value if self.padding else None)
        self.crop(padded)[...] = x
        return padded

    def crop(self, padded: ArrayOrTensor) -> ArrayOrTensor:
        """The input-sized middle of a padded array (a view; of a padded Tensor under create_graph, a Tensor)."""
        if not self.padding:
            return padded
        h, w = self.input_shape[2:]
        return padded[:, :, self.ph : self.ph + h, self.pw : self.pw + w]

    def offsets(self) -> Iterator[tuple[int, int, ImageIndex]]:
        """(i, j, index) for each kernel offset: ``padded[index]`` is tap (i, j) of every window, (N, C, OH, OW)."""
        for i in range(self.kh):
            rows = slice(i * self.dh, i * self.dh + self.sh * (self.oh - 1) + 1, self.sh)
            for j in range(self.kw):
                columns = slice(j * self.dw, j * self.dw + self.sw * (self.ow - 1) + 1, self.sw)
                yield i, j, (slice(None), slice(None), rows, columns)

    def windows(self, padded: Array) -> Array:
        """A read-only view (N, C, kh, kw, OH, OW) of all windows, sharing memory with ``padded``."""
        sn, sc, sh, sw = padded.strides
        shape = self.padded_shape[:2] + (self.kh, self.kw, self.oh, self.ow)
        strides = (sn, sc, sh * self.dh, sw * self.dw, sh * self.sh, sw * self.sw)
        return xp.lib.stride_tricks.as_strided(padded, shape, strides, writeable=False)


def _window_count(room: int, extent: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """How many windows fit along an axis of ``room`` padded pixels (PyTorch's output-size rule)."""
    if not ceil_mode:
        return (room - extent) // stride + 1
    count = -(-(room - extent) // stride) + 1
    # The last window must start inside the input or the left padding, not in the right padding.
    if (count - 1) * stride >= room - padding:
        count -= 1
    return count


def _too_large(
    where: str,
    kernel: tuple[int, int],
    extent: tuple[int, int],
    room: tuple[int, int],
    size: tuple[int, int],
    padding: Sequence[int],
    one_dim: bool,
) -> str:
    """The error for a kernel that does not fit in the padded input."""
    if one_dim:
        dilated = f" (dilated to {extent[1]})" if extent[1] != kernel[1] else ""
        return (
            f"{where}: kernel size {kernel[1]}{dilated} is larger than the padded input {room[1]} (input length "
            f"{size[1]}, padding {padding[1]})"
        )
    dilated = f" (dilated to {extent[0]}x{extent[1]})" if extent != kernel else ""
    return (
        f"{where}: kernel size {kernel[0]}x{kernel[1]}{dilated} is larger than the padded input "
        f"{room[0]}x{room[1]} (input {size[0]}x{size[1]}, padding {tuple(padding)})"
    )


# ----- im2col and col2im: a linear map and its adjoint ------------------------------
@overload
def im2col(x: Tensor, geometry: Geometry) -> Tensor: ...
@overload
def im2col(x: Array, geometry: Geometry) -> Array: ...
def im2col(x: Array | Tensor, geometry: Geometry) -> Array | Tensor:
    """The windows of ``x`` as columns, (N, C*kh*kw, OH*OW); a graph-recording gate when x is a Tensor."""
    if isinstance(x, Tensor):
        return Im2Col.apply(x, geometry=geometry)
    n, c = geometry.input_shape[:2]
    windows = geometry.windows(geometry.pad(x))
    # The copy reads each kernel offset's rows with OW innermost: long, mostly contiguous runs.
    return xp.ascontiguousarray(windows).reshape(n, c * geometry.kh * geometry.kw, geometry.oh * geometry.ow)


@overload
def col2im(cols: Tensor, geometry: Geometry) -> Tensor: ...
@overload
def col2im(cols: Array, geometry: Geometry) -> Array: ...
def col2im(cols: Array | Tensor, geometry: Geometry) -> Array | Tensor:
    """im2col's adjoint: each column entry added back at its input position; (N, C, H, W)."""
    if isinstance(cols, Tensor):
        return Col2Im.apply(cols, geometry=geometry)
    n, c = geometry.input_shape[:2]
    parts = cols.reshape(n, c, geometry.kh, geometry.kw, geometry.oh, geometry.ow)
    if geometry.tiles:
        padded = xp.empty(geometry.padded_shape, dtype=cols.dtype)
        for i, j, index in geometry.offsets():
            padded[index] = parts[:, :, i, j]
    else:
        padded = xp.zeros(geometry.padded_shape, dtype=cols.dtype)
        for i, j, index in geometry.offsets():
            padded[index] += parts[:, :, i, j]
    return geometry.crop(padded)


# ----- batch-last images: one product for the whole batch ----------------------------
# conv2d returns its (N, C, H, W) output as a view of a (C, H, W, N) array, the batch
# innermost. That is the layout a single matrix product (O, C*kh*kw) @ (C*kh*kw, OH*OW*N)
# writes, so the forward, dW and dx are one large BLAS call each instead of one small
# call per sample, and nothing is transposed. It also makes the window gates fast: a
# kernel offset's taps of one image row are OW*N contiguous elements (all N samples of
# each tap side by side), where in NCHW they are OW elements, stride apart, so im2col,
# col2im and pooling run NumPy loops hundreds of elements long instead of a dozen.
# Elementwise gates keep their input's layout (NumPy's order='K'), and padding, pooling
# and col2im allocate in it (see new_image), so the next convolution reads its columns
# and the backward its gradient without a copy. Users see ordinary NCHW arrays.
def is_batch_last(x: Array) -> bool:
    """Whether the (N, C, H, W) array x has the batch innermost in memory (a crop of such an array too)."""
    return x.shape[0] == 1 or x.strides[0] < x.strides[3]


def new_image(shape: Sequence[int], dtype: npt.DTypeLike, batch_last: bool, fill: float | None = None) -> Array:
    """An (N, C, H, W) array laid out batch-last or not, uninitialized or filled with ``fill``."""
    n, c, h, w = shape
    allocate: Callable[..., Array] = xp.empty if fill is None else (lambda s, dtype: xp.full(s, fill, dtype=dtype))
    if batch_last:
        return from_batch_last(allocate((c, h, w, n), dtype=dtype))
    return allocate(shape, dtype=dtype)


def from_batch_last(array: Array) -> Array:
    """(C, H, W, N) memory seen as (N, C, H, W)."""
    return array.transpose(3, 0, 1, 2)


def to_batch_last(image: Array) -> Array:
    """(N, C, H, W) as a C-contiguous (C, H, W, N) array; free for a batch-last image."""
    return xp.ascontiguousarray(image.transpose(1, 2, 3, 0))


def im2col_batch_last(x: Array, geometry: Geometry, ones_row: bool = False) -> Array:
    """The windows of x as one matrix (C*kh*kw, OH*OW*N): row (c, i, j) holds tap (i, j) of channel c for
    every window of every sample. With ``ones_row``, one more row of ones, so that a bias can ride in the
    product as one more weight column (its gradient then comes out of the dW product too)."""
    n, c = geometry.input_shape[:2]
    rows = c * geometry.kh * geometry.kw
    cols = xp.empty((rows + ones_row, geometry.oh * geometry.ow * n), dtype=x.dtype)
    windows = geometry.windows(geometry.pad(x, batch_last=True)).transpose(1, 2, 3, 4, 5, 0)  # C kh kw OH OW N
    cols[:rows].reshape(windows.shape)[...] = windows
    if ones_row:
        cols[rows] = 1
    return cols


def col2im_batch_last(cols: Array, geometry: Geometry) -> Array:
    """im2col_batch_last's adjoint: (C*kh*kw, OH*OW*N) added back into a batch-last (N, C, H, W) image."""
    n, c = geometry.input_shape[:2]
    parts = cols.reshape(c, geometry.kh, geometry.kw, geometry.oh, geometry.ow, n)
    padded = new_image(geometry.padded_shape, cols.dtype, True, fill=0)
    for i, j, index in geometry.offsets():
        padded[index] += from_batch_last(parts[:, i, j])
    return geometry.crop(padded)


class Im2Col(Gate):
    derivative = "d/dx im2col(x) = 1 at each copy (the copies' gradients are added back: col2im)"
    fresh_gradients = True
    geometry: Geometry

    def forward(self, x: Array) -> Array:
        return im2col(x, self.geometry)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return col2im(grad, self.geometry)


class Col2Im(Gate):
    derivative = "d/dx col2im(x) = 1 (the gradient is read back at each copy: im2col)"
    fresh_gradients = True
    geometry: Geometry

    def forward(self, cols: Array) -> Array:
        return col2im(cols, self.geometry)

    def backward(self, grad: Any, out: Any, cols: Any) -> Any:
        return im2col(grad, self.geometry)


# ----- convolution -------------------------------------------------------------------
class Conv2d(Gate):
    """2-d cross-correlation (what deep learning calls convolution) of x (N, C, H, W) with
    w (O, C/groups, kh, kw), plus an optional bias (O,). Groups split the channels into
    independent convolutions; they ride along as a batch dimension of the products."""

    derivative = (
        "d/dx conv(x,w) = conv_transpose(g, w) (col2im of w^T @ g); "
        "d/dw conv(x,w) = g @ im2col(x)^T summed over the batch; "
        "d/db conv(x,w)+b = g summed over N, H, W"
    )
    input_names = ("x", "w", "b")
    fresh_gradients = True
    geometry: Geometry
    groups: int
    #: The input's windows as columns, kept by forward for the weight gradient.
    cols: Array

    def forward(self, x: Array, w: Array, b: Array | None = None) -> Array:
        n, o, groups = x.shape[0], w.shape[0], self.groups
        if groups == 1:
            # One product for the whole batch, written batch-last (see is_batch_last); the bias is one more
            # weight column against a row of ones, which saves a pass over the output here and in backward.
            self.cols = cols = im2col_batch_last(x, self.geometry, ones_row=b is not None)  # dW needs them
            weights = w.reshape(o, -1) if b is None else xp.concatenate([w.reshape(o, -1), b.reshape(o, 1)], axis=1)
            out = weights @ cols  # (O, OH*OW*N)
            return from_batch_last(out.reshape((o,) + self.geometry.output_hw + (n,)))
        self.cols = cols = im2col(x, self.geometry)
        grouped: Array = grouped_product(w, cols, groups).reshape(n, o, -1)
        if b is not None:
            grouped += b.reshape(o, 1)
        return grouped.reshape((n, o) + self.geometry.output_hw)

    def backward(self, grad: Any, out: Any, x: Any, w: Any, b: Any = None) -> tuple[Any, ...]:
        if self.groups == 1 and not isinstance(grad, Tensor):
            return self._batch_last_backward(grad, w, b)
        dx = dw = db = None
        if self.wants(0):
            dx = transposed_convolution(grad, w, self.geometry, self.groups)
        if self.wants(1):
            # Under create_graph, rebuild the columns from the x Tensor so dW stays differentiable in x.
            cols = im2col(x, self.geometry) if isinstance(grad, Tensor) else self.cols
            dw = grouped_weight_gradient(grad, cols, w.shape, self.groups)
        if b is not None and self.wants(2):
            db = grad.sum(axis=(0, 2, 3))
        return (dx, dw) if b is None else (dx, dw, db)

    def _batch_last_backward(self, grad: Array, w: Array, b: Array | None) -> tuple[Array | None, ...]:
        o = w.shape[0]
        g = to_batch_last(grad).reshape(o, -1)  # (O, OH*OW*N); no copy when grad came batch-last
        w2d = w.reshape(o, -1)
        dx = dw = db = None
        if self.wants(0):
            dx = col2im_batch_last(swap_last_two(w2d) @ g, self.geometry)
        if self.wants(1) or (b is not None and self.wants(2)):
            dwb = weight_gradient(g, self.cols)  # (O, C*kh*kw), and the bias column last when there is a bias
            dw = dwb[:, : w2d.shape[1]].reshape(w.shape)
            db = None if b is None else dwb[:, -1]
        return (dx, dw) if b is None else (dx, dw, db)


def grouped_product(w: Any, cols: Any, groups: int) -> Any:
    """Each group's weights (O/G, C/G*kh*kw) times its columns: w (O, C/G, kh, kw) and cols (N, C*kh*kw, L)
    give (N, G, O/G, L), arrays or Tensors."""
    n, length = cols.shape[0], cols.shape[-1]
    return w.reshape(groups, w.shape[0] // groups, -1) @ cols.reshape(n, groups, -1, length)


def transposed_convolution(g: Any, w: Any, geometry: Geometry, groups: int) -> Any:
    """The adjoint of conv2d in its input: g (N, O, OH, OW) and w (O, C/G, kh, kw) give the (N, C, H, W)
    image of ``geometry`` (col2im of w^T @ g per group). It is conv2d's input gradient and
    conv_transpose2d's forward; arrays, or Tensors under create_graph."""
    n, o = g.shape[:2]
    if groups == 1 and not isinstance(g, Tensor):
        return col2im_batch_last(swap_last_two(w.reshape(o, -1)) @ to_batch_last(g).reshape(o, -1), geometry)
    dcols = swap_last_two(w.reshape(groups, o // groups, -1)) @ g.reshape(n, groups, o // groups, -1)
    return col2im(dcols.reshape(n, -1, dcols.shape[-1]), geometry)


def grouped_weight_gradient(g: Any, cols: Any, w_shape: Sequence[int], groups: int) -> Any:
    """sum over the batch of g @ cols^T per group: g (N, O, ...) and cols (N, C*kh*kw, L) give w_shape."""
    n, o = g.shape[:2]
    cols = cols.reshape(n, groups, -1, cols.shape[-1])
    return (g.reshape(n, groups, o // groups, -1) @ swap_last_two(cols)).sum(axis=0).reshape(w_shape)


class ConvTranspose2d(Gate):
    """The transposed convolution of x (N, C_in, H, W) with w (C_in, C_out/groups, kh, kw), plus an optional
    bias (C_out,): conv2d's input gradient used as a layer. ``geometry`` describes the conv2d that maps the
    (N, C_out, H_out, W_out) output back to x's size, with its window count fixed to (H, W)."""

    derivative = (
        "d/dx conv_transpose(x,w) = conv(g, w); d/dw conv_transpose(x,w) = x @ im2col(g)^T summed over "
        "the batch; d/db conv_transpose(x,w)+b = g summed over N, H, W"
    )
    input_names = ("x", "w", "b")
    fresh_gradients = True
    geometry: Geometry
    groups: int

    def forward(self, x: Array, w: Array, b: Array | None = None) -> Array:
        out: Array = transposed_convolution(x, w, self.geometry, self.groups)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    def backward(self, grad: Any, out: Any, x: Any, w: Any, b: Any = None) -> tuple[Any, ...]:
        geometry, groups = self.geometry, self.groups
        # Arrays, or Tensors under create_graph; None for an input that needs no gradient.
        dx: Array | Tensor | None = None
        dw: Array | Tensor | None = None
        db: Array | Tensor | None = None
        if isinstance(grad, Tensor):  # create_graph: gates all the way down
            if self.wants(0):
                dx = Conv2d.apply(grad, w, geometry=geometry, groups=groups)
            if self.wants(1):
                dw = grouped_weight_gradient(x, im2col(grad, geometry), w.shape, groups)
        elif groups == 1:
            c = w.shape[0]
            cols = im2col_batch_last(grad, geometry)  # (C_out*kh*kw, H*W*N), shared by dx and dw
            if self.wants(0):
                dx = from_batch_last((w.reshape(c, -1) @ cols).reshape((c,) + geometry.output_hw + (len(x),)))
            if self.wants(1):
                dw = weight_gradient(to_batch_last(x).reshape(c, -1), cols).reshape(w.shape)
        else:
            cols = im2col(grad, geometry)
            if self.wants(0):
                dx = grouped_product(w, cols, groups).reshape(x.shape)
            if self.wants(1):
                dw = grouped_weight_gradient(x, cols, w.shape, groups)
        if b is not None and self.wants(2):
            db = grad.sum(axis=(0, 2, 3))
        return (dx, dw) if b is None else (dx, dw, db)


def weight_gradient(g: Array, cols: Array, piece: int = 4096) -> Array:
    """g @ cols^T for g (O, L) and cols (K, L), shaped for OpenBLAS, which (measured) is faster
    - with the longer side first: cols @ g^T took 0.71 ms where g @ cols^T took 1.07 (LeNet's second conv);
    - when a tiny result (O*K <= 4096) has a long inner dimension, as a sum of products over ``piece``-long
      runs of it: 0.28 against 0.55 ms for LeNet's first conv, (16, 50176) @ (50176, 10)."""
    o, (k, length) = len(g), cols.shape
    if o * k <= 4096 and length >= 4 * piece:
        total: Array = g[:, :piece] @ swap_last_two(cols[:, :piece])
        for start in range(piece, length, piece):
            total += g[:, start : start + piece] @ swap_last_two(cols[:, start : start + piece])
        return total
    product: Array = swap_last_two(cols @ swap_last_two(g)) if k > o else g @ swap_last_two(cols)
    return product


__all__ = [
    "Geometry",
    "im2col",
    "col2im",
    "Im2Col",
    "Col2Im",
    "Conv2d",
    "ConvTranspose2d",
    "transposed_convolution",
    "grouped_product",
    "grouped_weight_gradient",
    "weight_gradient",
    "is_batch_last",
    "new_image",
    "from_batch_last",
    "to_batch_last",
]
