"""Losses with PyTorch's names, arguments and reductions. Targets and weights are constants;
class-index cross-entropy is one fused gate (its gradient is softmax - onehot), the others are
composed from gates."""

import math
from typing import cast

from .. import checks
from ..backend import xp
from ..gates import elementwise
from ..gates.common import as_tensor, data
from ..gates.nn_ops import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassTargets, CrossEntropy, log_softmax
from ..tensor import Tensor
from ..types import Array, TensorLike


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_indices(
    target: Array, logits_shape: tuple[int, ...], ignore_index: int | None, where: str, input_name: str
) -> Array:
    """Integer targets checked against logits (N, C, d1..): shape (N, d1..), classes in [0, C) or ignore_index."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{where}: target must hold integer class indices, got dtype {target.dtype}")
    expected = logits_shape[:1] + logits_shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{where}: target has shape {target.shape}, but {input_name} of shape {logits_shape} need "
            f"class indices of shape {expected}"
            + (f" or class probabilities of shape {logits_shape}" if where == "cross_entropy" else "")
        )
    classes = logits_shape[1]
    wrong = (target < 0) | (target >= classes)
    if ignore_index is not None:
        wrong &= target != ignore_index
    if wrong.any():
        raise ValueError(
            f"{where}: target contains class {target[wrong].flat[0]}, but {input_name} have {classes} classes"
        )
    return target.astype(xp.int64, copy=False)


def _logits_and_target(
    input: TensorLike, target: TensorLike, where: str, input_name: str
) -> tuple[Tensor, Tensor | Array, bool]:
    """Logits as (N, C, ...) and the target as an array; a single sample (C,) becomes a batch of one."""
    x = as_tensor(input)
    if x.ndim == 0:
        raise ValueError(
            f"{where}: {input_name} must have a class axis: shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )
    t = target if isinstance(target, Tensor) else xp.asarray(target)
    single = x.ndim == 1
    if single:
        x = x.reshape(1, -1)
        t = t.reshape((1,) + tuple(t.shape))
    return x, t, single


def cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
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
    checks.reduction(where, reduction)
    label_smoothing = checks.probability(where, "label_smoothing", label_smoothing, top_included=True)
    x, t, single = _logits_and_target(input, target, where, "logits")
    classes = x.shape[1]
    weight = checks.constant(weight, x, where, "weight", (classes,))
    if data(t).dtype.kind == "f":
        loss = _soft_cross_entropy(x, as_tensor(t), weight, reduction, label_smoothing)
    else:
        indices = _class_indices(xp.asarray(data(t)), x.shape, ignore_index, where, "logits")
        targets = ClassTargets(indices, classes, weight, ignore_index, x.dtype)
        loss = CrossEntropy.apply(x, targets=targets, reduction=reduction, smoothing=float(label_smoothing))
    return loss.reshape(()) if single and reduction == "none" else loss


def _soft_cross_entropy(x: Tensor, target: Tensor, weight: Array | None, reduction: str, smoothing: float) -> Tensor:
    """Probability targets, composed from gates (so the target may require grad too)."""
    if target.shape == x.shape[:1] + x.shape[2:]:
        raise TypeError(
            f"cross_entropy: target of shape {target.shape} has dtype {target.dtype}; class indices "
            "must be integers (a float target is read as class probabilities of the logits' shape)"
        )
    checks.same_shape(x, target, "cross_entropy", ("logits", "probability target"))
    classes = x.shape[1]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / classes
    if weight is not None:
        target = target * weight.reshape((1, classes) + (1,) * (x.ndim - 2))
    per_sample = -(log_softmax(x, axis=1) * target).sum(axis=1)
    return _reduce(per_sample, reduction)


def nll_loss(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (N, C, d1..) (e.g. from log_softmax).

    "mean" divides by the summed class weight of the samples not ignored, as in PyTorch.
    """
    where = "nll_loss"
    checks.reduction(where, reduction)
    log_probs, t, single = _logits_and_target(input, target, where, "log-probabilities")
    weight = checks.constant(weight, log_probs, where, "weight", (log_probs.shape[1],))
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


def mse_loss(input: TensorLike, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences."""
    checks.reduction("mse_loss", reduction)
    x, t = as_tensor(input), as_tensor(target)
    checks.same_shape(x, t, "mse_loss")
    difference = x - t
    return _reduce(difference * difference, reduction)


def l1_loss(input: TensorLike, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of absolute differences (gradient 0 where they are equal, as in PyTorch)."""
    checks.reduction("l1_loss", reduction)
    x, t = as_tensor(input), as_tensor(target)
    checks.same_shape(x, t, "l1_loss")
    return _reduce((x - t).abs(), reduction)


def binary_cross_entropy(
    input: TensorLike, target: TensorLike, weight: TensorLike | None = None, *, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1-t) log(1-p)) for probabilities p in [0, 1], the logs clamped at -100 as in PyTorch.

    ``weight`` multiplies each element's loss (it broadcasts against the input).
    """
    where = "binary_cross_entropy"
    checks.reduction(where, reduction)
    p, t = as_tensor(input), as_tensor(target)
    checks.same_shape(p, t, where)
    if p.numel() and (p.data.min() < 0 or p.data.max() > 1):
        raise ValueError(
            f"{where}: input must hold probabilities in [0, 1], got values from {p.data.min()} to "
            f"{p.data.max()}; use binary_cross_entropy_with_logits for logits"
        )
    loss = BinaryCrossEntropy.apply(p, t)
    if weight is not None:  # so the constant is an array, not None
        loss = loss * cast("Array", checks.constant(weight, p, where, "weight"))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
    pos_weight: TensorLike | None = None,
) -> Tensor:
    """Sigmoid and binary cross-entropy in one stable gate, for logits of any size.

    ``pos_weight`` multiplies the loss of the positive targets (broadcast along the last
    axis, one per class); ``weight`` multiplies each element's loss.
    """
    where = "binary_cross_entropy_with_logits"
    checks.reduction(where, reduction)
    x, t = as_tensor(input), as_tensor(target)
    checks.same_shape(x, t, where)
    loss = BinaryCrossEntropyWithLogits.apply(x, t, pos_weight=checks.constant(pos_weight, x, where, "pos_weight"))
    if weight is not None:  # so the constant is an array, not None
        loss = loss * cast("Array", checks.constant(weight, x, where, "weight"))
    return _reduce(loss, reduction)


def multi_margin_loss(
    input: TensorLike,
    target: TensorLike,
    p: int = 1,
    margin: float = 1.0,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """The multiclass hinge (SVM) loss, PyTorch's definition exactly: for each sample,

        sum over j != y of max(0, margin - x[y] + x[j]) ** p, divided by the number of classes C

    (CS231n's SVM loss is the same sum without the division by C). ``p`` is 1 or 2;
    ``weight`` (C,) multiplies each sample's terms by the weight of its class y.
    """
    where = "multi_margin_loss"
    checks.reduction(where, reduction)
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
    weight = checks.constant(weight, x, where, "weight", (classes,))
    if weight is not None:
        per_sample = per_sample * weight[indices]
    if single and reduction == "none":
        return per_sample.reshape(())
    return _reduce(per_sample, reduction)
