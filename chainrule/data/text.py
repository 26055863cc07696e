"""Text for character-level language models: a corpus every machine has, a vocabulary, and windows.

The default corpus is the text of the Python Language Reference topics that ``pydoc`` shows
(``help("assert")``, ``help("with")``, ...), which ships with CPython itself as
``pydoc_data.topics``: about 460,000 characters of English prose and code examples, on every
machine with Python and no download. It is part of the Python documentation, © Python Software
Foundation, distributed under the PSF License Agreement (the licence Python itself ships with),
which permits copying and redistribution. Its exact text varies a little between Python versions.
"""

import os
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ..keywords import CheckedKeywords
from ..types import Array


def default_corpus() -> str:
    """The pydoc topics of this Python, joined in the order of their names (see the module docstring)."""
    try:
        from pydoc_data.topics import topics
    except ImportError as error:  # some distributions leave pydoc's data out
        raise FileNotFoundError(
            "the default corpus (Python's pydoc_data.topics) is missing from this Python; "
            "give a text file instead (--text FILE)"
        ) from error
    return "".join(topics[name] for name in sorted(topics))


def read_text(path: str | os.PathLike[str]) -> str:
    """A UTF-8 text file's contents; a clear error for a file that is missing, binary or empty."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"the text file {os.fspath(path)!r} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    if not text:
        raise ValueError(f"the text file {os.fspath(path)!r} is empty")
    return text


class Vocabulary(CheckedKeywords):
    """The characters of a text, sorted; ``encode`` maps a string to int64 ids, ``decode`` back."""

    def __init__(self, characters: Iterable[str]) -> None:
        self.characters = "".join(sorted(set(characters)))
        self.index = {c: i for i, c in enumerate(self.characters)}

    def __len__(self) -> int:
        return len(self.characters)

    def unknown(self, text: str) -> str:
        """The characters of ``text`` that are not in the vocabulary, in order of first appearance."""
        return "".join(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str) -> npt.NDArray[np.int64]:
        """The ids of ``text``'s characters (int64); a ValueError naming any character not in the vocabulary."""
        missing = self.unknown(text)
        if missing:
            raise ValueError(
                f"characters {missing!r} are not in the vocabulary of {len(self)} characters the model was trained on"
            )
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids: npt.ArrayLike) -> str:
        """The text the ids (any shape, read in order) spell."""
        return "".join(self.characters[i] for i in np.asarray(ids).reshape(-1))


def windows(ids: Array, block_size: int) -> tuple[Array, Array]:
    """Inputs and targets (each (count, block_size), int64) from non-overlapping windows of ``block_size + 1``
    ids: the targets are the inputs shifted by one character."""
    count = (len(ids) - 1) // block_size
    x = ids[: count * block_size].reshape(count, block_size)
    y = ids[1 : count * block_size + 1].reshape(count, block_size)
    return x.copy(), y.copy()


__all__ = ["default_corpus", "read_text", "Vocabulary", "windows"]
