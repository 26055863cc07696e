"""Factories, random draws, dtypes, devices and generators with PyTorch's names (chainrule/factories.py,
dtypes.py, devices.py, cuda.py, random.py)."""

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize(
    "make, shape, dtype",
    [
        (lambda: cr.zeros(2, 3), (2, 3), np.float32),
        (lambda: cr.zeros((2, 3)), (2, 3), np.float32),
        (lambda: cr.ones([4]), (4,), np.float32),
        (lambda: cr.empty(0, 2), (0, 2), np.float32),
        (lambda: cr.zeros(2, dtype=cr.long), (2,), np.int64),
        (lambda: cr.ones(), (), np.float32),
        (lambda: cr.full((2, 2), 7), (2, 2), np.int64),
        (lambda: cr.full((2,), 0.5), (2,), np.float32),
        (lambda: cr.full([3], True), (3,), np.bool_),
        (lambda: cr.full(3, 1, dtype=cr.float64), (3,), np.float64),
        (lambda: cr.eye(3), (3, 3), np.float32),
        (lambda: cr.eye(2, 4, dtype=cr.int32), (2, 4), np.int32),
        (lambda: cr.arange(5), (5,), np.int64),
        (lambda: cr.arange(1, 2, 0.25), (4,), np.float32),
        (lambda: cr.arange(0.0, 3), (3,), np.float32),
        (lambda: cr.linspace(0, 1, 5), (5,), np.float32),
        (lambda: cr.rand(2, 3), (2, 3), np.float32),
        (lambda: cr.randn((4,), dtype=cr.float64), (4,), np.float64),
        (lambda: cr.randint(10, (3, 2)), (3, 2), np.int64),
        (lambda: cr.randint(3, 6, size=(5,)), (5,), np.int64),
        (lambda: cr.randperm(6), (6,), np.int64),
        (lambda: cr.zeros_like(cr.arange(3)), (3,), np.int64),
        (lambda: cr.ones_like(np.zeros((2, 2)), dtype=cr.float32), (2, 2), np.float32),
        (lambda: cr.full_like(cr.zeros(2), 3.5), (2,), np.float32),
        (lambda: cr.empty_like(cr.zeros(1, 2)), (1, 2), np.float32),
        (lambda: cr.rand_like(cr.zeros(2, dtype=cr.float64)), (2,), np.float64),
        (lambda: cr.randn_like(cr.zeros(3)), (3,), np.float32),
        (lambda: cr.randint_like(cr.zeros(2), 5), (2,), np.float32),
        (lambda: cr.zeros(2).new_zeros(3), (3,), np.float32),
        (lambda: cr.arange(2).new_ones((2, 2)), (2, 2), np.int64),
        (lambda: cr.zeros(1).new_full((2,), 4), (2,), np.float32),
        (lambda: cr.zeros(1).new_empty(3), (3,), np.float32),
        (lambda: cr.zeros(1, dtype=cr.float64).new_tensor([1, 2]), (2,), np.float64),
    ],
)
def test_factories_give_pytorchs_shapes_and_dtypes(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype == dtype and not t.requires_grad


def test_factory_values():
    np.testing.assert_array_equal(cr.arange(2, 8, 2).data, [2, 4, 6])
    np.testing.assert_allclose(cr.linspace(-1, 1, 3).data, [-1, 0, 1])
    np.testing.assert_array_equal(cr.eye(2).data, np.eye(2))
    np.testing.assert_array_equal(cr.full((2,), 7).data, [7, 7])
    assert sorted(cr.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    draws = cr.randint(3, 6, (1000,)).data
    assert draws.min() == 3 and draws.max() == 5
    u = cr.rand(10000).data
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    assert abs(cr.randn(10000).data.std() - 1) < 0.05


def test_factories_make_leaves_to_train_and_check_their_arguments():
    w = cr.randn(3, 2, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    assert cr.zeros(2, device="cpu").device == "cpu" and cr.ones(2, device=cr.device("cpu")).shape == (2,)
    with pytest.raises(RuntimeError, match="device: chainrule runs on the CPU only"):
        cr.zeros(2, device="cuda:0")
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        cr.arange(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"zeros: a size must be non-negative ints, got \(2, -1\)"):
        cr.zeros(2, -1)
    with pytest.raises(ValueError, match="arange: step must not be 0"):
        cr.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"randint: low \(5\) must be less than high \(5\)"):
        cr.randint(5, 5, (2,))
    with pytest.raises(TypeError, match=r"randint: expected randint\(high, size\) or randint\(low, high, size\)"):
        cr.randint(5)
    with pytest.raises(TypeError, match="rand: dtype must be float32 or float64"):
        cr.rand(2, dtype=cr.int64)


def test_random_draws_repeat_after_manual_seed_and_follow_a_generator():
    cr.manual_seed(7)
    first = [cr.rand(3).data, cr.randn(2).data, cr.randint(0, 9, (4,)).data, cr.randperm(5).data]
    cr.manual_seed(7)
    again = [cr.rand(3).data, cr.randn(2).data, cr.randint(0, 9, (4,)).data, cr.randperm(5).data]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert cr.initial_seed() == 7
    g = cr.Generator().manual_seed(3)
    h = np.random.default_rng(3)
    np.testing.assert_array_equal(cr.rand(4, generator=g, dtype=cr.float64).data, h.random(4))
    assert g.initial_seed() == 3 and isinstance(g, np.random.Generator)
    state = g.get_state()
    a = cr.randn(3, generator=g).data
    g.set_state(state)
    np.testing.assert_array_equal(cr.randn(3, generator=g).data, a)
    with pytest.raises(TypeError, match="randn: generator must be a chainrule.Generator, a numpy.random.Generator"):
        cr.randn(2, generator=5)
    with pytest.raises(TypeError, match="manual_seed: seed must be an int"):
        cr.manual_seed(1.5)


def test_multinomial_draws_in_proportion_to_the_weights():
    weights = cr.tensor([0.0, 1.0, 3.0])
    draws = cr.multinomial(weights, 4000, replacement=True, generator=cr.Generator().manual_seed(0)).data
    assert draws.dtype == np.int64 and draws.shape == (4000,) and 0 not in draws
    assert abs((draws == 2).mean() - 0.75) < 0.03
    rows = cr.tensor([[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 5.0, 1.0]])
    picked = rows.multinomial(2)
    assert picked.shape == (2, 2)
    for row, chosen in zip(rows.data, picked.data):
        assert len(set(chosen)) == 2 and all(row[c] > 0 for c in chosen)  # without replacement: distinct
    with pytest.raises(ValueError, match="multinomial: cannot draw 3 samples without replacement from 2 categories"):
        rows.multinomial(3)
    with pytest.raises(ValueError, match="multinomial: weights must be finite and non-negative"):
        cr.multinomial(cr.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match="multinomial: every row of weights needs a positive sum"):
        cr.multinomial(cr.zeros(3), 1)


def test_from_numpy_and_as_tensor_share_memory_and_tensor_copies():
    array = np.arange(3.0)
    shared = cr.from_numpy(array)
    array[0] = 10.0
    assert shared.data[0] == 10.0 and shared.dtype == np.float64
    assert np.shares_memory(cr.as_tensor(array).data, array)
    assert not np.shares_memory(cr.tensor(array).data, array)  # torch.tensor copies, as here
    t = cr.tensor([1.0, 2.0])
    assert cr.as_tensor(t) is t and cr.as_tensor(t, dtype=cr.float64).dtype == np.float64
    assert cr.as_tensor([1.5]).dtype == np.float32
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        cr.from_numpy([1, 2])


def test_dtype_names():
    assert cr.float32 == np.float32 and cr.float == cr.float32 and cr.double == cr.float64
    assert cr.long == cr.int64 and cr.int == cr.int32 and cr.half == cr.float16 and cr.short == cr.int16
    assert cr.bool == np.bool_ and cr.uint8 == np.uint8 and cr.int8 == np.int8
    assert isinstance(cr.float32, cr.dtype) and cr.finfo(cr.float32).eps == np.finfo(np.float32).eps
    assert cr.tensor([1, 2], dtype=cr.long).dtype == cr.int64
    assert cr.zeros(2).dtype == cr.float32 and cr.zeros(2).dtype is cr.float32
    assert "float" not in cr.__all__ and "bool" not in cr.__all__  # `from chainrule import *` keeps the builtins


def test_devices_and_cuda():
    assert not cr.cuda.is_available() and cr.cuda.device_count() == 0
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    assert device == cr.device("cpu") and device.type == "cpu" and repr(device) == "device(type='cpu')"
    assert cr.device("cpu:0").index == 0 and cr.device(device) == device and {device: 1}[cr.device("cpu")] == 1
    cr.cuda.manual_seed(0)
    cr.cuda.manual_seed_all(0)
    with pytest.raises(RuntimeError, match="device: chainrule runs on the CPU only .* device 'mps' is not available"):
        cr.device("mps")
