"""Data-parallel training over MPI: every process (rank) holds the same model, computes gradients on
its shard of each global batch, the gradients are averaged across ranks, and every rank takes
the same optimizer step.

Needs ``pip install 'chainrule[distributed]'`` (mpi4py and the MPICH wheel, which brings
``mpiexec``). Importing this package imports neither mpi4py nor MPI; ``init()`` does.

    mpiexec -n 4 python -m mpi4py train.py        # or: chainrule train ... --nproc 4

    from chainrule import distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(model)   # rank 0's weights everywhere
    sampler = dist.DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            model.reduce_gradients()              # the mean gradient over all ranks
            optimizer.step()

The modules, by what they hold:

============== =====================================================================================
comm           init, rank, world_size, is_initialized, the collectives (barrier, all_reduce, broadcast,
               all_gather) on NumPy buffers, each checked to be the same collective on every rank
watchdog       waiting without hanging: names the ranks that have not arrived, aborts after a timeout
ddp            DistributedDataParallel: the model check, the broadcast, gradients averaged in buckets
sampler        DistributedSampler: each rank its shard, every rank as many samples
sync_batchnorm SyncBatchNorm: BatchNorm with the global batch's statistics
training       DataParallel: the callback that makes ``chainrule.training.fit`` data-parallel
launch         the ``mpiexec`` command line that ``chainrule train --nproc N`` runs
============== =====================================================================================
"""

from .comm import DistributedError, all_gather, all_reduce, barrier, broadcast, init, is_initialized, rank, world_size
from .ddp import DistributedDataParallel
from .sampler import DistributedSampler
from .sync_batchnorm import SyncBatchNorm
from .training import DataParallel

__all__ = [
    "init",
    "is_initialized",
    "rank",
    "world_size",
    "barrier",
    "all_reduce",
    "broadcast",
    "all_gather",
    "DistributedError",
    "DistributedDataParallel",
    "DistributedSampler",
    "DataParallel",
    "SyncBatchNorm",
]
