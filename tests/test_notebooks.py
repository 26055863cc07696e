"""The notebooks in examples/ run from top to bottom without an error, so they never go stale.

They need the ``[notebook]`` extra (nbclient, nbformat, ipykernel), which ``[test]``
includes; without it the test is skipped with a reason. Each runs in a fresh kernel, in a
temporary directory, so files a notebook writes land there.
"""

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
#: Notebooks that draw pictures or step through pages, which Graphviz's dot makes.
NEED_DOT = {"02_worked_examples.ipynb", "04_network.ipynb"}


def test_the_four_notebooks_are_there():
    assert [path.name for path in NOTEBOOKS] == [
        "01_gates.ipynb",
        "02_worked_examples.ipynb",
        "03_practice.ipynb",
        "04_network.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[notebook]'")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -e '.[notebook]'")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install -e '.[notebook]'")
    if path.name in NEED_DOT and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    notebook = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), f"{path.name} is committed with outputs"
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, when a cell fails
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors == []
    shown = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type in ("display_data", "execute_result")
    ]
    assert any("text/html" in output.data for output in shown)  # tensors, explanations or pages shown richly
