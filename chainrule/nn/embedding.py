"""Embedding: a lookup table from integer ids (words, tokens) to learned vectors."""

from .. import checks
from .. import functional as F
from ..backend import xp
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """Row ``i`` of ``weight`` (shape (num_embeddings, embedding_dim)) is the vector for id ``i``;
    integer indices of any shape give vectors of shape ``indices.shape + (embedding_dim,)``.
    Initialised N(0, 1), as in PyTorch. The ``padding_idx`` row starts at zero and gets no
    gradient, so padding tokens stay zero vectors."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
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

    def reset_parameters(self):
        """Draw the table again from a standard normal (the padding row, if any, set to zero)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        if not hasattr(indices, "dtype"):
            indices = xp.asarray(indices)  # a list of ids
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"{self._describe()}: indices must be integers, got dtype {indices.dtype} "
                f"(shape {tuple(indices.shape)})"
            )
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + f", padding_idx={self.padding_idx}" if self.padding_idx is not None else text
