"""practice(): the questions, their checking and hints, and a whole session driven by a stream of answers."""

import io

import numpy as np
import pytest
from graphs import perceptron, scalar

import chainrule as cr
from chainrule.viz import Practice, practice
from chainrule.viz.exercises import random_exercise
from chainrule.viz.practice import read_answer

SIMPLE = ("(x+y)*z", {"x": -2, "y": 5, "z": -4})  # the reference text's simple example
# Every answer to SIMPLE, in order: the two values, then local and sent for z's mul, u's mul, x and y.
SIMPLE_ANSWERS = ["3", "-12", "-4", "-4", "3", "3", "1", "-4", "1", "-4"]


def test_questions_walk_forward_then_backward():
    session = practice(*SIMPLE)
    assert isinstance(session, Practice) and len(session) == 10
    assert [q.kind for q in session] == ["value", "value"] + ["local", "sent"] * 4
    assert [q.answer for q in session] == [float(a) for a in SIMPLE_ANSWERS]
    assert session[0].prompt == "forward, add: x = -2.00, y = 5.00; x+y = ?"
    # the mul's first input is x+y, not the variable x: it is called u so the letters never clash
    assert session[2].prompt == "backward, mul with u = 3.00, v = z = -4.00: the local derivative d/du (u*v) = ?"
    assert session[5].prompt == "backward, mul: upstream gradient 1.00; the gradient sent to v (z) = ?"


def test_the_perceptron_asks_for_the_texts_numbers():
    session = practice(perceptron()[0])
    exp_local = next(q for q in session if q.gate == "exp" and q.kind == "local")
    assert exp_local.prompt == "backward, exp with x = -1.00: the local derivative d/dx e^x = ?"
    assert exp_local.hints == ("d/dx e^x = e^x", "e^x = e^(-1.00)", "The answer is 0.37.")
    dx0 = [q for q in session if q.kind == "sent" and "(x0)" in q.prompt][0]
    # the upstream is shown with the digit it takes for local * upstream to come out right: 2 * 0.197 = 0.39
    assert dx0.prompt == "backward, mul: upstream gradient 0.197; the gradient sent to y (x0) = ?"
    assert dx0.hints[1] == "local * upstream = 2.00 * 0.197"


def test_a_wrong_answer_gets_the_rule_then_the_numbers_then_the_answer():
    question = next(q for q in practice(perceptron()[0]) if q.gate == "exp" and q.kind == "local")
    first = question.check("1")
    assert not first.correct and not first.done and first.message == "not right. The rule: d/dx e^x = e^x"
    assert question.check("2").message == "not right. With the numbers: e^x = e^(-1.00)"
    last = question.check("3")
    assert last.done and last.message == "not right. The answer is 0.37." and question.solved is False
    with pytest.raises(ValueError, match="already over"):
        question.check("0.37")


def test_answers_count_within_one_unit_of_the_last_decimal():
    question = [q for q in practice(perceptron()[0]) if q.kind == "sent" and "(x0)" in q.prompt][0]
    assert question.answer == pytest.approx(0.3932, abs=1e-4)
    assert question.is_right("0.39") and question.is_right("0.40") and question.is_right("2*0.2")
    assert question.is_right(0.385) and not question.is_right("0.41") and not question.is_right("0.38")
    digits3 = [q for q in practice(perceptron()[0], digits=3) if q.kind == "sent" and "(x0)" in q.prompt][0]
    assert digits3.is_right("0.393") and not digits3.is_right("0.39")


def test_answers_may_be_arithmetic_but_never_code():
    assert read_answer("2*0.2") == pytest.approx(0.4) and read_answer(" -1/4 ") == -0.25
    assert read_answer("exp(-1)") == pytest.approx(np.exp(-1)) and read_answer(3) == 3.0
    assert np.isnan(read_answer("nan")) and read_answer("-inf") == -np.inf and read_answer("1/0") == np.inf
    for text, message in [
        ("x", "write a number"),
        ("__import__('os')", "names starting with '__'"),
        ("", "the expression is empty"),
        ("2 +", "ends too early"),
    ]:
        with pytest.raises(ValueError, match=f"cannot read .* as a number: .*{message}"):
            read_answer(text)
    question = practice(*SIMPLE)[0]
    with pytest.raises(ValueError):
        question.check("three")
    assert question.attempts == 0  # text that is not a number is not an attempt


def test_a_whole_session_from_a_stream():
    session = practice(*SIMPLE)
    out = io.StringIO()
    answers = ["3", "2", "-12", "oops"] + ["0"] * 3 + SIMPLE_ANSWERS[3:]
    assert session.run(io.StringIO("\n".join(answers) + "\n"), file=out) == (8, 10)
    text = out.getvalue()
    assert text.startswith("Practice: f = (x+y)*z\nat x = -2.00, y = 5.00, z = -4.00\n")
    assert (
        "2. forward, mul: u = 3.00, v = z = -4.00; u*v = ?\n> 2\n  not right. The rule: the mul gate computes u*v\n"
        "> -12\n  right: -12.00\n" in text
    )
    assert "> oops\n  cannot read 'oops' as a number" in text
    assert "  not right. With the numbers: v = -4.00\n> 0\n  not right. The answer is -4.00.\n" in text
    assert "Score: 8 of 10 right the first time (1 more after a hint, 1 answer shown)" in text
    assert text.rstrip().endswith("z = 3.00")  # the full explanation closes the session
    assert "Backward pass, from the output (-12.00) back to the inputs:" in text


def test_running_out_of_answers_ends_with_the_score():
    out = io.StringIO()
    assert practice(*SIMPLE).run(["3"], file=out) == (1, 10)
    assert (
        "(no more answers)\n\nScore: 1 of 10 right the first time (0 more after a hint, 0 answers shown, "
        "9 not answered)" in out.getvalue()
    )


def test_run_asks_with_input_without_a_stream(monkeypatch):
    typed = iter(SIMPLE_ANSWERS)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert practice(*SIMPLE).run(file=io.StringIO()) == (10, 10)


def test_from_python_on_a_tensor_and_exported():
    assert cr.practice is practice
    x = scalar(3.0, "x")
    session = cr.practice((x * x).exp() / 100)
    assert session.title == "the output of the graph" and session.givens == "x = 3.00"
    assert [q.gate for q in session if q.kind == "value"] == ["mul", "exp", "*0.01"]


def test_bad_input():
    with pytest.raises(ValueError, match="practice: digits must be a whole number from 0 to 15, got 16"):
        practice(*SIMPLE, digits=16)
    with pytest.raises(ValueError, match="practice: give the value of every variable"):
        practice("x*y")
    with pytest.raises(ValueError, match="no value for variable y"):
        practice("x*y", {"x": 1})
    with pytest.raises(TypeError, match="practice: expects a formula"):
        practice(3.0)
    w = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="every value in the graph must be a single number"):
        practice((w * 2).sum())
    with pytest.raises(ValueError, match="a Tensor has its values"):
        practice(scalar(1.0, "x") * 2, {"x": 1})


@pytest.mark.parametrize("level", [1, 2, 3])
def test_random_exercises_are_reproducible_and_grow(level):
    drawn = [random_exercise(level, seed) for seed in range(20)]
    assert drawn == [random_exercise(level, seed) for seed in range(20)]  # the same seed, the same formula
    assert len({repr(exercise) for exercise in drawn}) > 5  # level 3: one neuron, its values drawn
    for formula, values in drawn:
        session = practice(formula, values)
        assert all(abs(q.answer) <= 100 for q in session)
        gates = {q.gate for q in session}
        if level == 1:
            assert gates <= {"add", "mul"}
        if level == 3:
            assert {"1/x", "+1", "exp", "*-1"} <= gates
    if level == 2:
        used = {q.gate for formula, values in drawn for q in practice(formula, values)}
        assert {"exp", "1/x", "maximum"} <= used
    with pytest.raises(ValueError, match="the level must be 1, 2 or 3, got 4"):
        random_exercise(4, 0)


def test_rich_display_in_jupyter():
    session = practice(*SIMPLE)
    frame = session._repr_html_()
    assert frame.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and "Practice: f = (x+y)*z" in frame
    assert '"' not in frame[len('<iframe srcdoc="') : frame.index('" style=')]  # the page is quoted whole
    shown = session.explanation._repr_html_()
    assert shown.startswith("<pre>Backward pass") and "u*v" in shown
