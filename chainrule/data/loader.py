"""DataLoader: walk a dataset in (optionally shuffled) batches of Tensors."""

import numbers

import numpy as np

from .. import checks
from .dataset import TensorDataset


def _tensor(array):
    # Imported here so the NumPy side of chainrule.data works without the autograd core.
    from chainrule.tensor import Tensor

    return Tensor(array)


def _collate_field(values):
    """Stack one field of every sample into a single Tensor."""
    first = values[0]
    if isinstance(first, (np.ndarray, np.generic)):
        return _tensor(np.stack(values))
    if isinstance(getattr(first, "data", None), np.ndarray):  # Tensors
        return _tensor(np.stack([v.data for v in values]))
    if isinstance(first, numbers.Number):
        # A list of Python numbers: the Tensor applies chainrule's default dtypes (floats -> float32).
        return _tensor(list(values))
    raise TypeError(
        f"DataLoader: default collate cannot batch samples of type {type(first).__name__}; "
        f"return arrays, numbers or Tensors from the dataset, or pass collate_fn="
    )


def default_collate(samples):
    """Turn a list of samples into a batch: tuples by field, dicts by key, anything else stacked."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate_field([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: _collate_field([s[key] for s in samples]) for key in first}
    return _collate_field(samples)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    - ``shuffle``: a new random order every epoch (every ``iter(loader)``), drawn from one
      NumPy Generator the loader keeps: ``seed=`` makes the sequence of epochs reproducible,
      ``generator=`` shares a Generator you own.
    - ``drop_last``: skip the final batch when it would be smaller than ``batch_size``.
    - ``collate_fn``: turns a list of samples into a batch. The default stacks each field
      into an array and wraps it in a Tensor; tuple samples give tuples of Tensors.

    A TensorDataset with the default collate takes each batch with one fancy index per
    array instead of a Python loop over samples.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, generator=None,
                 collate_fn=None):
        if not checks.is_integer(batch_size) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass seed= or generator=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a numpy.random.Generator (np.random.default_rng(seed)), "
                f"got {type(generator).__name__}"
            )
        try:
            len(dataset)
        except TypeError:
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) must define __len__") from None
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator if generator is not None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)  # ceiling division

    def __iter__(self):
        n = len(self.dataset)
        # The order is drawn here, once per epoch, so each iter() gives a fresh shuffle.
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order)

    def _batches(self, order):
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        collate = self.collate_fn or default_collate
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if fast:
                yield tuple(_tensor(a[indices]) for a in self.dataset.arrays)
            else:
                yield collate([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)")
