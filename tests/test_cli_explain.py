"""`chainrule explain`: the backward pass of a formula, printed and drawn, with clear errors for bad input."""

import re
import shutil
import subprocess
import sys

import pytest

from chainrule.cli import main

PERCEPTRON = ["explain", "1/(1+exp(-(w0*x0+w1*x1+w2)))", "--at", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


def run(capsys, *argv):
    """Exit status, stdout and stderr of `chainrule ARGV`."""
    try:
        status = main(list(argv))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_perceptron(capsys):
    status, out, err = run(capsys, *PERCEPTRON)
    assert status == 0 and err == ""
    assert "forward: f = 0.73" in out
    for line in ["df/dw0 = -0.20", "df/dx0 = 0.39", "df/dw1 = -0.39", "df/dx1 = -0.59", "df/dw2 = 0.20"]:
        assert f"  {line}\n" in out
    steps = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [s.split(":")[0] for s in steps] == [
        "1. start",
        "2. 1/x",
        "3. +1",
        "4. exp",
        "5. *-1",
        "6. add",
        "7. add",
        "8. mul",
        "9. mul",
    ]
    assert steps[3] == "4. exp: local d/dx e^x = e^x = e^(-1.00) = 0.37; upstream -0.53; sends 0.37 * -0.53 = -0.20"


def test_digits_and_fan_out(capsys):
    status, out, _ = run(capsys, "explain", "w*w + exp(w)", "--at", "w=0", "--digits", "3")
    assert status == 0
    assert "df/dw = 1.000  (sum over its 3 uses: 0.000 + 0.000 + 1.000)" in out
    status, _, err = run(capsys, "explain", "x", "--at", "x=1", "--digits", "many")
    assert status == 2 and "argument --digits: not a whole number: 'many'" in err


def test_dot_file_needs_no_graphviz_program(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, out, _ = run(capsys, *PERCEPTRON, "--dot", str(tmp_path / "f.dot"))
    assert status == 0 and f"wrote {tmp_path / 'f.dot'}" in out
    assert "digraph" in (tmp_path / "f.dot").read_text()
    status, _, err = run(capsys, *PERCEPTRON, "--svg", str(tmp_path / "f.svg"))
    assert status == 2 and "Graphviz's 'dot' program was not found" in err and "apt-get install graphviz" in err


@needs_dot
def test_pictures_and_page(capsys, tmp_path):
    paths = {kind: tmp_path / f"f.{kind}" for kind in ["svg", "png", "html"]}
    status, _, _ = run(
        capsys, *PERCEPTRON, "--svg", str(paths["svg"]), "--png", str(paths["png"]), "--html", str(paths["html"])
    )
    assert status == 0
    assert "<svg" in paths["svg"].read_text()
    assert paths["png"].read_bytes().startswith(b"\x89PNG")
    page = paths["html"].read_text()
    assert "f = 1/(1+exp(-(w0*x0+w1*x1+w2)))" in page and "backward 4. exp" in page


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
        (["explain", "__import__('os')", "--at", "x=1"], "names starting with '__' are not allowed"),
        (["explain", "(x+1", "--at", "x=1"], "expected ')' to close the '('"),
        (["explain", "x*y", "--at", "x=1"], "no value for variable y"),
        (["explain", "x*y", "--at", "x=1", "y=two"], "the value of y is not a number: 'two'"),
        (["explain", "x", "--at", "x=1", "z=2"], "z does not appear in the expression"),
        (["explain", "2+3"], "no variables, so there is nothing to differentiate"),
        (["explain"], "give an EXPRESSION with --at, or --model mlp|cnn"),
        (["explain", "--model", "rnn"], "argument --model: invalid choice: 'rnn' (choose from 'mlp', 'cnn')"),
        (["explain", "x*2", "--model", "mlp"], "--model explains a network: leave out EXPRESSION and --at"),
        (["explain", "--model", "mlp", "--batch", "0"], "argument --batch: must be between 1 and 256, got 0"),
        (["explain", "--model", "mlp", "--batch", "a"], "argument --batch: not a whole number: 'a'"),
        (["explain", "--model", "mlp", "--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
    ],
)
def test_bad_input_exits_with_status_2_and_a_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert message in err and "chainrule explain: error:" in err and "Traceback" not in err


def test_the_caret_points_at_the_column(capsys):
    _, _, err = run(capsys, "explain", "x + * 2", "--at", "x=1")
    assert "(column 5)\n  x + * 2\n      ^" in err


def test_no_subcommand_prints_help(capsys):
    status, _, err = run(capsys)
    assert status == 2 and "explain" in err


def test_console_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "explain", "x*y", "--at", "x=2", "y=3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "df/dx = 3.00" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "explain", "x*", "--at", "x=2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "the expression ends too early" in result.stderr
    assert "Traceback" not in result.stderr


def test_gate_letters_never_clash_with_the_variables(capsys):
    status, out, _ = run(capsys, "explain", "x*x*x", "--at", "x=2")
    assert status == 0
    # the first mul's inputs are x*x and x: its letters become u, v so "x" only ever means the variable
    assert "2. mul: u = 4.00, v = x = 2.00; upstream 1.00; to u: local d/du (u*v) = v = 2.00" in out
    assert "to x: local d/dv (u*v) = u = 4.00, sends 4.00 * 1.00 = 4.00" in out
    assert "x = 4.00" not in out
    status, out, _ = run(capsys, "explain", "log(x)", "--at", "x=2")
    assert "local d/dx ln(x) = 1/x = 1/2.00 = 0.50" in out  # x is log's own input: the text's letter stays


def test_shown_arithmetic_checks_out_by_hand(capsys):
    for argv in [
        PERCEPTRON,
        ["explain", "exp(a*b)/(a+3*b)", "--at", "a=0.37", "b=-1.21"],
        ["explain", "x*x*x + x/3", "--at", "x=0.77", "--digits", "1"],
    ]:
        status, out, _ = run(capsys, *argv)
        assert status == 0
        digits = 1 if "--digits" in argv else 2
        products = re.findall(r"sends (-?[\d.]+) \* (-?[\d.]+) = (-?[\d.]+)", out)
        sums = re.findall(r"\(sum over its \d uses: ([^)]*)\)", out)
        assert products
        for a, b, shown in products:
            assert f"{float(a) * float(b):.{digits}f}" in (shown, "-" + shown, shown.lstrip("-"))
        for parts in sums:
            assert parts  # their total is checked by the explanation tests
    assert "sends 2.00 * 0.197 = 0.39" in run(capsys, *PERCEPTRON)[1]


def test_a_gate_outside_its_domain_warns_in_one_line(capsys):
    status, out, err = run(capsys, "explain", "log(x)", "--at", "x=-1")
    assert status == 0 and "forward: f = nan" in out
    assert err == (
        "chainrule explain: warning: the log gate gives nan at x = -1.00 (outside where it is "
        "defined); the gradients through it are not meaningful\n"
    )
    status, out, err = run(capsys, "explain", "sqrt(x)*2", "--at", "x=0")
    assert status == 0 and err.count("\n") == 1
    assert "warning: the sqrt gate sends a gradient that is not finite at x = 0.00" in err


def test_numpys_warnings_do_not_reach_the_terminal():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "explain", "log(x)*sqrt(x)", "--at", "x=0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "RuntimeWarning" not in result.stderr and "warnings.warn" not in result.stderr
    assert all(line.startswith("chainrule explain: warning: ") for line in result.stderr.splitlines())


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "-x*y", "--at", "x=1", "y=2"],
        ["explain", "-x*y", "--digits", "1", "--at", "x=1", "y=2"],
        ["explain", "--at", "x=1", "y=2", "--", "-x*y"],
    ],
)
def test_an_expression_may_start_with_a_minus(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 0 and err == ""
    assert out.startswith("f = -x*y\n") and "df/dx = -2." in out and "df/dy = -1." in out


@needs_dot
def test_a_network_is_stepped_through_layer_by_layer(capsys, tmp_path):
    page, svg = tmp_path / "cnn.html", tmp_path / "cnn.svg"
    status, out, _ = run(capsys, "explain", "--model", "cnn", "--batch", "2", "--html", str(page), "--svg", str(svg))
    assert status == 0 and f"wrote {page}" in out and f"wrote {svg}" in out
    text = page.read_text()
    assert "One training step of the digits cnn on a batch of 2 images (seed 0)" in text
    assert "backward 2. layer 9 (Linear)" in text and 'id="module_4"' in text
    assert 'id="module_4"' in svg.read_text()  # one box per layer
