"""Transformer layers with PyTorch's arguments and submodule names, so state_dicts map one to one.

An encoder layer is self-attention and a two-layer feed-forward network, each wrapped in a
residual connection and a LayerNorm; a decoder layer adds attention over the encoder's output
(the "memory") between the two. ``norm_first=True`` normalises before each block (pre-norm,
as GPT does: ``x = x + block(norm(x))``); the default normalises after (``x = norm(x + block(x))``).

``TransformerEncoder`` and ``TransformerDecoder`` stack deep copies of one layer (so every layer
starts from the same weights, as in PyTorch) and apply an optional final norm.
"""

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import DType, TensorLike
from . import init
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList
from .normalization import LayerNorm

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation: str | Callable[[Tensor], Tensor], where: str) -> Callable[[Tensor], Tensor]:
    """'relu', 'gelu' or a callable (a function or a Module), as PyTorch accepts."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
        return ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


class _Layer(Module):
    """What encoder and decoder layers share: the self-attention and feed-forward blocks and the checks of their
    input."""

    d_model: int
    norm_first: bool
    batch_first: bool
    activation: Callable[[Tensor], Tensor]
    self_attn: MultiheadAttention
    linear1: Linear
    dropout: Dropout
    linear2: Linear
    dropout1: Dropout

    if TYPE_CHECKING:  # each layer defines it

        @property
        def dropout_ff(self) -> Dropout: ...

    def _settings(
        self,
        d_model: int,
        nhead: int,
        dropout: float,
        activation: str | Callable[[Tensor], Tensor],
        layer_norm_eps: float,
        batch_first: bool,
        norm_first: bool,
        bias: bool,
        dtype: DType,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the shared arguments; returns the keyword arguments of the attention and norm layers."""
        where = type(self).__name__
        self.d_model = checks.size(where, "d_model", d_model)
        checks.size(where, "nhead", nhead)
        if d_model % nhead:
            raise ValueError(
                f"{where}: d_model ({d_model}) must be divisible by nhead ({nhead}): each head takes "
                f"d_model / nhead features"
            )
        dropout = checks.probability(where, "dropout", dropout)
        self.norm_first, self.batch_first = bool(norm_first), bool(batch_first)
        self.activation = _activation(activation, where)
        return dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype), dict(
            eps=layer_norm_eps, bias=bias, dtype=dtype
        )

    def _feed_forward(self, dim_feedforward: int, attention: dict[str, Any]) -> None:
        """linear1, dropout, linear2, registered in PyTorch's order."""
        self.linear1 = Linear(self.d_model, dim_feedforward, bias=attention["bias"], dtype=attention["dtype"])
        self.dropout = Dropout(attention["dropout"])
        self.linear2 = Linear(dim_feedforward, self.d_model, bias=attention["bias"], dtype=attention["dtype"])

    def _sa_block(
        self, x: Tensor, attn_mask: TensorLike | None, key_padding_mask: TensorLike | None, is_causal: bool
    ) -> Tensor:
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False, is_causal=is_causal
        )[0]
        out: Tensor = self.dropout1(x)
        return out

    def _ff_block(self, x: Tensor) -> Tensor:
        out: Tensor = self.dropout_ff(self.linear2(self.dropout(self.activation(self.linear1(x)))))
        return out

    def _check(self, x: Tensor, name: str) -> None:
        layout = "(N, L, d_model)" if self.batch_first else "(L, N, d_model)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ValueError(
                f"{self._describe()}: {name} has shape {tuple(x.shape)}; expected {layout} (or "
                f"(L, d_model) unbatched) with d_model={self.d_model}"
            )

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, norm_first={self.norm_first}, batch_first={self.batch_first}"


class TransformerEncoderLayer(_Layer):
    """Self-attention, then a feed-forward network (``linear2(dropout(activation(linear1(x))))``), each in
    a residual connection with a LayerNorm (after it, or before with ``norm_first=True``).

    ``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``;
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``. Submodules:
    ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__()
        attention, norm = self._settings(
            d_model, nhead, dropout, activation, layer_norm_eps, batch_first, norm_first, bias, dtype
        )
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self._feed_forward(dim_feedforward, attention)
        self.norm1 = LayerNorm(d_model, **norm)
        self.norm2 = LayerNorm(d_model, **norm)
        self.dropout1 = Dropout(attention["dropout"])
        self.dropout2 = Dropout(attention["dropout"])

    @property
    def dropout_ff(self) -> Dropout:
        """The dropout after the feed-forward block (``dropout2`` here, ``dropout3`` in a decoder layer)."""
        return self.dropout2

    def forward(
        self,
        src: Tensor,
        src_mask: TensorLike | None = None,
        src_key_padding_mask: TensorLike | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        self._check(src, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        out: Tensor = self.norm2(x + self._ff_block(x))
        return out


class TransformerDecoderLayer(_Layer):
    """Self-attention over the target, attention over the memory (the encoder's output), then the
    feed-forward network, each in a residual connection with a LayerNorm.

    ``TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``;
    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``. Submodules:
    ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``-``norm3``,
    ``dropout1``-``dropout3``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__()
        attention, norm = self._settings(
            d_model, nhead, dropout, activation, layer_norm_eps, batch_first, norm_first, bias, dtype
        )
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self._feed_forward(dim_feedforward, attention)
        self.norm1 = LayerNorm(d_model, **norm)
        self.norm2 = LayerNorm(d_model, **norm)
        self.norm3 = LayerNorm(d_model, **norm)
        self.dropout1 = Dropout(attention["dropout"])
        self.dropout2 = Dropout(attention["dropout"])
        self.dropout3 = Dropout(attention["dropout"])

    @property
    def dropout_ff(self) -> Dropout:
        """The dropout after the feed-forward block (``dropout3`` here, ``dropout2`` in an encoder layer)."""
        return self.dropout3

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: TensorLike | None = None,
        memory_mask: TensorLike | None = None,
        tgt_key_padding_mask: TensorLike | None = None,
        memory_key_padding_mask: TensorLike | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        self._check(tgt, "tgt")
        self._check(memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        out: Tensor = self.norm3(x + self._ff_block(x))
        return out

    def _mha_block(
        self,
        x: Tensor,
        memory: Tensor,
        attn_mask: TensorLike | None,
        key_padding_mask: TensorLike | None,
        is_causal: bool,
    ) -> Tensor:
        x = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        out: Tensor = self.dropout2(x)
        return out


def _clones(layer: Module, num_layers: int, where: str) -> ModuleList:
    """``num_layers`` deep copies of ``layer`` (the same starting weights, as in PyTorch), each with fresh
    random generators so that their dropout masks differ."""
    num_layers = checks.size(where, "num_layers", num_layers)
    if not isinstance(layer, Module):
        raise TypeError(f"{where}: the layer to stack must be a Module, got {type(layer).__name__}")
    layers = [copy.deepcopy(layer) for _ in range(num_layers)]
    for clone in layers:
        for module in clone.modules():
            if hasattr(module, "generator"):
                module.generator = init.default_generator().spawn(1)[0]
    return ModuleList(layers)


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.

    ``TransformerEncoder(encoder_layer, num_layers, norm=None)``; ``forward(src, mask=None,
    src_key_padding_mask=None, is_causal=None)``. Submodules ``layers.0`` ... and ``norm``."""

    layers: ModuleList
    num_layers: int
    norm: Module | None

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = len(self.layers)
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: TensorLike | None = None,
        src_key_padding_mask: TensorLike | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn, then ``norm`` if given.

    ``TransformerDecoder(decoder_layer, num_layers, norm=None)``; ``forward(tgt, memory, tgt_mask=None,
    memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False)``. Submodules ``layers.0`` ... and ``norm``."""

    layers: ModuleList
    num_layers: int
    norm: Module | None

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = len(self.layers)
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: TensorLike | None = None,
        memory_mask: TensorLike | None = None,
        tgt_key_padding_mask: TensorLike | None = None,
        memory_key_padding_mask: TensorLike | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return self.norm(x) if self.norm is not None else x


__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder"]
