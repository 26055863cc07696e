"""Attention as functions: ``scaled_dot_product_attention`` (PyTorch's signature) and the masks it takes.

A mask is boolean or floating point. PyTorch's conventions differ by function and are kept:
in ``scaled_dot_product_attention`` a boolean ``attn_mask`` is True where a query MAY attend to a
key; in ``nn.MultiheadAttention`` (``attn_mask``, ``key_padding_mask``) True means the key is
masked out. A float mask is added to the scores (-inf masks out). Either way the masks become one
additive array of 0 and -inf (``bias``) before the one attention gate runs; a float mask that needs
a gradient is passed to the gate as an input instead.
"""

import math
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from .. import checks, random
from ..backend import xp
from ..gates.attention import ScaledDotProductAttention, causal_bias
from ..gates.common import floating
from ..tensor import Tensor
from ..types import Array, TensorLike


def scaled_dot_product_attention(
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    attn_mask: Tensor | Array | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, in one gate.

    ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev) -> (..., L, Ev); the leading
    (batch, head) dimensions broadcast. ``attn_mask`` broadcasts to (..., L, S): boolean (True: may
    attend) or float (added to the scores). ``is_causal=True`` lets query i see keys 0..i only (no
    ``attn_mask`` then). ``scale`` defaults to 1/sqrt(E). ``dropout_p`` drops attention weights
    (always, as PyTorch's function does: pass 0 in evaluation), drawing from ``generator`` (by
    default the one ``chainrule.manual_seed`` seeds). A query whose every key is masked gets zeros.
    """
    where = "scaled_dot_product_attention"
    q, k, v = check_qkv(query, key, value, where)
    if is_causal and attn_mask is not None:
        raise ValueError(
            f"{where}: give attn_mask or is_causal=True, not both (a causal mask is built for "
            f"is_causal); got attn_mask of shape {tuple(attn_mask.shape)}"
        )
    shape = attention_shape(q, k)
    bias, mask = None, None
    if attn_mask is not None:
        bias, mask = split_mask(attn_mask, q.dtype, shape, where, "attn_mask", allowed=True)
    elif is_causal:
        bias = causal_bias(shape[-2], shape[-1], q.dtype)
    return attend(q, k, v, bias, mask, dropout_p, scale, generator, where)


@overload
def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Array | None,
    mask: Tensor | None,
    dropout_p: float,
    scale: float | None,
    generator: np.random.Generator | None,
    where: str,
    with_weights: Literal[False] = False,
) -> Tensor: ...
@overload
def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Array | None,
    mask: Tensor | None,
    dropout_p: float,
    scale: float | None,
    generator: np.random.Generator | None,
    where: str,
    with_weights: Literal[True],
) -> tuple[Tensor, Tensor]: ...
@overload
def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Array | None,
    mask: Tensor | None,
    dropout_p: float,
    scale: float | None,
    generator: np.random.Generator | None,
    where: str,
    with_weights: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Array | None,
    mask: Tensor | None,
    dropout_p: float,
    scale: float | None,
    generator: np.random.Generator | None,
    where: str,
    with_weights: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The gate, with masks already combined: ``bias`` (constant, 0/-inf or any float) and ``mask``
    (a Tensor that needs a gradient) may each be None. With ``with_weights``, returns (out, weights)."""
    dropout_p = checks.probability(where, "dropout_p", dropout_p)
    if scale is None:
        scale = 1 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    else:
        scale = checks.number(where, "scale", scale)
    keep = None
    if dropout_p > 0:
        generator = random.generator_or_default(generator, where)
        keep = generator.random(attention_shape(q, k), dtype=xp.float32) >= dropout_p
    inputs = (q, k, v) if mask is None else (q, k, v, mask)
    return ScaledDotProductAttention.apply(
        *inputs, scale=scale, bias=bias, keep=keep, dropout_p=dropout_p, with_weights=with_weights
    )


def check_qkv(query: TensorLike, key: TensorLike, value: TensorLike, where: str) -> tuple[Tensor, Tensor, Tensor]:
    """query, key and value as floating Tensors of one dtype, with shapes that fit (or a clear error)."""
    q, k, v = floating(query), floating(key), floating(value)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise ValueError(
                f"{where}: {name} must have at least 2 dimensions (..., length, features), got shape {tuple(t.shape)}"
            )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"{where}: query and key must have the same last dimension (the features compared), "
            f"got query {tuple(q.shape)} and key {tuple(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{where}: key and value must hold the same number of positions (dimension -2), got "
            f"key {tuple(k.shape)} and value {tuple(v.shape)}"
        )
    try:
        xp.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{where}: the batch dimensions of query {tuple(q.shape)}, key {tuple(k.shape)} and value "
            f"{tuple(v.shape)} cannot broadcast together"
        ) from None
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(
            f"{where}: query, key and value must have the same dtype, got {q.dtype}, {k.dtype} and {v.dtype}"
        )
    return q, k, v


def attention_shape(q: Tensor, k: Tensor) -> tuple[int, ...]:
    """(batch..., L, S): the shape of the attention weights."""
    return xp.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])


def split_mask(
    mask: TensorLike, dtype: np.dtype[Any], shape: Sequence[int], where: str, name: str, allowed: bool
) -> tuple[Array | None, Tensor | None]:
    """A user's mask as (constant additive array or None, Tensor needing a gradient or None).

    Boolean masks mean "may attend" when ``allowed`` is True (scaled_dot_product_attention) and
    "masked out" when it is False (MultiheadAttention); float masks are added as they are."""
    array = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    kind = array.dtype.kind
    if kind not in "bf":
        raise TypeError(
            f"{where}: {name} must be boolean or floating point, got dtype {array.dtype} (shape {tuple(array.shape)})"
        )
    try:
        fits = xp.broadcast_shapes(array.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{where}: {name} of shape {tuple(array.shape)} does not broadcast to the attention "
            f"weights' shape {tuple(shape)} (batch..., target length L, source length S)"
        )
    if kind == "b":
        return additive(array if allowed else ~array, dtype), None
    if isinstance(mask, Tensor) and mask.requires_grad:
        return None, mask if mask.dtype == dtype else mask.astype(dtype)
    return array.astype(dtype, copy=False), None


def additive(allowed: Array, dtype: npt.DTypeLike) -> Array:
    """A boolean "may attend" array as an additive mask: 0 where True, -inf where False."""
    bias = xp.zeros(allowed.shape, dtype=dtype)
    bias[~allowed] = -xp.inf
    return bias


def combine(*biases: Array | None) -> Array | None:
    """The sum of the additive masks that are not None (None when there are none)."""
    total = None
    for bias in biases:
        if bias is not None:
            total = bias if total is None else total + bias
    return total


__all__ = [
    "scaled_dot_product_attention",
    "attend",
    "check_qkv",
    "attention_shape",
    "split_mask",
    "additive",
    "combine",
]
