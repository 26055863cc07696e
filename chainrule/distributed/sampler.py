"""``DistributedSampler``: each rank its shard of a dataset, every rank the same number of samples.

    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)   # 32 per rank
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                                    # a new order each epoch
        for x, y in loader: ...

Every rank draws the same permutation (from ``(seed, epoch)``) and takes every
``world_size``-th index starting at its rank, so the ranks' batches number k together
hold the same samples as batch k of a single process with a batch ``world_size`` times
bigger and the same generator (the training loop's order). To give every rank the same
number of samples, the permutation is padded with its own first indices (``drop_last=False``)
or its tail is dropped (``drop_last=True``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import checks
from . import comm


class DistributedSampler:
    """The indices of this rank's shard of ``dataset`` (anything with ``len``), in a per-epoch order.

    ``num_replicas`` and ``rank`` default to the job's (``chainrule.distributed.init()`` first); then
    construction also checks that every rank's dataset has the same length (an error names the
    ranks otherwise). Give both to shard without MPI (tests, simulations)."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        try:
            self.dataset_size = len(dataset)
        except TypeError:
            raise TypeError(f"DistributedSampler: the dataset ({type(dataset).__name__}) must define __len__") from None
        from_job = num_replicas is None and rank is None
        if from_job:
            num_replicas, rank = comm.world_size(), comm.rank()
        elif num_replicas is None or rank is None:
            raise ValueError("DistributedSampler: give both num_replicas and rank, or neither (the job's)")
        self.num_replicas = _integer("num_replicas", num_replicas, 1)
        self.rank = _integer("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be below num_replicas ({self.num_replicas}), got {rank}")
        self.seed = _integer("seed", seed, 0)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        if from_job and self.num_replicas > 1:
            comm.check_same(
                self.dataset_size,
                "DistributedSampler: the lengths of the ranks' datasets",
                "every rank must load the same dataset, the sampler takes each rank's shard of it",
            )
        n, parts = self.dataset_size, self.num_replicas
        self.num_samples = n // parts if self.drop_last else -(-n // parts)
        if self.num_samples == 0:
            raise ValueError(
                f"DistributedSampler: {n} sample(s) cannot give each of {parts} ranks one "
                f"(drop_last=True drops them all); use fewer ranks or drop_last=False"
            )
        self.total_size = self.num_samples * parts
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (every rank must set the same one)."""
        self.epoch = _integer("epoch", epoch, 0)

    def indices(self) -> npt.NDArray[np.integer[Any]]:
        """This rank's indices for the current epoch."""
        n = self.dataset_size
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        if self.total_size > n:  # pad with the order's own beginning, repeated as often as needed
            order = np.resize(order, self.total_size)
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[np.integer[Any]]:
        return iter(self.indices())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(rank {self.rank} of {self.num_replicas}, {self.num_samples} of "
            f"{self.dataset_size} samples, shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})"
        )


def _integer(name: str, value: int, minimum: int) -> int:
    return checks.size("DistributedSampler", name, value, minimum)
