"""The layers' operations as functions: linear, convolution, pooling, normalization, dropout,
embedding and padding. Each checks its inputs (through ``chainrule.checks``) and records one gate,
or a few."""

import numbers

from .. import checks, random
from ..backend import xp
from ..gates.common import as_tensor, data
from ..gates.conv import AvgPool2d, Conv2d, Geometry, MaxPool2d, average_scale
from ..gates.nn_ops import BatchNorm, Dropout, Embedding, LayerNorm, Linear
from ..gates.shape import flatten  # noqa: F401  (nn.functional.flatten is torch.flatten)
from ..gates.shape import pad as constant_pad
from ..tensor import Tensor


# ----- linear and convolution -----------------------------------------------------------
def linear(input, weight, bias=None):
    """input @ weight.T + bias: input (..., in_features), weight (out_features, in_features), bias (out_features,)."""
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}), "
                         f"weight expects {w.shape[1]} (weight shape {w.shape})")
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias)
    if b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias must have shape ({w.shape[0]},) to match weight shape {w.shape}, got {b.shape}")
    return Linear.apply(x, w, b)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of input (N, C, H, W) with weight (O, C/groups, kh, kw).

    ``stride``, ``padding`` (zeros; or "valid" / "same"), ``dilation``: an int or a pair
    (height, width). ``groups`` splits the channels into that many independent convolutions.
    """
    x, unbatched = checks.image_batch(input, "conv2d")
    w = as_tensor(weight)
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-d (out_channels, in_channels/groups, kh, kw), got shape {w.shape}")
    if not checks.is_integer(groups) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    out_channels, channels = w.shape[0], x.shape[1]
    if channels != w.shape[1] * groups:
        per_group = f"{w.shape[1]} per group x {groups} groups; " if groups > 1 else ""
        raise ValueError(f"conv2d: input has {channels} channels, weight expects {w.shape[1] * groups} "
                         f"({per_group}weight shape {w.shape})")
    if out_channels % groups:
        raise ValueError(f"conv2d: out_channels ({out_channels}, weight shape {w.shape}) is not divisible by "
                         f"groups ({groups})")
    dilation = checks.pair("conv2d", "dilation", dilation, 1)
    stride = checks.pair("conv2d", "stride", stride, 1)
    padding = checks.conv_padding("conv2d", padding, w.shape[2:], stride, dilation)
    geometry = Geometry(x.shape, w.shape[2:], stride, padding, dilation, "conv2d")
    inputs = [x, w]
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (out_channels,):
            raise ValueError(f"conv2d: bias must have shape ({out_channels},) to match weight shape {w.shape}, "
                             f"got {b.shape}")
        inputs.append(b)
    return checks.unbatch(Conv2d.apply(*inputs, geometry=geometry, groups=int(groups)), unbatched)


# ----- pooling -------------------------------------------------------------------------------
def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, where, max_padding):
    if ceil_mode:
        raise ValueError(f"{where}: ceil_mode=True is not supported; pad the input instead")
    kernel = checks.pair(where, "kernel_size", kernel_size, 1)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel if no_stride else checks.pair(where, "stride", stride, 1)
    padding = checks.pair(where, "padding", padding, 0)
    dilation = checks.pair(where, "dilation", dilation, 1)
    for p, limit in zip(padding, max_padding(kernel, dilation)):
        if p > limit:
            raise ValueError(f"{where}: padding should be at most half of the (effective) kernel size, got padding "
                             f"{padding} for kernel_size {kernel} and dilation {dilation}")
    return Geometry(x.shape, kernel, stride, padding, dilation, where)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Largest value in each window; ``stride`` defaults to ``kernel_size``, padding is -inf.

    The gradient goes to the first maximum of each window (row-major), as in PyTorch.
    """
    x, unbatched = checks.image_batch(input, "max_pool2d")
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported")
    geometry = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d",
                              lambda k, d: [((n - 1) * dn + 1) // 2 for n, dn in zip(k, d)])
    return checks.unbatch(MaxPool2d.apply(x, geometry=geometry), unbatched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window; ``stride`` defaults to ``kernel_size``; zero padding counts toward
    the mean unless ``count_include_pad=False`` (PyTorch's default: it counts)."""
    x, unbatched = checks.image_batch(input, "avg_pool2d")
    geometry = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d",
                              lambda k, d: [n // 2 for n in k])
    if divisor_override is not None and (not checks.is_integer(divisor_override) or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    scale = average_scale(geometry, count_include_pad, divisor_override, x.dtype)
    return checks.unbatch(AvgPool2d.apply(x, geometry=geometry, scale=scale), unbatched)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a given (OH, OW); here each input size must be a multiple of the output size."""
    x, unbatched = checks.image_batch(input, "adaptive_avg_pool2d")
    size = checks.pair("adaptive_avg_pool2d", "output_size", output_size, 1)
    h, w = x.shape[2:]
    if h % size[0] or w % size[1]:
        raise ValueError(f"adaptive_avg_pool2d: input {h}x{w} is not a multiple of output_size {size}; only "
                         "evenly dividing sizes are supported")
    if size == (1, 1):
        return checks.unbatch(x.mean(axis=(2, 3), keepdims=True), unbatched)
    return checks.unbatch(avg_pool2d(x, (h // size[0], w // size[1])), unbatched)


# ----- normalization, dropout, embedding ---------------------------------------------------
def _affine(weight, bias, expected_shape, where):
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


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
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
    running = []
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None:
            value = data(value)
            if not isinstance(value, xp.ndarray) or value.shape != (channels,):
                raise ValueError(f"batch_norm: {name} must be an array of shape ({channels},) for input shape "
                                 f"{x.shape}, got {getattr(value, 'shape', type(value).__name__)}")
        running.append(value)
    if (running[0] is None) != (running[1] is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    params, names = _affine(weight, bias, (channels,), "batch_norm")
    param_shape = (1, channels) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if not training:
        if running[0] is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        return _batch_norm_eval(x, running, params, names, param_shape, eps)
    if x.size // channels <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input shape {x.shape}")
    track = (running[0], running[1], momentum) if running[0] is not None else None
    return BatchNorm.apply(x, *params, axes=axes, param_shape=param_shape, param_axes=axes, eps=eps, affine=names,
                           running=track)


def _batch_norm_eval(x, running, params, names, param_shape, eps):
    """x * scale + shift with the running statistics; composed gates, so weight and bias get gradients."""
    running_mean, running_var = running
    invstd = (1 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    named = dict(zip(names, params))
    scale = named["weight"] * invstd if "weight" in named else Tensor(invstd)
    shift = -(scale * running_mean.astype(x.dtype, copy=False))
    if "bias" in named:
        shift = shift + named["bias"]
    return x * scale.reshape(param_shape) + shift.reshape(param_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over its trailing ``normalized_shape`` axes, then * weight + bias (that shape)."""
    x = as_tensor(input)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(
        normalized_shape)
    count = len(normalized_shape)
    if count == 0 or x.shape[x.ndim - count:] != normalized_shape or count > x.ndim:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with normalized_shape {normalized_shape}")
    params, names = _affine(weight, bias, normalized_shape, "layer_norm")
    leading = x.ndim - count
    return LayerNorm.apply(x, *params, axes=tuple(range(leading, x.ndim)), param_shape=normalized_shape,
                           param_axes=tuple(range(leading)), eps=eps, affine=names, running=None)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
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


def embedding(input, weight, padding_idx=None):
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


# ----- padding ------------------------------------------------------------------------------
def pad(input, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: ``pad`` lists (before, after) widths starting from the LAST axis,
    e.g. (1, 1, 2, 2) pads the last axis by 1 and the one before by 2. Constant mode only."""
    x = as_tensor(input)
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad must hold (before, after) pairs for at most {x.ndim} axes, got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return constant_pad(x, widths, value)
