"""Regression tests for the bugs a peer operator suite and a differential check against PyTorch found (issue 13,
section 3), each fixed in the shared mechanism: the square root of a sum of squares (norm, std), the
derivative of x**p where p = 0, the engine's gradient dtype, flip's repeated dims, softmax of a 0-d tensor and
modules given lists."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Gate, nn


def leaf(values, dtype=np.float64):
    return cr.tensor(np.array(values, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_of_zeros_has_gradient_zero(dtype):
    x = leaf(np.zeros(3), dtype)
    cr.norm(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    rows = leaf([[0.0, 0.0], [3.0, 4.0]])
    rows.norm(dim=1).sum().backward()
    np.testing.assert_allclose(rows.grad, [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.parametrize("correction", [0, 1])
def test_std_of_a_constant_has_gradient_zero(correction):
    x = leaf([2.0, 2.0, 2.0])
    x.std(correction=correction).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    y = leaf([[1.0, 1.0], [1.0, 3.0]])
    y.std(dim=1).sum().backward()
    np.testing.assert_allclose(y.grad, [[0.0, 0.0], [-0.5, 0.5]])


def test_norm_and_std_elsewhere_are_unchanged_and_twice_differentiable():
    x = leaf([[0.3, -1.2, 2.0], [1.0, 0.5, -0.7]])
    assert cr.gradcheck(lambda t: cr.norm(t, dim=1), [x])
    assert cr.gradgradcheck(lambda t: cr.norm(t, dim=1), [x])
    assert cr.gradcheck(lambda t: t.std(dim=0, correction=1), [x])
    assert cr.gradgradcheck(lambda t: t.std(), [x])
    zero = leaf(np.zeros(3))
    (g,) = cr.grad(cr.norm(zero), [zero], create_graph=True)
    np.testing.assert_array_equal(g.data, 0.0)  # also when the gradient is itself a graph
    assert not np.isnan(cr.grad(g.sum(), [zero], allow_unused=True)[0].data).any()


def test_x_to_the_zero_at_zero_has_gradient_zero():
    x = leaf([0.0, 2.0, -1.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    x = leaf([0.0, 2.0, 0.0])
    y = leaf([0.0, 0.0, 2.0])
    (x**y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(y.grad, [0.0, np.log(2.0), 0.0])
    (g,) = cr.grad((x**0).sum(), [x], create_graph=True)
    assert not np.isnan(g.data).any()


def test_pow_second_derivatives_where_the_exponent_is_zero():
    x, y = leaf(0.5), leaf(0.0)
    assert cr.gradgradcheck(lambda a, b: a**b, [x, y])


def test_singular_points_against_torch():
    torch = pytest.importorskip("torch")
    cases = {
        "norm(0)": (lambda t: t.norm(), np.zeros(3)),
        "std(constant)": (lambda t: t.std(), np.full(4, 2.0)),
        "x**0 at 0": (lambda t: (t**0).sum(), np.array([0.0, 1.5])),
    }
    for name, (fn, values) in cases.items():
        ours, theirs = leaf(values), torch.tensor(values, requires_grad=True)
        fn(ours).backward()
        fn(theirs).backward()
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy(), err_msg=name)
    ours, theirs = leaf([0.0, 2.0]), torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    (ours ** cr.tensor([0.0, 0.0])).sum().backward()
    (theirs ** torch.tensor([0.0, 0.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_label_smoothing_keeps_the_logits_dtype():
    logits = cr.tensor(np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32), requires_grad=True)
    target = np.array([0, 3, 1, -100])
    loss = nn.functional.cross_entropy(logits, target, label_smoothing=0.1)
    (grad,) = cr.grad(loss, [logits])
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    weighted = nn.functional.cross_entropy(logits, target, weight=np.ones(5), label_smoothing=0.1)
    assert cr.grad(weighted, [logits])[0].dtype == np.float32


class _WidensItsGradient(Gate):
    def forward(self, x):
        return x * 2

    def backward(self, grad, out, x):
        return (grad * 2).astype(np.float64)


def test_the_engine_gives_each_gradient_its_inputs_dtype():
    """A gate whose backward returns another dtype is corrected where the gradient is handed on (as PyTorch's
    engine does), so gates upstream keep running in the input's dtype."""
    x = leaf([1.0, 2.0], np.float32)
    seen = []
    h = x * 3
    h.register_hook(lambda g: seen.append(g.dtype))
    y = _WidensItsGradient.apply(h)
    (g,) = cr.grad(y.sum(), [x])
    assert g.dtype == np.float32 and seen == [np.float32]
    np.testing.assert_array_equal(g.data, [6.0, 6.0])
    (g,) = cr.grad(_WidensItsGradient.apply(x * 3).sum(), [x], create_graph=True)
    assert g.dtype == np.float32


def test_flip_with_a_repeated_dim_raises():
    with pytest.raises(ValueError, match=r"flip: dims \(0, 0\) name a dimension more than once"):
        cr.zeros(3).flip((0, 0))
    with pytest.raises(ValueError, match=r"flip: dims \(1, -1\) name a dimension more than once"):
        cr.zeros(2, 3).flip((1, -1))


def test_softmax_of_a_0d_tensor():
    x = leaf(3.0)
    assert x.softmax(0).item() == 1.0 and x.log_softmax(-1).item() == 0.0
    x.softmax(0).backward()
    assert x.grad == 0.0
