"""explain(): the backward pass told step by step, checked against the reference text's perceptron."""

import re
import warnings

import numpy as np
import pytest
from graphs import perceptron, scalar

import chainrule as cr
from chainrule.viz import Explanation, NonFiniteWarning, explain
from chainrule.viz.letters import gate_letters, rename
from chainrule.viz.text import product, shown_equation


def test_perceptron_reproduces_the_texts_nine_steps():
    f, _ = perceptron()
    explanation = explain(f)
    assert isinstance(explanation, Explanation)
    assert len(explanation) == 9
    assert [step.gate for step in explanation] == ["start", "1/x", "+1", "exp", "*-1", "add", "add", "mul", "mul"]
    lines = str(explanation).splitlines()
    steps = {int(m.group(1)): m.group(2) for m in (re.match(r"\s*(\d+)\. (.*)", line) for line in lines) if m}
    # 1. Start from the output node, considering that our error (dout) is 1
    assert steps[1] == "start: dL/dout = 1"
    # 2. The gradient of the input of the 1/x will be -1/(1.37^2), -0.53
    assert "-1/1.37^2 = -0.53" in steps[2] and steps[2].endswith("sends -0.53 * 1.00 = -0.53")
    # 3. The increment node does not change the gradient on its input: (-0.53 * 1), -0.53
    assert steps[3].endswith("upstream -0.53; sends 1.00 * -0.53 = -0.53")
    # 4. The exp node input gradient will be (exp(-1 (cached input)) * -0.53), -0.2
    assert steps[4] == ("exp: local d/dx e^x = e^x = e^(-1.00) = 0.37; upstream -0.53; sends 0.37 * -0.53 = -0.20")
    # 5. The negative gain node: (-1 * -0.2), 0.2
    assert steps[5].endswith("upstream -0.20; sends -1.00 * -0.20 = 0.20")
    # 6. The sum node distributes the gradients: dw2 = 0.2, and the sum node also 0.2
    assert "to w2: local d/dy (x+y) = 1, sends 1.00 * 0.20 = 0.20" in steps[6]
    assert "to x: local d/dx (x+y) = 1, sends 1.00 * 0.20 = 0.20" in steps[6]
    # 7. The sum node again distributes the gradients, so again 0.2
    assert steps[7].count("sends 1.00 * 0.20 = 0.20") == 2
    # 8. dw0 will be (0.2 * -1), -0.2;  9. dx0 will be (0.2 * 2), 0.4 (0.39 unrounded: the upstream is 0.197,
    # shown with the digit it takes for the product of the numbers shown to come out right)
    assert "to w0: local d/dx (x*y) = y = -1.00, sends -1.00 * 0.20 = -0.20" in steps[8]
    assert "to x0: local d/dy (x*y) = x = 2.00, sends 2.00 * 0.197 = 0.39" in steps[8]
    assert "to x1: local d/dy (x*y) = x = -3.00, sends -3.00 * 0.197 = -0.59" in steps[9]
    assert "Gradients of the inputs:" in str(explanation)
    assert "w0 = -0.20" in str(explanation) and "x0 = 0.39" in str(explanation)


def test_steps_carry_the_numbers():
    f, _ = perceptron()
    exp_step = explain(f)[3]
    assert exp_step.number == 4 and exp_step.node_id.startswith("gate")
    (item,) = exp_step.inputs
    assert item.letter == "x" and item.derivative == "d/dx e^x = e^x" and item.substituted == "e^(-1.00)"
    assert float(item.value) == pytest.approx(-1.0)
    assert float(item.local) == pytest.approx(np.exp(-1.0))
    assert float(exp_step.upstream) == pytest.approx(-0.5344, abs=1e-4)
    assert float(item.sent) == pytest.approx(-0.1966, abs=1e-4)
    assert item.arithmetic == "0.37 * -0.53 = -0.20"


def test_explaining_leaves_grad_and_graph_alone():
    f, leaves = perceptron()
    explain(f)
    assert all(x.grad is None for x in leaves)
    f.backward()
    assert leaves[0].grad == pytest.approx(-0.1966, abs=1e-4)


def test_fan_out_shows_the_sum():
    w = scalar(0.1, "w")
    y = (w * 2).exp() * (w * 4)  # w used twice: 2*... and 4*...
    text = str(explain(y))
    found = re.search(r"w receives (-?\d+\.\d+) \+ (-?\d+\.\d+) = (\d+\.\d\d)\n", text + "\n")
    assert found  # 0.977 + 4.886 = 5.86: at 2 decimals the parts would add up to 5.87
    assert f"{float(found.group(1)) + float(found.group(2)):.2f}" == found.group(3)
    a = scalar(3.0, "a")
    b = a.exp()
    z = b * 2 + b * 4  # an intermediate used twice: its gate's upstream is a sum
    text = str(explain(z))
    assert "exp: local d/dx e^x = e^x = e^3.00 = 20.09; upstream 2.00 + 4.00 = 6.00" in text


def test_digits_and_print(capsys):
    f, _ = perceptron()
    explanation = explain(f, digits=4, print=True)
    assert "e^(-1.0000) = 0.3679; upstream -0.5344; sends 0.3679 * -0.5344 = -0.1966" in capsys.readouterr().out
    explanation.print()
    assert "9. mul" in capsys.readouterr().out


def test_constants_are_substituted():
    x = scalar(3.0, "x")
    text = str(explain((x**2).tanh().relu()))
    assert "^2: local d/dx x^p = p*x^(p-1) = 2*3.00^(2-1) = 6.00" in text
    # relu's input is tanh(x^2), not the tensor called x: its letter is u
    assert "relu: local d/du max(0,u) = 1 if u>0 else 0 = 1 if 1.00>0 else 0 = 1.00" in text


def test_non_scalar_tensors_are_summarized():
    w = cr.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True, name="W")
    x = cr.tensor(np.array([1.0, 2.0]), name="x")
    loss = (w @ x).sum()
    text = str(explain(loss))
    # the matmul's letters x, y would clash with the tensor called x: they become u, v
    assert "matmul: u = W = (2, 2) float64 in [-2.00, 3.00], v = x = (2,) float64 in [1.00, 2.00]" in text
    assert "upstream (2,) norm 1.41" in text
    assert "to x: local d/dv (u@v) = u^T@g, sends nothing (it needs no gradient)" in text
    assert "W = (2, 2) norm 3.16" in text


def test_custom_gate_without_derivative_text():
    class Cube(cr.Gate):
        def forward(self, x):
            return x**3

        def backward(self, grad, out, x):
            return grad * 3 * x * x

    x = scalar(2.0, "x")
    text = str(explain(Cube.apply(x)))
    assert "cube: local derivative not stated; upstream 1.00; sends 12.00" in text


def test_bad_input():
    x = scalar(1.0, "x")
    with pytest.raises(
        ValueError,
        match=r"explain: this tensor has no graph behind it \(it is a leaf or was "
        r"computed under no_grad\)",
    ):
        explain(x)
    with cr.no_grad():
        y = x.exp()
    with pytest.raises(ValueError, match="explain: this tensor has no graph behind it"):
        explain(y)
    v = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"explain: the output has shape \(3,\).*pass gradient="):
        explain(v * 2)
    assert "dL/dout = (3,) norm 1.73 (given)" in str(explain(v * 2, gradient=np.ones(3)))


def test_a_gate_outside_its_domain_warns_naming_it():
    x = scalar(-1.0, "x")
    with np.errstate(invalid="ignore"):
        y = x.log() * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explain(y)
    assert [type(w.message) for w in caught] == [NonFiniteWarning]  # and nothing from NumPy
    assert str(caught[0].message) == (
        "the log gate gives nan at x = -1.00 (outside where it is defined); the gradients through it are not meaningful"
    )
    assert caught[0].filename == __file__  # points at the caller's line
    with np.errstate(invalid="ignore"):
        z = (x.log() * 3).exp()  # only the gate that made the nan is named, not the ones after it
    with pytest.warns(NonFiniteWarning, match="the log gate") as record:
        explain(z)
    assert len(record) == 1


def test_shown_equation_adds_digits_until_the_numbers_shown_check_out():
    assert shown_equation([2.0, 0.19661], 0.39322, 2, product) == (["2.00", "0.197"], "0.39")
    assert shown_equation([-1.0, 0.19661], -0.19661, 2, product) == (["-1.00", "0.20"], "-0.20")
    assert shown_equation([1 / 3] * 3, 1.0, 2) == (["0.333", "0.333", "0.333"], "1.00")
    assert shown_equation([0.5, 0.25], 0.75, 0) == (["0.5", "0.2"], "1")  # "0 + 0 = 1" would not do


def test_letters_stay_unless_they_clash():
    mul = cr.gates.arithmetic.Mul
    assert gate_letters(mul, ["w0", "x0"], {"w0", "x0"}) == (["x", "y"], ["d/dx (x*y) = y", "d/dy (x*y) = x"])
    assert gate_letters(mul, ["x", None], {"x"}) == (["x", "y"], ["d/dx (x*y) = y", "d/dy (x*y) = x"])
    assert gate_letters(mul, [None, "x"], {"x"}) == (["u", "v"], ["d/du (u*v) = v", "d/dv (u*v) = u"])
    assert gate_letters(mul, [None, "x"], {"x", "u"})[0] == ["v", "w"]
    assert rename("d/dx_i sum(x) = 1 if x>0 else exp(x_i)", {"x": "u"}) == "d/du_i sum(u) = 1 if u>0 else exp(u_i)"
