"""Pooling layers: the max or the mean of each window, per channel, over (N, C, H, W) images
(or one (C, H, W) image)."""

from .. import functional as F
from .. import checks
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        layer = type(self).__name__
        # Kept as given (an int stays an int, as PyTorch shows them); the pairs are for the checks.
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        kernel = checks.pair(layer, "kernel_size", kernel_size)
        checks.pair(layer, "stride", self.stride)
        pad = checks.pair(layer, "padding", padding, minimum=0)
        dilate = checks.pair(layer, "dilation", dilation)
        # Padding beyond half the window would make windows that see only padding.
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilate))
        if pad[0] > reach[0] // 2 or pad[1] > reach[1] // 2:
            raise ValueError(f"{layer}: padding {padding} must be at most half the kernel size {kernel_size}")
        if ceil_mode:
            raise ValueError(f"{layer}: ceil_mode=True is not supported; pad the input instead")
        self.ceil_mode = False
        self._reach, self._padding = reach, pad

    def _check_input(self, x):
        shape = checks.layer_input(self, x).shape
        if len(shape) not in (3, 4):
            raise ValueError(f"{self._describe()}: expected a 4-d input (batch, channels, height, width) or one "
                             f"3-d image (channels, height, width), got shape {tuple(shape)}")
        for side, n, reach, p in zip(("height", "width"), shape[-2:], self._reach, self._padding):
            if n + 2 * p < reach:
                raise ValueError(f"{self._describe()}: input {side} {n} (shape {tuple(shape)}, padding {p}) is "
                                 f"smaller than the window {reach}")


class MaxPool2d(_Pool2d):
    """The largest value in each ``kernel_size`` window (``stride`` defaults to ``kernel_size``);
    padding counts as minus infinity."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)

    def forward(self, x):
        self._check_input(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window (``stride`` defaults to ``kernel_size``); zero
    padding counts toward the mean unless ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        self._check_input(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size`` (an int or (H, W)) whatever the input size;
    ``AdaptiveAvgPool2d(1)`` is global average pooling. Here each input side must be a
    multiple of the output side."""

    def __init__(self, output_size):
        super().__init__()
        checks.pair("AdaptiveAvgPool2d", "output_size", output_size)
        self.output_size = output_size

    def forward(self, x):
        shape = checks.layer_input(self, x).shape
        if len(shape) not in (3, 4):
            raise ValueError(f"{self._describe()}: expected a 4-d input (batch, channels, height, width) or one "
                             f"3-d image (channels, height, width), got shape {tuple(shape)}")
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
