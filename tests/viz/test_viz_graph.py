"""trace(): the graph walk shared by pictures and explanations."""

import numpy as np
import pytest
from graphs import perceptron, scalar

import chainrule as cr
from chainrule.viz import trace


def test_forward_order_is_creation_order_and_backward_follows_the_text():
    f, _ = perceptron()
    walk = trace(f)
    assert [g.label for g in walk.gates] == ["mul", "mul", "add", "add", "*-1", "exp", "+1", "1/x"]
    assert [g.label for g in walk.backward_order] == ["1/x", "+1", "exp", "*-1", "add", "add", "mul", "mul"]
    # the w0*x0 product (created first) is explained before the w1*x1 one
    assert [w.name for w in walk.backward_order[-2].inputs] == ["w0", "x0"]
    assert [w.name for w in walk.leaves] == ["w0", "x0", "w1", "x1", "w2"]


def test_gradients_match_the_engine_without_touching_grad_or_releasing_the_graph():
    f, leaves = perceptron()
    walk = trace(f)
    assert all(x.grad is None for x in leaves)
    f.backward()  # the graph is still there
    for wire, x in zip(walk.leaves, leaves):
        np.testing.assert_allclose(wire.grad, x.grad, rtol=1e-12)


def test_broadcasting_and_reductions_match_the_engine():
    rng = np.random.default_rng(0)
    a = cr.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="a")
    b = cr.tensor(rng.normal(size=(4,)), requires_grad=True, name="b")
    loss = ((a * b).tanh() @ b + a.sum(axis=1)).mean()
    walk = trace(loss)
    loss.backward()
    grads = {w.name: w.grad for w in walk.leaves}
    np.testing.assert_allclose(grads["a"], a.grad, rtol=1e-12)
    np.testing.assert_allclose(grads["b"], b.grad, rtol=1e-12)


def test_fan_out_keeps_each_contribution():
    w = scalar(3.0, "w")
    y = w * w + w.exp()
    leaf = trace(y).leaves[0]
    assert len(leaf.parts) == 3
    assert leaf.grad == pytest.approx(2 * 3.0 + np.exp(3.0))


def test_order_is_deterministic():
    labels = [[g.label for g in trace(perceptron()[0]).backward_order] for _ in range(3)]
    assert labels[0] == labels[1] == labels[2]


def test_constant_inputs_get_no_gradient():
    x = cr.tensor(2.0, dtype=np.float64)  # data, not a parameter
    w = scalar(3.0, "w")
    walk = trace(w * x)
    constant = [wire for wire in walk.leaves if not wire.requires_grad][0]
    assert constant.grad is None
    assert walk.gates[0].sent[1] is None


def test_a_gate_whose_output_gets_no_gradient_still_lets_its_inputs_finish():
    w = scalar(1.5, "w")
    mask = cr.tensor(np.array(1.0))
    y = cr.where(mask > 0, w * 2, (w * 3).exp()) + w  # the exp branch is chosen nowhere
    walk = trace(y)
    assert walk.leaves[0].grad == pytest.approx(3.0)


def test_no_graph_behind_a_leaf_or_under_no_grad():
    x = scalar(1.0, "x")
    with pytest.raises(
        ValueError,
        match=r"trace: this tensor has no graph behind it \(it is a leaf or was "
        r"computed under no_grad\)",
    ):
        trace(x)
    with cr.no_grad():
        y = x * 2
    with pytest.raises(ValueError, match="no graph behind it"):
        trace(y)
    with pytest.raises(TypeError, match="expects a chainrule Tensor"):
        trace(np.ones(3))


def test_released_graph_is_a_clear_error():
    f, _ = perceptron()
    f.backward()
    with pytest.raises(ValueError, match="released by an earlier backward.*retain_graph=True"):
        trace(f)


def test_non_scalar_output_needs_a_gradient_only_when_required():
    x = cr.tensor(np.arange(3.0), requires_grad=True, name="x")
    y = x * 2
    assert not trace(y).has_gradients
    with pytest.raises(ValueError, match=r"shape \(3,\), not a single element; pass gradient="):
        trace(y, gradients="required")
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\), but the output has shape \(3,\)"):
        trace(y, gradient=np.ones(2))
    walk = trace(y, gradient=np.ones(3))
    np.testing.assert_allclose(walk.leaves[0].grad, [2.0, 2.0, 2.0])
