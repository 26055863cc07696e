"""The functional interface for neural networks, with PyTorch's names and signatures.

``import chainrule.nn.functional as F`` (or ``chainrule.functional``) and write what you
would write with ``torch.nn.functional``: ``F.conv2d(x, w, b, padding=1)``,
``F.cross_entropy(logits, labels)``. Inputs are Tensors, NumPy arrays or numbers; the
results are Tensors on the graph. Arrays are NCHW, as in PyTorch.

Differences from PyTorch, all deliberate:
- ``axis=`` is accepted wherever PyTorch says ``dim=`` (both work) and softmax's default
  axis is -1;
- the losses take ``reduction=`` (and the other options after ``weight``) by keyword,
  since PyTorch's positional order still holds its deprecated size_average/reduce;
- ``dropout(input, p, training, rng)`` takes a ``numpy.random.Generator`` for reproducible
  masks where PyTorch has ``inplace`` (accepted by keyword);
- class weights, ``pos_weight`` and running statistics are constants (no gradient).

Each function checks its arguments and says which function, which shapes and what it
expected when they do not fit.
"""

import math
import numbers

from .backend import xp
from .gates import elementwise, shape
from .gates.common import as_tensor, data, normalize_axis
from .gates.conv import AvgPool2d, Conv2d, Geometry, MaxPool2d, average_scale
from .gates.nn_ops import (BatchNorm, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassTargets, CrossEntropy,
                           Dropout, Embedding, LayerNorm, Linear, LogSoftmax, Softmax)
from .tensor import Tensor

__all__ = [
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm", "dropout", "embedding",
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "elu", "softplus", "silu",
    "softmax", "log_softmax",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "multi_margin_loss",
    "flatten", "pad",
]


# ----- argument checks shared by the functions below ----------------------------------
def _pair(value, name, where, minimum):
    """An int or a pair of ints as a pair, each at least ``minimum``, or a clear error."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value) if _is_sequence(value) else None
    if (pair is None or len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                                  for v in pair) or min(pair) < minimum):
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, each at least {minimum}; got {value!r}")
    return int(pair[0]), int(pair[1])


def _is_sequence(value):
    return isinstance(value, (tuple, list))


def _image_batch(x, where):
    """(N, C, H, W) input as a Tensor, and whether it came as a single (C, H, W) image."""
    x = as_tensor(x)
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    if x.ndim != 4:
        raise ValueError(f"{where}: input must be 4-d (N, C, H, W) or 3-d (C, H, W), got shape {x.shape}")
    return x, False


def _unbatch(out, unbatched):
    return out.reshape(out.shape[1:]) if unbatched else out


def _axis(axis, dim, where):
    """PyTorch's ``dim`` as an alias of ``axis`` (give one)."""
    if dim is None:
        return axis
    if axis is not None and axis != -1 and axis != dim:
        raise ValueError(f"{where}: got axis={axis} and dim={dim}; they are the same argument, give one")
    return dim


REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, where):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(x, target, where, names=("input", "target")):
    if x.shape != target.shape:
        raise ValueError(f"{where}: {names[0]} has shape {x.shape} but {names[1]} has shape {target.shape}; "
                         "they must be the same (no broadcasting)")


def _constant(value, like, where, name, expected_shape=None):
    """An optional constant argument (class weights, pos_weight) as an array of ``like``'s dtype."""
    if value is None:
        return None
    array = xp.asarray(data(value), dtype=like.dtype)
    if expected_shape is not None and array.shape != expected_shape:
        raise ValueError(f"{where}: {name} must have shape {expected_shape}, got {array.shape}")
    return array


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
    x, unbatched = _image_batch(input, "conv2d")
    w = as_tensor(weight)
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-d (out_channels, in_channels/groups, kh, kw), got shape {w.shape}")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    out_channels, channels = w.shape[0], x.shape[1]
    if channels != w.shape[1] * groups:
        per_group = f"{w.shape[1]} per group x {groups} groups; " if groups > 1 else ""
        raise ValueError(f"conv2d: input has {channels} channels, weight expects {w.shape[1] * groups} "
                         f"({per_group}weight shape {w.shape})")
    if out_channels % groups:
        raise ValueError(f"conv2d: out_channels ({out_channels}, weight shape {w.shape}) is not divisible by "
                         f"groups ({groups})")
    dilation = _pair(dilation, "dilation", "conv2d", 1)
    stride = _pair(stride, "stride", "conv2d", 1)
    padding = _conv_padding(padding, w.shape[2:], stride, dilation)
    geometry = Geometry(x.shape, w.shape[2:], stride, padding, dilation, "conv2d")
    inputs = [x, w]
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (out_channels,):
            raise ValueError(f"conv2d: bias must have shape ({out_channels},) to match weight shape {w.shape}, "
                             f"got {b.shape}")
        inputs.append(b)
    return _unbatch(Conv2d.apply(*inputs, geometry=geometry, groups=int(groups)), unbatched)


def _conv_padding(padding, kernel, stride, dilation):
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        extents = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(e % 2 for e in extents):
            raise ValueError(f"conv2d: padding='same' with kernel {tuple(kernel)} and dilation {dilation} needs "
                             "uneven padding, which is not supported; pad explicitly with F.pad")
        return extents[0] // 2, extents[1] // 2
    return _pair(padding, "padding", "conv2d", 0)


# ----- pooling -------------------------------------------------------------------------------
def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, where, max_padding):
    if ceil_mode:
        raise ValueError(f"{where}: ceil_mode=True is not supported; pad the input instead")
    kernel = _pair(kernel_size, "kernel_size", where, 1)
    stride = kernel if stride is None or (_is_sequence(stride) and len(stride) == 0) else _pair(stride, "stride",
                                                                                                    where, 1)
    padding = _pair(padding, "padding", where, 0)
    dilation = _pair(dilation, "dilation", where, 1)
    for p, limit in zip(padding, max_padding(kernel, dilation)):
        if p > limit:
            raise ValueError(f"{where}: padding should be at most half of the (effective) kernel size, got padding "
                             f"{padding} for kernel_size {kernel} and dilation {dilation}")
    return Geometry(x.shape, kernel, stride, padding, dilation, where)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Largest value in each window; ``stride`` defaults to ``kernel_size``, padding is -inf.

    The gradient goes to the first maximum of each window (row-major), as in PyTorch.
    """
    x, unbatched = _image_batch(input, "max_pool2d")
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported")
    geometry = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d",
                              lambda k, d: [((n - 1) * dn + 1) // 2 for n, dn in zip(k, d)])
    return _unbatch(MaxPool2d.apply(x, geometry=geometry), unbatched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window; ``stride`` defaults to ``kernel_size``; zero padding counts toward
    the mean unless ``count_include_pad=False`` (PyTorch's default: it counts)."""
    x, unbatched = _image_batch(input, "avg_pool2d")
    geometry = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d",
                              lambda k, d: [n // 2 for n in k])
    if divisor_override is not None and (not isinstance(divisor_override, numbers.Integral) or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    scale = average_scale(geometry, count_include_pad, divisor_override, x.dtype)
    return _unbatch(AvgPool2d.apply(x, geometry=geometry, scale=scale), unbatched)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a given (OH, OW); here each input size must be a multiple of the output size."""
    x, unbatched = _image_batch(input, "adaptive_avg_pool2d")
    size = _pair(output_size, "output_size", "adaptive_avg_pool2d", 1)
    h, w = x.shape[2:]
    if h % size[0] or w % size[1]:
        raise ValueError(f"adaptive_avg_pool2d: input {h}x{w} is not a multiple of output_size {size}; only "
                         "evenly dividing sizes are supported")
    if size == (1, 1):
        return _unbatch(x.mean(axis=(2, 3), keepdims=True), unbatched)
    return _unbatch(avg_pool2d(x, (h // size[0], w // size[1])), unbatched)


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


_default_rng = None


def _generator(rng):
    global _default_rng
    if rng is not None:
        return rng
    if _default_rng is None:
        _default_rng = xp.random.default_rng()
    return _default_rng


def dropout(input, p=0.5, training=True, rng=None, *, inplace=False):
    """Inverted dropout: each element is zeroed with probability ``p`` and the rest scaled by
    1/(1-p), so the expected value is unchanged; the identity when ``training=False``.

    ``rng``: a ``numpy.random.Generator`` for a reproducible mask (default: a module-level
    generator). It takes the place of PyTorch's ``inplace``, which is accepted by keyword
    only (the result is always a new tensor).
    """
    if rng is not None and not isinstance(rng, xp.random.Generator):
        raise TypeError(f"dropout: rng must be a numpy.random.Generator, got {type(rng).__name__} (PyTorch's "
                        "inplace is keyword-only here: dropout(x, p, training, inplace=True))")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1), got {p!r}")
    x = as_tensor(input)
    if not training or p == 0:
        return x
    keep = _generator(rng).random(x.shape, dtype=xp.float32) >= p
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


# ----- activations ------------------------------------------------------------------------
def relu(input, inplace=False):
    return elementwise.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return elementwise.leaky_relu(input, negative_slope)


def sigmoid(input):
    return elementwise.sigmoid(input)


def tanh(input):
    return elementwise.tanh(input)


def gelu(input, approximate="none"):
    return elementwise.gelu(input, approximate)


def elu(input, alpha=1.0, inplace=False):
    return elementwise.elu(input, alpha)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    x = as_tensor(input)
    return x * elementwise.sigmoid(x)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta * x > threshold (as in PyTorch)."""
    x = as_tensor(input)
    smooth = elementwise.softplus(x) if beta == 1 else elementwise.softplus(x * beta) * (1 / beta)
    return elementwise.where(data(x) * beta > threshold, x, smooth)


def softmax(input, axis=-1, dim=None):
    """exp(x) / sum(exp(x)) along ``axis`` (alias ``dim``), computed after subtracting the maximum."""
    x = as_tensor(input)
    return Softmax.apply(x, axis=normalize_axis(_axis(axis, dim, "softmax"), x.ndim, "softmax")[0])


def log_softmax(input, axis=-1, dim=None):
    """x - logsumexp(x) along ``axis`` (alias ``dim``), stable for any magnitude."""
    x = as_tensor(input)
    return LogSoftmax.apply(x, axis=normalize_axis(_axis(axis, dim, "log_softmax"), x.ndim, "log_softmax")[0])


# ----- losses ----------------------------------------------------------------------------------
def _class_indices(target, logits_shape, ignore_index, where, input_name):
    """Integer targets checked against logits (N, C, d1..): shape (N, d1..), classes in [0, C) or ignore_index."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{where}: target must hold integer class indices, got dtype {target.dtype}")
    expected = logits_shape[:1] + logits_shape[2:]
    if target.shape != expected:
        raise ValueError(f"{where}: target has shape {target.shape}, but {input_name} of shape {logits_shape} need "
                         f"class indices of shape {expected}" +
                         (f" or class probabilities of shape {logits_shape}" if where == "cross_entropy" else ""))
    classes = logits_shape[1]
    wrong = (target < 0) | (target >= classes)
    if ignore_index is not None:
        wrong &= target != ignore_index
    if wrong.any():
        raise ValueError(f"{where}: target contains class {target[wrong].flat[0]}, but {input_name} have "
                         f"{classes} classes")
    return target.astype(xp.int64, copy=False)


def _logits_and_target(input, target, where, input_name):
    """Logits as (N, C, ...) and the target as an array; a single sample (C,) becomes a batch of one."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise ValueError(f"{where}: {input_name} must have a class axis: shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    target_is_tensor = isinstance(target, Tensor)
    t = target if target_is_tensor else xp.asarray(target)
    single = x.ndim == 1
    if single:
        x = x.reshape(1, -1)
        t = t.reshape((1,) + tuple(t.shape))
    return x, t, single


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against ``target``:

    - class indices, shape (N,) or (N, d1, ...): one fused gate whose gradient is
      softmax - onehot; ``ignore_index`` samples count for nothing;
    - class probabilities, the logits' shape (float): -sum(target * log_softmax).

    ``weight`` (C,) weights each class; "mean" divides by the summed weight of the
    counted samples (index targets) or by the number of samples (probabilities), as in
    PyTorch. ``label_smoothing`` = s mixes the target with the uniform distribution:
    (1 - s) * target + s / C.
    """
    where = "cross_entropy"
    _check_reduction(reduction, where)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{where}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    x, t, single = _logits_and_target(input, target, where, "logits")
    classes = x.shape[1]
    weight = _constant(weight, x, where, "weight", (classes,))
    if data(t).dtype.kind == "f":
        loss = _soft_cross_entropy(x, as_tensor(t), weight, reduction, label_smoothing)
    else:
        indices = _class_indices(xp.asarray(data(t)), x.shape, ignore_index, where, "logits")
        targets = ClassTargets(indices, classes, weight, ignore_index, x.dtype)
        loss = CrossEntropy.apply(x, targets=targets, reduction=reduction, smoothing=float(label_smoothing))
    return loss.reshape(()) if single and reduction == "none" else loss


def _soft_cross_entropy(x, target, weight, reduction, smoothing):
    """Probability targets, composed from gates (so the target may require grad too)."""
    if target.shape == x.shape[:1] + x.shape[2:]:
        raise TypeError(f"cross_entropy: target of shape {target.shape} has dtype {target.dtype}; class indices "
                        "must be integers (a float target is read as class probabilities of the logits' shape)")
    _same_shape(x, target, "cross_entropy", ("logits", "probability target"))
    classes = x.shape[1]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / classes
    if weight is not None:
        target = target * weight.reshape((1, classes) + (1,) * (x.ndim - 2))
    per_sample = -(log_softmax(x, axis=1) * target).sum(axis=1)
    return _reduce(per_sample, reduction)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities (N, C, d1..) (e.g. from log_softmax).

    "mean" divides by the summed class weight of the samples not ignored, as in PyTorch.
    """
    where = "nll_loss"
    _check_reduction(reduction, where)
    log_probs, t, single = _logits_and_target(input, target, where, "log-probabilities")
    weight = _constant(weight, log_probs, where, "weight", (log_probs.shape[1],))
    indices = _class_indices(xp.asarray(data(t)), log_probs.shape, ignore_index, where, "log-probabilities")
    targets = ClassTargets(indices, log_probs.shape[1], weight, ignore_index, log_probs.dtype)
    per_sample = -(log_probs * targets.table(log_probs.shape)).sum(axis=1)
    if reduction == "none":
        return per_sample.reshape(()) if single else per_sample
    total = per_sample.sum()
    if reduction == "sum":
        return total
    if not targets.total_weight:
        return total * 0 + math.nan  # nothing counted: nan, as in PyTorch
    return total * (1 / float(targets.total_weight))


def mse_loss(input, target, *, reduction="mean"):
    """Mean (or sum) of squared differences."""
    _check_reduction(reduction, "mse_loss")
    x, t = as_tensor(input), as_tensor(target)
    _same_shape(x, t, "mse_loss")
    difference = x - t
    return _reduce(difference * difference, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Mean (or sum) of absolute differences (gradient 0 where they are equal, as in PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    x, t = as_tensor(input), as_tensor(target)
    _same_shape(x, t, "l1_loss")
    return _reduce((x - t).abs(), reduction)


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """-(t log p + (1-t) log(1-p)) for probabilities p in [0, 1], the logs clamped at -100 as in PyTorch.

    ``weight`` multiplies each element's loss (it broadcasts against the input).
    """
    where = "binary_cross_entropy"
    _check_reduction(reduction, where)
    p, t = as_tensor(input), as_tensor(target)
    _same_shape(p, t, where)
    if p.size and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(f"{where}: input must hold probabilities in [0, 1], got values from {p.data.min()} to "
                         f"{p.data.max()}; use binary_cross_entropy_with_logits for logits")
    loss = BinaryCrossEntropy.apply(p, t)
    if weight is not None:
        loss = loss * _constant(weight, p, where, "weight")
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable gate, for logits of any size.

    ``pos_weight`` multiplies the loss of the positive targets (broadcast along the last
    axis, one per class); ``weight`` multiplies each element's loss.
    """
    where = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, where)
    x, t = as_tensor(input), as_tensor(target)
    _same_shape(x, t, where)
    loss = BinaryCrossEntropyWithLogits.apply(x, t, pos_weight=_constant(pos_weight, x, where, "pos_weight"))
    if weight is not None:
        loss = loss * _constant(weight, x, where, "weight")
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, *, reduction="mean"):
    """The multiclass hinge (SVM) loss, PyTorch's definition exactly: for each sample,

        sum over j != y of max(0, margin - x[y] + x[j]) ** p, divided by the number of classes C

    (CS231n's SVM loss is the same sum without the division by C). ``p`` is 1 or 2;
    ``weight`` (C,) multiplies each sample's terms by the weight of its class y.
    """
    where = "multi_margin_loss"
    _check_reduction(reduction, where)
    if p not in (1, 2):
        raise ValueError(f"{where}: p must be 1 or 2, got {p!r}")
    x, t, single = _logits_and_target(input, target, where, "input")
    if x.ndim != 2:
        raise ValueError(f"{where}: input must have shape (C,) or (N, C), got {x.shape}")
    classes = x.shape[1]
    indices = _class_indices(xp.asarray(data(t)), x.shape, None, where, "scores")
    onehot = xp.zeros(x.shape, dtype=x.dtype)
    xp.put_along_axis(onehot, indices[:, None], 1, axis=1)
    correct = (x * onehot).sum(axis=1, keepdims=True)
    hinge = elementwise.relu(x - correct + margin) * (1 - onehot)  # the j = y term is left out
    if p == 2:
        hinge = hinge * hinge
    per_sample = hinge.sum(axis=1) * (1 / classes)
    weight = _constant(weight, x, where, "weight", (classes,))
    if weight is not None:
        per_sample = per_sample * weight[indices]
    if single and reduction == "none":
        return per_sample.reshape(())
    return _reduce(per_sample, reduction)


# ----- shapes -------------------------------------------------------------------------------
def flatten(input, start_dim=0, end_dim=-1):
    """Merge the axes start_dim..end_dim into one (torch.flatten; nn.Flatten uses start_dim=1)."""
    return shape.flatten(input, start_dim, end_dim)


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
    return shape.pad(x, widths, value)


# Tensor methods for the two that users reach for on tensors directly (x.softmax(axis=-1)).
Tensor.softmax = softmax
Tensor.log_softmax = log_softmax
