"""DataLoader: walk a dataset in (optionally shuffled) batches of Tensors."""

import collections
import functools
import itertools
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import TYPE_CHECKING, Any, Protocol, SupportsInt, TypeVar

import numpy as np
import numpy.typing as npt

from .. import checks
from ..keywords import CheckedKeywords
from ..types import Array
from .dataset import Dataset, Subset, TensorDataset

if TYPE_CHECKING:
    from ..tensor import Tensor

_Task = TypeVar("_Task")
_Result = TypeVar("_Result")
#: What a TensorDataset (or a Subset of one) gives a DataLoader: the rows each index selects (None for all), the arrays.
_Arrays = tuple[npt.NDArray[np.int64] | None, tuple[Array, ...]]


class _Sampler(Protocol):
    """What ``DataLoader(sampler=...)`` takes: an iterable of indices into the dataset, with a length."""

    def __iter__(self) -> Iterator[SupportsInt]: ...

    def __len__(self) -> int: ...


def _tensor(array: Any) -> "Tensor":
    # Imported here so the NumPy side of chainrule.data works without the autograd core.
    from chainrule.tensor import Tensor

    return Tensor(array)


def _collate_field(values: Sequence[Any]) -> "Tensor":
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


def default_collate(samples: Sequence[Any]) -> "Tensor | tuple[Tensor, ...] | dict[Any, Tensor]":
    """Turn a list of samples into a batch: tuples by field, dicts by key, anything else stacked."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate_field([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: _collate_field([s[key] for s in samples]) for key in first}
    return _collate_field(samples)


class DataLoader(CheckedKeywords):
    """Iterate over ``dataset`` in batches of ``batch_size`` samples, with PyTorch's arguments.

    - ``shuffle``: a new random order every epoch (every ``iter(loader)``), drawn from
      ``generator=`` (a NumPy or chainrule Generator you own), from a Generator of the loader's
      own seeded with ``seed=``, or else from the one ``chainrule.manual_seed`` seeds (as PyTorch
      draws from its default generator), so a seeded program shuffles the same way every run.
    - ``sampler``: an iterable of indices giving the order instead (``shuffle`` must then be False).
    - ``drop_last``: skip the final batch when it would be smaller than ``batch_size``.
    - ``collate_fn``: turns a list of samples into a batch. The default stacks each field
      into an array and wraps it in a Tensor; tuple samples give tuples of Tensors.
    - ``num_workers``: with N > 0, N background threads build the next batches (up to
      ``prefetch_factor`` each, default 2) while the training step runs; NumPy releases the GIL
      while it copies and computes, and a dataset that reads files waits in parallel. Batches come
      in the same order, with the same contents, as with ``num_workers=0``. Threads, not
      processes: nothing is pickled, a dataset needs no special care, and ``worker_init_fn(i)`` runs
      once in each thread; a dataset that draws random numbers in ``__getitem__`` draws them in an
      order the threads decide, so use ``num_workers=0`` (or per-sample seeds) where that matters.
      ``pin_memory``, ``persistent_workers`` and ``multiprocessing_context`` are accepted and change
      nothing (there is no GPU; threads are started per epoch).

    A TensorDataset (or a ``Subset`` of one) with the default collate takes each batch with
    one fancy index per array instead of a Python loop over samples.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        *,
        sampler: _Sampler | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], object] | None = None,
        generator: np.random.Generator | None = None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        multiprocessing_context: object = None,
        seed: int | None = None,
    ) -> None:
        if not checks.is_integer(batch_size) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass seed= or generator=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a chainrule.Generator or a numpy.random.Generator "
                f"(np.random.default_rng(seed)), got {type(generator).__name__}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler gives the order, so shuffle must be False")
        if sampler is not None and not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
            raise TypeError(
                f"DataLoader: sampler must be iterable and have a length (indices into the dataset), "
                f"got {type(sampler).__name__}"
            )
        if not checks.is_integer(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if prefetch_factor is not None and (not checks.is_integer(prefetch_factor) or prefetch_factor < 1):
            raise ValueError(f"DataLoader: prefetch_factor must be a positive integer, got {prefetch_factor!r}")
        if prefetch_factor is not None and num_workers == 0:
            raise ValueError(
                "DataLoader: prefetch_factor needs num_workers > 0 (it is how many batches each worker prepares ahead)"
            )
        if not checks.is_real(timeout) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number of seconds, got {timeout!r}")
        try:
            len(dataset)
        except TypeError:
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) must define __len__") from None
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.prefetch_factor: int | np.integer[Any] | None = (
            2 if prefetch_factor is None and num_workers else prefetch_factor
        )
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator if generator is not None or seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)  # ceiling division

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, once per epoch, so each iter() gives a fresh shuffle.
        if self.sampler is not None:
            order = np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
            bad = order[(order < 0) | (order >= len(self.dataset))]
            if len(bad):
                raise IndexError(
                    f"DataLoader: the sampler gave index {bad[0]} for a dataset of {len(self.dataset)} samples"
                )
        elif self.shuffle:
            from .. import random  # the generator manual_seed seeds; imported here, as the Tensor is

            order = random.generator_or_default(self.generator, "DataLoader").permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        batches = [order[start : start + self.batch_size] for start in range(0, stop, self.batch_size)]
        make = functools.partial(self._batch, _tensor_arrays(self.dataset) if self.collate_fn is None else None)
        if self.num_workers == 0:
            return map(make, batches)
        assert self.prefetch_factor is not None  # 2 unless given, with num_workers > 0
        depth = int(self.prefetch_factor)  # as given (an int or a NumPy integer); islice counts in ints
        return _prefetched(make, batches, self.num_workers, depth, self.timeout, self.worker_init_fn)

    def _batch(self, arrays: _Arrays | None, indices: npt.NDArray[np.int64]) -> Any:
        """The batch of the samples at ``indices``: rows of the arrays of a TensorDataset, else collated."""
        if arrays is not None:
            positions, columns = arrays
            rows = indices if positions is None else positions[indices]
            return tuple(_tensor(a[rows]) for a in columns)
        return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        order = f"sampler={self.sampler!r}" if self.sampler is not None else f"shuffle={self.shuffle}"
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"{order}, drop_last={self.drop_last}, num_workers={self.num_workers}, {len(self)} batches)"
        )


def _tensor_arrays(dataset: Dataset) -> _Arrays | None:
    """For a TensorDataset, or Subsets of one: (the rows each index selects, or None for all; its arrays)."""
    positions: npt.NDArray[np.int64] | None = None
    while isinstance(dataset, Subset):
        indices = np.asarray(dataset.indices, dtype=np.int64)
        positions = indices if positions is None else indices[positions]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset):
        return None
    return positions, dataset.arrays


def _prefetched(
    make: Callable[[_Task], _Result],
    tasks: Iterable[_Task],
    workers: int,
    depth: int,
    timeout: float,
    worker_init_fn: Callable[[int], object] | None,
) -> Iterator[_Result]:
    """``make(task)`` for each task, yielded in order, while ``workers`` threads compute up to
    ``workers * depth`` of the following ones ahead. Leaving the loop early cancels what has not started."""
    numbers_given = itertools.count()
    initializer = None if worker_init_fn is None else (lambda: worker_init_fn(next(numbers_given)))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainrule-loader", initializer=initializer)
    pending: collections.deque[Future[_Result]] = collections.deque()
    remaining = iter(tasks)
    try:
        for task in itertools.islice(remaining, workers * depth):
            pending.append(pool.submit(make, task))
        while pending:
            try:
                batch = pending.popleft().result(timeout=timeout or None)
            except FuturesTimeout:
                raise TimeoutError(f"DataLoader: a batch took more than timeout={timeout} seconds") from None
            for task in itertools.islice(remaining, 1):
                pending.append(pool.submit(make, task))
            yield batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
