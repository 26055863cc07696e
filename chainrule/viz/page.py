"""A self-contained HTML page that saves to a file and shows itself inline in Jupyter."""

import html
import os


class Page:
    """One self-contained page (the stepper, the practice): ``.html`` is its text, ``save(path)`` writes it,
    and Jupyter shows it inline, in an iframe that holds the whole page."""

    def __init__(self, text: str, height: int = 640) -> None:
        self.html = text
        self.height = height

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Page: {len(self.html):,} characters>"

    def save(self, path: str | os.PathLike[str]) -> str | os.PathLike[str]:
        """Write the page to ``path``; returns the path."""
        with open(os.fspath(path), "w", encoding="utf-8") as file:
            file.write(self.html)
        return path

    def _repr_html_(self) -> str:
        return inline(self.html, self.height)


def inline(page: str, height: int = 640) -> str:
    """``page`` in an iframe whose ``srcdoc`` holds it, so its script runs apart from the notebook's."""
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #d0d7de"></iframe>'
    )
