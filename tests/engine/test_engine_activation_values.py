"""The branch-free activations (sigmoid, softplus, leaky ReLU, ELU, small integer powers) against their
textbook formulas: same values in float32 and float64, at the extremes and on 0-d arrays, no overflow
warnings, and derivatives that are exactly 1 or the slope where the textbook says so.
(Their gradients are checked against central differences in test_engine_gates.py.)"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import chainrule as cr

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
EXTREMES = [-1e4, -800.0, -100.0, -89.0, -30.0, -1.0, -0.0, 0.0, 1e-8, 1.0, 30.0, 100.0, 800.0, 1e4]


def values(dtype):
    finite = st.floats(-120, 120, allow_nan=False, width=32 if dtype == np.float32 else 64)
    return arrays(dtype, array_shapes(min_dims=0, max_dims=2, max_side=5), elements=finite)


def textbook_sigmoid(x):
    return np.array(
        [1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)) for v in x.ravel()], dtype=np.float64
    ).reshape(x.shape)


def close(got, want, rtol):
    """Equal to relative rounding, or both below the smallest normal float (a result there may flush to 0)."""
    return bool(np.all(np.abs(got - want) <= rtol * np.abs(want) + np.finfo(got.dtype).tiny))


def output_and_local_derivative(function, array):
    """function's output and, from a backward with upstream gradient 1, its derivative at each element."""
    t = cr.tensor(array, requires_grad=True)
    out = function(t)
    out.backward(gradient=np.ones_like(array))
    return out, t.grad


def forward(function, array, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        return function(cr.tensor(array), **kwargs).data


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-7), (np.float64, 3e-16)])
@SETTINGS
@given(data=st.data())
def test_sigmoid_matches_the_textbook_to_rounding(dtype, rtol, data):
    x = data.draw(values(dtype))
    got = forward(cr.sigmoid, x)
    assert got.dtype == dtype and got.shape == x.shape
    assert close(got, textbook_sigmoid(x), rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_at_the_extremes_have_their_limits_and_no_warnings(dtype):
    x = np.array(EXTREMES, dtype=dtype)
    s = forward(cr.sigmoid, x)
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] == 0 and s[-1] == 1 and s[7] == 0.5
    assert close(s, textbook_sigmoid(x), 1e-6)
    p = forward(cr.softplus, x)
    assert np.all(np.isfinite(p))
    assert close(p, np.logaddexp(0, x.astype(np.float64)), 1e-6)
    assert p[-1] == x[-1] and p[0] == 0


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
@SETTINGS
@given(data=st.data())
def test_softplus_matches_logaddexp(dtype, rtol, data):
    x = data.draw(values(dtype))
    got = forward(cr.softplus, x)
    assert got.dtype == dtype
    assert close(got, np.logaddexp(0, x.astype(np.float64)), rtol)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.3, 1.0, 1.5, -0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_leaky_relu_values_and_exact_local_derivative(slope, dtype, data):
    x = data.draw(values(dtype))
    out, local = output_and_local_derivative(lambda t: cr.leaky_relu(t, slope), x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, np.where(x > 0, x, x * dtype(slope)))
    np.testing.assert_array_equal(local, np.where(x > 0, 1, dtype(slope)).astype(dtype))


def test_leaky_relu_with_slope_zero_is_relu_even_at_infinity():
    x = np.array([-np.inf, -1.0, 0.0, 2.0, np.inf])
    np.testing.assert_array_equal(cr.leaky_relu(cr.tensor(x), 0.0).data, [0, 0, 0, 2, np.inf])


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_elu_values_and_local_derivative(alpha, dtype, data):
    x = data.draw(values(dtype))
    out, local = output_and_local_derivative(lambda t: cr.elu(t, alpha), x)
    assert out.dtype == dtype
    negative_side = (dtype(alpha) * np.expm1(np.minimum(x, 0))).astype(dtype)
    np.testing.assert_array_equal(out.data, np.where(x > 0, x, negative_side))
    np.testing.assert_array_equal(local, np.where(x > 0, dtype(1), out.data + dtype(alpha)))


def test_activations_of_a_0d_tensor_are_0d_tensors_with_gradients():
    for function in (cr.sigmoid, cr.softplus, lambda t: cr.elu(t, 2.0), lambda t: cr.leaky_relu(t, 0.2)):
        x = cr.tensor(-0.7, requires_grad=True)
        y = function(x)
        assert y.shape == () and isinstance(y.data, np.ndarray)
        y.backward()
        assert x.grad.shape == () and np.isfinite(x.grad)


@pytest.mark.parametrize("p", [3, 4, 3.0])
def test_small_integer_powers_match_numpy_and_differentiate_twice(p):
    x = cr.tensor(np.linspace(-2, 2, 9), requires_grad=True)
    y = x**p
    np.testing.assert_allclose(y.data, np.linspace(-2, 2, 9) ** p, rtol=1e-15)
    (g,) = cr.grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, p * np.linspace(-2, 2, 9) ** (p - 1), rtol=1e-15)
    (h,) = cr.grad(g.sum(), [x])
    np.testing.assert_allclose(
        h.data if hasattr(h, "data") else h, p * (p - 1) * np.linspace(-2, 2, 9) ** (p - 2), rtol=1e-14
    )
