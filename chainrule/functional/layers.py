"""The layers' operations as functions: linear, convolution (1-d, 2-d, transposed), normalization
(batch, layer, group, instance), dropout, embedding and distances. Each checks its inputs (through
``chainrule.checks``) and records one gate, or a few. Pooling is in ``pooling``; padding,
interpolation and pixel shuffle in ``resampling``."""

import numbers
from collections.abc import Sequence

import numpy as np

from .. import checks, random
from ..backend import xp
from ..gates.common import as_tensor, data
from ..gates.conv import Conv2d, ConvTranspose2d, Geometry
from ..gates.nn_ops import BatchNorm, Dropout, Embedding, GroupNorm, LayerNorm, Linear
from ..gates.reduce import norm
from ..gates.shape import flatten as flatten  # re-exported: nn.functional.flatten is torch.flatten
from ..tensor import Tensor
from ..types import Array, TensorLike

#: A per-axis setting of a convolution or pool (kernel size, stride, padding, dilation): one int for every
#: spatial axis, or one per axis.
Sides = int | Sequence[int]
#: Running statistics, updated in place: a NumPy array, or a Tensor whose array is used.
Statistics = Tensor | Array


# ----- linear and convolution -----------------------------------------------------------
def linear(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """input @ weight.T + bias: input (..., in_features), weight (out_features, in_features), bias (out_features,)."""
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}), "
            f"weight expects {w.shape[1]} (weight shape {w.shape})"
        )
    checks.same_dtype("linear", x, w)
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias)
    if b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},) to match weight shape {w.shape}, got {b.shape}")
    return Linear.apply(x, w, b)


def conv1d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: Sides = 1,
    padding: Sides | str = 0,
    dilation: Sides = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution (cross-correlation) of input (N, C, L) with weight (O, C/groups, k).

    ``stride``, ``padding`` (zeros; or "valid" / "same") and ``dilation`` are ints (or 1-tuples);
    ``groups`` splits the channels into that many independent convolutions. Computed as conv2d
    on a (N, C, 1, L) view, so it shares that gate's single product and its second derivatives.
    """
    x, unbatched = checks.signal_batch(input, "conv1d")
    w = _weight(weight, 3, "conv1d", "(out_channels, in_channels/groups, k)")
    inputs = _conv_inputs(x, w, bias, groups, "conv1d")
    stride = (1,) + checks.spatial("conv1d", "stride", stride, 1)
    dilation = (1,) + checks.spatial("conv1d", "dilation", dilation, 1)
    padding = (0,) + checks.conv_padding("conv1d", padding, w.shape[2:], stride[1:], dilation[1:])
    n, c, length = x.shape
    geometry = Geometry((n, c, 1, length), (1,) + w.shape[2:], stride, padding, dilation, "conv1d", one_dim=True)
    inputs[:2] = [x.reshape(n, c, 1, length), w.reshape(w.shape[:2] + (1,) + w.shape[2:])]
    out = Conv2d.apply(*inputs, geometry=geometry, groups=int(groups))
    return checks.unbatch(out.reshape(out.shape[:2] + out.shape[3:]), unbatched)


def conv2d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: Sides = 1,
    padding: Sides | str = 0,
    dilation: Sides = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation) of input (N, C, H, W) with weight (O, C/groups, kh, kw).

    ``stride``, ``padding`` (zeros; or "valid" / "same"), ``dilation``: an int or a pair
    (height, width). ``groups`` splits the channels into that many independent convolutions.
    """
    x, unbatched = checks.image_batch(input, "conv2d")
    w = _weight(weight, 4, "conv2d", "(out_channels, in_channels/groups, kh, kw)")
    inputs = _conv_inputs(x, w, bias, groups, "conv2d")
    checks.same_dtype("conv2d", x, w)
    dilation = checks.pair("conv2d", "dilation", dilation, 1)
    stride = checks.pair("conv2d", "stride", stride, 1)
    padding = checks.conv_padding("conv2d", padding, w.shape[2:], stride, dilation)
    geometry = Geometry(x.shape, w.shape[2:], stride, padding, dilation, "conv2d")
    return checks.unbatch(Conv2d.apply(*inputs, geometry=geometry, groups=int(groups)), unbatched)


def conv_transpose1d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: Sides = 1,
    padding: Sides = 0,
    output_padding: Sides = 0,
    groups: int = 1,
    dilation: Sides = 1,
) -> Tensor:
    """1-d transposed convolution of input (N, C_in, L) with weight (C_in, C_out/groups, k): the gradient
    of conv1d with respect to its input, used as a layer (it upsamples by ``stride``). Output length
    (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1, as in PyTorch (note its
    argument order: groups before dilation)."""
    x, unbatched = checks.signal_batch(input, "conv_transpose1d")
    w = _weight(weight, 3, "conv_transpose1d", "(in_channels, out_channels/groups, k)")
    inputs = _conv_inputs(x, w, bias, groups, "conv_transpose1d", transposed=True)
    n, c, length = x.shape
    geometry = _transposed_geometry(
        (n, c, 1, length),
        w.shape[1] * groups,
        (1,) + w.shape[2:],
        stride,
        padding,
        output_padding,
        dilation,
        "conv_transpose1d",
        dims=1,
    )
    inputs[:2] = [x.reshape(n, c, 1, length), w.reshape(w.shape[:2] + (1,) + w.shape[2:])]
    out = ConvTranspose2d.apply(*inputs, geometry=geometry, groups=int(groups))
    return checks.unbatch(out.reshape(out.shape[:2] + out.shape[3:]), unbatched)


def conv_transpose2d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: Sides = 1,
    padding: Sides = 0,
    output_padding: Sides = 0,
    groups: int = 1,
    dilation: Sides = 1,
) -> Tensor:
    """2-d transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw): the
    gradient of conv2d with respect to its input, used as a layer (it upsamples by ``stride``).

    Output size per axis: (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1;
    ``output_padding`` (less than stride or dilation) adds rows and columns at the bottom and right, to
    pick one of the input sizes a strided conv2d maps to the same size. Arguments are PyTorch's, in its
    order (groups before dilation); each is an int or a (height, width) pair.
    """
    x, unbatched = checks.image_batch(input, "conv_transpose2d")
    w = _weight(weight, 4, "conv_transpose2d", "(in_channels, out_channels/groups, kh, kw)")
    inputs = _conv_inputs(x, w, bias, groups, "conv_transpose2d", transposed=True)
    geometry = _transposed_geometry(
        x.shape, w.shape[1] * groups, w.shape[2:], stride, padding, output_padding, dilation, "conv_transpose2d", dims=2
    )
    return checks.unbatch(ConvTranspose2d.apply(*inputs, geometry=geometry, groups=int(groups)), unbatched)


def _weight(weight: TensorLike, ndim: int, where: str, layout: str) -> Tensor:
    w = as_tensor(weight)
    if w.ndim != ndim:
        raise ValueError(f"{where}: weight must be {ndim}-d {layout}, got shape {w.shape}")
    return w


def _conv_inputs(
    x: Tensor, w: Tensor, bias: TensorLike | None, groups: int, where: str, transposed: bool = False
) -> list[Tensor]:
    """[x, w] or [x, w, bias] after checking that channels, groups and bias fit together. A convolution's
    weight is (out, in/groups, ...); a transposed convolution's is (in, out/groups, ...)."""
    if not checks.is_integer(groups) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    channels = x.shape[1]
    if transposed:
        expected, out_channels = w.shape[0], w.shape[1] * groups
        if channels != expected:
            raise ValueError(
                f"{where}: input has {channels} channels, weight expects {expected} (weight shape "
                f"{w.shape}: in_channels first)"
            )
        if channels % groups:
            raise ValueError(
                f"{where}: in_channels ({channels}, weight shape {w.shape}) is not divisible by groups ({groups})"
            )
    else:
        expected, out_channels = w.shape[1] * groups, w.shape[0]
        if channels != expected:
            per_group = f"{w.shape[1]} per group x {groups} groups; " if groups > 1 else ""
            raise ValueError(
                f"{where}: input has {channels} channels, weight expects {expected} ({per_group}weight shape {w.shape})"
            )
        if out_channels % groups:
            raise ValueError(
                f"{where}: out_channels ({out_channels}, weight shape {w.shape}) is not divisible by groups ({groups})"
            )
    if bias is None:
        return [x, w]
    b = as_tensor(bias)
    if b.shape != (out_channels,):
        raise ValueError(
            f"{where}: bias must have shape ({out_channels},) to match weight shape {w.shape}, got {b.shape}"
        )
    return [x, w, b]


def _transposed_geometry(
    input_shape: tuple[int, ...],
    out_channels: int,
    kernel: tuple[int, ...],
    stride: Sides,
    padding: Sides,
    output_padding: Sides,
    dilation: Sides,
    where: str,
    dims: int,
) -> Geometry:
    """The geometry of the conv2d that maps a transposed convolution's output back to its (N, C, H, W) input:
    windows over the output image, one per input pixel. With ``dims`` 1 the settings are single ints for
    the width axis of a (N, C, 1, L) input (and ``kernel`` is (1, k))."""
    stride, padding, output_padding, dilation = (
        (fill,) * (2 - dims) + checks.spatial(where, name, value, dims, minimum)
        for name, value, minimum, fill in (
            ("stride", stride, 1, 1),
            ("padding", padding, 0, 0),
            ("output_padding", output_padding, 0, 0),
            ("dilation", dilation, 1, 1),
        )
    )
    sizes = input_shape[2:]
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than stride or dilation, got output_padding "
            f"{_shown(output_padding, dims)}, stride {_shown(stride, dims)} and dilation "
            f"{_shown(dilation, dims)}"
        )
    output = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(sizes, stride, padding, dilation, kernel, output_padding)
    )
    if min(output) < 1:
        raise ValueError(
            f"{where}: the output size would be {_shown(output, dims)} for input size "
            f"{_shown(sizes, dims)} (stride {_shown(stride, dims)}, padding {_shown(padding, dims)}, "
            f"kernel size {_shown(kernel, dims)}); it must be positive: use less padding"
        )
    return Geometry(
        input_shape[:1] + (out_channels,) + output,
        kernel,
        stride,
        padding,
        dilation,
        where,
        output_hw=sizes,
        one_dim=dims == 1,
    )


def _shown(values: Sequence[int], dims: int) -> int | tuple[int, ...]:
    """The last ``dims`` of a per-axis setting as the user sees it: an int for 1-d, a pair for 2-d."""
    return values[-1] if dims == 1 else tuple(values)


# ----- normalization, dropout, embedding ---------------------------------------------------
def _affine(
    weight: TensorLike | None, bias: TensorLike | None, expected_shape: tuple[int, ...], where: str
) -> tuple[list[Tensor], tuple[str, ...]]:
    """The given weight/bias as Tensors, checked against ``expected_shape``, and their names."""
    params, names = [], []
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        value = as_tensor(value)
        if value.shape != expected_shape:
            raise ValueError(f"{where}: {name} must have shape {expected_shape}, got {value.shape}")
        params.append(value)
        names.append(name)
    return params, tuple(names)


def batch_norm(
    input: TensorLike,
    running_mean: Statistics | None,
    running_var: Statistics | None,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization of input (N, C, ...) per channel (axis 1).

    ``training=True``: normalize with this batch's mean and (biased) variance and, when
    ``running_mean``/``running_var`` are given (NumPy arrays, or Tensors whose arrays are
    used), update them in place: running = (1 - momentum) * running + momentum * batch
    value, the variance unbiased (n/(n-1)), as in PyTorch. ``training=False``: normalize
    with the running statistics.
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must have shape (N, C) or (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    running = _running_statistics(running_mean, running_var, x, "batch_norm")
    params, names = _affine(weight, bias, (channels,), "batch_norm")
    for param in params:
        checks.same_dtype("batch_norm", x, param)
    param_shape = (1, channels) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if not training:
        if running[0] is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        return _batch_norm_eval(x, running, params, names, param_shape, eps)
    if x.numel() // channels <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input shape {x.shape}")
    track = (running[0], running[1], momentum) if running[0] is not None else None
    return BatchNorm.apply(
        x, *params, axes=axes, param_shape=param_shape, param_axes=axes, eps=eps, affine=names, running=track
    )


def _running_statistics(
    running_mean: Statistics | None, running_var: Statistics | None, x: Tensor, where: str
) -> list[Array | None]:
    """[running_mean, running_var] as arrays of shape (channels,) (updated in place), or [None, None]."""
    channels = x.shape[1]
    running = []
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None:
            value = data(value)
            if not isinstance(value, xp.ndarray) or value.shape != (channels,):
                raise ValueError(
                    f"{where}: {name} must be an array of shape ({channels},) for input shape "
                    f"{x.shape}, got {getattr(value, 'shape', type(value).__name__)}"
                )
        running.append(value)
    if (running[0] is None) != (running[1] is None):
        raise ValueError(f"{where}: give both running_mean and running_var, or neither")
    return running


def _batch_norm_eval(
    x: Tensor,
    running: list[Array | None],
    params: list[Tensor],
    names: tuple[str, ...],
    param_shape: tuple[int, ...],
    eps: float,
) -> Tensor:
    """x * scale + shift with the running statistics; composed gates, so weight and bias get gradients."""
    running_mean, running_var = running
    assert running_mean is not None and running_var is not None  # the callers checked
    invstd = (1 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    named = dict(zip(names, params))
    scale = named["weight"] * invstd if "weight" in named else Tensor(invstd)
    shift = -(scale * running_mean.astype(x.dtype, copy=False))
    if "bias" in named:
        shift = shift + named["bias"]
    return x * scale.reshape(param_shape) + shift.reshape(param_shape)


def layer_norm(
    input: TensorLike,
    normalized_shape: int | Sequence[int],
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each sample over its trailing ``normalized_shape`` axes, then * weight + bias (that shape)."""
    x = as_tensor(input)
    # (int is Integral; named too so that the type checker sees the other branch is a sequence)
    normalized_shape = (
        (normalized_shape,) if isinstance(normalized_shape, (int, numbers.Integral)) else tuple(normalized_shape)
    )
    count = len(normalized_shape)
    if count == 0 or x.shape[x.ndim - count :] != normalized_shape or count > x.ndim:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with normalized_shape {normalized_shape}")
    params, names = _affine(weight, bias, normalized_shape, "layer_norm")
    for param in params:
        checks.same_dtype("layer_norm", x, param)
    leading = x.ndim - count
    return LayerNorm.apply(
        x,
        *params,
        axes=tuple(range(leading, x.ndim)),
        param_shape=normalized_shape,
        param_axes=tuple(range(leading)),
        eps=eps,
        affine=names,
        running=None,
    )


def group_norm(
    input: TensorLike,
    num_groups: int,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization of input (N, C, ...): the channels split into ``num_groups`` groups, each sample's
    group normalized over its channels and positions together, then * weight + bias per channel (C,).
    One group is layer normalization over (C, ...); C groups is instance normalization."""
    x = as_tensor(input)
    groups = checks.size("group_norm", "num_groups", num_groups)
    if x.ndim < 2:
        raise ValueError(f"group_norm: input must have shape (N, C, ...), got {x.shape}")
    n, channels = x.shape[:2]
    if channels % groups:
        raise ValueError(
            f"group_norm: the number of channels ({channels}, input shape {x.shape}) must be "
            f"divisible by num_groups ({groups})"
        )
    params, names = _affine(weight, bias, (channels,), "group_norm")
    grouped = x.reshape(n, groups, channels // groups, -1)
    out = GroupNorm.apply(
        grouped,
        *params,
        axes=(2, 3),
        param_shape=(1, groups, channels // groups, 1),
        param_axes=(0, 3),
        eps=eps,
        affine=names,
        running=None,
    )
    return out.reshape(x.shape)


def instance_norm(
    input: TensorLike,
    running_mean: Statistics | None = None,
    running_var: Statistics | None = None,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization of input (N, C, ...): each sample's channel normalized over its positions,
    then * weight + bias per channel (C,).

    ``use_input_stats=True`` normalizes with each instance's own statistics and, when running
    statistics are given, updates them in place with the batch's average instance mean and
    unbiased variance, as PyTorch does; False normalizes with the running statistics instead.
    """
    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: input must have shape (N, C, L) or (N, C, H, W), got {x.shape}")
    n, channels = x.shape[:2]
    running = _running_statistics(running_mean, running_var, x, "instance_norm")
    params, names = _affine(weight, bias, (channels,), "instance_norm")
    if not use_input_stats:
        if running[0] is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
        return _batch_norm_eval(x, running, params, names, (1, channels) + (1,) * (x.ndim - 2), eps)
    positions = x.numel() // (n * channels) if x.numel() else 0
    if positions <= 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input shape {x.shape}"
        )
    if running[0] is not None:
        _update_instance_statistics(x.data.reshape(n, channels, -1), running, momentum)
    flat = x.reshape(n, channels, -1)
    out = GroupNorm.apply(
        flat, *params, axes=(2,), param_shape=(1, channels, 1), param_axes=(0, 2), eps=eps, affine=names, running=None
    )
    return out.reshape(x.shape)


def _update_instance_statistics(values: Array, running: list[Array | None], momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * the batch's average instance mean / unbiased variance."""
    running_mean, running_var = running
    assert running_mean is not None and running_var is not None  # the caller checked
    running_mean *= 1 - momentum
    running_mean += momentum * values.mean(axis=(0, 2)).astype(running_mean.dtype, copy=False)
    running_var *= 1 - momentum
    running_var += momentum * values.var(axis=2, ddof=1).mean(axis=0).astype(running_var.dtype, copy=False)


def dropout(
    input: TensorLike,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Inverted dropout: each element is zeroed with probability ``p`` and the rest scaled by
    1/(1-p), so the expected value is unchanged; the identity when ``training=False``.

    The mask is drawn from ``generator`` (a ``numpy.random.Generator``), by default the one
    that ``chainrule.manual_seed`` seeds, so seeded runs repeat. ``inplace`` is accepted for
    PyTorch's signature; the result is always a new tensor.
    """
    p = checks.probability("dropout", "p", p)
    generator = random.generator_or_default(generator, "dropout")
    x = as_tensor(input)
    if not training or p == 0:
        return x
    keep = generator.random(x.shape, dtype=xp.float32) >= p
    mask = keep.astype(x.dtype)
    mask /= 1 - p
    return Dropout.apply(x, mask=mask)


def embedding(input: TensorLike, weight: TensorLike, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``: shape input.shape + (dim,).

    The ``padding_idx`` row gets no gradient (its output rows still read the weight).
    """
    w = as_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), got shape {w.shape}")
    indices = xp.asarray(data(input))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    count = w.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices[(indices < 0) | (indices >= count)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {count} embeddings (weight shape {w.shape})")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {count} embeddings")
        padding_idx %= count
    return Embedding.apply(w, indices=indices, padding_idx=padding_idx)


# ----- distances ------------------------------------------------------------------------------
def normalize(input: TensorLike, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``: unit vectors, and vectors shorter than ``eps`` divided by eps."""
    x = as_tensor(input)
    return x / norm(x, p, dim, keepdim=True).clip(min=eps)


def cosine_similarity(x1: TensorLike, x2: TensorLike, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (they broadcast):
    sum((x1 / ||x1||) * (x2 / ||x2||)), each norm raised to at least ``eps``.

    As in PyTorch, raising a norm to eps changes its value, not its gradient (which stays that of the
    norm), and the gradient at a zero vector is finite."""
    a, b = as_tensor(x1), as_tensor(x2)
    try:
        shape = xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 {a.shape} and x2 {b.shape} cannot broadcast together") from None
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    return (
        (a / _at_least(norm(a, 2, dim, keepdim=True), eps)) * (b / _at_least(norm(b, 2, dim, keepdim=True), eps))
    ).sum(dim)


def _at_least(value: Tensor, floor: float) -> Tensor:
    """``value`` raised to ``floor`` where below it, with value's gradient unchanged (PyTorch clamps the norms
    of cosine_similarity in place, outside the graph)."""
    return value + Tensor(xp.maximum(value.data, floor) - value.data)


def pairwise_distance(
    x1: TensorLike, x2: TensorLike, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension (x1 and x2 broadcast), as PyTorch computes it."""
    a, b = as_tensor(x1), as_tensor(x2)
    difference = a - b + eps
    return norm(difference, p, max(difference.ndim - 1, 0), keepdim=keepdim)
