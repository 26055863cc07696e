"""Multi-head attention, with PyTorch's arguments, parameter names and initialisation.

Each head attends with its own slice of the projected query, key and value:

    q, k, v = query @ W_q^T + b_q, key @ W_k^T + b_k, value @ W_v^T + b_v      (N, L|S, E)
    split into H heads of E/H features                                          (N, H, L|S, E/H)
    out_h = softmax(q_h k_h^T / sqrt(E/H) + mask) v_h                           (N, H, L, E/H)
    out = concat(out_1 .. out_H) @ W_o^T + b_o                                  (N, L, E)

Self-attention (query, key and value the same tensor) projects with one product against the
stacked (3E, E) ``in_proj_weight``; the heads are views of its result (one ``SplitHeads`` gate),
and the attention of every head is one ``ScaledDotProductAttention`` gate.
"""

from typing import Any, cast

import numpy as np

from .. import checks
from ..backend import xp
from ..functional import attention as A
from ..functional import linear
from ..gates.attention import SplitHeads, causal_bias
from ..gates.common import as_tensor
from ..tensor import Tensor
from ..types import Array, DType, TensorLike
from . import init
from .linear import Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    """``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``, as in PyTorch.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``: output shaped like
    the query, weights (N, L, S) averaged over the heads (or (N, H, L, S), or None without
    ``need_weights``). Shapes are (L, N, E) unless ``batch_first`` (N, L, E); unbatched (L, E) works.
    ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N * H, L, S): True (or -inf) masks a
    key out; float masks are added to the scores. ``is_causal=True`` without an ``attn_mask`` builds the
    causal mask (PyTorch asks for the mask too). A query whose every key is masked gets zeros (PyTorch:
    NaN). Masks are constants here (no gradient); ``F.scaled_dot_product_attention`` differentiates a
    float mask. Attention dropout is applied in training mode only.

    Parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,), or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when kdim or vdim differ from embed_dim; ``out_proj``
    (a Linear). Initialised as PyTorch does: Xavier-uniform projections, zero biases.
    """

    embed_dim: int
    num_heads: int
    kdim: int
    vdim: int
    dropout: float
    batch_first: bool
    head_dim: int
    _qkv_same_embed_dim: bool
    in_proj_weight: Parameter | None
    q_proj_weight: Parameter | None
    k_proj_weight: Parameter | None
    v_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    out_proj: Linear
    generator: np.random.Generator

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__()
        where = "MultiheadAttention"
        self.embed_dim = checks.size(where, "embed_dim", embed_dim)
        self.num_heads = checks.size(where, "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"{where}: embed_dim ({self.embed_dim}) must be divisible by num_heads "
                f"({self.num_heads}): each head takes embed_dim / num_heads features"
            )
        if add_bias_kv or add_zero_attn:
            raise ValueError(
                f"{where}: add_bias_kv and add_zero_attn are not supported (got add_bias_kv="
                f"{add_bias_kv!r}, add_zero_attn={add_zero_attn!r})"
            )
        self.kdim = self.embed_dim if kdim is None else checks.size(where, "kdim", kdim)
        self.vdim = self.embed_dim if vdim is None else checks.size(where, "vdim", vdim)
        self.dropout = checks.probability(where, "dropout", dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        dtype = checks.float_dtype(where, dtype)
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(xp.empty((3 * e, e), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(xp.empty((e, e), dtype=dtype))
            self.k_proj_weight = Parameter(xp.empty((e, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(xp.empty((e, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(xp.empty(3 * e, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.generator = init.default_generator().spawn(1)[0]  # the attention dropout's masks
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases (out_proj's weight as a Linear's)."""
        if self._qkv_same_embed_dim:
            assert self.in_proj_weight is not None  # one embed_dim: the stacked projection
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                assert weight is not None  # kdim or vdim differ: separate projections
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            assert self.out_proj.bias is not None  # bias=True gives both
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            text += f", kdim={self.kdim}, vdim={self.vdim}"
        return text + f", batch_first={self.batch_first}"

    # ----- forward ------------------------------------------------------------------------
    def forward(
        self,
        query: TensorLike,
        key: TensorLike,
        value: TensorLike,
        key_padding_mask: TensorLike | None = None,
        need_weights: bool = True,
        attn_mask: TensorLike | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        unbatched = self._check_inputs(query, key, value)
        q, k, v = (self._batch_major(t, unbatched) for t in (query, key, value))
        n, length, source = q.shape[0], q.shape[1], k.shape[1]
        bias = self._mask_bias(key_padding_mask, attn_mask, is_causal, n, length, source, q.dtype, unbatched)
        q, k, v = self._project(q, k, v, query is key and key is value)
        result = A.attend(
            q,
            k,
            v,
            bias,
            None,
            self.dropout if self.training else 0.0,
            None,
            self.generator,
            "MultiheadAttention",
            with_weights=need_weights,
        )
        out, weights = result if isinstance(result, tuple) else (result, None)
        out = self.out_proj(out.permute(0, 2, 1, 3).reshape(n, length, self.embed_dim))
        if unbatched:
            out = out.reshape(length, self.embed_dim)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(axis=1)
            if unbatched:
                weights = weights.reshape(weights.shape[1:])
        return out, weights

    def _project(self, q: Tensor, k: Tensor, v: Tensor, same: bool) -> tuple[Tensor, ...]:
        """The per-head queries, keys and values, each (N, H, L|S, head_dim)."""
        e, heads = self.embed_dim, self.num_heads
        b = self.in_proj_bias
        w = self.in_proj_weight
        if same and self._qkv_same_embed_dim:
            assert w is not None  # one embed_dim: the stacked projection
            # A gate with three outputs: apply returns them as a tuple (typed as a Tensor).
            return cast(tuple[Tensor, ...], SplitHeads.apply(linear(q, w, b), chunks=3, heads=heads))
        if self._qkv_same_embed_dim:
            assert w is not None  # one embed_dim: the stacked projection
            weights = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            assert self.q_proj_weight is not None and self.k_proj_weight is not None and self.v_proj_weight is not None
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        return tuple(
            SplitHeads.apply(linear(x, w, bias), chunks=1, heads=heads)
            for x, w, bias in zip((q, k, v), weights, biases)
        )

    def _batch_major(self, t: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return t.reshape((1,) + t.shape)
        return t if self.batch_first else t.transpose(0, 1)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the input is unbatched; a clear error when the shapes do not fit."""
        layer = self._describe()
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3):
            raise ValueError(
                f"{layer}: query must be 3-d {layout} or 2-d (L, E) unbatched, got shape {tuple(query.shape)}"
            )
        for name, t in (("key", key), ("value", value)):
            if t.ndim != query.ndim:
                raise ValueError(
                    f"{layer}: {name} has shape {tuple(t.shape)} but query has shape "
                    f"{tuple(query.shape)}; both must be {'batched' if query.ndim == 3 else 'unbatched'}"
                )
        for name, t, width, argument in (
            ("query", query, self.embed_dim, "embed_dim"),
            ("key", key, self.kdim, "kdim"),
            ("value", value, self.vdim, "vdim"),
        ):
            if t.shape[-1] != width:
                raise ValueError(
                    f"{layer}: {name} has {t.shape[-1]} features (shape {tuple(t.shape)}), expected {argument}={width}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{layer}: key {tuple(key.shape)} and value {tuple(value.shape)} must agree in every "
                f"dimension but the last"
            )
        if query.ndim == 3:
            batch_axis = 0 if self.batch_first else 1
            if query.shape[batch_axis] != key.shape[batch_axis]:
                raise ValueError(
                    f"{layer}: query {tuple(query.shape)} and key {tuple(key.shape)} have different "
                    f"batch sizes (dimension {batch_axis}, batch_first={self.batch_first})"
                )
        return query.ndim == 2

    def _mask_bias(
        self,
        key_padding_mask: TensorLike | None,
        attn_mask: TensorLike | None,
        is_causal: bool,
        n: int,
        length: int,
        source: int,
        dtype: np.dtype[Any],
        unbatched: bool,
    ) -> Array | None:
        """key_padding_mask, attn_mask and is_causal as one additive array that broadcasts to (N, H, L, S)."""
        layer, heads = self._describe(), self.num_heads
        padding: Array | None
        attn: Array | None
        padding = attn = None
        if key_padding_mask is not None:
            expected = (source,) if unbatched else (n, source)
            mask = _constant(key_padding_mask)
            _check_mask(
                mask,
                expected,
                layer,
                "key_padding_mask",
                "(S,) for an unbatched input"
                if unbatched
                else "(N, S): one row per sequence, True where a key is padding",
            )
            padding, _ = A.split_mask(
                mask.reshape(-1, 1, 1, source),
                dtype,
                (n, heads, length, source),
                layer,
                "key_padding_mask",
                allowed=False,
            )
        if attn_mask is not None:
            mask = _constant(attn_mask)
            shapes = [(length, source), (n * heads, length, source)]
            _check_mask(mask, shapes, layer, "attn_mask", f"(L, S) or (N * num_heads, L, S) = {shapes}")
            mask = mask.reshape((n, heads, length, source) if mask.ndim == 3 else mask.shape)
            attn, _ = A.split_mask(mask, dtype, (n, heads, length, source), layer, "attn_mask", allowed=False)
        elif is_causal:
            attn = causal_bias(length, source, dtype)
        return A.combine(padding, attn)


def _constant(mask: TensorLike) -> Array:
    return xp.asarray(mask.data if isinstance(mask, Tensor) else mask)


def _check_mask(
    mask: Array,
    expected: tuple[int, ...] | list[tuple[int, ...]],
    layer: str,
    name: str,
    description: str,
) -> None:
    """A mask of one of the expected shapes, boolean or floating point (or a clear error)."""
    shapes = expected if isinstance(expected, list) else [expected]
    if mask.dtype.kind not in "bf":
        raise TypeError(
            f"{layer}: {name} must be boolean or floating point, got dtype {mask.dtype} (shape {tuple(mask.shape)})"
        )
    if tuple(mask.shape) not in [tuple(s) for s in shapes]:
        raise ValueError(f"{layer}: {name} has shape {tuple(mask.shape)}, expected {description}")


__all__ = ["MultiheadAttention"]
