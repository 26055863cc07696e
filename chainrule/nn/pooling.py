"""Pooling layers: the max or the mean of each window, per channel, over (N, C, L) sequences and
(N, C, H, W) images (or one sample without the batch axis); max-unpooling; and adaptive pooling
to a fixed output size."""

from collections.abc import Callable, Sequence
from typing import ClassVar

from .. import checks
from .. import functional as F
from ..tensor import Tensor
from ..types import TensorLike
from .module import Module

#: A window setting as given: one int for every spatial axis, or one per axis.
_Size = int | Sequence[int]


class _Pool(Module):
    """What the window pools share: settings kept as given (an int stays an int, as PyTorch shows them),
    checked once, and the input checked against the window before pooling."""

    dims: int = 2
    kernel_size: _Size
    stride: _Size
    padding: _Size
    dilation: _Size
    ceil_mode: bool
    _reach: tuple[int, ...]
    _padding: tuple[int, ...]

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size | None = None,
        padding: _Size = 0,
        dilation: _Size = 1,
        ceil_mode: bool = False,
    ) -> None:
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

    def _check_input(self, x: Tensor) -> None:
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
    pool: ClassVar[Callable[..., Tensor | tuple[Tensor, Tensor]] | None] = None  # F.max_pool1d or F.max_pool2d
    return_indices: bool

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size | None = None,
        padding: _Size = 0,
        dilation: _Size = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = bool(return_indices)

    def forward(self, x: TensorLike) -> Tensor | tuple[Tensor, Tensor]:
        """The pooled tensor, and where each maximum was with ``return_indices``."""
        x = checks.layer_input(self, x)
        self._check_input(x)
        pool = type(self).pool
        assert pool is not None  # set by MaxPool1d and MaxPool2d
        return pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
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

    count_include_pad: bool

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size | None = None,
        padding: _Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
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

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        self._check_input(x)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_Pool):
    """The mean of each ``kernel_size`` window (``stride`` defaults to ``kernel_size``); zero
    padding counts toward the mean unless ``count_include_pad=False``; ``divisor_override``
    divides every window's sum by that number instead."""

    dims = 2

    count_include_pad: bool
    divisor_override: int | None

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size | None = None,
        padding: _Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: TensorLike) -> Tensor:
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

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxUnpool(Module):
    dims: int = 2
    unpool: ClassVar[Callable[..., Tensor] | None] = None  # F.max_unpool1d or F.max_unpool2d
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    def __init__(self, kernel_size: _Size, stride: _Size | None = None, padding: _Size = 0) -> None:
        super().__init__()
        layer, dims = type(self).__name__, self.dims
        self.kernel_size = checks.spatial(layer, "kernel_size", kernel_size, dims)
        self.stride = self.kernel_size if stride is None else checks.spatial(layer, "stride", stride, dims)
        self.padding = checks.spatial(layer, "padding", padding, dims, minimum=0)

    def forward(self, x: TensorLike, indices: TensorLike, output_size: Sequence[int] | None = None) -> Tensor:
        x = checks.layer_input(self, x)
        checks.layer_input_shape(self._describe(), tuple(x.shape), self.dims)
        unpool = type(self).unpool
        assert unpool is not None  # set by MaxUnpool1d and MaxUnpool2d
        return unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
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
    dims: int = 2
    pool: ClassVar[Callable[..., Tensor | tuple[Tensor, Tensor]] | None] = None  # F.adaptive_{avg,max}_pool{1,2}d
    output_size: int | None | Sequence[int | None]
    return_indices: bool  # set only by the max pools

    def __init__(self, output_size: int | None | Sequence[int | None], return_indices: bool | None = None) -> None:
        super().__init__()
        self.output_size = output_size
        checks.adaptive_size(type(self).__name__, output_size, (1,) * self.dims)  # checked now
        if return_indices is not None:
            self.return_indices = bool(return_indices)

    def forward(self, x: TensorLike) -> Tensor | tuple[Tensor, Tensor]:
        """The pooled tensor, and where each maximum was with a max pool's ``return_indices``."""
        x = checks.layer_input(self, x)
        checks.layer_input_shape(self._describe(), tuple(x.shape), self.dims)
        pool = type(self).pool
        assert pool is not None  # set by each adaptive pool
        if hasattr(self, "return_indices"):
            return pool(x, self.output_size, self.return_indices)
        return pool(x, self.output_size)

    def extra_repr(self) -> str:
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

    def __init__(self, output_size: int | None | Sequence[int | None], return_indices: bool = False) -> None:
        super().__init__(output_size, return_indices)


class AdaptiveMaxPool2d(_Adaptive):
    """Max-pool to a fixed ``output_size`` (an int or (H, W); None keeps that side) whatever the input
    size; ``return_indices`` as MaxPool2d."""

    dims = 2
    pool = staticmethod(F.adaptive_max_pool2d)

    def __init__(self, output_size: int | None | Sequence[int | None], return_indices: bool = False) -> None:
        super().__init__(output_size, return_indices)
