import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule.data.loader as loader_module
from chainrule.data import DataLoader, Dataset, TensorDataset


def epoch(loader):
    """One epoch's batches as plain arrays (the Tensor wrapping is tested separately, below)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader_module, "_tensor", lambda array: array)
        return list(loader)


class Squares(Dataset):
    """A map-style dataset without the TensorDataset fast path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), np.int64(i)


@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 25),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 1000),
    generic=st.booleans(),
)
def test_every_index_once_per_epoch(n, batch_size, shuffle, drop_last, seed, generic):
    dataset = Squares(n) if generic else TensorDataset(np.arange(n, dtype=np.int64))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = epoch(loader)
    assert len(batches) == len(loader)
    indices = [b[-1] for b in batches]
    sizes = [len(i) for i in indices]
    if drop_last:
        assert sizes == [batch_size] * (n // batch_size)
    else:
        assert all(s == batch_size for s in sizes[:-1]) and sum(sizes) == n
    seen = np.concatenate(indices) if indices else np.array([], dtype=np.int64)
    assert len(np.unique(seen)) == len(seen)  # no index twice
    if not drop_last:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_len_counts_batches():
    ds = TensorDataset(np.zeros(10))
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0
    assert len(DataLoader(ds, batch_size=11)) == 1


def test_seed_reproduces_every_epoch_and_epochs_differ():
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=50, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=50, shuffle=True, seed=7)
    first_a, second_a = epoch(a)[0][0], epoch(a)[0][0]
    first_b, second_b = epoch(b)[0][0], epoch(b)[0][0]
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(second_a, second_b)
    assert not np.array_equal(first_a, second_a)  # each epoch reshuffles
    assert not np.array_equal(first_a, np.arange(50))


def test_generator_is_used():
    ds = TensorDataset(np.arange(30))
    a = DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(1))
    expected = np.random.default_rng(1).permutation(30)
    np.testing.assert_array_equal(epoch(a)[0][0], expected)


def test_fast_path_takes_rows_with_labels():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10) % 3
    for xb, yb in epoch(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)):
        index = (xb[:, 0] // 2).astype(int)  # row i of X is [2i, 2i + 1]
        np.testing.assert_array_equal(xb[:, 1], 2 * index + 1)
        np.testing.assert_array_equal(yb, index % 3)
        assert xb.dtype == np.float32


class Counting(TensorDataset):
    """A TensorDataset that counts the samples read one by one (the fast path reads none)."""

    calls = 0

    def __getitem__(self, index):
        Counting.calls += 1
        return super().__getitem__(index)


def test_fast_path_does_not_loop_over_samples():
    Counting.calls = 0
    epoch(DataLoader(Counting(np.zeros((100, 3))), batch_size=10, shuffle=True, seed=0))
    assert Counting.calls == 0


def test_fast_path_batches_are_copies():
    X = np.zeros((4, 2))
    (batch,) = epoch(DataLoader(TensorDataset(X), batch_size=4))[0]
    batch[...] = 1
    assert X.sum() == 0


def test_custom_collate_gets_the_list_of_samples():
    seen = []
    loader = DataLoader(TensorDataset(np.arange(5), np.arange(5) * 2), batch_size=2, collate_fn=seen.append)
    list(loader)
    assert [len(s) for s in seen] == [2, 2, 1]
    assert [int(v) for v in seen[0][1]] == [1, 2]


@pytest.mark.parametrize("bad", [0, -1, 2.0, "4", None, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match=rf"DataLoader: batch_size must be a positive integer, got {bad!r}"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=bad)


def test_numpy_integer_batch_size_is_fine():
    assert len(DataLoader(TensorDataset(np.zeros(10)), batch_size=np.int64(5))) == 2


def test_bad_generator_and_seed_combinations():
    ds = TensorDataset(np.zeros(3))
    with pytest.raises(ValueError, match="seed= or generator=, not both"):
        DataLoader(ds, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=np.random.RandomState(1))


def test_dataset_without_len():
    with pytest.raises(TypeError, match="must define __len__"):
        DataLoader(object())


# ----- batches as Tensors (needs the core) -------------------------------------------


@pytest.fixture
def Tensor():
    return pytest.importorskip("chainrule.tensor").Tensor


def test_default_collate_wraps_tensors(Tensor):
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    batches = list(DataLoader(TensorDataset(X, y), batch_size=4))
    assert len(batches) == 2
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.data.dtype == np.float32 and yb.data.dtype == y.dtype
    np.testing.assert_array_equal(xb.data, X[:4])
    assert xb.shape == (4, 2) and batches[1][0].shape == (2, 2)


def test_generic_dataset_collate(Tensor):
    xb, yb = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert isinstance(xb, Tensor) and xb.shape == (3, 2) and xb.data.dtype == np.float32
    assert yb.data.dtype == np.int64
    np.testing.assert_array_equal(yb.data, [0, 1, 2])


def test_collate_python_numbers_dicts_and_single_arrays(Tensor):
    class Mixed(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": float(i), "label": i, "t": Tensor(np.full(2, i, np.float32))}

    batch = next(iter(DataLoader(Mixed(), batch_size=4)))
    assert batch["x"].data.dtype == np.float32  # chainrule's default float
    assert batch["label"].data.dtype == np.int64
    assert batch["t"].shape == (4, 2)

    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(5, i)

    batch = next(iter(DataLoader(Plain(), batch_size=3)))
    assert isinstance(batch, Tensor) and batch.shape == (3, 5)


def test_collate_rejects_unknown_types(Tensor):
    class Strings(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return "abc"

    with pytest.raises(TypeError, match="cannot batch samples of type str"):
        next(iter(DataLoader(Strings(), batch_size=2)))


# ----- PyTorch's arguments: the default generator, samplers, background workers -------------------------------
def test_shuffling_without_seed_or_generator_follows_manual_seed():
    import chainrule as cr

    ds = TensorDataset(np.arange(40))
    cr.manual_seed(5)
    first = [epoch(DataLoader(ds, batch_size=40, shuffle=True))[0][0] for _ in range(2)]
    cr.manual_seed(5)
    again = [epoch(DataLoader(ds, batch_size=40, shuffle=True))[0][0] for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])  # the default generator moves on
    loader = DataLoader(ds, batch_size=40, shuffle=True, generator=cr.Generator().manual_seed(2))
    np.testing.assert_array_equal(epoch(loader)[0][0], np.random.default_rng(2).permutation(40))


def test_a_sampler_gives_the_order():
    ds = TensorDataset(np.arange(6))
    loader = DataLoader(ds, batch_size=4, sampler=[5, 3, 1])
    assert len(loader) == 1
    np.testing.assert_array_equal(epoch(loader)[0][0], [5, 3, 1])
    with pytest.raises(ValueError, match="DataLoader: sampler gives the order, so shuffle must be False"):
        DataLoader(ds, sampler=[0], shuffle=True)


class Slow(Dataset):
    """A dataset that takes a moment per sample (as reading a file does) and notes which thread read it."""

    def __init__(self, n, fail_at=None):
        self.n, self.fail_at, self.threads, self.read = n, fail_at, set(), []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import threading
        import time

        time.sleep(0.002)
        if i == self.fail_at:
            raise KeyError(f"sample {i} is missing")
        self.threads.add(threading.current_thread().name)
        self.read.append(i)
        return np.array([i, -i], dtype=np.float32), np.int64(i % 3)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_same_batches_in_the_same_order(shuffle, workers):
    plain = epoch(DataLoader(Slow(37), batch_size=5, shuffle=shuffle, seed=1))
    dataset = Slow(37)
    threaded = epoch(DataLoader(dataset, batch_size=5, shuffle=shuffle, seed=1, num_workers=workers))
    assert len(plain) == len(threaded) == 8
    for (a, b), (c, d) in zip(plain, threaded):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert dataset.threads and all(name.startswith("chainrule-loader") for name in dataset.threads)
    fast = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    for (a, b), (c, d) in zip(
        epoch(DataLoader(fast, batch_size=3, shuffle=shuffle, seed=4)),
        epoch(DataLoader(fast, batch_size=3, shuffle=shuffle, seed=4, num_workers=workers)),
    ):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_workers_prepare_batches_ahead_and_stop_when_the_loop_does():
    import time

    dataset = Slow(100)
    loader = DataLoader(dataset, batch_size=2, num_workers=2, prefetch_factor=3)
    batches = iter(loader)
    next(batches)
    deadline = time.monotonic() + 5
    while len(dataset.read) < 8 and time.monotonic() < deadline:  # 2 workers x 3 batches ahead, 2 samples each
        time.sleep(0.01)
    assert len(dataset.read) >= 8  # read before anyone asked for them
    batches.close()  # leaving the loop early: nothing more is read
    settled = len(dataset.read)
    time.sleep(0.05)
    assert len(dataset.read) == settled <= 2 + 2 * 2 * 3 + 2 * 2


def test_a_worker_error_reaches_the_loop_in_order():
    dataset = Slow(20, fail_at=9)
    seen = []
    with pytest.raises(KeyError, match="sample 9 is missing"):
        for xb, _ in DataLoader(dataset, batch_size=4, num_workers=2):
            seen.append(xb)
    assert len(seen) == 2  # batches 0-3 and 4-7 arrived; the one holding sample 9 raised


def test_worker_init_fn_runs_once_per_thread_and_accepted_arguments():
    started = []
    loader = DataLoader(
        Slow(12),
        batch_size=2,
        num_workers=3,
        worker_init_fn=started.append,
        pin_memory=True,
        persistent_workers=True,
        timeout=30,
    )
    assert len(list(loader)) == 6
    assert sorted(started) == [0, 1, 2]
    for bad, message in [
        ({"num_workers": -1}, "num_workers must be a non-negative integer"),
        ({"prefetch_factor": 2}, "prefetch_factor needs num_workers > 0"),
        ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor must be a positive integer"),
        ({"timeout": -1}, "timeout must be a non-negative number"),
    ]:
        with pytest.raises(ValueError, match=message):
            DataLoader(Slow(2), **bad)
    assert "num_workers=3" in repr(loader)


def test_subsets_take_the_fast_path_too():
    from chainrule.data import Subset

    Counting.calls = 0

    ds = Counting(np.arange(10) * 10)
    inner = Subset(Subset(ds, [9, 7, 5, 3, 1]), [4, 0, 2])  # samples 1, 9, 5
    (batch,) = epoch(DataLoader(inner, batch_size=3))[0]
    np.testing.assert_array_equal(batch, [10, 90, 50])
    assert Counting.calls == 0
