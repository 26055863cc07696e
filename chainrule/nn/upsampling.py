"""Resizing layers: Upsample (interpolation), PixelShuffle and PixelUnshuffle (channels to space and
back), and the padding layers (constant, zero, reflection, replication, circular)."""

from .. import checks
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) inputs to ``size`` or by ``scale_factor`` with ``mode`` "nearest",
    "nearest-exact", "linear", "bilinear" or "area"; see ``nn.functional.interpolate``."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        shown = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{shown}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode "nearest" (PyTorch's older name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode "bilinear" and align_corners=True (PyTorch's older name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C * r * r, H, W) to (*, C, H * r, W * r): each group of r*r channels becomes an r x r block of
    pixels (the upsampling of sub-pixel convolution); r is ``upscale_factor``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = checks.size("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """PixelShuffle's inverse: (*, C, H * r, W * r) to (*, C * r * r, H, W); r is ``downscale_factor``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = checks.size("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


# ----- padding layers ---------------------------------------------------------------------------
class _Pad(Module):
    """Pad the last ``dims`` axes by ``padding``: an int for every side, or (left, right) for 1-d and (left,
    right, top, bottom) for 2-d, as in PyTorch."""

    dims = 2
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        count = 2 * self.dims
        values = (padding,) * count if checks.is_integer(padding) else padding
        if not isinstance(values, (tuple, list)) or len(values) != count or not all(map(checks.is_integer, values)):
            raise ValueError(f"{type(self).__name__}: padding must be an int or {count} ints, got {padding!r}")
        self.padding = tuple(int(v) for v in values)

    def forward(self, x):
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = checks.number(type(self).__name__, "value", value)

    def forward(self, x):
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pad the last axis with ``value``."""

    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last two axes with ``value``."""

    dims = 2


class _ZeroPad:
    """ConstantPad with value 0, shown as PyTorch shows it (the widths alone)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last axis with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two axes with zeros."""


class ReflectionPad1d(_Pad):
    """Pad the last axis with its mirror image, the edge not repeated (each width less than the side)."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_Pad):
    """Pad the last two axes with their mirror image, the edge not repeated (each width less than the side)."""

    dims, mode = 2, "reflect"


class ReplicationPad1d(_Pad):
    """Pad the last axis by repeating its edge values."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_Pad):
    """Pad the last two axes by repeating their edge values."""

    dims, mode = 2, "replicate"


class CircularPad1d(_Pad):
    """Pad the last axis by wrapping around (each width at most the side)."""

    dims, mode = 1, "circular"


class CircularPad2d(_Pad):
    """Pad the last two axes by wrapping around (each width at most the side)."""

    dims, mode = 2, "circular"
