"""Pooling as functions, with PyTorch's names and arguments: max and average pooling over windows
(1-d and 2-d, ``ceil_mode``, ``return_indices``), max-unpooling, and adaptive pooling to a given
output size. A 1-d pool is the 2-d pool of a (N, C, 1, L) view of its (N, C, L) input; inputs
may also come without the batch axis, as one (C, L) or (C, H, W) sample."""

from collections.abc import Callable, Sequence
from typing import Literal, cast, overload

from .. import checks
from ..backend import xp
from ..gates.common import as_tensor, data
from ..gates.conv import Geometry
from ..gates.pooling import (
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    MaxPool2dWithIndices,
    MaxUnpool,
    average_scale,
    window_positions,
)
from ..gates.resample import Resample, area_map, is_identity
from ..tensor import Tensor
from ..types import TensorLike
from .layers import Sides

#: An adaptive pool's output size: an int for every side, or one per side (None keeps the input's side).
OutputSize = int | None | Sequence[int | None]


def _lift(x: Tensor, dims: int) -> Tensor:
    """A (N, C, L) input as (N, C, 1, L); a 2-d one as it is."""
    return x if dims == 2 else x.reshape(x.shape[:2] + (1,) + x.shape[2:])


def _lower(out: Tensor, dims: int, unbatched: bool) -> Tensor:
    """_lift's inverse for a result, and the batch axis removed again if the input came without one."""
    if dims == 1:
        out = out.reshape(out.shape[:2] + out.shape[3:])
    return checks.unbatch(out, unbatched)


def _pool_geometry(
    x: Tensor,
    kernel_size: Sides,
    stride: Sides | None,
    padding: Sides,
    dilation: Sides,
    ceil_mode: bool,
    where: str,
    dims: int,
    max_padding: Callable[[tuple[int, ...], tuple[int, ...]], list[int]],
) -> Geometry:
    """The windows of a pool over the lifted (N, C, H, W) input x; settings are ints or ``dims``-tuples."""
    kernel = checks.spatial(where, "kernel_size", kernel_size, dims, 1)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel if no_stride else checks.spatial(where, "stride", stride, dims, 1)
    padding = checks.spatial(where, "padding", padding, dims, 0)
    dilation = checks.spatial(where, "dilation", dilation, dims, 1)
    for p, limit in zip(padding, max_padding(kernel, dilation)):
        if p > limit:
            shown: Callable[[tuple[int, ...]], object] = (lambda v: v[0]) if dims == 1 else tuple  # noqa: E731
            raise ValueError(
                f"{where}: padding should be at most half of the (effective) kernel size, got padding "
                f"{shown(padding)} for kernel_size {shown(kernel)} and dilation {shown(dilation)}"
            )
    lift: Callable[[tuple[int, ...], int], tuple[int, ...]]
    lift = lambda values, fill: (fill,) * (2 - dims) + values  # noqa: E731
    return Geometry(
        x.shape,
        lift(kernel, 1),
        lift(stride, 1),
        lift(padding, 0),
        lift(dilation, 1),
        where,
        ceil_mode=bool(ceil_mode),
        one_dim=dims == 1,
    )


def _max_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> list[int]:
    return [((k - 1) * d + 1) // 2 for k, d in zip(kernel, dilation)]


def _avg_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> list[int]:
    return [k // 2 for k in kernel]


# ----- max pooling -----------------------------------------------------------------------------
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
) -> Tensor: ...
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool1d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Largest value in each window of input (N, C, L); see max_pool2d."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d", 1)


@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
) -> Tensor: ...
@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool2d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    dilation: Sides = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Largest value in each window of input (N, C, H, W); ``stride`` defaults to ``kernel_size``, padding
    is -inf, and ``ceil_mode=True`` keeps a last window that hangs over the edge.

    The gradient goes to the first maximum of each window (row-major), as in PyTorch. With
    ``return_indices=True`` the result is (values, indices): each maximum's flat position
    (row * W + column) in its input plane, as ``max_unpool2d`` takes them.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d", 2)


def _max_pool(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None,
    padding: Sides,
    dilation: Sides,
    ceil_mode: bool,
    return_indices: bool,
    where: str,
    dims: int,
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = checks.channels_first(input, where, dims)
    geometry = _pool_geometry(
        _lift(x, dims), kernel_size, stride, padding, dilation, ceil_mode, where, dims, _max_padding
    )
    if not return_indices:
        return _lower(MaxPool2d.apply(_lift(x, dims), geometry=geometry), dims, unbatched)
    out, indices = MaxPool2dWithIndices.apply(_lift(x, dims), geometry=geometry)
    return _lower(out, dims, unbatched), _lower(indices, dims, unbatched)


# ----- average pooling -------------------------------------------------------------------------
def avg_pool1d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean of each window of input (N, C, L); see avg_pool2d."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d", 1)


def avg_pool2d(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean of each window; ``stride`` defaults to ``kernel_size``; zero padding counts toward
    the mean unless ``count_include_pad=False`` (PyTorch's default: it counts). With ``ceil_mode``,
    a last window hanging over the edge averages only what it covers, as in PyTorch."""
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, "avg_pool2d", 2
    )


def _avg_pool(
    input: TensorLike,
    kernel_size: Sides,
    stride: Sides | None,
    padding: Sides,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
    where: str,
    dims: int,
) -> Tensor:
    x, unbatched = checks.channels_first(input, where, dims)
    geometry = _pool_geometry(_lift(x, dims), kernel_size, stride, padding, 1, ceil_mode, where, dims, _avg_padding)
    if divisor_override is not None and (not checks.is_integer(divisor_override) or divisor_override < 1):
        raise ValueError(f"{where}: divisor_override must be a positive int, got {divisor_override!r}")
    scale = average_scale(geometry, count_include_pad, divisor_override, x.dtype)
    return _lower(AvgPool2d.apply(_lift(x, dims), geometry=geometry, scale=scale), dims, unbatched)


# ----- unpooling -------------------------------------------------------------------------------
def max_unpool1d(
    input: TensorLike,
    indices: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """max_pool1d's partial inverse; see max_unpool2d."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, "max_unpool1d", 1)


def max_unpool2d(
    input: TensorLike,
    indices: TensorLike,
    kernel_size: Sides,
    stride: Sides | None = None,
    padding: Sides = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Put each value of input (N, C, H, W) back at its index from ``max_pool2d(..., return_indices=True)``
    in a zero image: the maxima return to where they were, everything else is 0.

    The output size is (H - 1) * stride - 2 * padding + kernel_size per axis (``stride`` defaults to
    ``kernel_size``), or ``output_size`` ((H, W) or (N, C, H, W)) when the pooled image had a size
    that rounding lost; it must lie within one stride of that, as in PyTorch.
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, "max_unpool2d", 2)


def _max_unpool(
    input: TensorLike,
    indices: TensorLike,
    kernel_size: Sides,
    stride: Sides | None,
    padding: Sides,
    output_size: Sequence[int] | None,
    where: str,
    dims: int,
) -> Tensor:
    x, unbatched = checks.channels_first(input, where, dims)
    index = xp.asarray(data(indices))
    if index.dtype.kind not in "iu":
        raise TypeError(
            f"{where}: indices must be integers (from max_pool{dims}d(..., return_indices=True)), got "
            f"dtype {index.dtype}"
        )
    if index.shape != as_tensor(input).shape:
        raise ValueError(
            f"{where}: indices have shape {index.shape} but input has shape {as_tensor(input).shape}; "
            "they must be the same"
        )
    kernel = checks.spatial(where, "kernel_size", kernel_size, dims, 1)
    stride = kernel if stride is None else checks.spatial(where, "stride", stride, dims, 1)
    padding = checks.spatial(where, "padding", padding, dims, 0)
    size = _unpool_size(x.shape[2:], kernel, stride, padding, output_size, where, dims)
    n, c = x.shape[:2]
    flat = index.reshape(n * c, -1)
    plane = int(xp.prod(size))
    bad = (flat < 0) | (flat >= plane)
    if bad.any():
        raise ValueError(
            f"{where}: index {int(flat[bad][0])} is outside the output plane of {plane} positions "
            f"(output size {size[0] if dims == 1 else size})"
        )
    positions = (xp.arange(n * c).reshape(-1, 1), flat)
    return checks.unbatch(MaxUnpool.apply(x, positions=positions, output_shape=size), unbatched)


def _unpool_size(
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_size: Sequence[int] | None,
    where: str,
    dims: int,
) -> tuple[int, ...]:
    """PyTorch's unpooled size: the default from the pooling settings, or ``output_size`` within a stride of it."""
    default = tuple((n - 1) * s + k - 2 * p for n, s, k, p in zip(sizes, stride, kernel, padding))
    size: tuple[int, ...] | None
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-dims:] if len(tuple(output_size)) in (dims, dims + 2) else None
        if size is None or not all(checks.is_integer(v) for v in size):
            raise ValueError(f"{where}: output_size must hold {dims} or {dims + 2} integers, got {output_size!r}")
        for axis, (wanted, usual, s) in enumerate(zip(size, default, stride)):
            if not usual - s < wanted < usual + s:
                raise ValueError(
                    f"{where}: invalid output_size {tuple(output_size)} (dim {axis} must be between "
                    f"{usual - s} and {usual + s}, exclusive)"
                )
    if min(size) < 1:
        raise ValueError(f"{where}: the output size would be {size} for input size {tuple(sizes)}; it must be positive")
    return tuple(int(v) for v in size)


# ----- adaptive pooling ------------------------------------------------------------------------
def adaptive_avg_pool1d(input: TensorLike, output_size: OutputSize) -> Tensor:
    """Average pooling of input (N, C, L) to ``output_size`` positions; see adaptive_avg_pool2d."""
    return cast(Tensor, _adaptive(input, output_size, False, "adaptive_avg_pool1d", 1))  # no indices


def adaptive_avg_pool2d(input: TensorLike, output_size: OutputSize) -> Tensor:
    """Average pooling to a given (OH, OW) (an int for both; None keeps that side), whatever the input size.

    Output row i averages input rows floor(i*H/OH) to ceil((i+1)*H/OH), PyTorch's windows,
    which differ in size (and overlap) when the sides do not divide evenly.
    """
    return cast(Tensor, _adaptive(input, output_size, False, "adaptive_avg_pool2d", 2))  # no indices


@overload
def adaptive_max_pool1d(
    input: TensorLike, output_size: OutputSize, return_indices: Literal[False] = False
) -> Tensor: ...
@overload
def adaptive_max_pool1d(
    input: TensorLike, output_size: OutputSize, return_indices: Literal[True]
) -> tuple[Tensor, Tensor]: ...
@overload
def adaptive_max_pool1d(
    input: TensorLike, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]: ...
def adaptive_max_pool1d(
    input: TensorLike, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of input (N, C, L) to ``output_size`` positions; see adaptive_max_pool2d."""
    return _adaptive(input, output_size, True, "adaptive_max_pool1d", 1, return_indices)


@overload
def adaptive_max_pool2d(
    input: TensorLike, output_size: OutputSize, return_indices: Literal[False] = False
) -> Tensor: ...
@overload
def adaptive_max_pool2d(
    input: TensorLike, output_size: OutputSize, return_indices: Literal[True]
) -> tuple[Tensor, Tensor]: ...
@overload
def adaptive_max_pool2d(
    input: TensorLike, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]: ...
def adaptive_max_pool2d(
    input: TensorLike, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a given (OH, OW) over adaptive_avg_pool2d's windows; ``return_indices`` as in
    max_pool2d. The gradient goes to each window's first maximum (row-major)."""
    return _adaptive(input, output_size, True, "adaptive_max_pool2d", 2, return_indices)


def _adaptive(
    input: TensorLike, output_size: OutputSize, maximum: bool, where: str, dims: int, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = checks.channels_first(input, where, dims)
    sizes = x.shape[2:]
    wanted = checks.adaptive_size(where, output_size, sizes)
    lifted = _lift(x, dims)
    if all(n % o == 0 for n, o in zip(sizes, wanted)):  # windows tile the input: a plain pool
        kernel = tuple(n // o for n, o in zip(sizes, wanted))
        if maximum:
            return _max_pool(input, kernel, None, 0, 1, False, return_indices, where, dims)
        if wanted == (1,) * dims:
            return checks.unbatch(x.mean(axis=tuple(range(2, x.ndim)), keepdims=True), unbatched)
        return _avg_pool(input, kernel, None, 0, False, True, None, where, dims)
    h, w = lifted.shape[2:]
    oh, ow = ((1,) + wanted) if dims == 1 else wanted
    if maximum:
        out, indices = AdaptiveMaxPool2d.apply(lifted, rows=window_positions(h, oh), columns=window_positions(w, ow))
        out = _lower(out, dims, unbatched)
        return (out, _lower(indices, dims, unbatched)) if return_indices else out
    maps = [area_map(n, o, x.dtype) for n, o in ((h, oh), (w, ow))]
    rows, columns = (None if is_identity(m) else m for m in maps)
    return _lower(Resample.apply(lifted, rows=rows, columns=columns), dims, unbatched)


__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
]
