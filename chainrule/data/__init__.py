"""Data for training: datasets, batching, feature scaling, the bundled digits, MNIST and text.

Everything here works on NumPy arrays; only the DataLoader wraps its batches in Tensors.
"""

from .dataset import Dataset, Subset, TensorDataset, random_split, train_test_split
from .digits import load_digits
from .idx import read_idx, write_idx
from .loader import DataLoader, default_collate
from .mnist import MNIST
from .scaling import MinMaxScaler, StandardScaler
from .text import Vocabulary, default_corpus, read_text, windows

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "random_split",
    "DataLoader",
    "default_collate",
    "StandardScaler",
    "MinMaxScaler",
    "load_digits",
    "train_test_split",
    "MNIST",
    "read_idx",
    "write_idx",
    "Vocabulary",
    "default_corpus",
    "read_text",
    "windows",
]
