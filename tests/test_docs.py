"""The documentation site's pages: their Python examples run, and every public object has a docstring.

Each page's ```python blocks run in order as one session, as a reader would paste them
(README sections that pages include are run by test_readme.py). The docstring check is
the one the site's build runs (docs/_hooks/docstrings.py); building the site itself
needs the [docs] extra and is done by .ci/docs (mkdocs build --strict).
"""

import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
sys.path.insert(0, str(DOCS / "_hooks"))
from docstrings import api_modules, undocumented  # noqa: E402


def python_blocks(page):
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_pages_have_examples():
    assert {page.name for page in PAGES if python_blocks(page)} >= {
        "index.md",
        "tutorial.md",
        "gates.md",
        "teaching.md",
    }


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page), 1):
        try:
            exec(compile(block, f"docs/{page.name} python block {number}", "exec"), namespace)
        except Exception as error:  # say which block failed
            raise AssertionError(f"docs/{page.name} python block {number} failed: {error!r}\n{block}") from error


def test_every_public_object_in_the_api_reference_has_a_docstring():
    modules = api_modules(DOCS / "api")
    assert "chainrule" in modules and "chainrule.nn" in modules
    assert undocumented(modules) == []


def test_a_missing_docstring_is_found(monkeypatch):
    import chainrule.nn

    class Undocumented(chainrule.nn.Module):
        """A layer."""

        def helper(self):
            return 1

    monkeypatch.setattr(chainrule.nn, "Undocumented", Undocumented, raising=False)
    monkeypatch.setattr(chainrule.nn, "__all__", [*chainrule.nn.__all__, "Undocumented"])
    assert undocumented(["chainrule.nn"]) == ["chainrule.nn.Undocumented.helper"]
