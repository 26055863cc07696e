"""Changing an image's size, as functions with PyTorch's names and arguments: padding (constant,
reflect, replicate, circular), interpolation (nearest, linear, bilinear, area) and pixel
shuffling (channels to space and back)."""

import math
from collections.abc import Callable, Sequence
from typing import Any

from .. import checks
from ..gates.common import as_tensor
from ..gates.padding import CopyPad, source_positions
from ..gates.resample import Resample, area_map, is_identity, linear_map, nearest_map
from ..gates.shape import pad as constant_pad
from ..tensor import Tensor
from ..types import Array, TensorLike

PAD_MODES = ("constant", "reflect", "replicate", "circular")


# ----- padding ------------------------------------------------------------------------------
def pad(input: TensorLike, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's F.pad: ``pad`` lists (before, after) widths starting from the LAST axis,
    e.g. (1, 1, 2, 2) pads the last axis by 1 and the one before by 2. A negative width crops
    (as PyTorch does: "circular" wraps around what is left, the other modes pad from the
    uncropped edges).

    ``mode``: "constant" (``value``, default 0, on any axes), or, for the last 1, 2 or 3 axes of
    a tensor with one or two more axes than that (batch and channels), "reflect" (mirrored
    without repeating the edge; each width less than the side), "replicate" (the edge repeated)
    or "circular" (wrapped around; each width at most the side).
    """
    x = as_tensor(input)
    widths = tuple(pad)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r}")
    if len(widths) % 2 or len(widths) // 2 > x.ndim or not all(checks.is_integer(p) for p in widths):
        raise ValueError(
            f"pad: pad must hold (before, after) pairs of integers for at most {x.ndim} axes (shape "
            f"{x.shape}), got {widths}"
        )
    axes = len(widths) // 2
    pairs = [(x.ndim - 1 - k, int(widths[2 * k]), int(widths[2 * k + 1])) for k in range(axes)]
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(
                f"pad: mode {mode!r} takes no value (it pads with the input's own values), got value={value!r}"
            )
        if axes > 3 or x.ndim not in (axes + 1, axes + 2):
            raise ValueError(
                f"pad: mode {mode!r} pads the last 1, 2 or 3 axes of a tensor with one or two more "
                f"axes than that (channels, or batch and channels); got {axes} axes to pad for shape "
                f"{x.shape}"
            )
    cropping = any(before < 0 or after < 0 for _, before, after in pairs)
    if cropping and mode == "circular":  # PyTorch wraps around what is left after cropping
        x, cropping = _crop(x, pairs), False
    padding = [(axis, max(before, 0), max(after, 0)) for axis, before, after in pairs]
    out = _padded(x, padding, mode, value)
    return _crop(out, pairs) if cropping else out  # the others reflect and repeat the uncropped edges


def _crop(x: Tensor, pairs: list[tuple[int, int, int]]) -> Tensor:
    """x with the negative widths of ``pairs`` cut off their sides."""
    crop = [slice(None)] * x.ndim
    for axis, before, after in pairs:
        crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
    return x[tuple(crop)]


def _padded(x: Tensor, widths: list[tuple[int, int, int]], mode: str, value: float | None) -> Tensor:
    """x padded by the non-negative (axis, before, after) ``widths``."""
    if mode == "constant":
        widths_by_axis: list[tuple[int, int]] = [(0, 0)] * x.ndim
        for axis, before, after in widths:
            widths_by_axis[axis] = (before, after)
        return constant_pad(x, widths_by_axis, 0.0 if value is None else value)
    copies: list[tuple[int, Array, int]] = []
    for axis, before, after in widths:
        size = x.shape[axis]
        limit = {"reflect": size - 1, "circular": size}.get(mode, math.inf)  # replicate repeats the edge: any width
        if max(before, after) > limit or size == 0:
            rule = "less than" if mode == "reflect" else "at most"
            raise ValueError(
                f"pad: mode {mode!r} needs each width {rule} the size of its axis; got widths "
                f"({before}, {after}) for axis {axis} of size {size} (shape {x.shape})"
            )
        if before or after:
            copies.append((axis, source_positions(mode, size, before, after), before))
    if not copies:
        return x
    return CopyPad.apply(x, axes=tuple(copies))


# ----- interpolation ----------------------------------------------------------------------------
INTERPOLATION_MODES = {"nearest": (1, 2), "nearest-exact": (1, 2), "linear": (1,), "bilinear": (2,), "area": (1, 2)}


def interpolate(
    input: TensorLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize input (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor`` (one of them; an int/float
    for every side or one per side), as PyTorch's F.interpolate.

    ``mode``: "nearest" (PyTorch's: input floor(o / scale)), "nearest-exact" (rounded to the nearest
    pixel centre), "linear" (3-d input), "bilinear" (4-d input) or "area" (adaptive average pooling).
    ``align_corners`` (linear modes only, default False): True maps the corner pixels' centres onto
    each other; False maps the corners of the image (pixel edges) and samples at pixel centres.
    With ``scale_factor``, the output size is floor(size * scale_factor) and the sampling step is
    1 / scale_factor, as in PyTorch, unless ``recompute_scale_factor=True`` (then size / output size).
    Each axis is one small matrix product (Resample), whose gradient is the transposed product.
    """
    x = as_tensor(input)
    if mode not in INTERPOLATION_MODES:
        raise ValueError(
            f"interpolate: mode must be one of {', '.join(map(repr, INTERPOLATION_MODES))} (bicubic "
            f"and trilinear are not supported), got {mode!r}"
        )
    dims = x.ndim - 2
    if dims not in INTERPOLATION_MODES[mode]:
        needed = " or ".join(f"{d + 2}-d" for d in INTERPOLATION_MODES[mode])
        raise ValueError(
            f"interpolate: mode {mode!r} needs {needed} input (batch, channels, then "
            f"{'length' if INTERPOLATION_MODES[mode] == (1,) else 'the spatial sides'}), got shape "
            f"{x.shape}"
        )
    linear = mode in ("linear", "bilinear")
    if align_corners is not None and not linear:
        raise ValueError(
            f"interpolate: align_corners can only be set with the interpolating modes linear and bilinear, not {mode!r}"
        )
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    sizes = x.shape[2:]
    output, scales = _output_sizes(size, scale_factor, recompute_scale_factor, sizes, dims)
    maps: list[Array | None] = []
    for n, o, scale in zip(sizes, output, scales):
        if mode == "area":
            matrix = area_map(n, o, x.dtype)
        elif linear:
            matrix = linear_map(n, o, bool(align_corners), scale, x.dtype)
        else:
            matrix = nearest_map(n, o, scale, mode == "nearest-exact", x.dtype)
        maps.append(None if is_identity(matrix) else matrix)
    rows, columns = [None, *maps] if dims == 1 else maps
    return Resample.apply(x, rows=rows, columns=columns)


def _output_sizes(
    size: int | Sequence[int] | None,
    scale_factor: float | Sequence[float] | None,
    recompute_scale_factor: bool | None,
    sizes: tuple[int, ...],
    dims: int,
) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """(output sizes, the scale factors the sampling steps use: None where the step is size / output size)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        output = _per_side(size, dims, "size", checks.is_integer)
        if min(output) < 1:
            raise ValueError(f"interpolate: size must be positive, got {size!r}")
        return tuple(int(o) for o in output), (None,) * dims
    scales = tuple(float(s) for s in _per_side(scale_factor, dims, "scale_factor", checks.is_real))
    if min(scales) <= 0:
        raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
    output = tuple(math.floor(n * s) for n, s in zip(sizes, scales))
    if min(output) < 1:
        raise ValueError(
            f"interpolate: scale_factor {scale_factor!r} gives output size {output} for input size "
            f"{tuple(sizes)}; each side must be at least 1"
        )
    return output, (None,) * dims if recompute_scale_factor else scales


def _per_side(value: object, dims: int, name: str, kind: Callable[[object], bool]) -> tuple[Any, ...]:
    values = (value,) * dims if kind(value) else value
    if not isinstance(values, (tuple, list)) or len(values) != dims or not all(kind(v) for v in values):
        raise ValueError(
            f"interpolate: {name} must be a number or {dims} numbers (one per spatial side) for "
            f"{dims + 2}-d input, got {value!r}"
        )
    return tuple(values)


# ----- pixel shuffle ------------------------------------------------------------------------------
def pixel_shuffle(input: TensorLike, upscale_factor: int) -> Tensor:
    """Channels to space: (*, C * r * r, H, W) to (*, C, H * r, W * r), each group of r*r channels becoming an
    r x r block of pixels (sub-pixel convolution's upsampling). A reshape and a permutation."""
    x = as_tensor(input)
    r = checks.size("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_shuffle: input must have at least 3 dimensions (*, C, H, W), got shape {x.shape}")
    *batch, channels, h, w = x.shape
    if channels % (r * r):
        raise ValueError(
            f"pixel_shuffle: the channel dimension ({channels}, shape {x.shape}) must be divisible by "
            f"upscale_factor squared ({r * r})"
        )
    k = len(batch)
    blocks = x.reshape(*batch, channels // (r * r), r, r, h, w)
    order = tuple(range(k + 1)) + (k + 3, k + 1, k + 4, k + 2)
    return blocks.permute(order).reshape(*batch, channels // (r * r), h * r, w * r)


def pixel_unshuffle(input: TensorLike, downscale_factor: int) -> Tensor:
    """Space to channels, pixel_shuffle's inverse: (*, C, H * r, W * r) to (*, C * r * r, H, W)."""
    x = as_tensor(input)
    r = checks.size("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3:
        raise ValueError(f"pixel_unshuffle: input must have at least 3 dimensions (*, C, H, W), got shape {x.shape}")
    *batch, channels, h, w = x.shape
    if h % r or w % r:
        raise ValueError(
            f"pixel_unshuffle: height and width ({h}, {w}; shape {x.shape}) must be divisible by downscale_factor ({r})"
        )
    k = len(batch)
    blocks = x.reshape(*batch, channels, h // r, r, w // r, r)
    order = tuple(range(k + 1)) + (k + 2, k + 4, k + 1, k + 3)
    return blocks.permute(order).reshape(*batch, channels * r * r, h // r, w // r)


__all__ = ["pad", "interpolate", "pixel_shuffle", "pixel_unshuffle"]
