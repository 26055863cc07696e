"""Flatten: merge a range of axes into one, e.g. images (N, C, H, W) into rows (N, C*H*W)."""

from .. import functional as F
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim`` through ``end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
