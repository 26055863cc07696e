"""The library never prints unless asked; it warns where the user's code can see, filter and silence it."""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli

PACKAGE = Path(cr.__file__).parent
# Modules whose job is output: the command line and its helpers, the demo, and printing asked for
# (Explanation.print(), the interactive practice, the progress display fit shows when configured to).
PRINTING_ALLOWED = {
    "cli.py",
    "demo.py",
    "train_command.py",
    "evaluate_command.py",
    "sample_command.py",
    "stubs.py",
    "viz/explain_command.py",
    "viz/practice_command.py",
    "viz/arguments.py",
    "viz/steps.py",
    "viz/practice.py",
    "training/callbacks.py",
    "distributed/launch.py",
}  # the mpiexec launcher of chainrule train --nproc


def writes_to_the_terminal(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called == "print" or called.startswith(("sys.stdout.", "sys.stderr.")):
                return True
    return False


def test_library_modules_do_not_print():
    offenders = [
        name
        for path in sorted(PACKAGE.rglob("*.py"))
        if (name := path.relative_to(PACKAGE).as_posix()) not in PRINTING_ALLOWED
        and writes_to_the_terminal(path.read_text())
    ]
    assert offenders == []


def at_zero(expression):
    """log(x), sqrt(x) or 1/x at x = 0 (NumPy's warnings from the forward pass are the gates' business)."""
    x = cr.tensor(0.0, requires_grad=True, dtype="float64", name="x")
    with np.errstate(all="ignore"):
        return {"log": x.log, "sqrt": x.sqrt, "1/x": lambda: 1 / x}[expression]()


@pytest.mark.parametrize("gate", ["log", "sqrt", "1/x"])
def test_explain_names_the_gate_and_no_numpy_warning_leaks(gate):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cr.explain(at_zero(gate))
    assert caught and all(issubclass(w.category, cr.viz.NonFiniteWarning) for w in caught)
    assert all(f"the {gate} gate" in str(w.message) and w.filename == __file__ for w in caught)  # the caller's line


def test_the_command_line_shows_any_warning_as_one_line(capsys, monkeypatch):
    monkeypatch.setenv("CHAINRULE_GC_THRESHOLD", "often")  # tune_process_for_training warns, evaluate goes on
    assert cli.main(["evaluate", "missing.safetensors"]) == 2
    warning = capsys.readouterr().err.splitlines()[0]
    assert warning == (
        "chainrule: warning: tune_process_for_training: CHAINRULE_GC_THRESHOLD: expected a number of "
        "objects (0 to leave the collector alone), got 'often'; leaving that setting alone"
    )


def test_warnings_can_be_silenced_or_made_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="the log gate"):
            cr.explain(at_zero("log"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="raise"):  # nothing reaches NumPy's own error handling either
            cr.explain(at_zero("log"))
