"""2-d convolution layer over images shaped (N, C, H, W)."""

import math

from .. import functional as F
from ..backend import xp
from .. import checks
from . import init
from .module import Module, Parameter


class Conv2d(Module):
    """Slide ``out_channels`` learned filters of size ``kernel_size`` over the input channels.

    ``weight`` has shape (out_channels, in_channels // groups, kH, kW). ``stride``,
    ``padding`` (zeros added on each side) and ``dilation`` are ints or (H, W) pairs;
    ``padding="same"`` keeps the image size (stride 1), ``"valid"`` means no padding.
    Input (N, C, H, W), or one image (C, H, W).
    Initialised like PyTorch's: weight ``kaiming_uniform_(a=sqrt(5))``, bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels // groups * kH * kW.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, dtype=None):
        super().__init__()
        self.in_channels = checks.size("Conv2d", "in_channels", in_channels)
        self.out_channels = checks.size("Conv2d", "out_channels", out_channels)
        self.kernel_size = checks.pair("Conv2d", "kernel_size", kernel_size)
        self.stride = checks.pair("Conv2d", "stride", stride)
        self.dilation = checks.pair("Conv2d", "dilation", dilation)
        self.padding = checks.conv_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)
        self.groups = checks.size("Conv2d", "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"Conv2d: in_channels ({self.in_channels}) and out_channels ({self.out_channels}) "
                             f"must both be divisible by groups ({self.groups})")
        dtype = checks.float_dtype("Conv2d", dtype)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(xp.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = checks.layer_input(self, x)
        shape = x.shape
        if len(shape) not in (3, 4):
            raise ValueError(f"{self._describe()}: expected a 4-d input (batch, channels, height, width) or one "
                             f"3-d image (channels, height, width), got shape {tuple(shape)}")
        if shape[-3] != self.in_channels:
            raise ValueError(f"{self._describe()}: input has {shape[-3]} channels (shape {tuple(shape)}), "
                             f"expected {self.in_channels}")
        for side, n, k, p, d in zip(("height", "width"), shape[-2:], self.kernel_size, self.padding, self.dilation):
            if n + 2 * p < d * (k - 1) + 1:
                raise ValueError(f"{self._describe()}: input {side} {n} (shape {tuple(shape)}, padding {p}) is "
                                 f"smaller than the kernel's reach {d * (k - 1) + 1}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
