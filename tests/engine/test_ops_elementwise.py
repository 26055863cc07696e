"""The elementwise operations PyTorch users reach for: gradients against central differences in float64 on
hypothesis-drawn shapes (0-d and broadcasting included), second derivatives, PyTorch's values and gradients
at kinks and singular points, and the errors for bad arguments."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes
from operation_checks import BAR, assert_gradients, assert_matches_torch, away_from, floats, leaf, torch_or_skip

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


# ----- smooth functions of one input ---------------------------------------------------------
SMOOTH = {
    "rsqrt": (cr.rsqrt, floats(0.2, 3.0)),
    "log2": (cr.log2, floats(0.2, 3.0)),
    "log10": (cr.log10, floats(0.2, 3.0)),
    "exp2": (cr.exp2, floats(-3.0, 3.0)),
    "expm1": (cr.expm1, floats(-3.0, 3.0)),
    "log1p": (cr.log1p, floats(-0.8, 3.0)),
    "tan": (cr.tan, floats(-1.2, 1.2)),
    "asin": (cr.asin, floats(-0.9, 0.9)),
    "acos": (cr.acos, floats(-0.9, 0.9)),
    "atan": (cr.atan, floats(-3.0, 3.0)),
    "sinh": (cr.sinh, floats(-3.0, 3.0)),
    "cosh": (cr.cosh, floats(-3.0, 3.0)),
    "asinh": (cr.asinh, floats(-3.0, 3.0)),
    "acosh": (cr.acosh, floats(1.2, 4.0)),
    "atanh": (cr.atanh, floats(-0.9, 0.9)),
    "logsigmoid": (F.logsigmoid, floats(-6.0, 6.0)),
    "mish": (F.mish, floats(-4.0, 4.0)),
    "softsign": (F.softsign, away_from(0.0)),  # |x| has a curvature jump at 0
    "selu": (F.selu, away_from(0.0)),
    "celu": (lambda x: F.celu(x, 1.5), away_from(0.0)),
    "celu_function": (lambda x: cr.celu(x, alpha=0.5), away_from(0.0)),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@SETTINGS
@given(data=st.data(), shape=shapes)
def test_smooth_gradients_and_second_derivatives(name, data, shape):
    fn, elements = SMOOTH[name]
    x = leaf(data.draw, shape, elements)
    assert fn(x).shape == x.shape
    assert_gradients(fn, [x])


# ----- kinked functions, away from their kinks -------------------------------------------------
KINKED = {
    "hardtanh": (F.hardtanh, away_from(-1.0, 1.0)),
    "hardtanh_bounds": (lambda x: F.hardtanh(x, -0.5, 2.0), away_from(-0.5, 2.0)),
    "relu6": (F.relu6, away_from(0.0, 6.0, low=-2.0, high=8.0)),
    "hardsigmoid": (F.hardsigmoid, away_from(-3.0, 3.0)),
    "hardswish": (F.hardswish, away_from(-3.0, 3.0)),
    "clamp_min": (lambda x: cr.clamp_min(x, 0.3), away_from(0.3)),
    "clamp_max": (lambda x: x.clamp_max(-0.3), away_from(-0.3)),
    "remainder": (lambda x: x % 1.5, away_from(-4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5)),
    "fmod": (lambda x: cr.fmod(x, 1.5), away_from(-4.5, -3.0, -1.5, 1.5, 3.0, 4.5)),
}


@pytest.mark.parametrize("name", sorted(KINKED))
@SETTINGS
@given(data=st.data(), shape=shapes)
def test_kinked_gradients_away_from_kinks(name, data, shape):
    fn, elements = KINKED[name]
    assert_gradients(fn, [leaf(data.draw, shape, elements)])


# ----- two inputs, broadcasting ---------------------------------------------------------------
@SETTINGS
@given(data=st.data(), pair=broadcast_pairs)
def test_atan2_and_logaddexp_broadcast(data, pair):
    shape_x, shape_y = pair.input_shapes
    x, y = leaf(data.draw, shape_x, floats(-2.0, 2.0)), leaf(data.draw, shape_y, floats(0.3, 2.0))
    for fn in (cr.atan2, cr.logaddexp, lambda a, b: a.arctan2(b)):
        assert fn(x, y).shape == pair.result_shape
        assert_gradients(fn, [x, y])


@SETTINGS
@given(data=st.data(), pair=broadcast_pairs)
def test_remainder_and_fmod_gradient_in_both_inputs(data, pair):
    # x of the broadcast shape, in (k + 0.1, k + 0.9) * y for whole k: never near a jump of floor(x / y).
    _, shape_y = pair.input_shapes
    y = leaf(data.draw, shape_y, floats(0.5, 2.0))
    whole = data.draw(arrays(np.float64, pair.result_shape, elements=st.integers(-3, 3).map(float)))
    part = data.draw(arrays(np.float64, pair.result_shape, elements=floats(0.1, 0.9)))
    x = cr.tensor((whole + part) * y.data, requires_grad=True)
    for fn in (cr.remainder, cr.fmod, lambda a, b: a % b):
        assert_gradients(fn, [x, y])


@SETTINGS
@given(data=st.data(), shapes3=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_lerp(data, shapes3):
    start, end, weight = [leaf(data.draw, s, floats(-2.0, 2.0)) for s in shapes3.input_shapes]
    assert_gradients(cr.lerp, [start, end, weight])
    assert_gradients(lambda a, b: a.lerp(b, 0.3), [start, end])
    assert_gradients(lambda a, b: cr.lerp(a, b, 0.75), [start, end])


@SETTINGS
@given(data=st.data(), shapes3=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_clamp_with_tensor_bounds(data, shapes3):
    shape_x, shape_low, shape_high = shapes3.input_shapes
    low = leaf(data.draw, shape_low, floats(-1.0, 0.0))
    high = leaf(data.draw, shape_high, floats(0.3, 1.0))
    x = leaf(data.draw, shape_x, away_from(-1.0, 0.0, 0.3, 1.0, low=-2.0, high=2.0))
    gap = np.abs(np.broadcast_to(x.data, shapes3.result_shape) - np.broadcast_to(low.data, shapes3.result_shape))
    gap = np.minimum(gap, np.abs(np.broadcast_to(x.data, shapes3.result_shape) - high.data))
    if gap.size and gap.min() < 1e-3:  # a bound and x coincide: that is a kink
        return
    assert_gradients(cr.clamp, [x, low, high])
    assert_gradients(lambda a, b: a.clamp(min=b), [x, low])
    assert_gradients(lambda a, c: cr.clamp(a, max=c), [x, high])


# ----- zero gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign", "fix"])
def test_rounding_has_zero_gradient_even_for_infinite_upstream(name):
    x = cr.tensor(np.array([-1.5, -0.5, 0.0, 0.5, 2.5, np.inf, np.nan]), requires_grad=True)
    out = getattr(x, name)()
    np.testing.assert_array_equal(
        out.data,
        {
            "floor": np.floor,
            "ceil": np.ceil,
            "round": np.round,
            "trunc": np.trunc,
            "fix": np.trunc,
            "sign": lambda a: np.nan_to_num(np.sign(a)),
        }[name](x.data),
    )
    out.backward(np.array([1.0, np.inf, -np.inf, np.nan, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, np.zeros(7))
    assert (
        cr.max_relative_error(
            lambda t: getattr(cr, name)(t) * t, [cr.tensor([0.3, 1.7], requires_grad=True)], second_order=True
        )
        < BAR
    )


def test_round_halves_to_even_and_decimals():
    x = cr.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, 125.0], dtype=np.float64)
    np.testing.assert_array_equal(x.round().data, [0.0, 2.0, 2.0, -0.0, -2.0, 1.0, 125.0])
    np.testing.assert_allclose(cr.round(x, decimals=2).data, [0.5, 1.5, 2.5, -0.5, -1.5, 1.23, 125.0])
    np.testing.assert_array_equal(x.round(decimals=-1).data, [0.0, 0.0, 0.0, -0.0, -0.0, 0.0, 120.0])


def test_floor_divide_has_zero_gradient_and_the_operators_work_both_ways():
    x = cr.tensor([5.0, -5.0, 7.5], requires_grad=True)
    (x // 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0])
    np.testing.assert_array_equal((7.0 // x).data, [1.0, -2.0, 0.0])
    np.testing.assert_array_equal((7.0 % x).data, np.remainder(7.0, x.data))
    np.testing.assert_array_equal((x % 3).data, [2.0, 1.0, 1.5])
    np.testing.assert_array_equal(x.remainder(-3).data, [-1.0, -2.0, -1.5])
    np.testing.assert_array_equal(x.floor_divide(2).data, [2.0, -3.0, 3.0])


def test_integers_stay_integers():
    i = cr.tensor(np.array([5, -5, 7]))
    assert (i % 3).dtype == np.int64 and (i // 2).dtype == np.int64
    np.testing.assert_array_equal((i % 3).data, [2, 1, 1])
    np.testing.assert_array_equal(i.fmod(3).data, [2, -2, 1])
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        assert getattr(i, name)().dtype == np.int64
    assert (i % 2.5).dtype == np.float32  # a float meeting integers makes the default float, as in PyTorch
    assert (cr.tensor([1.0, 2.0]) % 2).dtype == np.float32  # a Python number never promotes
    assert cr.exp2(i).dtype == np.float32 and cr.atan2(i, i).dtype == np.float32


def test_integer_division_by_zero_raises_as_in_pytorch():
    i = cr.tensor(np.array([5, 3]))
    for fn in (lambda: i % 0, lambda: i // cr.tensor(np.array([1, 0])), lambda: cr.fmod(i, 0)):
        with pytest.raises(ZeroDivisionError, match=r"integer division by zero"):
            fn()
    x = cr.tensor([1.0, -1.0, 0.0], dtype=np.float64)
    np.testing.assert_array_equal((x // 0.0).data, [np.inf, -np.inf, np.nan])
    assert np.isnan((x % 0.0).data).all() and np.isnan(cr.fmod(x, 0.0).data).all()


# ----- PyTorch's values and gradients, at kinks and singular points ------------------------------
KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0, -2.9, 2.9, 4.0])
TORCH_UNARY = {
    "hardtanh": (F.hardtanh, lambda t, x: t.nn.functional.hardtanh(x), KINKS),
    "hardtanh_bounds": (lambda x: F.hardtanh(x, -0.5, 3.0), lambda t, x: t.nn.functional.hardtanh(x, -0.5, 3.0), KINKS),
    "relu6": (F.relu6, lambda t, x: t.nn.functional.relu6(x), KINKS),
    "hardsigmoid": (F.hardsigmoid, lambda t, x: t.nn.functional.hardsigmoid(x), KINKS),
    "hardswish": (F.hardswish, lambda t, x: t.nn.functional.hardswish(x), KINKS),
    "logsigmoid": (
        F.logsigmoid,
        lambda t, x: t.nn.functional.logsigmoid(x),
        np.array([-800.0, -30.0, 0.0, 30.0, 800.0]),
    ),
    "mish": (F.mish, lambda t, x: t.nn.functional.mish(x), KINKS),
    "selu": (F.selu, lambda t, x: t.nn.functional.selu(x), KINKS),
    "celu": (lambda x: F.celu(x, 2.0), lambda t, x: t.nn.functional.celu(x, 2.0), KINKS),
    "softsign": (F.softsign, lambda t, x: t.nn.functional.softsign(x), KINKS),
    "clamp": (lambda x: x.clamp(-1.0, 1.0), lambda t, x: x.clamp(-1.0, 1.0), KINKS),
    "clamp_min": (lambda x: x.clamp_min(0.5), lambda t, x: x.clamp_min(0.5), KINKS),
    "clamp_max": (lambda x: cr.clamp_max(x, 0.5), lambda t, x: t.clamp_max(x, 0.5), KINKS),
    "rsqrt": (cr.rsqrt, lambda t, x: t.rsqrt(x), np.array([0.0, 0.25, 4.0, -1.0, np.inf])),
    "log2": (cr.log2, lambda t, x: t.log2(x), np.array([0.0, 0.5, 8.0, -1.0, np.inf])),
    "log10": (cr.log10, lambda t, x: t.log10(x), np.array([0.0, 0.5, 100.0, -1.0])),
    "log1p": (cr.log1p, lambda t, x: t.log1p(x), np.array([-1.0, -0.5, 0.0, 1e-10, 3.0, -2.0])),
    "expm1": (cr.expm1, lambda t, x: t.expm1(x), np.array([-np.inf, -1.0, 0.0, 1e-10, 3.0])),
    "exp2": (cr.exp2, lambda t, x: t.exp2(x), np.array([-np.inf, -1.0, 0.0, 3.0])),
    "tan": (cr.tan, lambda t, x: t.tan(x), np.array([-1.0, 0.0, 1.5])),
    "asin": (cr.asin, lambda t, x: t.asin(x), np.array([-1.0, -0.5, 0.0, 1.0, 2.0])),
    "acos": (cr.acos, lambda t, x: t.acos(x), np.array([-1.0, -0.5, 0.0, 1.0, 2.0])),
    "atan": (cr.atan, lambda t, x: t.atan(x), np.array([-np.inf, -1.0, 0.0, 10.0])),
    "sinh": (cr.sinh, lambda t, x: t.sinh(x), np.array([-2.0, 0.0, 3.0])),
    "cosh": (cr.cosh, lambda t, x: t.cosh(x), np.array([-2.0, 0.0, 3.0])),
    "asinh": (cr.asinh, lambda t, x: t.asinh(x), np.array([-2.0, 0.0, 3.0])),
    "acosh": (cr.acosh, lambda t, x: t.acosh(x), np.array([0.5, 1.0, 3.0])),
    "atanh": (cr.atanh, lambda t, x: t.atanh(x), np.array([-1.0, -0.5, 0.0, 1.0, 2.0])),
    "floor": (cr.floor, lambda t, x: t.floor(x), KINKS + 0.5),
    "ceil": (cr.ceil, lambda t, x: t.ceil(x), KINKS + 0.5),
    "round": (cr.round, lambda t, x: t.round(x), KINKS + 0.5),
    "round_decimals": (lambda x: x.round(decimals=1), lambda t, x: x.round(decimals=1), KINKS / 7),
    "trunc": (cr.trunc, lambda t, x: t.trunc(x), KINKS + 0.5),
    "sign": (cr.sign, lambda t, x: t.sign(x), np.array([-1.0, -0.0, 0.0, 2.0, np.nan])),
}


@pytest.mark.parametrize("name", sorted(TORCH_UNARY))
def test_values_and_gradients_match_pytorch_at_kinks_and_singular_points(name):
    ours, theirs, values = TORCH_UNARY[name]
    torch = torch_or_skip()
    assert_matches_torch(ours, lambda x: theirs(torch, x), values, rtol=1e-7)


def test_binary_operations_match_pytorch_at_singular_points():
    torch = torch_or_skip()
    y = np.array([0.0, 0.0, 1.0, -1.0, 5.0, -5.0, np.inf])
    x = np.array([0.0, -0.0, 0.0, 0.0, 3.0, 3.0, 1.0])
    assert_matches_torch(cr.atan2, torch.atan2, y, x)
    a = np.array([1.0, -np.inf, np.inf, 0.0, 700.0, -3.0])
    b = np.array([1.0, -np.inf, 2.0, 0.0, -700.0, 4.0])
    assert_matches_torch(cr.logaddexp, torch.logaddexp, a, b)
    num = np.array([5.0, -5.0, 5.0, -5.0, 5.0, 4.5, 0.0])
    den = np.array([3.0, 3.0, -3.0, -3.0, 0.0, 1.5, 2.0])
    assert_matches_torch(cr.remainder, torch.remainder, num, den)
    assert_matches_torch(cr.fmod, torch.fmod, num, den)
    assert_matches_torch(lambda p, q: p % q, lambda p, q: p % q, num, den)
    assert_matches_torch(lambda p, q: cr.lerp(p, q, 0.3), lambda p, q: torch.lerp(p, q, 0.3), num, den)
    assert_matches_torch(lambda p, q: cr.lerp(p, q, 1.0), lambda p, q: torch.lerp(p, q, 1.0), num, den)
    w = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5])
    assert_matches_torch(cr.lerp, torch.lerp, num, den, w)


def test_clamp_with_tensor_bounds_matches_pytorch_at_ties_and_crossed_bounds():
    torch = torch_or_skip()
    x = np.array([-1.0, 1.0, 0.5, 3.0, 0.0, -2.0])
    low = np.array([-1.0, -1.0, 1.0, 2.0, 0.0, -3.0])
    high = np.array([1.0, 1.0, 1.0, 1.0, 0.0, -2.5])
    assert_matches_torch(cr.clamp, torch.clamp, x, low, high)
    assert_matches_torch(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), x, low)
    assert_matches_torch(lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), x, high)
    assert_matches_torch(lambda a, b: cr.clamp_min(a, b), torch.clamp_min, x, low)
    assert_matches_torch(lambda a, c: cr.clamp_max(a, c), torch.clamp_max, x, high)


def test_integer_clamp_with_a_tensor_bound():
    i = cr.tensor(np.array([1, 5, 9]))
    np.testing.assert_array_equal(i.clamp(max=cr.tensor(np.array([4, 4, 10]))).data, [1, 4, 9])


# ----- tests of values: booleans, no gradient ------------------------------------------------------
def test_isnan_isinf_isfinite_isclose_allclose():
    torch = torch_or_skip()
    a = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, 1e-9])
    b = np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 1e-7, 0.0])
    x = cr.tensor(a, requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        out = getattr(x, name)()
        assert out.dtype == bool and not out.requires_grad
        np.testing.assert_array_equal(out.data, getattr(torch, name)(torch.tensor(a)).numpy())
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-6}):
        np.testing.assert_array_equal(
            cr.isclose(x, b, **kwargs).data, torch.isclose(torch.tensor(a), torch.tensor(b), **kwargs).numpy()
        )
        assert x.allclose(cr.tensor(b), **kwargs) == torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)
    assert cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-9])) is True


# ----- modules and functional names ---------------------------------------------------------------
MODULES = [
    (nn.Hardtanh(), F.hardtanh),
    (nn.Hardtanh(-2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    (nn.ReLU6(), F.relu6),
    (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardswish(), F.hardswish),
    (nn.Mish(), F.mish),
    (nn.SELU(), F.selu),
    (nn.CELU(0.7), lambda x: F.celu(x, 0.7)),
    (nn.Softsign(), F.softsign),
    (nn.LogSigmoid(), F.logsigmoid),
]


@pytest.mark.parametrize("module, function", MODULES, ids=lambda m: type(m).__name__)
def test_modules_call_their_functions(module, function):
    x = cr.tensor(np.linspace(-5.0, 5.0, 12).reshape(3, 4), requires_grad=True)
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert module(x).requires_grad and type(module).__name__ in repr(module)


def test_modules_match_pytorch():
    torch = torch_or_skip()
    x = np.linspace(-5.0, 5.0, 24).reshape(4, 6)
    for ours, theirs in [
        (nn.Hardtanh(-2.0, 0.5), torch.nn.Hardtanh(-2.0, 0.5)),
        (nn.ReLU6(), torch.nn.ReLU6()),
        (nn.Hardsigmoid(), torch.nn.Hardsigmoid()),
        (nn.Hardswish(), torch.nn.Hardswish()),
        (nn.Mish(), torch.nn.Mish()),
        (nn.SELU(), torch.nn.SELU()),
        (nn.CELU(0.7), torch.nn.CELU(0.7)),
        (nn.Softsign(), torch.nn.Softsign()),
        (nn.LogSigmoid(), torch.nn.LogSigmoid()),
    ]:
        assert_matches_torch(ours, theirs, x, rtol=1e-7)


def test_float32_stays_float32():
    x = cr.tensor(np.linspace(-4, 4, 9, dtype=np.float32), requires_grad=True)
    for fn in (
        F.hardtanh,
        F.relu6,
        F.hardsigmoid,
        F.hardswish,
        F.mish,
        F.selu,
        F.celu,
        F.softsign,
        F.logsigmoid,
        cr.rsqrt,
        cr.log1p,
        cr.expm1,
        cr.exp2,
        cr.atan,
        cr.sinh,
        cr.asinh,
        cr.floor,
        lambda t: t % 1.5,
        lambda t: cr.logaddexp(t, 1.0),
        lambda t: cr.atan2(t, 2.0),
        lambda t: cr.lerp(t, 1.0, 0.5),
    ):
        out = fn(x)
        assert out.dtype == np.float32, fn
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


# ----- bad arguments ------------------------------------------------------------------------------
def test_bad_arguments_say_what_was_expected():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\.0\) must not exceed max_val \(1\.0\)"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(TypeError, match=r"hardtanh: min_val must be a number, got 'a'"):
        F.hardtanh(x, "a")
    with pytest.raises(ValueError, match=r"Hardtanh: min_val \(3\) must not exceed max_val \(1\.0\)"):
        nn.Hardtanh(3)
    with pytest.raises(ValueError, match=r"celu: alpha must be a non-zero number, got 0"):
        F.celu(x, 0)
    with pytest.raises(ValueError, match=r"CELU: alpha must not be 0"):
        nn.CELU(0.0)
    with pytest.raises(TypeError, match=r"round: decimals must be an int, got 1\.5"):
        x.round(decimals=1.5)
    with pytest.raises(ValueError, match=r"clip: give min, max or both"):
        x.clamp()
    with pytest.raises(ValueError, match=r"remainder: shapes \(2,\) and \(3,\) cannot broadcast together"):
        cr.remainder(x, cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"isclose: shapes \(2,\) and \(3,\) cannot broadcast together"):
        cr.isclose(x, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"allclose: rtol must be a non-negative number, got -1"):
        cr.allclose(x, x, rtol=-1)


def test_singular_points_give_no_warnings():
    import warnings

    x = cr.tensor([0.0, 1.0, -1.0], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (
            cr.rsqrt,
            cr.log2,
            cr.log10,
            cr.log1p,
            cr.asin,
            cr.acos,
            cr.acosh,
            cr.atanh,
            lambda t: cr.atan2(t, t * 0),
            lambda t: t % 0.0,
            lambda t: t // 0.0,
        ):
            fn(x).backward(np.ones(3))
            x.grad = None


def test_math_constants_of_selu():
    out = F.selu(cr.tensor([-1.0, 1.0], dtype=np.float64))
    np.testing.assert_allclose(out.data, [1.0507009873554805 * 1.6732632423543772 * math.expm1(-1), 1.0507009873554805])
