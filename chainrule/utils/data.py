"""``chainrule.utils.data``, PyTorch's ``torch.utils.data``: the very objects of ``chainrule.data``, so
``from torch.utils.data import DataLoader, TensorDataset`` ports by changing ``torch`` to ``chainrule``."""

from ..data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
