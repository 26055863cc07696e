"""`chainrule practice`: a session scripted through standard input, the page, and clear errors for bad input."""

import subprocess
import sys

import pytest
from test_cli_explain import run

SIMPLE = ["practice", "(x+y)*z", "--at", "x=-2", "y=5", "z=-4"]
SIMPLE_ANSWERS = "3\n-12\n-4\n-4\n3\n3\n1\n-4\n1\n-4\n"


def practice(*argv, answers=""):
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *argv], input=answers, capture_output=True, text=True, timeout=60
    )


def test_answers_from_standard_input():
    result = practice(*SIMPLE, answers=SIMPLE_ANSWERS)
    assert result.returncode == 0 and result.stderr == ""
    assert "1. forward, add: x = -2.00, y = 5.00; x+y = ?\n> 3\n  right: 3.00\n" in result.stdout
    assert "Score: 10 of 10 right the first time" in result.stdout
    assert "Backward pass, from the output (-12.00) back to the inputs:" in result.stdout


def test_hints_and_digits():
    result = practice("practice", "exp(x)", "--at", "x=-1", "--digits", "3", answers="0.4\n0.36\n0.37\n")
    assert result.returncode == 0
    assert "> 0.4\n  not right. The rule: the exp gate computes e^x\n" in result.stdout
    assert "> 0.36\n  not right. With the numbers: e^x = e^(-1.000)\n" in result.stdout
    assert "> 0.37\n  not right. The answer is 0.368.\n" in result.stdout
    assert "(no more answers)" in result.stdout and "Score: 0 of 3 right the first time" in result.stdout


def test_random_levels():
    result = practice("practice", "--random", "--level", "3", "--seed", "3", answers="-1.2\n")
    assert result.returncode == 0
    assert "Practice: f = 1/(1+exp(-(w0*x0+w1*x1+w2)))\nat w0 = -1.50, x0 = 0.80" in result.stdout
    assert "> -1.2\n  right: -1.20" in result.stdout
    again = practice("practice", "--random", "--level", "3", "--seed", "3", answers="-1.2\n")
    assert again.stdout == result.stdout
    unseeded = practice("practice", "--random")
    assert unseeded.returncode == 0 and "gives this formula again)" in unseeded.stdout.splitlines()[0]


def test_an_expression_may_start_with_a_minus():
    result = practice("practice", "-x*y", "--at", "x=1", "y=2", answers="-1\n-2\n")
    assert result.returncode == 0 and "Practice: f = -x*y\n" in result.stdout
    assert result.stdout.count("right: ") == 2


def test_a_gate_outside_its_domain_warns_in_one_line():
    result = practice("practice", "log(x)", "--at", "x=-1")
    assert result.returncode == 0
    assert result.stderr == (
        "chainrule practice: warning: the log gate gives nan at x = -1.00 (outside where it is "
        "defined); the gradients through it are not meaningful\n"
    )


def test_html_page(capsys, tmp_path):
    path = tmp_path / "practice.html"
    status, out, err = run(capsys, *SIMPLE, "--html", str(path))
    assert status == 0 and out == f"wrote {path}\n" and err == ""
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Practice: f = (x+y)*z" in page and "<script src" not in page


@pytest.mark.parametrize(
    "argv, message",
    [
        (["practice"], "give an EXPRESSION with --at, or --random"),
        (["practice", "x*y", "--at", "x=1"], "no value for variable y"),
        (["practice", "x*", "--at", "x=1"], "the expression ends too early"),
        (["practice", "x", "--at", "x"], "argument --at: cannot read 'x': write each value as NAME=NUMBER"),
        (["practice", "x", "--at", "x=one"], "argument --at: the value of x is not a number: 'one'"),
        (["practice", "x", "--at", "x=1", "--digits", "16"], "argument --digits: must be between 0 and 15, got 16"),
        (["practice", "x", "--at", "x=1", "--digits", "two"], "argument --digits: not a whole number: 'two'"),
        (["practice", "--random", "--level", "4"], "argument --level: must be 1, 2 or 3, got '4'"),
        (["practice", "--random", "--level", "one"], "argument --level: must be 1, 2 or 3, got 'one'"),
        (["practice", "--random", "--seed", "-3"], "argument --seed: must be 0 or more, got -3"),
        (["practice", "--random", "--seed", "x"], "argument --seed: not a whole number: 'x'"),
        (["practice", "x", "--at", "x=1", "--level", "2"], "--level and --seed go with --random"),
        (["practice", "x", "--random"], "--random makes its own formula: leave out EXPRESSION and --at"),
        (["practice", "x*2", "--at", "x=1", "--html", "/nonexistent/dir/p.html"], "No such file or directory"),
        (["practice", "x", "--at", "x=1"], "the expression does not depend on its variables"),
    ],
)
def test_bad_input_exits_with_status_2_and_a_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert message in err and "chainrule practice: error:" in err and "Traceback" not in err
