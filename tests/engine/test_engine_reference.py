"""The worked examples of the reference text (shared/seed/backpropagation.txt), number by number."""

import math

import numpy as np
import pytest

import chainrule as cr


def scalar(value):
    return cr.tensor(value, dtype=np.float64, requires_grad=True)


def test_simple_example_f_equals_x_plus_y_times_z():
    x, y, z = scalar(-2.0), scalar(5.0), scalar(-4.0)
    q = x + y
    f = q * z
    q.retain_grad()
    f.backward()
    assert f.item() == -12.0
    assert q.item() == 3.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    assert q.grad == -4.0  # df/dq = z, then the add gate hands it to both x and y
    assert (type(q.gate).__name__, type(f.gate).__name__) == ("Add", "Mul")


def perceptron():
    """1/(1+exp(-(w0*x0 + w1*x1 + w2))) from the text's elementary gates, every step kept."""
    w0, x0, w1, x1, w2 = scalar(2.0), scalar(-1.0), scalar(-3.0), scalar(-2.0), scalar(-3.0)
    steps = {}
    steps["w0x0"] = w0 * x0
    steps["w1x1"] = w1 * x1
    steps["sum1"] = steps["w0x0"] + steps["w1x1"]
    steps["sum2"] = steps["sum1"] + w2
    steps["negated"] = -1 * steps["sum2"]  # the text's f_a(x) = ax with a = -1
    steps["exp"] = cr.exp(steps["negated"])
    steps["plus_one"] = steps["exp"] + 1  # the text's f_c(x) = c + x with c = 1
    steps["out"] = 1 / steps["plus_one"]  # the text's f(x) = 1/x
    for t in steps.values():
        t.retain_grad()
    return (w0, x0, w1, x1, w2), steps


def test_perceptron_forward_and_input_gradients():
    (w0, x0, w1, x1, w2), steps = perceptron()
    out = steps["out"]
    out.backward()
    assert round(out.item(), 4) == 0.7311
    assert [round(t.grad.item(), 4) for t in (w0, x0, w1, x1, w2)] == [-0.1966, 0.3932, -0.3932, -0.5898, 0.1966]


def test_perceptron_gradients_step_by_step_as_in_the_text():
    (w0, x0, w1, x1, w2), steps = perceptron()
    steps["out"].backward()
    grads = {name: t.grad.item() for name, t in steps.items()}
    assert grads["out"] == 1.0  # 1. start from the output node with dout = 1
    assert round(steps["plus_one"].item(), 2) == 1.37
    assert round(grads["plus_one"], 2) == -0.53  # 2. the input of 1/x: -1/1.37^2
    assert grads["plus_one"] == pytest.approx(-1 / steps["plus_one"].item() ** 2)
    assert round(grads["exp"], 2) == -0.53  # 3. the +1 node passes the gradient through
    assert steps["negated"].item() == -1.0
    assert round(grads["negated"], 2) == -0.20  # 4. exp(-1) * -0.53
    assert round(grads["sum2"], 2) == 0.20  # 5. the -1 gain flips the sign
    assert round(w2.grad.item(), 2) == 0.20  # 6. the sum node distributes: dw2 = 0.2 ...
    assert round(grads["sum1"], 2) == 0.20  # ... and 0.2 to the other sum
    assert round(grads["w0x0"], 2) == 0.20 and round(grads["w1x1"], 2) == 0.20  # 7. again 0.2
    assert round(w0.grad.item(), 2) == -0.20  # 8. dw0 = 0.2 * x0
    assert round(x0.grad.item(), 2) == 0.39  # 9. dx0 = 0.2 * w0 (the text rounds 0.39 up to 0.4)


def test_perceptron_is_built_from_the_texts_gates():
    _, steps = perceptron()
    names = {name: type(t.gate).__name__ for name, t in steps.items()}
    assert names == {
        "w0x0": "Mul",
        "w1x1": "Mul",
        "sum1": "Add",
        "sum2": "Add",
        "negated": "Scale",
        "exp": "Exp",
        "plus_one": "AddConstant",
        "out": "Reciprocal",
    }
    # Walk back from the output along first inputs: the text's chain, output to input.
    chain, node = [], steps["out"]
    while node.gate is not None:
        chain.append(type(node.gate).__name__)
        node = node.gate.inputs[0]
    assert chain == ["Reciprocal", "AddConstant", "Exp", "Scale", "Add", "Add", "Mul"]
    assert steps["negated"].gate.a == -1 and steps["plus_one"].gate.c == 1


def test_fused_sigmoid_gives_the_same_numbers():
    (w0, x0, w1, x1, w2), steps = perceptron()
    steps["out"].backward()
    composed = [t.grad.item() for t in (w0, x0, w1, x1, w2)]
    inputs = [scalar(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0)]
    a, b, c, d, e = inputs
    out = cr.sigmoid(a * b + c * d + e)
    assert type(out.gate).__name__ == "Sigmoid"
    out.backward()
    assert out.item() == pytest.approx(steps["out"].item(), rel=1e-15)
    assert out.item() == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-15)
    np.testing.assert_allclose([t.grad.item() for t in inputs], composed, rtol=1e-12)
    assert round(out.item(), 4) == 0.7311


def test_the_texts_derivative_table():
    x = scalar(1.37)
    for fn, derivative in [
        (lambda t: 1 / t, -1 / 1.37**2),
        (lambda t: 5.0 + t, 1.0),
        (cr.exp, math.exp(1.37)),
        (lambda t: 2.5 * t, 2.5),
    ]:
        x.grad = None
        fn(x).backward()
        assert x.grad.item() == pytest.approx(derivative, rel=1e-12)
