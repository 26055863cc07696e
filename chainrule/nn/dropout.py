"""Dropout: zero a random fraction of activations while training, to regularise."""

import numpy as np

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import Number, TensorLike
from . import init
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the survivors by
    ``1 / (1 - p)`` ("inverted" dropout), so evaluation mode can pass the input through unchanged.

    The masks come from the layer's own NumPy Generator: seeded with ``seed``, or by
    default derived from ``chainrule.nn.init``'s generator (so ``init.manual_seed``
    makes them reproducible too). ``inplace`` is accepted for PyTorch compatibility and
    has no effect: the result is always a new tensor.
    """

    p: float
    inplace: bool
    generator: np.random.Generator

    def __init__(self, p: Number = 0.5, inplace: bool = False, seed: int | None = None) -> None:
        super().__init__()
        if not checks.is_real(p) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p is the probability of zeroing an element and must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.inplace = bool(inplace)
        self.generator = init.default_generator().spawn(1)[0] if seed is None else xp.random.default_rng(seed)

    def forward(self, x: TensorLike) -> Tensor:
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
