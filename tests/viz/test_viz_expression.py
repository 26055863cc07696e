"""The expression language of `chainrule explain`: parsed by hand, built from the text's gates, never eval'd."""

import math

import numpy as np
import pytest

from chainrule.viz.expression import (
    MAX_DEPTH,
    Binary,
    Call,
    ExpressionError,
    Number,
    Unary,
    Variable,
    compile_expression,
    parse,
    parse_assignments,
    tokenize,
    variables,
)


def value(text, **values):
    output, _ = compile_expression(text, values)
    return output.item()


def gate_names(text, **values):
    output, _ = compile_expression(text, values)
    names, stack = [], [output]
    while stack:
        t = stack.pop()
        if t.gate is not None:
            names.append(type(t.gate).__name__)
            stack.extend(t.gate.inputs)
    return names


def test_numbers_and_names():
    kinds = [(t.kind, t.text) for t in tokenize("2 + 3.5*x_1 - 1e-3 + .5 + 2.")]
    assert kinds == [
        ("number", "2"),
        ("op", "+"),
        ("number", "3.5"),
        ("op", "*"),
        ("name", "x_1"),
        ("op", "-"),
        ("number", "1e-3"),
        ("op", "+"),
        ("number", ".5"),
        ("op", "+"),
        ("number", "2."),
        ("end", ""),
    ]


def test_precedence_like_python():
    assert value("-x**2", x=3.0) == -9.0
    assert value("2**3**2 * x", x=1.0) == 512.0  # right-associative
    assert value("x**-1", x=4.0) == 0.25
    assert value("x - 2 - 3", x=10.0) == 5.0
    assert value("x / 2 / 5", x=10.0) == 1.0
    assert value("-x*y + +z", x=2.0, y=3.0, z=1.0) == -5.0
    assert value("max(x, y) - min(x, 2*y)", x=1.0, y=3.0) == 2.0
    assert isinstance(parse("-x**2"), Unary) and isinstance(parse("-x**2").operand, Binary)


def test_functions():
    x = 0.7
    assert value("exp(x)+log(x)+sqrt(x)+tanh(x)+abs(-x)+sin(x)+cos(x)", x=x) == pytest.approx(
        math.exp(x) + math.log(x) + math.sqrt(x) + math.tanh(x) + x + math.sin(x) + math.cos(x)
    )
    assert value("sigmoid(x) + relu(-x)", x=x) == pytest.approx(1 / (1 + math.exp(-x)))
    assert isinstance(parse("max(a, b)"), Call)


def test_the_perceptron_is_built_from_the_texts_gates():
    names = gate_names("1/(1+exp(-(w0*x0+w1*x1+w2)))", w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    assert names == ["Reciprocal", "AddConstant", "Exp", "Scale", "Add", "Add", "Mul", "Mul"]
    output, leaves = compile_expression("1/(1+exp(-(w0*x0+w1*x1+w2)))", dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3))
    assert output.dtype == np.float64 and list(leaves) == ["w0", "x0", "w1", "x1", "w2"]
    assert leaves["w0"].name == "w0" and leaves["w0"].requires_grad
    assert output.item() == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_constant_parts_are_folded_and_variables_are_shared():
    assert gate_names("x * (2 + 3) * exp(0)", x=1.0) == ["Scale", "Scale"]
    _, leaves = compile_expression("x*x + x", {"x": 2.0})
    assert list(leaves) == ["x"]
    assert variables(parse("b + a*b + c")) == ["b", "a", "c"]


def test_long_sums_do_not_exhaust_the_stack():
    text = " + ".join(["x"] * 3000)
    assert value(text, x=1.0) == 3000.0


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("", "the expression is empty", 0),
        ("   ", "the expression is empty", 0),
        ("foo(x)", "unknown function 'foo' \\(known: exp, log", 0),
        ("__import__('os').system('true')", "names starting with '__' are not allowed", 0),
        ("x + 'a'", 'unexpected character "\'"', 4),
        ("x ^ 2", "unexpected character '\\^'; write powers with \\*\\*", 2),
        ("(x + 1", "expected '\\)' to close the '\\(' at column 1, found the end of the expression", 6),
        ("x + 1)", "unexpected '\\)' after a complete expression", 5),
        ("x y", "unexpected 'y' after a complete expression", 2),
        ("x +", "the expression ends too early", 3),
        ("x * / y", "expected a number, a variable, a function or '\\(', found '/'", 4),
        ("2x", "unexpected 'x' right after the number 2", 1),
        ("1.2.3", "unexpected '\\.' right after the number 1.2", 3),
        ("exp(x, y)", "exp\\(\\) takes 1 argument, got 2", 0),
        ("max(x)", "max\\(\\) takes 2 arguments, got 1", 0),
        ("exp + 1", "'exp' is a function: write exp\\(...\\)", 0),
        ("x; y", "unexpected character ';'", 1),
        ("x.real", "unexpected character '\\.'", 1),
    ],
)
def test_errors_point_at_the_column(text, message, column):
    with pytest.raises(ExpressionError, match=message) as caught:
        parse(text)
    error = caught.value
    assert error.column == column
    lines = str(error).splitlines()
    assert lines[0].endswith(f"(column {column + 1})")
    assert lines[1] == "  " + text and lines[2] == "  " + " " * column + "^"


def test_nesting_has_a_limit():
    deep = "(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(ExpressionError, match=f"nests too deeply \\(more than {MAX_DEPTH} levels\\)"):
        parse(deep)
    with pytest.raises(ExpressionError, match="nests too deeply"):
        parse("-" * 5000 + "x")
    fine = "(" * 50 + "x" + ")" * 50
    assert isinstance(parse(fine), Variable)


def test_values():
    assert parse_assignments(["w0=2", "x0=-1.5", "b=1e-3"]) == {"w0": 2.0, "x0": -1.5, "b": 0.001}
    for items, message in [
        (["x"], "cannot read 'x': write each value as NAME=NUMBER"),
        (["1x=2"], "cannot read '1x=2'"),
        (["x=abc"], "the value of x is not a number: 'abc'"),
        (["x=__import__('os')"], "the value of x is not a number"),
        (["x=nan"], "the value of x must be a finite number"),
        (["x=1", "x=2"], "x is given twice"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_assignments(items)


def test_values_must_match_the_variables():
    with pytest.raises(ValueError, match="no value for variable y; give it as NAME=NUMBER, e.g. y=1.5"):
        compile_expression("x*y", {"x": 1.0})
    with pytest.raises(ValueError, match=r"z does not appear in the expression \(its variables: x, y\)"):
        compile_expression("x*y", {"x": 1.0, "y": 2.0, "z": 3.0})
    with pytest.raises(ValueError, match="no variables, so there is nothing to differentiate"):
        compile_expression("2*3", {})
    out, _ = compile_expression("x/0", {"x": 1.0})  # IEEE arithmetic, as in NumPy and PyTorch
    assert out.item() == float("inf")


def test_number_nodes():
    assert parse("1e3") == Number(1000.0, 0)
