"""Fused gates for neural networks: each does in one gate what would otherwise be a
chain of small ones, with a backward written from the closed-form derivative.

Fusing saves the temporaries and the graph bookkeeping of the chain, and gives the
numerically stable form (log-softmax via the max shift, cross-entropy's gradient as
softmax - onehot). Each is checked in the tests against the composed version.

The backwards run on arrays ordinarily. Under ``create_graph=True`` they get Tensors:
some are written with operations both types share and need nothing more; the others
branch on ``isinstance(grad, Tensor)`` and build the gradient from differentiable
gates there, so that the array path keeps its in-place arithmetic.
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from . import common
from .shape import scatter_add


class Linear(Gate):
    """x @ w^T + b for x (..., in), w (out, in), b (out,), in one gate."""

    derivative = "d/dx (x@w^T+b) = g@w; d/dw (x@w^T+b) = g^T@x; d/db (x@w^T+b) = g summed over the batch"
    fresh_gradients = True
    input_names = ("x", "w", "b")

    def forward(self, x: Array, w: Array, b: Array | None = None) -> Any:
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(self, grad: Any, out: Any, x: Any, w: Any, b: Any = None) -> Any:
        # Operators and methods shared by arrays and Tensors: this runs under create_graph as it is.
        dx = grad @ w if self.wants(0) else None
        dw = db = None
        flat_grad = grad.reshape(-1, w.shape[0])  # the batch dimensions, whatever they are, as rows
        if self.wants(1):
            flat_x = x.reshape(-1, w.shape[1])
            dw = (flat_x.T @ flat_grad).T if stored_transposed(w) else flat_grad.T @ flat_x
        if b is not None and self.wants(2):
            db = flat_grad.sum(axis=0) if isinstance(grad, Tensor) else column_sums(flat_grad)
        return (dx, dw) if b is None else (dx, dw, db)


def stored_transposed(w: Any) -> bool:
    """Whether the weight array w (out, in) is an (in, out) array seen transposed, as nn.Linear stores it.
    Its gradient is then computed as (x^T @ g)^T, in the same memory order, which OpenBLAS does faster than
    g^T @ x (0.32 against 0.41 ms for (128, 784) and (128, 512)) and which keeps the optimizer's update over
    weight and gradient in one order."""
    return isinstance(w, xp.ndarray) and w.flags.f_contiguous and not w.flags.c_contiguous


def column_sums(matrix: Array) -> Array:
    """matrix.sum(axis=0) as a product with a row of ones: BLAS sums a (1024, 512) float32 batch 2-3x faster
    than NumPy's reduction along axis 0."""
    sums: Array = xp.ones(matrix.shape[0], dtype=matrix.dtype) @ matrix
    return sums


def _max_keepdims(x: Array, axis: int) -> Array:
    """x.max(axis=axis, keepdims=True), faster for many rows of few classes (logits (N, 10)).

    NumPy reduces a short contiguous axis slowly (51 us for (1024, 10) float32); reducing
    the transposed copy across rows takes 8 us, copy included. Measured worse for more
    than ~32 classes, few rows, or more dimensions (transposing those copies slowly).
    """
    top: Array
    if x.ndim == 2 and axis in (-1, 1) and x.shape[1] <= 32 and x.shape[0] >= 64:
        top = xp.ascontiguousarray(x.T).max(axis=0)[:, None]
    else:
        top = x.max(axis=axis, keepdims=True)
    return top


def _shifted(x: Array, axis: int) -> Array:
    """x minus its maximum along ``axis`` (a new array), so exp never overflows; rows of -inf stay -inf."""
    top = _max_keepdims(x, axis)
    top = xp.where(xp.isfinite(top), top, 0)
    shifted: Array = x - top
    return shifted


class LogSoftmax(Gate):
    derivative = "d/dx_j log_softmax(x)_i = [i=j] - softmax(x)_j"
    fresh_gradients = True
    axis: int

    def forward(self, x: Array) -> Any:
        shifted = _shifted(x, self.axis)
        total = xp.exp(shifted).sum(axis=self.axis, keepdims=True)
        shifted -= xp.log(total)
        return shifted

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return grad - common.exp(out) * grad.sum(axis=self.axis, keepdims=True)
        dx = xp.exp(out)
        dx *= grad.sum(axis=self.axis, keepdims=True)
        return xp.subtract(grad, dx, out=dx)


class Softmax(Gate):
    derivative = "d/dx_j softmax(x)_i = softmax(x)_i * ([i=j] - softmax(x)_j)"
    fresh_gradients = True
    axis: int

    def forward(self, x: Array) -> Any:
        e = _shifted(x, self.axis)
        xp.exp(e, out=e)
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))
        dx = grad - sum_of_products(grad, out, (self.axis % out.ndim,), keepdims=True)
        dx *= out
        return dx


# PyTorch's dim, NumPy's axis as an alias; a 0-d input is one class (softmax 1, log_softmax 0, as in PyTorch).
def _along(gate: type[Gate], input: TensorLike, dim: int, axis: int | None, where: str) -> Tensor:
    x = common.floating(input)
    dim = common.one_of(dim, axis, "dim", "axis", where, -1)
    if x.ndim == 0:
        return gate.apply(x.reshape(1), axis=0).reshape(())
    return gate.apply(x, axis=common.normalize_axis(dim, x.ndim, where)[0])


@common.operation("softmax", functional=True)
def softmax(input: TensorLike, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed after subtracting the maximum."""
    return _along(Softmax, input, dim, axis, "softmax")


@common.operation("log_softmax", functional=True)
def log_softmax(input: TensorLike, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable for any magnitude."""
    return _along(LogSoftmax, input, dim, axis, "log_softmax")


def sum_of_products(a: Array, b: Array, axes: tuple[int, ...], keepdims: bool = False) -> Array:
    """sum(a * b) over ``axes`` (non-negative ints) without building a * b (einsum reduces as it multiplies)."""
    letters = string.ascii_letters[: a.ndim]
    kept = "".join(letter for i, letter in enumerate(letters) if i not in axes)
    total: Array = xp.einsum(f"{letters},{letters}->{kept}", a, b)
    if keepdims:
        total = total.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))
    return total


# ----- cross-entropy over class indices ----------------------------------------------
class ClassTargets:
    """Class-index targets (N, d1..) for logits (N, C, d1..), with their per-sample weights.

    ``sample_weight`` is the class weight of each sample's target (1 without weights)
    and 0 where the target is ``ignore_index``; ``total_weight`` (their sum) is what a
    "mean" reduction divides by, as in PyTorch. ``at_target`` indexes each sample's
    target entry of a logits-shaped array.
    """

    def __init__(
        self,
        target: Array,
        num_classes: int,
        weight: Array | None,
        ignore_index: int,
        dtype: np.dtype[Any],
    ) -> None:
        self.num_classes = num_classes
        self.valid = target != ignore_index
        self.counted = self.valid.astype(dtype)  # the mask as numbers of the logits' dtype, for arithmetic
        self.index = target if self.valid.all() else xp.where(self.valid, target, 0)
        self.weight = weight  # (C,) array or None
        if weight is not None:
            self.sample_weight = weight[self.index] * self.valid
        else:
            self.sample_weight = self.valid.astype(dtype)
        self.total_weight = self.sample_weight.sum()
        self.dtype = dtype
        # (arange(N), index, arange(d1), ...), each shaped to broadcast against index.
        positions = [
            xp.arange(n).reshape((-1,) + (1,) * (target.ndim - 1 - axis)) for axis, n in enumerate(target.shape)
        ]
        self.at_target = (positions[0], self.index) + tuple(positions[1:])

    def weight_along_classes(self, ndim: int) -> Array | int:
        """The class weights shaped (1, C, 1..) for logits with ``ndim`` dimensions, or 1."""
        if self.weight is None:
            return 1
        return self.weight.reshape((1, -1) + (1,) * (ndim - 2))

    def table(self, shape: tuple[int, ...], smoothing: float = 0.0) -> Array:
        """Dense weights T (logits' shape) with per-sample loss = -sum_c T[:, c] * log_probs[:, c]."""
        table = xp.zeros(shape, dtype=self.dtype)
        table[self.at_target] = self.sample_weight * (1 - smoothing)
        if smoothing:
            table += (self.counted * (smoothing / self.num_classes))[:, None] * self.weight_along_classes(len(shape))
        return table


class CrossEntropy(Gate):
    """Softmax and negative log-likelihood of class indices in one gate, over axis 1.

    With l_i = -(1-s) w_{t_i} log p_{i,t_i} - (s/C) sum_c w_c log p_{i,c} (s the label
    smoothing, w the class weights), dl_i/dx_i = a_i softmax(x_i) - (1-s) w_{t_i} onehot(t_i)
    - (s/C) w, with a_i = (1-s) w_{t_i} + (s/C) sum(w): softmax minus one-hot in the plain case.
    """

    derivative = "d/dx cross_entropy(x, t) = (softmax(x) - onehot(t)) / N (for a mean without weights or smoothing)"
    fresh_gradients = True
    targets: ClassTargets
    reduction: str  # "none", "mean" or "sum"
    smoothing: float
    exp: Array  # e^(x - max), set by forward
    total: Array  # its sums over the classes, set by forward

    def forward(self, x: Array) -> Any:
        targets, smoothing, c = self.targets, self.smoothing, x.shape[1]
        shifted = _shifted(x, 1)
        picked = shifted[targets.at_target]
        if smoothing:
            if targets.weight is None:
                weighted_sum = shifted.sum(axis=1)
                class_total = c
            else:
                weighted_sum = xp.einsum("ij...,j->i...", shifted, targets.weight)
                class_total = targets.weight.sum()
        exp = xp.exp(shifted, out=shifted)
        # Row sums of (N, C) as a product with a column of ones: 3.5 vs 16 us for (1024, 10).
        total = exp @ xp.ones(c, dtype=exp.dtype) if exp.ndim == 2 else exp.sum(axis=1)
        # softmax = exp / total; backward folds the division into its one pass over the array.
        self.exp, self.total = exp, total
        log_total = xp.log(total)
        loss = (log_total - picked) * targets.sample_weight  # -w_t log p_t, 0 where ignored
        if smoothing:
            # -sum_c w_c log p_c = sum(w) * log(total) - sum_c w_c * shifted_c
            smooth = (class_total * log_total - weighted_sum) * targets.counted
            loss = loss * (1 - smoothing) + smooth * (smoothing / c)
        if self.reduction == "none":
            return loss.astype(x.dtype, copy=False)
        total_loss = loss.sum()
        if self.reduction == "mean":
            total_loss = total_loss / targets.total_weight if targets.total_weight else xp.nan
        return xp.asarray(total_loss, dtype=x.dtype)

    def _upstream_per_sample(self, grad: Any) -> Any:
        """dL/dl_i for each sample: the upstream gradient, divided by the total weight for a mean."""
        if self.reduction == "mean":
            total = self.targets.total_weight
            return grad * (1 / total) if total else grad * 0  # nothing counted: no gradient, as in PyTorch
        return grad

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        targets, smoothing, c = self.targets, self.smoothing, x.shape[1]
        upstream = self._upstream_per_sample(grad)
        scale = targets.sample_weight * (1 - smoothing)
        if smoothing:
            weights_total = c if targets.weight is None else targets.weight.sum()
            scale = scale + targets.counted * (smoothing / c * weights_total)  # a_i above
        if isinstance(grad, Tensor):
            # Differentiable in x through a softmax gate, and in the upstream gradient.
            softmax = Softmax.apply(x, axis=1)
            if self.reduction == "none":
                upstream = upstream.reshape(upstream.shape[:1] + (1,) + upstream.shape[1:])
            return (softmax * scale[:, None] - targets.table(x.shape, smoothing)) * upstream
        upstream = xp.broadcast_to(upstream, targets.valid.shape)
        dx = self.exp * (upstream * scale / self.total)[:, None]
        dx[targets.at_target] -= upstream * targets.sample_weight * (1 - smoothing)
        if smoothing:
            dx -= (upstream * targets.counted * (smoothing / c))[:, None] * targets.weight_along_classes(x.ndim)
        return dx


# ----- normalization ---------------------------------------------------------------------
class Normalization(Gate):
    """(x - mean) / sqrt(var + eps) over ``axes``, then * weight + bias, in one gate.

    Inputs are x and then whichever of weight and bias are given (``self.affine`` names
    them). ``param_shape`` is the shape weight and bias broadcast as; ``param_axes`` the
    axes their gradients sum over. ``running`` = (mean, var, momentum) updates those
    arrays in place from this batch (var unbiased, as in PyTorch), or is None.

    dx = (g' - mean(g') - xhat * mean(g' * xhat)) / sqrt(var + eps) with g' = g * weight.
    """

    fresh_gradients = True

    statements = {
        "x": "d/dx norm(x) = (g - mean(g) - xhat*mean(g*xhat)) / std (g scaled by the weight)",
        "weight": "d/dw norm(x)*w+b = g*xhat summed",
        "bias": "d/db norm(x)*w+b = g summed",
    }
    #: True when weight and bias are constant along the normalized axes (batch norm: one per channel).
    per_channel = False
    axes: tuple[int, ...]
    param_shape: tuple[int, ...]
    param_axes: tuple[int, ...]
    eps: float
    affine: tuple[str, ...]  # "weight", "bias", both or neither
    running: tuple[Array, Array, float] | None
    xhat: Array  # set by forward
    invstd: Array  # set by forward
    count: int  # set by forward

    @property
    def input_names(self) -> tuple[str, ...]:  # type: ignore[override]  # computed from affine, not assignable
        return ("x",) + tuple(name[0] for name in self.affine)  # x, w, b as given

    @property
    def derivative(self) -> str:  # type: ignore[override]  # computed from affine, not assignable
        return "; ".join(self.statements[name] for name in ("x",) + self.affine)

    def _params(self, params: tuple[Any, ...]) -> tuple[Any, Any]:
        named = dict(zip(self.affine, params))
        return named.get("weight"), named.get("bias")

    def forward(self, x: Array, *params: Array) -> Any:
        weight, bias = self._params(params)
        count = math.prod(x.shape[a] for a in self.axes)
        mean = x.mean(axis=self.axes, keepdims=True)
        xhat = x - mean
        var = sum_of_products(xhat, xhat, self.axes, keepdims=True) * (1 / count)
        invstd = 1 / xp.sqrt(var + self.eps)
        if self.running is not None:
            self._update_running(mean.reshape(-1), var.reshape(-1), count)
        xhat *= invstd
        self.xhat, self.invstd, self.count = xhat, invstd.astype(x.dtype, copy=False), count
        if weight is None and bias is None:
            return xhat
        out = xhat * weight.reshape(self.param_shape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(self.param_shape)
        return out

    def _update_running(self, mean: Array, var: Array, count: int) -> None:
        assert self.running is not None  # forward calls this only then
        running_mean, running_var, momentum = self.running
        running_mean *= 1 - momentum
        running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
        running_var *= 1 - momentum
        running_var += (momentum * count / max(count - 1, 1)) * var.astype(running_var.dtype, copy=False)

    def backward(self, grad: Any, out: Any, x: Any, *params: Any) -> Any:
        weight, bias = self._params(params)
        if isinstance(grad, Tensor):
            return self._graph_backward(grad, x, weight, bias)
        axes, xhat = self.axes, self.xhat
        weight_b = weight.reshape(self.param_shape) if weight is not None else None
        g = grad if weight is None or self.per_channel else grad * weight_b  # dL/dxhat, up to a channel factor
        summed = g.sum(axis=axes, keepdims=True)
        summed_x = sum_of_products(g, xhat, axes, keepdims=True)
        grads: list[Array | None] = []
        if self.wants(0):
            factor = self.invstd * weight_b if weight is not None and self.per_channel else self.invstd
            dx = xhat * (summed_x * (1 / self.count))
            xp.subtract(g, dx, out=dx)
            dx -= summed * (1 / self.count)
            dx *= factor
            grads.append(dx)
        else:
            grads.append(None)
        for name in self.affine:
            if not self.wants(len(grads)):
                grads.append(None)
            elif self.per_channel:
                grads.append((summed_x if name == "weight" else summed).reshape(-1))
            elif name == "weight":
                grads.append(sum_of_products(grad, xhat, self.param_axes).reshape(weight.shape))
            else:
                grads.append(grad.sum(axis=self.param_axes).reshape(bias.shape))
        return tuple(grads)

    def _graph_backward(
        self, grad: Tensor, x: Tensor, weight: Tensor | None, bias: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        """The same formula from differentiable gates (recomputing the statistics from x)."""
        axes = self.axes
        centered = x - x.mean(axis=axes, keepdims=True)
        invstd = ((centered * centered).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
        xhat = centered * invstd
        g = grad * weight.reshape(self.param_shape) if weight is not None else grad
        dx = (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * invstd
        grads: list[Tensor | None] = [dx if self.wants(0) else None]
        for position, name in enumerate(self.affine, start=1):
            if not self.wants(position):
                grads.append(None)
                continue
            param = weight if name == "weight" else bias
            assert param is not None  # affine names the parameters given
            spread = grad * xhat if name == "weight" else grad
            grads.append(spread.sum(axis=self.param_axes).reshape(param.shape))
        return tuple(grads)


class BatchNorm(Normalization):
    """Batch normalization in training mode: statistics over every axis but the channels (1)."""

    per_channel = True


class LayerNorm(Normalization):
    """Layer normalization: statistics over the trailing ``normalized_shape`` axes of each sample."""


class GroupNorm(Normalization):
    """Group (and instance) normalization: statistics over each sample's group of channels and all its
    positions, on a (N, groups, channels per group, positions) view; weight and bias per channel."""


# ----- binary cross-entropy, dropout, embedding ------------------------------------------
class BinaryCrossEntropy(Gate):
    """-(t log p + (1-t) log(1-p)) elementwise, with the logs clamped at -100 as in PyTorch,
    so p = 0 or 1 gives a finite loss and gradient."""

    derivative = "d/dp bce(p,t) = (p-t) / (p*(1-p)); d/dt bce(p,t) = log(1-p) - log(p)"
    fresh_gradients = True
    input_names = ("p", "t")

    def forward(self, p: Array, t: Array) -> Any:
        with xp.errstate(divide="ignore"):  # log(0) = -inf, clamped next
            log_p = xp.maximum(xp.log(p), -100)
            log_not_p = xp.maximum(xp.log1p(-p), -100)
        return -(t * log_p + (1 - t) * log_not_p)

    def backward(self, grad: Any, out: Any, p: Any, t: Any) -> Any:
        # Operators and methods both arrays and Tensors have: this also runs under create_graph.
        dp = grad * (p - t) / (p * (1 - p)).clip(min=1e-12) if self.wants(0) else None
        dt = None
        if self.wants(1):
            with xp.errstate(divide="ignore"):
                dt = grad * (common.log(1 - p).clip(min=-100) - common.log(p).clip(min=-100))
        return dp, dt


class BinaryCrossEntropyWithLogits(Gate):
    """Sigmoid and binary cross-entropy in one stable gate: (1-t) x + m * softplus(-x) with
    m = 1 + (pos_weight - 1) t; softplus never overflows, so neither does the loss."""

    derivative = (
        "d/dx bce_logits(x,t) = sigmoid(x) - t (without pos_weight); "
        "d/dt bce_logits(x,t) = -x + (pos_weight-1)*softplus(-x)"
    )
    fresh_gradients = True
    input_names = ("x", "t")
    pos_weight: Array | None

    def _multiplier(self, t: Any) -> Any:
        return 1 if self.pos_weight is None else 1 + (self.pos_weight - 1) * t

    def forward(self, x: Array, t: Array) -> Any:
        return (1 - t) * x + self._multiplier(t) * common.softplus(-x)

    def backward(self, grad: Any, out: Any, x: Any, t: Any) -> Any:
        # Shared operators and the dispatching sigmoid/softplus: runs under create_graph as it is.
        dx = dt = None
        if self.wants(0):
            if self.pos_weight is None:
                dx = grad * (common.sigmoid(x) - t)
            else:
                dx = grad * ((1 - t) - self._multiplier(t) * common.sigmoid(-x))
        if self.wants(1):
            dt = -grad * x if self.pos_weight is None else grad * ((self.pos_weight - 1) * common.softplus(-x) - x)
        return dx, dt


class Dropout(Gate):
    """x * mask, the mask holding 0 (dropped) or 1/(1-p) (kept) for each element."""

    derivative = "d/dx dropout(x) = mask (0 or 1/(1-p))"
    fresh_gradients = True
    mask: Array

    def forward(self, x: Array) -> Any:
        return x * self.mask

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad * self.mask


class Embedding(Gate):
    """Rows of the weight table picked by integer indices; a row used several times gets the
    sum of their gradients, and the ``padding_idx`` row none."""

    derivative = "d/dx x[i] = 1 at row i (rows picked several times add up)"
    fresh_gradients = True
    indices: Array
    padding_idx: int | None

    def forward(self, weight: Array) -> Any:
        return weight[self.indices]

    def backward(self, grad: Any, out: Any, weight: Any) -> Any:
        if self.padding_idx is not None:
            grad = grad * xp.expand_dims(self.indices != self.padding_idx, -1).astype(grad.dtype)
        return scatter_add(grad, weight.shape, self.indices)


__all__ = [
    "Linear",
    "LogSoftmax",
    "Softmax",
    "ClassTargets",
    "CrossEntropy",
    "Normalization",
    "BatchNorm",
    "LayerNorm",
    "GroupNorm",
    "BinaryCrossEntropy",
    "BinaryCrossEntropyWithLogits",
    "Dropout",
    "Embedding",
    "sum_of_products",
    "softmax",
    "log_softmax",
]
