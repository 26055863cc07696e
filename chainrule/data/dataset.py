"""Datasets: things you can index, and a seeded split of arrays into train and test."""

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import checks
from ..keywords import CheckedKeywords
from ..types import Array, TensorLike


def as_array(x: TensorLike) -> Array:
    """The NumPy array behind ``x``: a Tensor's ``.data``, an array as is, anything else via np.asarray."""
    if isinstance(x, np.ndarray):
        return x
    data = getattr(x, "data", None)  # a chainrule Tensor, without importing the core here
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(x)


class Dataset(CheckedKeywords):
    """A collection of samples: ``len(ds)`` samples, ``ds[i]`` the i-th one (0 <= i < len(ds)).

    Subclass it and define ``__len__`` and ``__getitem__``; a DataLoader does the batching.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows of arrays that share their first dimension: ``ds[i] == (a[i], b[i], ...)``.

    Accepts NumPy arrays or Tensors (their ``.data`` is used, not copied). A DataLoader
    over a TensorDataset takes whole batches with one fancy index per array, so prefer
    it for data that fits in memory.
    """

    arrays: tuple[Array, ...]

    def __init__(self, *arrays: TensorLike) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        data = tuple(as_array(a) for a in arrays)
        for position, a in enumerate(data):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {position} is 0-d; each array needs a first (sample) dimension")
        sizes = [len(a) for a in data]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in data)
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension (number of samples); "
                f"got sizes {sizes} (shapes {shapes})"
            )
        self.arrays = data

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({len(self)} samples: {shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, [3, 1])[0] == ds[3]``."""

    def __init__(self, dataset: Dataset, indices: Iterable[Any]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[int(i)] for i in index]]
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {type(self.dataset).__name__})"


def random_split(
    dataset: Dataset, lengths: Iterable[float], generator: np.random.Generator | None = None
) -> list[Subset]:
    """``dataset`` cut into non-overlapping ``Subset``s of the given ``lengths`` after one random permutation,
    as PyTorch's ``random_split``: ``lengths`` are sample counts adding up to ``len(dataset)``, or fractions
    adding up to 1 (each gets ``floor(fraction * n)`` samples, the rest dealt out one by one from the first).
    The permutation comes from ``generator`` (a NumPy or chainrule Generator), by default from the one
    ``chainrule.manual_seed`` seeds."""
    from .. import random

    n = len(dataset)
    lengths = list(lengths)
    if not lengths or any(not checks.is_real(v) or v < 0 for v in lengths):
        raise ValueError(f"random_split: lengths must be non-negative numbers, got {lengths!r}")
    if all(isinstance(v, numbers.Integral) for v in lengths):
        counts = [int(v) for v in lengths]
    elif math.isclose(sum(lengths), 1) and all(v <= 1 for v in lengths):
        counts = [math.floor(n * v) for v in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        raise ValueError(f"random_split: fractions must add up to 1, got {lengths!r} (sum {sum(lengths)})")
    if sum(counts) != n:
        raise ValueError(f"random_split: lengths {counts} add up to {sum(counts)}, but the dataset has {n} samples")
    order = random.generator_or_default(generator, "random_split").permutation(n)
    splits: list[Subset] = []
    start = 0
    for count in counts:
        splits.append(Subset(dataset, order[start : start + count]))
        start += count
    return splits


def train_test_split(
    X: TensorLike, y: TensorLike, test_size: float = 0.2, seed: int | None = 0
) -> tuple[Array, Array, Array, Array]:
    """Split ``X`` and ``y`` into ``X_train, X_test, y_train, y_test`` by one seeded random permutation.

    ``test_size`` is a fraction in (0, 1) (the test set gets ``ceil(test_size * n)`` samples)
    or a whole number of samples in [1, n - 1]. The same ``seed`` gives the same split;
    no stratification: with small classes, check the class counts of each part.
    Tensors are accepted (their ``.data`` is used); the results are NumPy arrays.
    """
    X, y = as_array(X), as_array(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"train_test_split: X and y need a first (sample) dimension; got shapes {X.shape} and {y.shape}"
        )
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
