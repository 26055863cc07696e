"""Convolution layers: Conv1d and Conv2d, and the transposed (upsampling) ConvTranspose1d and
ConvTranspose2d, over (N, C, L) sequences and (N, C, H, W) images (or one sample without the batch axis)."""

import math
from collections.abc import Callable, Sequence
from typing import ClassVar

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import DType, TensorLike
from . import init
from .module import Module, Parameter

PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")

#: A kernel, stride, dilation or padding: one int for every spatial axis, or one per axis.
_Size = int | Sequence[int]


class _ConvNd(Module):
    """What the convolution layers share: settings checked once, PyTorch's parameter shapes and default
    initialisation, input checks that name the layer, and PyTorch's repr."""

    dims: int = 2  # spatial axes
    transposed: bool = False
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    groups: int
    padding_mode: str
    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size,
        padding: _Size | str,
        dilation: _Size,
        groups: int,
        bias: bool,
        padding_mode: str,
        dtype: DType,
        output_padding: _Size = 0,
    ) -> None:
        super().__init__()
        layer, dims = type(self).__name__, self.dims
        self.in_channels = checks.size(layer, "in_channels", in_channels)
        self.out_channels = checks.size(layer, "out_channels", out_channels)
        self.kernel_size = checks.spatial(layer, "kernel_size", kernel_size, dims)
        self.stride = checks.spatial(layer, "stride", stride, dims)
        self.dilation = checks.spatial(layer, "dilation", dilation, dims)
        if self.transposed:
            self.padding = checks.spatial(layer, "padding", padding, dims, minimum=0)
            self.output_padding = checks.spatial(layer, "output_padding", output_padding, dims, minimum=0)
            if any(op >= max(s, d) for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
                raise ValueError(
                    f"{layer}: output_padding must be smaller than stride or dilation, got "
                    f"output_padding {self.output_padding}, stride {self.stride} and dilation "
                    f"{self.dilation}"
                )
        else:
            self.padding = checks.conv_padding(layer, padding, self.kernel_size, self.stride, self.dilation)
            self.output_padding = (0,) * dims
        self.groups = checks.size(layer, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{layer}: in_channels ({self.in_channels}) and out_channels ({self.out_channels}) "
                f"must both be divisible by groups ({self.groups})"
            )
        allowed = ("zeros",) if self.transposed else PADDING_MODES
        if padding_mode not in allowed:
            raise ValueError(f"{layer}: padding_mode must be {' or '.join(map(repr, allowed))}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        dtype = checks.float_dtype(layer, dtype)
        # PyTorch's layouts: (out, in/groups, *kernel) for a convolution, (in, out/groups, *kernel) transposed.
        first, second = (
            (self.in_channels, self.out_channels) if self.transposed else (self.out_channels, self.in_channels)
        )
        self.weight = Parameter(xp.empty((first, second // self.groups) + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's defaults: weight kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in
        from the weight's second axis times the kernel size."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        shape, dims = tuple(x.shape), self.dims
        checks.layer_input_shape(self._describe(), shape, dims)
        if shape[-dims - 1] != self.in_channels:
            raise ValueError(
                f"{self._describe()}: input has {shape[-dims - 1]} channels (shape {shape}), "
                f"expected {self.in_channels}"
            )
        if self.transposed:
            return
        sides = ("length",) if dims == 1 else ("height", "width")
        for side, n, k, p, d in zip(sides, shape[-dims:], self.kernel_size, self.padding, self.dilation):
            if n + 2 * p < d * (k - 1) + 1:
                raise ValueError(
                    f"{self._describe()}: input {side} {n} (shape {shape}, padding {p}) is "
                    f"smaller than the kernel's reach {d * (k - 1) + 1}"
                )

    def _padded(self, x: Tensor) -> Tensor:
        """The input with a padding_mode other than zeros applied (the convolution then pads nothing)."""
        widths = tuple(p for p in reversed(self.padding) for _ in range(2))
        return F.pad(x, widths, mode=self.padding_mode)

    def extra_repr(self) -> str:
        dims = self.dims
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    convolve: ClassVar[Callable[..., Tensor] | None] = None  # F.conv1d or F.conv2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Size | str = 0,
        dilation: _Size = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: DType = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, dtype
        )

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        self._check_input(x)
        convolve = type(self).convolve
        assert convolve is not None  # set by Conv1d and Conv2d
        if self.padding_mode != "zeros":
            return convolve(self._padded(x), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return convolve(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """Slide ``out_channels`` learned filters of length ``kernel_size`` along (N, C, L) sequences (or one
    (C, L) sequence). ``weight`` has shape (out_channels, in_channels // groups, k); ``stride``,
    ``padding`` (or "same" / "valid") and ``dilation`` are ints; ``padding_mode`` is "zeros",
    "reflect", "replicate" or "circular". Initialised like PyTorch's (see Conv2d)."""

    dims = 1
    convolve = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """Slide ``out_channels`` learned filters of size ``kernel_size`` over the input channels.

    ``weight`` has shape (out_channels, in_channels // groups, kH, kW). ``stride``,
    ``padding`` (zeros added on each side) and ``dilation`` are ints or (H, W) pairs;
    ``padding="same"`` keeps the image size (stride 1), ``"valid"`` means no padding;
    ``padding_mode`` "reflect", "replicate" or "circular" pads with the image's own values.
    Input (N, C, H, W), or one image (C, H, W).
    Initialised like PyTorch's: weight ``kaiming_uniform_(a=sqrt(5))``, bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels // groups * kH * kW.
    """

    dims = 2
    convolve = staticmethod(F.conv2d)


class _ConvTranspose(_ConvNd):
    transposed = True
    convolve: ClassVar[Callable[..., Tensor] | None] = None  # F.conv_transpose1d or F.conv_transpose2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Size = 0,
        output_padding: _Size = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _Size = 1,
        padding_mode: str = "zeros",
        dtype: DType = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
            output_padding,
        )

    def forward(self, x: TensorLike, output_size: Sequence[int] | None = None) -> Tensor:
        """The transposed convolution; ``output_size`` (the spatial sides, or with batch and channels in front)
        picks one of the sizes a strided convolution maps to the input's size, in place of output_padding."""
        x = checks.layer_input(self, x)
        self._check_input(x)
        output_padding = self._output_padding(x, output_size)
        convolve = type(self).convolve
        assert convolve is not None  # set by ConvTranspose1d and ConvTranspose2d
        return convolve(
            x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )

    def _output_padding(self, x: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        dims, shape = self.dims, tuple(x.shape)
        wanted = tuple(output_size)
        if len(wanted) == len(shape):
            wanted = wanted[-dims:]
        if len(wanted) != dims:
            raise ValueError(
                f"{self._describe()}: output_size must hold {dims} sides (or all {len(shape)} sizes) "
                f"for input shape {shape}, got {tuple(output_size)}"
            )
        smallest = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(shape[-dims:], self.stride, self.padding, self.dilation, self.kernel_size)
        )
        largest = tuple(low + s - 1 for low, s in zip(smallest, self.stride))
        if any(not low <= n <= high for n, low, high in zip(wanted, smallest, largest)):
            raise ValueError(
                f"{self._describe()}: requested an output size of {wanted}, but valid sizes range from "
                f"{smallest} to {largest} for an input of {shape[-dims:]}"
            )
        return tuple(n - low for n, low in zip(wanted, smallest))


class ConvTranspose1d(_ConvTranspose):
    """The transposed convolution of (N, C_in, L) sequences: each input position spreads a learned filter
    over the output, ``stride`` positions apart (conv1d's gradient as a layer: it upsamples). ``weight``
    has shape (in_channels, out_channels // groups, k). Initialised like PyTorch's."""

    dims = 1
    convolve = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """The transposed convolution of (N, C_in, H, W) images: each input pixel spreads a learned filter over
    the output, ``stride`` pixels apart (conv2d's gradient as a layer: it upsamples, as in DCGAN's
    generator or U-Net's decoder). ``weight`` has shape (in_channels, out_channels // groups, kH, kW);
    the output side is (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1, or
    ``forward(x, output_size=...)`` chooses it. Initialised like PyTorch's."""

    dims = 2
    convolve = staticmethod(F.conv_transpose2d)
