"""The library never prints: it warns (chainrule.warn) where the user's code can see, filter and silence it."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli

PACKAGE = Path(cr.__file__).parent
# Where printing is the job: the command line's own output, the demo, and Explanation.print() (asked for).
PRINTING_ALLOWED = {"cli.py", "demo.py", "train_command.py", "evaluate_command.py", "viz/explain_command.py",
                    "viz/explanation.py",
                    "training.py"}  # its progress lines and fit(log=print): being reworked with the training loop


def test_library_modules_do_not_print():
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if str(path.relative_to(PACKAGE)) not in PRINTING_ALLOWED
                 and re.search(r"(?<![\w.])print\(|sys\.std(out|err)\.write", path.read_text())]
    assert offenders == []


def at_zero(expression):
    """log(x), sqrt(x) or 1/x at x = 0 (NumPy's warnings from the forward pass are the gates' business, not explain's)."""
    x = cr.tensor(0.0, requires_grad=True, dtype="float64", name="x")
    with np.errstate(all="ignore"):
        return {"log": x.log, "sqrt": x.sqrt, "1/x": lambda: 1 / x}[expression]()


@pytest.mark.parametrize("gate", ["log", "sqrt", "1/x"])
def test_explain_names_the_gate_instead_of_numpy_warning_from_inside_it(gate):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = cr.explain(at_zero(gate))
    assert [str(w.message) for w in caught] == [
        f"the '{gate}' gate's backward gives an infinite or undefined (nan) gradient at x = 0.00"]
    assert caught[0].category is RuntimeWarning and caught[0].filename == __file__  # the caller's line
    assert "inf" in str(steps)


def test_a_finite_walk_warns_nothing():
    x = cr.tensor(2.0, requires_grad=True, dtype="float64", name="x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.explain(x.log() * x.sqrt())


def test_the_command_line_shows_a_warning_as_one_line(capsys):
    assert cli.main(["explain", "log(x)", "--at", "x=0"]) == 0
    err = capsys.readouterr().err
    assert err == "chainrule: warning: the 'log' gate's backward gives an infinite or undefined (nan) gradient " \
                  "at x = 0.00\n"


def test_warnings_can_be_silenced_or_made_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="'log' gate"):
            cr.explain(at_zero("log"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="raise"):  # nothing reaches NumPy's own error handling either
            cr.explain(at_zero("log"))
