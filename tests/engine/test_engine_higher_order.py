"""Gradients of gradients: gradgradcheck on hypothesis-drawn inputs, closed-form second
derivatives, Hessian-vector products, and backward(create_graph=True)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import chainrule as cr

SECOND_ORDER_BAR = 1e-7
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)

small_shapes = array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
small_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


ANY = floats(-2.0, 2.0)
POSITIVE = floats(0.3, 3.0)


def leaf(draw, shape, elements=ANY):
    return cr.tensor(draw(arrays(np.float64, shape, elements=elements)), requires_grad=True)


def assert_second_order(fn, inputs, bar=SECOND_ORDER_BAR):
    assert cr.gradgradcheck(fn, inputs)  # raises GradcheckError with the details on a mismatch
    error = cr.max_relative_error(fn, inputs, second_order=True)
    assert error <= bar, f"second-order max relative error {error:.3g} > {bar}"


def softmax(x):
    return cr.exp(x - cr.logsumexp(x, axis=-1, keepdims=True))


UNARY = {
    "exp": (cr.exp, ANY),
    "log": (cr.log, POSITIVE),
    "sqrt": (cr.sqrt, POSITIVE),
    "sin": (cr.sin, ANY),
    "cos": (cr.cos, ANY),
    "tanh": (cr.tanh, ANY),
    "sigmoid": (cr.sigmoid, floats(-5.0, 5.0)),
    "softplus": (cr.softplus, floats(-5.0, 5.0)),
    "erf": (cr.erf, ANY),
    "gelu": (cr.gelu, ANY),
    "gelu_tanh": (lambda x: cr.gelu(x, approximate="tanh"), ANY),
    "reciprocal": (lambda x: 1 / x, POSITIVE),
    "neg": (lambda x: -x, ANY),
    "scale": (lambda x: 2.5 * x, ANY),
    "add_constant": (lambda x: x + 3.0, ANY),
    "pow_3": (lambda x: x**3, ANY),
    "pow_4": (lambda x: x**4, ANY),
    "pow_2": (lambda x: x**2, ANY),
    "pow_fraction": (lambda x: x**1.5, POSITIVE),
    "elu_negative_side": (cr.elu, floats(-2.0, -0.05)),
    "softmax": (softmax, ANY),
    "logsumexp": (lambda x: cr.logsumexp(x, axis=-1), ANY),
    "mean_of_squares": (lambda x: (x * x).mean(axis=0), ANY),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), shape=small_shapes)
def test_gradgradcheck_unary(name, data, shape):
    fn, elements = UNARY[name]
    assert_second_order(fn, [leaf(data.draw, shape, elements)])


BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: x**y,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), pair=small_pairs)
def test_gradgradcheck_binary(name, data, pair):
    shape_x, shape_y = pair.input_shapes
    x = leaf(data.draw, shape_x, POSITIVE if name == "pow" else ANY)
    y = leaf(data.draw, shape_y, POSITIVE if name == "div" else ANY)
    assert_second_order(BINARY[name], [x, y])


@SETTINGS
@given(data=st.data(), pair=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=1, max_side=3))
def test_gradgradcheck_matmul(data, pair):
    shape_x, shape_y = pair.input_shapes
    x, y = leaf(data.draw, shape_x), leaf(data.draw, shape_y)
    assert_second_order(lambda a, b: a @ b, [x, y])
    # A nonlinear function of the product, so the second derivative is not zero.
    assert_second_order(lambda a, b: cr.tanh(a @ b), [x, y])


def test_gradgradcheck_prod_with_zeros():
    x = cr.tensor(np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [0.5, -1.0, 2.0]]), requires_grad=True)
    for axis in (0, 1, None):
        assert_second_order(lambda t: t.prod(axis=axis), [x])


# ----- closed forms ---------------------------------------------------------------------------
def second_derivative(fn, value):
    x = cr.tensor(np.array(value), requires_grad=True)
    (first,) = cr.grad(fn(x), [x], create_graph=True)
    (second,) = cr.grad(first, [x])
    return first.item(), second.item()


@pytest.mark.parametrize("value", [-1.3, 0.2, 0.9])
def test_second_derivatives_match_closed_forms(value):
    t, s = math.tanh(value), 1 / (1 + math.exp(-value))
    closed = {
        "tanh": (cr.tanh, 1 - t * t, -2 * t * (1 - t * t)),
        "sigmoid": (cr.sigmoid, s * (1 - s), s * (1 - s) * (1 - 2 * s)),
        "exp": (cr.exp, math.exp(value), math.exp(value)),
        "cube": (lambda x: x**3, 3 * value**2, 6 * value),
        "pow_2.5_of_abs": (
            lambda x: abs(x) ** 2.5,
            2.5 * abs(value) ** 1.5 * math.copysign(1, value),
            3.75 * abs(value) ** 0.5,
        ),
    }
    for name, (fn, d1, d2) in closed.items():
        got1, got2 = second_derivative(fn, value)
        assert got1 == pytest.approx(d1, rel=1e-12, abs=1e-12), name
        assert got2 == pytest.approx(d2, rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize("value", [0.3, 1.0, 2.7])
def test_second_derivative_of_log_and_tensor_power(value):
    assert second_derivative(cr.log, value) == pytest.approx((1 / value, -1 / value**2), rel=1e-12)
    # d/dx 2^x = ln2 2^x, twice: ln2^2 2^x (tensor exponent, constant base)
    assert second_derivative(lambda x: 2.0**x, value) == pytest.approx(
        (math.log(2) * 2**value, math.log(2) ** 2 * 2**value), rel=1e-12
    )


def test_hessian_vector_product_matches_explicit_hessian():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    a_sym = a + a.T
    b = rng.standard_normal(4)
    w = rng.standard_normal((2, 4))
    x = cr.tensor(rng.standard_normal(4), requires_grad=True)
    v = rng.standard_normal(4)

    def f(t):  # 1/2 x^T A x + b.x + sum(tanh(W x)): quadratic plus a matmul nonlinearity
        return 0.5 * (t @ cr.tensor(a_sym) @ t) + cr.dot(cr.tensor(b), t) + cr.tanh(cr.tensor(w) @ t).sum()

    (g,) = cr.grad(f(x), [x], create_graph=True)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), [x])
    th = np.tanh(w @ x.data)
    hessian = a_sym + w.T @ np.diag(-2 * th * (1 - th * th)) @ w
    np.testing.assert_allclose(g.data, a_sym @ x.data + b + w.T @ (1 - th * th), rtol=1e-12)
    np.testing.assert_allclose(hv.data, hessian @ v, rtol=1e-10, atol=1e-12)


def test_full_hessian_of_quadratic_row_by_row():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    x = cr.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    (g,) = cr.grad(0.5 * (x @ cr.tensor(a) @ x), [x], create_graph=True)
    rows = [cr.grad(g[i], [x], retain_graph=True)[0].data for i in range(3)]
    np.testing.assert_allclose(np.stack(rows), a, rtol=1e-12)


def test_backward_with_create_graph_then_differentiate_grad():
    x = cr.tensor(np.array([0.3, -0.5, 1.2]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, cr.Tensor) and first.requires_grad
    np.testing.assert_allclose(first.data, 3 * x.data**2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)


def test_third_derivative():
    x = cr.tensor(np.array(0.7), requires_grad=True)
    (g1,) = cr.grad(cr.sin(x), [x], create_graph=True)
    (g2,) = cr.grad(g1, [x], create_graph=True)
    (g3,) = cr.grad(g2, [x])
    assert (g1.item(), g2.item(), g3.item()) == pytest.approx((math.cos(0.7), -math.sin(0.7), -math.cos(0.7)))


def test_create_graph_keeps_float32():
    x = cr.tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    (g,) = cr.grad(cr.tanh(x).sum(), [x], create_graph=True)
    (h,) = cr.grad(g.sum(), [x])
    assert g.dtype == np.float32 and h.dtype == np.float32
