"""Convolution and pooling gates on NCHW arrays.

All of them look at the input through windows: output pixel (oh, ow) sees the
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

Under ``create_graph=True`` the backwards get Tensors and build the gradient from
differentiable gates instead (Im2Col and Col2Im, each the other's backward; the
pools' own adjoint pairs), so second derivatives work too.
"""

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from .common import swap_last_two
from .shape import scatter_add


class Geometry:
    """Where the windows of a conv or pool sit: kernel, stride, padding and dilation, per spatial axis."""

    def __init__(self, input_shape, kernel, stride, padding, dilation, where):
        self.input_shape = tuple(input_shape)
        n, c, h, w = self.input_shape
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        self.padded_shape = (n, c, h + 2 * self.ph, w + 2 * self.pw)
        extent_h, extent_w = self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1
        if extent_h > self.padded_shape[2] or extent_w > self.padded_shape[3]:
            dilated = f" (dilated to {extent_h}x{extent_w})" if (extent_h, extent_w) != (self.kh, self.kw) else ""
            raise ValueError(f"{where}: kernel size {self.kh}x{self.kw}{dilated} is larger than the padded input "
                             f"{self.padded_shape[2]}x{self.padded_shape[3]} (input {h}x{w}, padding "
                             f"{(self.ph, self.pw)})")
        self.oh = (self.padded_shape[2] - extent_h) // self.sh + 1
        self.ow = (self.padded_shape[3] - extent_w) // self.sw + 1
        self.output_hw = (self.oh, self.ow)
        # Windows that tile the input exactly: every input pixel is in exactly one window.
        self.tiles = (self.padded_shape[2:] == (self.oh * self.kh, self.ow * self.kw)
                      and (self.sh, self.sw) == (self.kh, self.kw) and (self.dh, self.dw) == (1, 1))

    @property
    def padding(self):
        return self.ph or self.pw

    def pad(self, x, value=0, batch_last=None):
        """x inside a border of ``value``, laid out as x is or as ``batch_last`` asks (x itself when that needs
        neither a border nor a copy)."""
        x_batch_last = is_batch_last(x)
        batch_last = x_batch_last if batch_last is None else batch_last
        if not self.padding and batch_last == x_batch_last:
            return x
        padded = new_image(self.padded_shape, x.dtype, batch_last, fill=value if self.padding else None)
        self.crop(padded)[...] = x
        return padded

    def crop(self, padded):
        """The input-sized middle of a padded array (a view)."""
        if not self.padding:
            return padded
        h, w = self.input_shape[2:]
        return padded[:, :, self.ph:self.ph + h, self.pw:self.pw + w]

    def offsets(self):
        """(i, j, index) for each kernel offset: ``padded[index]`` is tap (i, j) of every window, (N, C, OH, OW)."""
        for i in range(self.kh):
            rows = slice(i * self.dh, i * self.dh + self.sh * (self.oh - 1) + 1, self.sh)
            for j in range(self.kw):
                columns = slice(j * self.dw, j * self.dw + self.sw * (self.ow - 1) + 1, self.sw)
                yield i, j, (slice(None), slice(None), rows, columns)

    def windows(self, padded):
        """A read-only view (N, C, kh, kw, OH, OW) of all windows, sharing memory with ``padded``."""
        sn, sc, sh, sw = padded.strides
        shape = self.padded_shape[:2] + (self.kh, self.kw, self.oh, self.ow)
        strides = (sn, sc, sh * self.dh, sw * self.dw, sh * self.sh, sw * self.sw)
        return xp.lib.stride_tricks.as_strided(padded, shape, strides, writeable=False)


# ----- im2col and col2im: a linear map and its adjoint ------------------------------
def im2col(x, geometry):
    """The windows of ``x`` as columns, (N, C*kh*kw, OH*OW); a graph-recording gate when x is a Tensor."""
    if isinstance(x, Tensor):
        return Im2Col.apply(x, geometry=geometry)
    n, c = geometry.input_shape[:2]
    windows = geometry.windows(geometry.pad(x))
    # The copy reads each kernel offset's rows with OW innermost: long, mostly contiguous runs.
    return xp.ascontiguousarray(windows).reshape(n, c * geometry.kh * geometry.kw, geometry.oh * geometry.ow)


def col2im(cols, geometry):
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
def is_batch_last(x):
    """Whether the (N, C, H, W) array x has the batch innermost in memory (a crop of such an array too)."""
    return x.shape[0] == 1 or x.strides[0] < x.strides[3]


def new_image(shape, dtype, batch_last, fill=None):
    """An (N, C, H, W) array laid out batch-last or not, uninitialized or filled with ``fill``."""
    n, c, h, w = shape
    allocate = xp.empty if fill is None else (lambda s, dtype: xp.full(s, fill, dtype=dtype))
    if batch_last:
        return from_batch_last(allocate((c, h, w, n), dtype=dtype))
    return allocate(shape, dtype=dtype)


def from_batch_last(array):
    """(C, H, W, N) memory seen as (N, C, H, W)."""
    return array.transpose(3, 0, 1, 2)


def to_batch_last(image):
    """(N, C, H, W) as a C-contiguous (C, H, W, N) array; free for a batch-last image."""
    return xp.ascontiguousarray(image.transpose(1, 2, 3, 0))


def im2col_batch_last(x, geometry, ones_row=False):
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


def col2im_batch_last(cols, geometry):
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

    def forward(self, x):
        return im2col(x, self.geometry)

    def backward(self, grad, out, x):
        return col2im(grad, self.geometry)


class Col2Im(Gate):
    derivative = "d/dx col2im(x) = 1 (the gradient is read back at each copy: im2col)"
    fresh_gradients = True

    def forward(self, cols):
        return col2im(cols, self.geometry)

    def backward(self, grad, out, cols):
        return im2col(grad, self.geometry)


# ----- convolution -------------------------------------------------------------------
class Conv2d(Gate):
    """2-d cross-correlation (what deep learning calls convolution) of x (N, C, H, W) with
    w (O, C/groups, kh, kw), plus an optional bias (O,). Groups split the channels into
    independent convolutions; they ride along as a batch dimension of the products."""

    derivative = ("d/dx conv(x,w) = conv_transpose(g, w) (col2im of w^T @ g); "
                  "d/dw conv(x,w) = g @ im2col(x)^T summed over the batch; "
                  "d/db conv(x,w)+b = g summed over N, H, W")
    input_names = ("x", "w", "b")
    fresh_gradients = True

    def forward(self, x, w, b=None):
        n, o, groups = x.shape[0], w.shape[0], self.groups
        if groups == 1:
            # One product for the whole batch, written batch-last (see is_batch_last); the bias is one more
            # weight column against a row of ones, which saves a pass over the output here and in backward.
            self.cols = cols = im2col_batch_last(x, self.geometry, ones_row=b is not None)  # dW needs them
            weights = w.reshape(o, -1) if b is None else xp.concatenate([w.reshape(o, -1), b.reshape(o, 1)], axis=1)
            out = weights @ cols  # (O, OH*OW*N)
            return from_batch_last(out.reshape((o,) + self.geometry.output_hw + (n,)))
        cols = im2col(x, self.geometry)
        self.cols = cols
        out = w.reshape(groups, o // groups, -1) @ cols.reshape(n, groups, -1, cols.shape[-1])
        if b is not None:
            out = out.reshape(n, o, -1)
            out += b.reshape(o, 1)
        return out.reshape((n, o) + self.geometry.output_hw)

    def backward(self, grad, out, x, w, b=None):
        if self.groups == 1 and not isinstance(grad, Tensor):
            return self._batch_last_backward(grad, w, b)
        n, o, groups = grad.shape[0], w.shape[0], self.groups
        g = grad.reshape(n, groups, o // groups, -1)  # (N, G, O/G, OH*OW)
        w_grouped = w.reshape(groups, o // groups, -1)  # (G, O/G, C/G*kh*kw)
        dx = dw = db = None
        if self.wants(0):
            dcols = swap_last_two(w_grouped) @ g  # (N, G, C/G*kh*kw, OH*OW)
            dx = col2im(dcols.reshape(n, -1, dcols.shape[-1]), self.geometry)
        if self.wants(1):
            # Under create_graph, rebuild the columns from the x Tensor so dW stays differentiable in x.
            cols = im2col(x, self.geometry) if isinstance(grad, Tensor) else self.cols
            cols = cols.reshape(n, groups, -1, cols.shape[-1])
            dw = (g @ swap_last_two(cols)).sum(axis=0).reshape(w.shape)
        if b is not None and self.wants(2):
            db = grad.sum(axis=(0, 2, 3))
        return (dx, dw) if b is None else (dx, dw, db)

    def _batch_last_backward(self, grad, w, b):
        o = w.shape[0]
        g = to_batch_last(grad).reshape(o, -1)  # (O, OH*OW*N); no copy when grad came batch-last
        w2d = w.reshape(o, -1)
        dx = dw = db = None
        if self.wants(0):
            dx = col2im_batch_last(swap_last_two(w2d) @ g, self.geometry)
        if self.wants(1) or (b is not None and self.wants(2)):
            dwb = weight_gradient(g, self.cols)  # (O, C*kh*kw), and the bias column last when there is a bias
            dw = dwb[:, :w2d.shape[1]].reshape(w.shape)
            db = None if b is None else dwb[:, -1]
        return (dx, dw) if b is None else (dx, dw, db)


def weight_gradient(g, cols, piece=4096):
    """g @ cols^T for g (O, L) and cols (K, L), shaped for OpenBLAS, which (measured) is faster
    - with the longer side first: cols @ g^T took 0.71 ms where g @ cols^T took 1.07 (LeNet's second conv);
    - when a tiny result (O*K <= 4096) has a long inner dimension, as a sum of products over ``piece``-long
      runs of it: 0.28 against 0.55 ms for LeNet's first conv, (16, 50176) @ (50176, 10)."""
    o, (k, length) = len(g), cols.shape
    if o * k <= 4096 and length >= 4 * piece:
        total = g[:, :piece] @ swap_last_two(cols[:, :piece])
        for start in range(piece, length, piece):
            total += g[:, start:start + piece] @ swap_last_two(cols[:, start:start + piece])
        return total
    return swap_last_two(cols @ swap_last_two(g)) if k > o else g @ swap_last_two(cols)


# ----- pooling -------------------------------------------------------------------------
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

    def forward(self, x):
        padded = self.geometry.pad(x, -xp.inf)
        self.padded = padded if self.geometry.padding else None
        return across_windows(xp.maximum, padded, self.geometry)

    def backward(self, grad, out, x):
        geometry = self.geometry
        padded = self.padded if self.padded is not None else x
        if isinstance(grad, Tensor):
            return self._graph_backward(grad, padded.data if isinstance(padded, Tensor) else padded, out.data)
        offsets = list(geometry.offsets())
        layout = is_batch_last(padded)
        if layout and not is_batch_last(grad):  # e.g. from a flatten: one copy beats mixed-layout passes below
            grad = from_batch_last(to_batch_last(grad))
        dpadded = new_image(geometry.padded_shape, grad.dtype, layout, fill=None if geometry.tiles else 0)
        taken = None  # windows whose maximum has been found at an earlier offset
        scratch = None if geometry.tiles else new_image(out.shape, grad.dtype, layout)
        last = len(offsets) - 1
        for k, (_, _, index) in enumerate(offsets):
            if k == last and k > 0:
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

    def _graph_backward(self, grad, padded, out):
        """The same routing as a differentiable scatter of ``grad`` to the first maxima's flat positions."""
        geometry = self.geometry
        n, c, hp, wp = geometry.padded_shape
        position = xp.zeros(out.shape, dtype=xp.int64)
        found = xp.zeros(out.shape, dtype=bool)
        rows = xp.arange(geometry.oh).reshape(-1, 1) * geometry.sh
        columns = xp.arange(geometry.ow).reshape(1, -1) * geometry.sw
        offsets = list(geometry.offsets())
        for k, (i, j, index) in enumerate(offsets):
            hit = ~found if k == len(offsets) - 1 else (padded[index] == out) & ~found  # as in backward
            found |= hit
            here = (rows + i * geometry.dh) * wp + columns + j * geometry.dw
            position = xp.where(hit, here, position)
        planes = (xp.arange(n * c) * (hp * wp)).reshape(n, c, 1, 1)
        flat = scatter_add(grad.reshape(-1), (n * c * hp * wp,), (position + planes).reshape(-1))
        return geometry.crop(flat.reshape(geometry.padded_shape))


def across_windows(ufunc, padded, geometry):
    """``ufunc`` (maximum, add) folded over the kh*kw kernel offsets' views: (N, C, OH, OW), a new array in
    the input's memory order (batch-last stays batch-last)."""
    views = [padded[index] for _, _, index in geometry.offsets()]
    if len(views) == 1:
        return views[0].copy(order="K")
    total = ufunc(views[0], views[1])
    for view in views[2:]:
        ufunc(total, view, out=total)
    return total


def window_sum(padded, geometry):
    """Sum over each window (N, C, OH, OW): kh*kw strided-view additions."""
    return across_windows(xp.add, padded, geometry)


def window_spread(grad, geometry):
    """window_sum's adjoint: ``grad`` added to every position of its window, cropped to the input."""
    padded = new_image(geometry.padded_shape, grad.dtype, is_batch_last(grad), fill=None if geometry.tiles else 0)
    for _, _, index in geometry.offsets():
        if geometry.tiles:
            padded[index] = grad
        else:
            padded[index] += grad
    return geometry.crop(padded)


class AvgPool2d(Gate):
    """Mean over each window; ``self.scale`` is 1/(kh*kw), or per output pixel 1/(count of
    real input pixels in the window) when padding is not counted."""

    derivative = "d/dx mean over window = 1/k for each of the window's k pixels"
    fresh_gradients = True

    def forward(self, x):
        return window_sum(self.geometry.pad(x), self.geometry) * self.scale

    def backward(self, grad, out, x):
        if isinstance(grad, Tensor):
            return AvgPool2dSpread.apply(grad, geometry=self.geometry, scale=self.scale)
        return window_spread(grad * self.scale, self.geometry)


class AvgPool2dSpread(Gate):
    """AvgPool2d's backward as a gate (for gradients of gradients); its own backward is AvgPool2d."""

    derivative = "d/dx spread(x) = 1/k (the gradient is averaged back over each window)"
    fresh_gradients = True

    def forward(self, grad):
        return window_spread(grad * self.scale, self.geometry)

    def backward(self, grad, out, g):
        if isinstance(grad, Tensor):
            return AvgPool2d.apply(grad, geometry=self.geometry, scale=self.scale)
        return window_sum(self.geometry.pad(grad), self.geometry) * self.scale


def average_scale(geometry, count_include_pad, divisor_override, dtype):
    """The factor each window sum is multiplied by: a number, or an (OH, OW) array when padding is not counted."""
    if divisor_override:
        return 1 / divisor_override
    if count_include_pad or not geometry.padding:
        return 1 / (geometry.kh * geometry.kw)
    one_channel = Geometry((1, 1) + geometry.input_shape[2:], (geometry.kh, geometry.kw), (geometry.sh, geometry.sw),
                           (geometry.ph, geometry.pw), (geometry.dh, geometry.dw), "avg_pool2d")
    counts = window_sum(one_channel.pad(xp.ones(one_channel.input_shape, dtype=dtype)), one_channel)[0, 0]
    return (1 / counts).astype(dtype)


__all__ = ["Geometry", "im2col", "col2im", "Im2Col", "Col2Im", "Conv2d", "MaxPool2d",
           "AvgPool2d", "AvgPool2dSpread", "across_windows", "window_sum", "window_spread", "average_scale"]
