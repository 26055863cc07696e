"""The README's Python examples run, in order, as one session (as a reader would paste them)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_readme_has_examples():
    assert len(python_blocks()) >= 3


def test_readme_examples_run(tmp_path, monkeypatch, mnist_dir_or_none):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "readme", "MNIST_DIR": mnist_dir_or_none}
    for number, block in enumerate(python_blocks(), 1):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        except Exception as error:  # say which block failed
            raise AssertionError(f"README python block {number} failed: {error!r}\n{block}") from error
