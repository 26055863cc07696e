"""What each rank runs in the MPI tests: ``python -m mpi4py mpi_worker.py SCENARIO [ARGS]``.

pytest starts it under ``mpiexec`` (never the other way round) and judges the exit status, the
output and the files it writes. The model, data and batches are built by functions the tests
also call in-process, so the single-process reference and the simulation see the same numbers.
"""

import os
import sys
import time

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.data import load_digits

GLOBAL_BATCH = 64


class Net(nn.Module):
    """A small convnet without BatchNorm (whose batch statistics would differ per rank), with one
    parameter that never gets a gradient (it must count as zero on every rank)."""

    def __init__(self, hidden=32):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, 10)
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        x = self.pool(self.conv(x).relu()).flatten(1)
        return self.fc2(self.fc1(x).relu())


def build(dtype, seed=0, hidden=32):
    nn.init.manual_seed(seed)
    model = Net(hidden).to(dtype)
    return model


def data(dtype):
    X, y = load_digits(as_images=True)
    return (X / 16).astype(dtype), y


def global_batch(step, n):
    """The samples of global step ``step`` (0-based): a fixed permutation cut into batches."""
    order = np.random.default_rng(123).permutation(n)
    start = (step * GLOBAL_BATCH) % (n - GLOBAL_BATCH)
    return order[start : start + GLOBAL_BATCH]


def shard(indices, rank, size):
    return indices[rank::size]  # DistributedSampler's way: every size-th sample from the rank on


def make_optimizer(model, name):
    params = list(model.parameters())
    return optim.SGD(params, lr=0.1, momentum=0.9) if name == "sgd" else optim.Adam(params, lr=0.01)


def loss_of(model, X, y, indices):
    return nn.functional.cross_entropy(model(cr.Tensor(X[indices])), cr.Tensor(y[indices]))


def train(dtype, steps, optimizer_name, out, snapshot_after=()):
    """Data-parallel steps; rank 0 saves the parameters (``out``.npz, and ``out``-STEP.npz after the steps
    in ``snapshot_after``), and every rank checks that they agree bitwise."""
    dist.init()
    rank, size = dist.rank(), dist.world_size()
    X, y = data(dtype)
    model = dist.DistributedDataParallel(build(dtype, seed=rank))  # rank 0's weights must win
    optimizer = make_optimizer(model.module, optimizer_name)
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss_of(model, X, y, shard(global_batch(step - 1, len(y)), rank, size)).backward()
        model.reduce_gradients()
        optimizer.step()
        if step in snapshot_after or step == steps:
            state = model.module.state_dict()
            flat = np.concatenate([v.reshape(-1) for v in state.values()])
            everyone = dist.all_gather(flat)
            assert all(np.array_equal(everyone[0], other) for other in everyone), "the ranks' weights differ"
            if rank == 0:
                np.savez(out if step == steps else f"{out}-{step}", **state)


def collectives():
    """The public collectives, and a mismatched one caught by the header check."""
    dist.init()
    rank, size = dist.rank(), dist.world_size()
    x = np.full(3, rank + 1, dtype=np.float32)
    assert dist.all_reduce(x, "sum") is x and (x == size * (size + 1) / 2).all()
    t = cr.tensor(np.full(2, float(rank)), dtype="float64")
    dist.all_reduce(t, "mean")
    assert np.allclose(t.data, (size - 1) / 2)
    m = np.array([rank, -rank], dtype=np.int64)
    assert dist.all_reduce(m, "max").tolist() == [size - 1, 0]
    b = np.arange(4.0) * (rank == 1)
    dist.broadcast(b, root=1)
    assert b.tolist() == [0, 1, 2, 3]
    assert dist.all_gather(np.array([rank, 10 * rank])).tolist() == [[r, 10 * r] for r in range(size)]
    dist.barrier()
    try:
        dist.all_reduce(np.zeros(3 + rank, dtype=np.float32))  # a different size on each rank
    except dist.DistributedError as error:
        print(f"rank {rank} caught: {error}", flush=True)
    else:
        raise AssertionError("buffers of different sizes were reduced")


def fault(kind):
    """Two ranks training; rank 1 misbehaves as ``kind`` says."""
    os.environ.setdefault("CHAINRULE_STALL_WARNING", "1")
    os.environ.setdefault("CHAINRULE_STALL_TIMEOUT", "4")
    dist.init()
    rank, size = dist.rank(), dist.world_size()
    X, y = data(np.float32)
    if kind == "unequal":
        n = len(y) - (rank == 1)  # rank 1 lost a sample
        dist.DistributedSampler(np.arange(n))
    model = dist.DistributedDataParallel(build(np.float32, hidden=32 + 8 * (kind == "mismatch" and rank == 1)))
    optimizer = make_optimizer(model.module, "sgd")
    for step in range(5):
        optimizer.zero_grad()
        loss_of(model, X, y, shard(global_batch(step, len(y)), rank, size)).backward()
        if rank == 1 and step == 2:
            if kind == "raise":
                raise RuntimeError("rank 1 breaks down in step 3")
            if kind == "stall":
                time.sleep(600)
            if kind == "skip":
                continue  # skips the reduction and the step
        model.reduce_gradients()
        optimizer.step()
    print(f"rank {rank} finished", flush=True)


def sync_batchnorm(out):
    """SyncBatchNorm on each rank's shard: rank 0 saves the output, the input gradient of every rank (gathered)
    and the parameter gradients after DDP's averaging, for the test to compare with one BatchNorm2d on all."""
    dist.init()
    rank, size = dist.rank(), dist.world_size()
    x_all = np.random.default_rng(5).standard_normal((8, 3, 4, 4)) * 3 + 1
    target = np.random.default_rng(6).standard_normal((8, 3, 4, 4))
    nn.init.manual_seed(0)
    model = dist.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3))).double()
    assert isinstance(model[1], dist.SyncBatchNorm)
    model = dist.DistributedDataParallel(model)
    x = cr.tensor(x_all[rank::size], requires_grad=True)
    y = model(x)
    ((y - cr.Tensor(target[rank::size])) ** 2).mean().backward()
    model.reduce_gradients()
    outputs = dist.all_gather(np.ascontiguousarray(y.data))
    input_grads = dist.all_gather(np.ascontiguousarray(x.grad))
    if rank == 0:
        np.savez(
            out,
            outputs=outputs,
            input_grads=input_grads,
            running_mean=model.module[1].running_mean,
            running_var=model.module[1].running_var,
            **{name: p.grad for name, p in model.module.named_parameters()},
        )


def drift():
    """fit with the DataParallel callback, where rank 1 nudges a weight behind the others' backs."""
    from chainrule.training import Callback, TrainConfig, fit

    class Nudge(Callback):
        def on_batch_end(self, run):
            if run.processes.rank == 1 and run.batch == 3:
                next(run.model.parameters()).data[0, 0] += 1e-3

    fit(TrainConfig(model="mlp", dataset="digits", epochs=1, out=None), callbacks=[dist.DataParallel(), Nudge()])


if __name__ == "__main__":
    scenario, *arguments = sys.argv[1:]
    if scenario == "train":  # the runs the correctness tests compare, in one job
        out = arguments[0]
        train(np.float32, 20, "sgd", f"{out}/float32", snapshot_after=(1,))
        train(np.float64, 20, "adam", f"{out}/float64")
    elif scenario == "collectives":
        collectives()
    elif scenario == "drift":
        drift()
    elif scenario == "sync_batchnorm":
        sync_batchnorm(arguments[0])
    else:
        fault(scenario)
