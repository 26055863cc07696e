"""Scaled dot-product attention as one gate: softmax(Q K^T * scale + mask) V.

Composed from basic gates, attention would record a product, a scale, a mask, a softmax, a
dropout and a second product, and keep the (batch, heads, L, S) attention matrix two or three
times over (the scores, the softmax, the dropped-out copy). Fused, the forward keeps the
softmax P once (and the dropout's keep-mask as booleans) and the backward is the chain rule
written out (with S the scores, P = softmax(S), P' = P * keep / (1 - p) and O = P' V):

    dV = P'^T dO
    dP = (dO V^T) * keep / (1 - p)
    dS = P * (dP - rowsum(dP * P))       (the softmax's backward)
    dQ = dS K * scale,  dK = dS^T Q * scale,  dmask = dS

Rows in which every key is masked give zeros (never NaN) and pass no gradient back.

Under ``create_graph=True`` the backward recomputes P from Q and K with differentiable gates
and applies the same formulas to Tensors, so second derivatives come out of the same code.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from . import common
from .nn_ops import sum_of_products


@functools.lru_cache(maxsize=32)
def causal_bias(target_length: int, source_length: int, dtype: npt.DTypeLike) -> Array:
    """The (L, S) additive mask of causal attention: 0 where key j <= query i, -inf above the diagonal
    (PyTorch's top-left alignment). Cached and read-only: every layer of a model shares one."""
    bias = xp.zeros((target_length, source_length), dtype=dtype)
    bias[xp.triu_indices(target_length, 1, source_length)] = -xp.inf
    bias.flags.writeable = False
    return bias


def swap(a: Any) -> Any:
    """The last two axes swapped (a view), for arrays and Tensors alike."""
    return a.mT if isinstance(a, Tensor) else xp.swapaxes(a, -1, -2)


class ScaledDotProductAttention(Gate):
    """softmax(q @ k^T * scale + bias [+ mask]) @ v for q (..., L, E), k (..., S, E), v (..., S, Ev).

    Constants: ``scale``; ``bias``, an additive array of 0 and -inf (boolean and causal masks, and
    float masks that need no gradient) or None; ``keep``, the dropout's boolean keep-mask or None,
    with ``dropout_p``; ``with_weights``: return the attention weights P' as a second output.
    A fourth input, when given, is a float mask that needs a gradient (added to the scores).
    """

    derivative = (
        "d/dq attention = (P*(dP - rowsum(dP*P))) @ k * scale with dP = g @ v^T; "
        "d/dk attention = (P*(dP - rowsum(dP*P)))^T @ q * scale; d/dv attention = P^T @ g; "
        "d/dmask attention = P*(dP - rowsum(dP*P))"
    )
    input_names: tuple[str, ...] = ("q", "k", "v", "mask")
    scale: float
    bias: Array | None
    keep: Array | None
    dropout_p: float
    with_weights: bool
    #: The softmax P, kept by forward for backward.
    attention: Array

    def forward(self, q: Array, k: Array, v: Array, mask: Array | None = None) -> Array | tuple[Array, Array]:
        scores = q @ swap(k)
        scores *= self.scale
        if self.bias is not None:
            scores += self.bias
        if mask is not None:
            scores += mask
        attention = self.attention = _softmax_in_place(scores)
        weights = self._dropped(attention)
        out = weights @ v
        return (out, weights) if self.with_weights else out

    def _dropped(self, attention: Any) -> Any:
        """P' = P * keep / (1 - p), or P itself without dropout."""
        if self.keep is None:
            return attention
        weights = attention * self.keep
        weights *= 1 / (1 - self.dropout_p)
        return weights

    def backward(self, grad: Any, out: Any, q: Any, k: Any, v: Any, mask: Any = None) -> tuple[Any, ...]:
        grad_weights: Any = None
        if self.with_weights:
            (grad, grad_weights), out = grad, out[0]
        graph = isinstance(q, Tensor)
        attention: Any  # a Tensor under create_graph, else the array forward kept
        if graph:
            attention = self._recompute(q, k, mask)
        else:
            attention = self.attention
        weights = self._dropped(attention)
        if grad is None:  # only the weights output was used
            d_weights = grad_weights
            dv = None
        else:
            d_weights = grad @ swap(v)
            if grad_weights is not None:
                d_weights = d_weights + grad_weights
            dv = common.sum_to(swap(weights) @ grad, v.shape) if self.wants(2) else None
        d_attention = d_weights if self.keep is None else d_weights * (self.keep * (1 / (1 - self.dropout_p)))
        d_scores = _softmax_backward(d_attention, attention, graph)
        dq = common.sum_to((d_scores @ k) * self.scale, q.shape) if self.wants(0) else None
        dk = common.sum_to((swap(d_scores) @ q) * self.scale, k.shape) if self.wants(1) else None
        if mask is None:
            return dq, dk, dv
        return dq, dk, dv, common.sum_to(d_scores, mask.shape) if self.wants(3) else None

    def _recompute(self, q: Tensor, k: Tensor, mask: Tensor | None) -> Tensor:
        """P from q and k with differentiable gates (for create_graph): rows with every key masked are
        softmaxed as zeros and then multiplied by 0, so they stay 0 and pass no gradient."""
        scores: Tensor = (q @ swap(k)) * self.scale
        if self.bias is not None:
            scores = scores + self.bias
        if mask is not None:
            scores = scores + mask
        dead: Array = xp.isneginf(scores.data.max(axis=-1, keepdims=True))
        if not dead.any():
            return scores.softmax(-1)
        live: Tensor = common.where(dead, 0.0, scores)
        return live.softmax(-1) * (~dead).astype(scores.dtype)


class SplitHeads(Gate):
    """x (N, L, chunks * E) -> ``chunks`` tensors (N, heads, L, E / heads): the query, key and value of
    every head from one input projection, as views of x (no copy). The backward writes each gradient
    back into its columns of one (N, L, chunks * E) array (zeros for a chunk no gradient reached)."""

    derivative = "d/dx split_heads(x) = 1 (each head's gradient goes back to its columns)"
    fresh_gradients = True
    chunks: int
    heads: int

    def forward(self, x: Array) -> Array | tuple[Array, ...]:
        n, length, width = x.shape
        parts = x.reshape(n, length, self.chunks, self.heads, width // (self.chunks * self.heads))
        views = tuple(parts[:, :, c].transpose(0, 2, 1, 3) for c in range(self.chunks))
        return views if self.chunks > 1 else views[0]

    def backward(self, grads: Any, outs: Any, x: Any) -> Any:
        grads = grads if self.chunks > 1 else (grads,)
        n, length, width = x.shape
        shape = (n, self.heads, length, width // (self.chunks * self.heads))
        if isinstance(x, Tensor):
            from .shape import stack

            pieces = [Tensor(xp.zeros(shape, x.dtype)) if g is None else g for g in grads]
            return stack([p.permute(0, 2, 1, 3) for p in pieces], 2).reshape(x.shape)
        dx = (xp.empty if all(g is not None for g in grads) else xp.zeros)(
            (n, length, self.chunks) + shape[1:2] + shape[3:], dtype=x.dtype
        )
        for c, g in enumerate(grads):
            if g is not None:
                dx[:, :, c] = g.transpose(0, 2, 1, 3)
        return dx.reshape(x.shape)


def _softmax_in_place(scores: Array) -> Array:
    """softmax over the last axis, written into ``scores``; rows that are all -inf become zeros."""
    top = scores.max(axis=-1, keepdims=True)
    dead = xp.isneginf(top)
    any_dead = dead.any()
    if any_dead:
        top[dead] = 0
    scores -= top
    xp.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    if any_dead:
        total[dead] = 1  # exp(-inf) = 0 everywhere in the row: 0 / 1
    scores *= 1 / total
    return scores


def _softmax_backward(d_attention: Any, attention: Any, graph: bool) -> Any:
    """dS = P * (dP - rowsum(dP * P)): new memory on arrays (``d_attention`` may be the caller's)."""
    if graph:
        return attention * (d_attention - (d_attention * attention).sum(axis=-1, keepdims=True))
    rows = sum_of_products(d_attention, attention, (attention.ndim - 1,), keepdims=True)
    d_scores = d_attention - rows
    d_scores *= attention
    return d_scores


__all__ = ["ScaledDotProductAttention", "SplitHeads", "causal_bias"]
