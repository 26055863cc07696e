"""``chainrule.utils``: where PyTorch programs find ``utils.data`` (the same objects as ``chainrule.data``)."""

from . import data

__all__ = ["data"]
