"""Datasets: things you can index, and a seeded split of arrays into train and test."""

import math
import numbers

import numpy as np
from .. import checks



def as_array(x):
    """The NumPy array behind ``x``: a Tensor's ``.data``, an array as is, anything else via np.asarray."""
    if isinstance(x, np.ndarray):
        return x
    data = getattr(x, "data", None)  # a chainrule Tensor, without importing the core here
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(x)


class Dataset:
    """A collection of samples: ``len(ds)`` samples, ``ds[i]`` the i-th one (0 <= i < len(ds)).

    Subclass it and define ``__len__`` and ``__getitem__``; a DataLoader does the batching.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows of arrays that share their first dimension: ``ds[i] == (a[i], b[i], ...)``.

    Accepts NumPy arrays or Tensors (their ``.data`` is used, not copied). A DataLoader
    over a TensorDataset takes whole batches with one fancy index per array, so prefer
    it for data that fits in memory.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(as_array(a) for a in arrays)
        for position, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {position} is 0-d; each array needs a first (sample) dimension")
        sizes = [len(a) for a in arrays]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension (number of samples); "
                f"got sizes {sizes} (shapes {shapes})"
            )
        self.arrays = arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __repr__(self):
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({len(self)} samples: {shapes})"


def train_test_split(X, y, test_size=0.2, seed=0):
    """Split ``X`` and ``y`` into ``X_train, X_test, y_train, y_test`` by one seeded random permutation.

    ``test_size`` is a fraction in (0, 1) (the test set gets ``ceil(test_size * n)`` samples)
    or a whole number of samples in [1, n - 1]. The same ``seed`` gives the same split;
    no stratification: with small classes, check the class counts of each part.
    Tensors are accepted (their ``.data`` is used); the results are NumPy arrays.
    """
    X, y = as_array(X), as_array(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"train_test_split: X and y need a first (sample) dimension; got shapes {X.shape} and {y.shape}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}; they must match")
    if not checks.is_real(test_size):
        raise TypeError(f"train_test_split: test_size must be a fraction or a number of samples, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"train_test_split: test_size={n_test} samples must be between 1 and {n - 1} (n={n})")
    else:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: test_size={test_size} must be a fraction in (0, 1) or a sample count")
        n_test = math.ceil(test_size * n)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"train_test_split: test_size={test_size} of {n} samples leaves {n_test} for test and "
                f"{n - n_test} for training; both need at least one"
            )
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
