"""Flatten: merge a range of axes into one, e.g. images (N, C, H, W) into rows (N, C*H*W)."""

from .. import functional as F
from ..tensor import Tensor
from ..types import TensorLike
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim`` through ``end_dim`` (by default all but the batch axis)."""

    start_dim: int
    end_dim: int

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: TensorLike) -> Tensor:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
