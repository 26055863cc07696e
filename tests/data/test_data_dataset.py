import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.data import Dataset, TensorDataset, train_test_split


def test_tensor_dataset_rows_and_length():
    X = np.arange(12).reshape(6, 2)
    y = np.arange(6) * 10
    ds = TensorDataset(X, y)
    assert len(ds) == 6
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, [6, 7])
    assert y3 == 30
    assert ds.arrays[0] is X  # no copy
    assert "6 samples" in repr(ds)


def test_tensor_dataset_accepts_objects_with_array_data():
    class FakeTensor:  # what a chainrule Tensor looks like to the data layer
        def __init__(self, data):
            self.data = data

    X = np.ones((4, 3), np.float32)
    ds = TensorDataset(FakeTensor(X))
    assert ds.arrays[0] is X


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"same first dimension.*\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_tensor_dataset_needs_arrays_with_a_sample_dimension():
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="array 1 is 0-d"):
        TensorDataset(np.zeros(3), np.float32(1))


def test_dataset_base_requires_methods():
    class Empty(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define __len__"):
        len(Empty())
    with pytest.raises(NotImplementedError, match="Empty must define __getitem__"):
        Empty()[0]


@given(n=st.integers(2, 200), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**32 - 1))
def test_split_partitions_the_samples(n, fraction, seed):
    X = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n)
    n_test = int(np.ceil(fraction * n))
    if not 1 <= n_test <= n - 1:
        with pytest.raises(ValueError, match="both need at least one"):
            train_test_split(X, y, test_size=fraction, seed=seed)
        return
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=fraction, seed=seed)
    assert len(y_test) == n_test and len(y_train) == n - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), y)
    np.testing.assert_array_equal(X_train[:, 0] // 2, y_train)  # rows stay paired with labels
    np.testing.assert_array_equal(X_test[:, 0] // 2, y_test)


def test_split_is_seeded():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3])


def test_split_integer_test_size():
    _, X_test, _, y_test = train_test_split(np.zeros((10, 1)), np.arange(10), test_size=3)
    assert X_test.shape == (3, 1) and y_test.shape == (3,)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"test_size": 0.0}, ValueError, r"fraction in \(0, 1\)"),
        ({"test_size": 1.5}, ValueError, r"fraction in \(0, 1\)"),
        ({"test_size": 0}, ValueError, "between 1 and 9"),
        ({"test_size": 10}, ValueError, "between 1 and 9"),
        ({"test_size": "0.2"}, TypeError, "test_size must be"),
        ({"test_size": True}, TypeError, "test_size must be"),
    ],
)
def test_split_bad_test_size(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="first .sample. dimension"):
        train_test_split(np.float32(1), np.zeros(9))


# ----- Subset and random_split (PyTorch's torch.utils.data) ------------------------------------------------
def test_random_split_by_counts_and_fractions():
    import chainrule as cr
    from chainrule.data import Subset, TensorDataset, random_split

    ds = TensorDataset(np.arange(10))
    train, test = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert isinstance(train, Subset) and len(train) == 7 and len(test) == 3
    seen = sorted(int(train[i][0]) for i in range(7)) + sorted(int(test[i][0]) for i in range(3))
    assert sorted(seen) == list(range(10))
    np.testing.assert_array_equal(train.indices + test.indices, np.random.default_rng(0).permutation(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert [len(p) for p in random_split(TensorDataset(np.arange(11)), [0.5, 0.5])] == [6, 5]  # the rest dealt out
    cr.manual_seed(1)
    a = random_split(ds, [5, 5])[0].indices
    cr.manual_seed(1)
    assert random_split(ds, [5, 5])[0].indices == a  # the default generator manual_seed seeds
    with pytest.raises(ValueError, match=r"random_split: lengths \[4, 4\] add up to 8, but the dataset has 10"):
        random_split(ds, [4, 4])
    with pytest.raises(ValueError, match="random_split: fractions must add up to 1"):
        random_split(ds, [0.5, 0.2])


def test_utils_data_is_chainrule_data():
    import chainrule
    import chainrule.data
    from chainrule.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split

    assert DataLoader is chainrule.data.DataLoader and Dataset is chainrule.data.Dataset
    assert TensorDataset is chainrule.data.TensorDataset and Subset is chainrule.data.Subset
    assert random_split is chainrule.data.random_split and chainrule.utils.data.DataLoader is DataLoader
