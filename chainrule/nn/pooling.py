"""Pooling layers: the max or the mean of each window, per channel, over (N, C, L) sequences and
(N, C, H, W) images (or one sample without the batch axis); max-unpooling; and adaptive pooling
to a fixed output size."""

from .. import checks
from .. import functional as F
from .module import Module


class _Pool(Module):
    """What the window pools share: settings kept as given (an int stays an int, as PyTorch shows them),
    checked once, and the input checked against the window before pooling."""

    dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        layer, dims = type(self).__name__, self.dims
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        kernel = checks.spatial(layer, "kernel_size", kernel_size, dims)
        checks.spatial(layer, "stride", self.stride, dims)
        pad = checks.spatial(layer, "padding", padding, dims, minimum=0)
        dilate = checks.spatial(layer, "dilation", dilation, dims)
        # Padding beyond half the window would make windows that see only padding.
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilate))
        if any(p > r // 2 for p, r in zip(pad, reach)):
            raise ValueError(f"{layer}: padding {padding} must be at most half the kernel size {kernel_size}")
        self.ceil_mode = bool(ceil_mode)
        self._reach, self._padding = reach, pad

    def _check_input(self, x):
        shape, dims = tuple(x.shape), self.dims
        checks.layer_input_shape(self._describe(), shape, dims)
        sides = ("length",) if dims == 1 else ("height", "width")
        for side, n, reach, p in zip(sides, shape[-dims:], self._reach, self._padding):
            if n + 2 * p < reach:
                raise ValueError(
                    f"{self._describe()}: input {side} {n} (shape {shape}, padding {p}) is "
                    f"smaller than the window {reach}"
                )


class _MaxPool(_Pool):
    pool = None  # F.max_pool1d or F.max_pool2d

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = bool(return_indices)

    def forward(self, x):
        x = checks.layer_input(self, x)
        self._check_input(x)
        return type(self).pool(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPool):
    """The largest value in each ``kernel_size`` window of (N, C, L) sequences; see MaxPool2d."""

    dims = 1
    pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """The largest value in each ``kernel_size`` window (``stride`` defaults to ``kernel_size``);
    padding counts as minus infinity. ``ceil_mode=True`` keeps a last window that hangs over the
    edge; ``return_indices=True`` also returns where each maximum was (for MaxUnpool2d)."""

    dims = 2
    pool = staticmethod(F.max_pool2d)


class AvgPool1d(_Pool):
    """The mean of each ``kernel_size`` window of (N, C, L) sequences; see AvgPool2d."""

    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        # Shown as 1-tuples, as PyTorch keeps them for this layer.
        self.kernel_size, self.stride, self.padding = (
            checks.spatial("AvgPool1d", name, value, 1, minimum)
            for name, value, minimum in (
                ("kernel_size", self.kernel_size, 1),
                ("stride", self.stride, 1),
                ("padding", self.padding, 0),
            )
        )
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        x = checks.layer_input(self, x)
        self._check_input(x)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_Pool):
    """The mean of each ``kernel_size`` window (``stride`` defaults to ``kernel_size``); zero
    padding counts toward the mean unless ``count_include_pad=False``; ``divisor_override``
    divides every window's sum by that number instead."""

    dims = 2

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
    ):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        x = checks.layer_input(self, x)
        self._check_input(x)
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxUnpool(Module):
    dims = 2
    unpool = None  # F.max_unpool1d or F.max_unpool2d

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        layer, dims = type(self).__name__, self.dims
        self.kernel_size = checks.spatial(layer, "kernel_size", kernel_size, dims)
        self.stride = self.kernel_size if stride is None else checks.spatial(layer, "stride", stride, dims)
        self.padding = checks.spatial(layer, "padding", padding, dims, minimum=0)

    def forward(self, x, indices, output_size=None):
        x = checks.layer_input(self, x)
        checks.layer_input_shape(self._describe(), tuple(x.shape), self.dims)
        return type(self).unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """MaxPool1d's partial inverse: each value put back at its index, zeros elsewhere; see MaxUnpool2d."""

    dims = 1
    unpool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """MaxPool2d's partial inverse: ``forward(x, indices, output_size=None)`` puts each value back at the
    index MaxPool2d(return_indices=True) gave it, in a zero image (SegNet's decoder)."""

    dims = 2
    unpool = staticmethod(F.max_unpool2d)


class _Adaptive(Module):
    dims = 2
    pool = None

    def __init__(self, output_size, return_indices=None):
        super().__init__()
        self.output_size = output_size
        checks.adaptive_size(type(self).__name__, output_size, (1,) * self.dims)  # checked now
        if return_indices is not None:
            self.return_indices = bool(return_indices)

    def forward(self, x):
        x = checks.layer_input(self, x)
        checks.layer_input_shape(self._describe(), tuple(x.shape), self.dims)
        if hasattr(self, "return_indices"):
            return type(self).pool(x, self.output_size, self.return_indices)
        return type(self).pool(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Adaptive):
    """Average-pool (N, C, L) sequences to ``output_size`` positions, whatever their length."""

    dims = 1
    pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_Adaptive):
    """Average-pool to a fixed ``output_size`` (an int or (H, W); None keeps that side) whatever the
    input size; ``AdaptiveAvgPool2d(1)`` is global average pooling. Sides that do not divide
    evenly get PyTorch's windows of uneven size."""

    dims = 2
    pool = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveMaxPool1d(_Adaptive):
    """Max-pool (N, C, L) sequences to ``output_size`` positions; ``return_indices`` as MaxPool1d."""

    dims = 1
    pool = staticmethod(F.adaptive_max_pool1d)

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)


class AdaptiveMaxPool2d(_Adaptive):
    """Max-pool to a fixed ``output_size`` (an int or (H, W); None keeps that side) whatever the input
    size; ``return_indices`` as MaxPool2d."""

    dims = 2
    pool = staticmethod(F.adaptive_max_pool2d)

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)
