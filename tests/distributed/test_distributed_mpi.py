"""Data-parallel training under real MPI jobs (2 and 4 ranks, oversubscribed on small machines): the
results against one process and against an in-process simulation, and every kind of failure
ending the job in seconds with a message naming the rank."""

import numpy as np
import pytest

from chainrule import nn

from . import mpi_worker as w
from .conftest import worker


# ----- correctness ---------------------------------------------------------------------------------
def single_process(dtype, steps, optimizer_name):
    """The same steps in one process, each on the whole global batch."""
    model = w.build(dtype)
    optimizer = w.make_optimizer(model, optimizer_name)
    X, y = w.data(dtype)
    for step in range(steps):
        optimizer.zero_grad()
        w.loss_of(model, X, y, w.global_batch(step, len(y))).backward()
        optimizer.step()
    return model.state_dict()


def mpich_sum(parts):
    """MPICH's Allreduce(SUM) order, measured bitwise: pairs first, (a0+a1)+(a2+a3) with 4 ranks."""
    while len(parts) > 1:
        parts = [parts[i] + parts[i + 1] if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def simulation(nproc, dtype, steps, optimizer_name):
    """The data-parallel steps in one process: each rank's shard in turn, the gradients summed in MPI's
    order and divided by the number of ranks, as DistributedDataParallel does."""
    model = w.build(dtype)
    params = list(model.parameters())
    optimizer = w.make_optimizer(model, optimizer_name)
    X, y = w.data(dtype)
    for step in range(steps):
        per_rank = []
        for rank in range(nproc):
            model.zero_grad()
            w.loss_of(model, X, y, w.shard(w.global_batch(step, len(y)), rank, nproc)).backward()
            per_rank.append([np.zeros_like(p.data) if p.grad is None else p.grad.copy() for p in params])
        for i, param in enumerate(params):
            total = mpich_sum([grads[i] for grads in per_rank])
            np.divide(total, nproc, out=total)
            param.grad = total
        optimizer.step()
    return model.state_dict()


def relative_difference(a, b):
    return max(float(np.abs(a[k] - b[k]).max() / max(np.abs(b[k]).max(), 1e-30)) for k in b)


@pytest.mark.parametrize("nproc", [2, 4])
def test_data_parallel_steps_match_one_process_and_the_simulation(mpi, tmp_path, nproc):
    job = mpi(worker(nproc, "train", tmp_path), timeout=120)
    assert job.status == 0, job
    after_one = dict(np.load(tmp_path / "float32-1.npz"))
    assert relative_difference(after_one, single_process(np.float32, 1, "sgd")) < 1e-6
    float64 = dict(np.load(tmp_path / "float64.npz"))
    assert relative_difference(float64, single_process(np.float64, 20, "adam")) < 1e-12
    float32 = dict(np.load(tmp_path / "float32.npz"))
    simulated = simulation(nproc, np.float32, 20, "sgd")
    for name in simulated:
        assert np.array_equal(float32[name], simulated[name]), name  # bit for bit
    assert np.array_equal(float32["unused.weight"], w.build(np.float32).unused.weight.data)  # zero gradients


def test_collectives_and_a_mismatched_buffer(mpi):
    job = mpi(worker(2, "collectives"), timeout=60)
    assert job.status == 0, job
    assert (
        "rank 1 caught: the ranks are not doing the same collective (rank 0: collective #7, all_reduce of 3 "
        "float32 (sum); rank 1: collective #7, all_reduce of 4 float32 (sum))" in job.output
    )


# ----- failures --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "raise",
            [
                "RuntimeError: rank 1 breaks down in step 3",
                "chainrule.distributed: rank 1 of 2 stopped with an uncaught RuntimeError; aborting the MPI job",
            ],
        ),
        (
            "stall",
            [
                "rank 0 has waited 2 s in the gradient reduction after forward pass 3",
                "rank 1 has not arrived (no answer: still computing, stuck, or waiting outside chainrule.distributed)",
                "rank 0 aborts the job after waiting 4 s",
            ],
        ),
        (
            "mismatch",
            [
                "the ranks hold different models: rank 1 differs from rank 0; first difference: entry 2 is the "
                "parameter 'fc1.weight' of shape (32, 64) float32 on rank 0 but the parameter 'fc1.weight' of "
                "shape (40, 64) float32 on rank 1"
            ],
        ),
        (
            "unequal",
            [
                "DistributedSampler: the lengths of the ranks' datasets differ (rank 0: 1,797; rank 1: 1,796); "
                "every rank must load the same dataset"
            ],
        ),
        ("drift", ["after epoch 1, the checksums (CRC-32) of the ranks' weights differ (rank 0: "]),
        (
            "skip",
            [
                "rank 0: collective #5, the gradient reduction after forward pass 3 (2,462 float32 in 1 bucket); "
                "rank 1: collective #5, the gradient reduction after forward pass 4"
            ],
        ),
    ],
)
def test_a_failing_rank_ends_the_job_in_seconds_naming_it(mpi, kind, expected):
    job = mpi(worker(2, kind), timeout=60)
    assert job.status != 0, job
    assert job.seconds < 30, job
    for text in expected:
        assert text in job.output, job
    assert "finished" not in job.output or kind == "skip"


def test_the_signatures_compare_names_shapes_dtypes_and_frozen_parameters():
    from chainrule.distributed.ddp import first_difference, model_signature

    a = model_signature(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    frozen = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    frozen[0].bias.requires_grad_(False)
    assert first_difference(a, model_signature(frozen), 3) == (
        "entry 1 is the parameter '0.bias' of shape (3,) float32 on rank 0 but the parameter '0.bias' of shape (3,) "
        "float32 (frozen) on rank 3"
    )
    shorter = model_signature(nn.Sequential(nn.Linear(2, 3)))
    assert first_difference(a, shorter, 1) == (
        "rank 0 has 7 parameters and buffers, rank 1 has 2; the first extra one (on rank 0) is the parameter "
        "'1.weight' of shape (3,) float32"
    )


@pytest.mark.parametrize("nproc", [2, 4])
def test_sync_batchnorm_normalises_and_differentiates_with_the_global_batch(mpi, tmp_path, nproc):
    import chainrule as cr

    job = mpi(worker(nproc, "sync_batchnorm", tmp_path / "sbn.npz"), timeout=60)
    assert job.status == 0, job
    ranks = dict(np.load(tmp_path / "sbn.npz"))
    x_all = np.random.default_rng(5).standard_normal((8, 3, 4, 4)) * 3 + 1
    target = np.random.default_rng(6).standard_normal((8, 3, 4, 4))
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)).double()
    x = cr.tensor(x_all, requires_grad=True)
    y = model(x)
    ((y - cr.Tensor(target)) ** 2).mean().backward()

    def interleave(per_rank):  # rank r held samples r, r + nproc, ...
        whole = np.empty((8, *per_rank.shape[2:]))
        for r in range(nproc):
            whole[r::nproc] = per_rank[r]
        return whole

    np.testing.assert_allclose(interleave(ranks["outputs"]), y.data, rtol=1e-10, atol=1e-12)
    # each rank's input gradient is that of the sum of the ranks' mean losses: nproc times the global mean's
    np.testing.assert_allclose(interleave(ranks["input_grads"]) / nproc, x.grad, rtol=1e-9, atol=1e-13)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(ranks[name], param.grad, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(ranks["running_mean"], model[1].running_mean, rtol=1e-12)
    np.testing.assert_allclose(ranks["running_var"], model[1].running_var, rtol=1e-12)
