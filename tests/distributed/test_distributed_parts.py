"""The parts of chainrule.distributed that need no MPI job: the sampler, the buckets, the headers'
words, the launcher's command line and environment, and the argument checks."""

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.distributed import DistributedSampler, comm, launch
from chainrule.distributed.ddp import make_buckets


# ----- the sampler ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, size, drop_last", [(10, 3, False), (10, 3, True), (8, 4, False), (5, 8, False)])
def test_the_shards_cover_the_permutation_equally(n, size, drop_last):
    shards = [DistributedSampler(range(n), num_replicas=size, rank=r, seed=3, drop_last=drop_last) for r in range(size)]
    for sampler in shards:
        sampler.set_epoch(2)
    lengths = {len(s) for s in shards}
    assert len(lengths) == 1 and all(len(s.indices()) == len(s) for s in shards)
    order = np.random.default_rng([3, 2]).permutation(n)
    together = np.stack([s.indices() for s in shards], axis=1).reshape(-1)  # step by step, rank by rank
    expected = order[: len(together)] if drop_last else np.resize(order, len(together))
    np.testing.assert_array_equal(together, expected)
    if not drop_last:
        assert set(together) == set(range(n))  # every sample, some twice


def test_one_rank_sees_the_training_loops_order_and_each_epoch_differs():
    sampler = DistributedSampler(range(50), num_replicas=1, rank=0, seed=7)
    sampler.set_epoch(1)
    loop_order = np.random.default_rng([7, 1]).permutation(50)  # what fit's DataLoader draws
    np.testing.assert_array_equal(list(sampler), loop_order)
    sampler.set_epoch(2)
    assert list(sampler) != list(loop_order)
    assert list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)) == [1, 3, 0]


def test_a_loader_with_a_sampler_batches_its_indices():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    sampler = DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(TensorDataset(X, np.arange(10)), batch_size=2, sampler=sampler)
    assert len(loader) == 3
    assert [y.data.tolist() for _, y in loader] == [[1, 3], [5, 7], [9]]
    assert "sampler=DistributedSampler(rank 1 of 2, 5 of 10 samples" in repr(loader)


@pytest.mark.parametrize(
    "make, error, text",
    [
        (lambda: DistributedSampler(3, num_replicas=2, rank=0), TypeError, "the dataset (int) must define __len__"),
        (lambda: DistributedSampler(range(4), num_replicas=2), ValueError, "give both num_replicas and rank"),
        (
            lambda: DistributedSampler(range(4), num_replicas=2, rank=2),
            ValueError,
            "rank must be below num_replicas (2)",
        ),
        (
            lambda: DistributedSampler(range(4), num_replicas=0, rank=0),
            ValueError,
            "num_replicas must be an integer >= 1",
        ),
        (lambda: DistributedSampler(range(4), num_replicas=2, rank=True), ValueError, "rank must be an integer >= 0"),
        (
            lambda: DistributedSampler(range(4), num_replicas=8, rank=0, drop_last=True),
            ValueError,
            "4 sample(s) cannot give each of 8 ranks one",
        ),
        (
            lambda: DistributedSampler(range(4), num_replicas=2, rank=0).set_epoch(-1),
            ValueError,
            "epoch must be an integer >= 0",
        ),
        (
            lambda: DataLoader(range(4), sampler=[0, 1], shuffle=True),
            ValueError,
            "sampler gives the order, so shuffle must be False",
        ),
        (lambda: DataLoader(range(4), sampler=iter([0])), TypeError, "sampler must be iterable and have a length"),
        (lambda: list(DataLoader(range(4), sampler=[0, 9])), IndexError, "the sampler gave index 9 for a dataset of 4"),
    ],
)
def test_bad_sampler_arguments(make, error, text):
    with pytest.raises(error, match=__import__("re").escape(text)):
        make()


# ----- buckets and headers ----------------------------------------------------------------------------
def test_buckets_hold_one_dtype_in_reverse_order_up_to_the_cap():
    a, b = (
        cr.tensor(np.zeros(100, np.float32), requires_grad=True),
        cr.tensor(np.zeros(300, np.float32), requires_grad=True),
    )
    c, d = cr.tensor(np.zeros(50), requires_grad=True), cr.tensor(np.zeros((2, 10), np.float32), requires_grad=True)
    buckets = make_buckets([a, b, c, d], cap_bytes=1000)
    assert [[id(p) for p in bucket.params] for bucket in buckets] == [[id(d)], [id(c)], [id(b)], [id(a)]]
    assert [bucket.buffer.dtype for bucket in buckets] == [np.float32, np.float64, np.float32, np.float32]
    together = make_buckets([a, d], cap_bytes=10**6)
    assert len(together) == 1 and together[0].buffer.size == 120
    d.grad = np.ones((2, 10), np.float32)  # a has no gradient: it counts as zero
    together[0].pack()
    assert together[0].buffer.tolist() == [1.0] * 20 + [0.0] * 100
    together[0].unpack()
    assert a.grad.shape == (100,) and np.shares_memory(a.grad, together[0].buffer)


def test_headers_in_words_and_a_disagreement_grouped_by_rank():
    def header(sequence, kind, count=0, dtype=None, detail=0, step=0):
        return [
            sequence,
            list(comm.KINDS.values()).index(kind) + 1,
            count,
            -1 if dtype is None else comm.DTYPES.index(np.dtype(dtype)),
            detail,
            step,
        ]

    headers = np.array(
        [
            header(4, "gradients", 2462, "float32", 2, 7),
            header(4, "gradients", 2462, "float32", 2, 7),
            header(4, "all_reduce", 3, "float64", 1),
            header(5, "barrier"),
        ]
    )
    assert comm.describe(headers[0]) == "the gradient reduction after forward pass 7 (2,462 float32 in 2 buckets)"
    assert comm.describe(header(1, "broadcast", 10, "int64", 1)) == "broadcast of 10 int64 from rank 1"
    assert comm.describe(header(1, "all_gather", 2, "uint8")) == "all_gather of 2 uint8 per rank"
    assert comm.disagreement(headers).startswith(
        "the ranks are not doing the same collective (ranks 0, 1: collective #4, the gradient reduction after "
        "forward pass 7 (2,462 float32 in 2 buckets); rank 2: collective #4, all_reduce of 3 float64 (mean); "
        "rank 3: collective #5, barrier). A rank skipped"
    )


# ----- the launcher -----------------------------------------------------------------------------------
def test_the_launch_command_and_the_ranks_environment():
    command = launch.command(4, ["train", "--epochs", "2"], "/opt/mpi/bin/mpiexec")
    assert command == [
        "/opt/mpi/bin/mpiexec",
        "-n",
        "4",
        sys.executable,
        "-m",
        "mpi4py",
        "-m",
        "chainrule",
        "train",
        "--epochs",
        "2",
    ]
    env = launch.environment(
        {"OMP_NUM_THREADS": "2", "PATH": "/bin"}, timeout=90.0, stall_timeout=30.0, rank_dir="/tmp/x"
    )
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "2"  # the user's own choice stays
    assert env["MPIEXEC_TIMEOUT"] == "90" and env["CHAINRULE_STALL_TIMEOUT"] == "30"
    assert env[launch.RANK_DIR_VARIABLE] == "/tmp/x" and "CHAINRULE_STALL_WARNING" not in env
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in env


def test_open_mpi_may_run_as_root_and_oversubscribe():
    env = launch.environment({"OMPI_MCA_rmaps_base_oversubscribe": "0"}, "openmpi")
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == "1" and env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    assert env["PRTE_MCA_rmaps_default_mapping_policy"] == ":oversubscribe"
    assert env["OMPI_MCA_rmaps_base_oversubscribe"] == "0"  # the user's setting stays


def test_mpiexec_missing_is_said_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(launch.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"pip install 'chainrule\[distributed\]'"):
        launch.find_mpiexec()


# ----- before init, and a job of one -----------------------------------------------------------------
def test_importing_chainrule_and_its_distributed_package_imports_no_mpi():
    code = (
        "import sys, chainrule, chainrule.distributed, chainrule.training; "
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_calls_before_init_say_what_to_do():
    if comm.is_initialized():
        pytest.skip("this process has joined an MPI job")
    with pytest.raises(RuntimeError, match=r"call chainrule.distributed.init\(\) first"):
        comm.rank()
    with pytest.raises(RuntimeError, match=r"call chainrule.distributed.init\(\) first"):
        comm.all_reduce(np.zeros(2))


ONE_PROCESS = """
import numpy as np, chainrule as cr
from chainrule import distributed as dist, nn
assert dist.init() == 0 and dist.is_initialized() and dist.world_size() == 1
x = np.arange(3.0)
assert dist.all_reduce(x, "mean") is x and x.tolist() == [0, 1, 2]
assert dist.all_gather(np.array([5])).tolist() == [[5]]
dist.barrier()
model = dist.DistributedDataParallel(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))
model(cr.tensor(np.ones((3, 2), np.float32)))[:, 0].sum().backward()
model.reduce_gradients()
assert model.module[1].weight.grad[1].tolist() == [0, 0]
for call, error in [(lambda: dist.all_reduce([1.0]), "all_reduce: expected a NumPy array or a Tensor, got list"),
                    (lambda: dist.all_reduce(np.zeros(2), "avg"), "all_reduce: op must be one of sum, mean, max, min"),
                    (lambda: dist.all_reduce(np.zeros(2, int), "mean"), "op='mean' needs a floating-point array"),
                    (lambda: dist.all_reduce(np.zeros((2, 2))[:, 0]), "must be C-contiguous"),
                    (lambda: dist.broadcast(np.zeros(2), root=1), "root must be a rank from 0 to 0, got 1"),
                    (lambda: dist.all_reduce(np.zeros(2, dtype="U1")), "cannot send arrays of dtype <U1"),
                    (lambda: dist.DistributedDataParallel(3), "expected an nn.Module, got int"),
                    (lambda: dist.DistributedDataParallel(nn.Linear(1, 1), 0), "bucket_cap_mb must be a positive")]:
    try:
        call()
    except (TypeError, ValueError) as e:
        assert error in str(e), (error, str(e))
    else:
        raise AssertionError(error)
print("ok")
"""


def test_a_job_of_one_process_and_bad_arguments(mpi):
    job = mpi([sys.executable, "-c", ONE_PROCESS], timeout=60)
    assert job.status == 0 and job.output.strip() == "ok", job


def test_bad_stall_settings(mpi):
    code = "import chainrule.distributed as d; d.init(stall_warning=-1)"
    job = mpi([sys.executable, "-c", code], timeout=60)
    assert "stall_warning must be a non-negative number of seconds, got -1" in job.output
    job = mpi(
        [sys.executable, "-c", "import chainrule.distributed as d; d.init()"],
        timeout=60,
        env={"CHAINRULE_STALL_TIMEOUT": "soon"},
    )
    assert "CHAINRULE_STALL_TIMEOUT must be a number of seconds, got 'soon'" in job.output


def test_sync_batchnorm_outside_a_job_is_the_plain_layer_it_replaced():
    from chainrule.distributed import SyncBatchNorm

    nn.init.manual_seed(1)
    plain = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3, momentum=None), nn.Sequential(nn.BatchNorm1d(3)))
    nn.init.manual_seed(1)
    synced = SyncBatchNorm.convert_sync_batchnorm(
        nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3, momentum=None), nn.Sequential(nn.BatchNorm1d(3)))
    )
    assert isinstance(synced[1], SyncBatchNorm) and isinstance(synced[2][0], SyncBatchNorm)
    assert synced[1].momentum is None and list(synced.state_dict()) == list(plain.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    for mode in (True, False):
        plain.train(mode), synced.train(mode)
        np.testing.assert_allclose(synced(cr.Tensor(x)).data, plain(cr.Tensor(x)).data, rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"SyncBatchNorm\(3, .*\): input has 5 channels \(shape \(2, 5\)\), expected 3"
    ):
        synced[1](cr.Tensor(np.zeros((2, 5), np.float32)))


@pytest.mark.parametrize(
    "banner, kind",
    [
        ("mpiexec (Open MPI) 5.0.11", "openmpi"),
        ("HYDRA build details:\n    Version: 5.0.2", "mpich"),
        ("something else", "unknown"),
    ],
)
def test_the_mpi_flavour_is_read_from_mpiexec_version(tmp_path, banner, kind):
    fake = tmp_path / "mpiexec"
    fake.write_text(f"#!/bin/sh\nprintf '{banner}\\n'\n")
    fake.chmod(0o755)
    assert launch.flavour(str(fake)) == kind
    assert launch.flavour(str(tmp_path / "missing")) == "unknown"
