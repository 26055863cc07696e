"""nn.init: PyTorch's formulas, checked on the statistics of large tensors; seeding; in-place writes."""

import math

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.nn import init


def big(shape=(400, 300), dtype=np.float32):
    return nn.Parameter(np.empty(shape, dtype=dtype))


def test_calculate_gain_matches_pytorch():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope must be a number"):
        init.calculate_gain("leaky_relu", "x")


def test_fans_follow_pytorch_layout():
    assert init._calculate_fan_in_and_fan_out(np.empty((256, 784))) == (784, 256)
    assert init._calculate_fan_in_and_fan_out(np.empty((16, 3, 5, 5))) == (75, 400)
    with pytest.raises(ValueError, match=r"at least 2 dimensions; got shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(np.empty(5))


def test_constants_write_in_place_keep_dtype_and_bump_version():
    p = big((3, 4), np.float64)
    array, version = p.data, p._version
    assert init.constant_(p, 2.5) is p
    assert p.data is array and p.dtype == np.float64 and np.all(p.data == 2.5)
    assert p._version > version
    init.zeros_(p)
    assert np.all(p.data == 0)
    init.ones_(p)
    assert np.all(p.data == 1)
    plain = np.zeros((3, 3), dtype=np.float32)
    assert init.eye_(plain) is plain and np.array_equal(plain, np.eye(3))


def test_uniform_and_normal_statistics():
    p = init.uniform_(big(), -2.0, 3.0)
    assert p.dtype == np.float32
    assert p.data.min() >= -2 and p.data.max() < 3
    assert p.data.mean() == pytest.approx(0.5, abs=0.03)
    assert p.data.std() == pytest.approx(5 / math.sqrt(12), rel=0.02)
    init.normal_(p, mean=1.0, std=0.5)
    assert p.data.mean() == pytest.approx(1.0, abs=0.01)
    assert p.data.std() == pytest.approx(0.5, rel=0.02)
    init.trunc_normal_(p, std=1.0, a=-1.0, b=1.5)
    assert p.data.min() >= -1 and p.data.max() <= 1.5


def test_xavier_statistics():
    p = big()  # fan_in 300, fan_out 400
    init.xavier_uniform_(p, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 700)
    assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.99 * bound
    assert p.data.std() == pytest.approx(2.0 * math.sqrt(2 / 700), rel=0.02)
    init.xavier_normal_(p)
    assert p.data.mean() == pytest.approx(0, abs=0.002)
    assert p.data.std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)


@pytest.mark.parametrize("mode, fan", [("fan_in", 300 * 9), ("fan_out", 40 * 9)])
def test_kaiming_statistics_for_both_fan_modes(mode, fan):
    p = big((40, 300, 3, 3))
    init.kaiming_uniform_(p, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.99 * bound
    assert p.data.std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)
    init.kaiming_normal_(p, mode=mode, nonlinearity="relu")
    assert p.data.mean() == pytest.approx(0, abs=0.002)
    assert p.data.std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_normal_(p, mode="fan_avg")


def test_orthogonal_gives_orthonormal_rows():
    p = init.orthogonal_(big((20, 50), np.float64), gain=3.0)
    np.testing.assert_allclose(p.data @ p.data.T, 9 * np.eye(20), atol=1e-10)


def test_manual_seed_and_generators_make_results_reproducible():
    init.manual_seed(3)
    first = init.normal_(big((5, 5))).data.copy()
    init.manual_seed(3)
    assert np.array_equal(init.normal_(big((5, 5))).data, first)
    a = init.uniform_(big((4,)), generator=np.random.default_rng(1)).data.copy()
    b = init.uniform_(big((4,)), generator=np.random.default_rng(1)).data
    assert np.array_equal(a, b)


def test_layers_default_initialisation_is_seeded_and_follows_pytorch():
    init.manual_seed(0)
    one = nn.Linear(300, 200)
    init.manual_seed(0)
    two = nn.Linear(300, 200)
    assert np.array_equal(one.weight.data, two.weight.data) and np.array_equal(one.bias.data, two.bias.data)
    bound = 1 / math.sqrt(300)  # kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(one.weight.data).max() <= bound and np.abs(one.weight.data).max() > 0.99 * bound
    assert np.abs(one.bias.data).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    conv_bound = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.data).max() <= conv_bound and np.abs(conv.bias.data).max() <= conv_bound
    assert nn.Embedding(1000, 50).weight.data.std() == pytest.approx(1, rel=0.03)
    bn = nn.BatchNorm2d(4)
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    assert np.all(bn.running_mean == 0) and np.all(bn.running_var == 1)
    ln = nn.LayerNorm((3, 4))
    assert ln.weight.shape == (3, 4) and np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0)


def test_dropout_masks_follow_the_init_seed():
    x = chainrule.tensor(np.ones((4, 50), dtype=np.float32))
    init.manual_seed(7)
    first = nn.Dropout(0.5)(x).data
    init.manual_seed(7)
    assert np.array_equal(nn.Dropout(0.5)(x).data, first)
    assert np.array_equal(nn.Dropout(0.5, seed=1)(x).data, nn.Dropout(0.5, seed=1)(x).data)


def test_init_errors_name_the_function():
    with pytest.raises(TypeError, match=r"normal_: expected a floating-point tensor, got dtype int64"):
        init.normal_(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="uniform_: expected a Tensor, Parameter or NumPy array, got list"):
        init.uniform_([1.0, 2.0])
    with pytest.raises(ValueError, match="uniform_: needs a <= b"):
        init.uniform_(big((2,)), 1, 0)
