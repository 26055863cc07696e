"""Embedding: a lookup table from integer ids (words, tokens) to learned vectors."""

from typing import cast

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, DType, TensorLike
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """Row ``i`` of ``weight`` (shape (num_embeddings, embedding_dim)) is the vector for id ``i``;
    integer indices of any shape give vectors of shape ``indices.shape + (embedding_dim,)``.
    Initialised N(0, 1), as in PyTorch. The ``padding_idx`` row starts at zero and gets no
    gradient, so padding tokens stay zero vectors."""

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None
    weight: Parameter

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype: DType = None
    ) -> None:
        super().__init__()
        self.num_embeddings = checks.size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = checks.size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not checks.is_integer(padding_idx) or not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be an index into the {self.num_embeddings} "
                    f"embeddings, got {padding_idx!r}"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dtype = checks.float_dtype("Embedding", dtype)
        self.weight = Parameter(xp.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the table again from a standard normal (the padding row, if any, set to zero)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices: TensorLike) -> Tensor:
        if not hasattr(indices, "dtype"):
            indices = xp.asarray(indices)  # a list of ids
        ids = cast("Tensor | Array", indices)  # something with a dtype and a shape
        if ids.dtype.kind not in "iu":
            raise TypeError(
                f"{self._describe()}: indices must be integers, got dtype {ids.dtype} (shape {tuple(ids.shape)})"
            )
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + f", padding_idx={self.padding_idx}" if self.padding_idx is not None else text
