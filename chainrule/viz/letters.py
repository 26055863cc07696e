"""The letters that stand for a gate's inputs in its derivative text, kept apart from the user's own names.

A gate states its local derivative with its own letters (``d/dx (x*y) = y``). When the
graph has a tensor called ``x`` that is not the input the letter ``x`` stands for,
"mul: x = 4.00, y = x = 2.00" reads as nonsense, so that gate gets spare letters instead
(``mul: u = 4.00, v = x = 2.00``; ``d/du (u*v) = v``). Where a letter is the name of its
own input (``log(x)``) or names nothing in the graph, the gate keeps the text's letters,
as the reference text writes them.
"""

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..autograd import Gate
    from .graph import Trace

DEFAULT_LETTERS = ("x", "y", "z")
SPARE_LETTERS = "uvwpqrsmnk"


def graph_names(walk: "Trace") -> set[str]:
    """Every name a tensor of the traced graph carries: the words a gate's letters must not be."""
    return {wire.name for wire in walk.wires if wire.name}


def gate_letters(gate: "Gate", input_names: Sequence[str | None], taken: set[str]) -> tuple[list[str], list[str]]:
    """``(letters, statements)``: one letter per input and the derivative statements written with them.

    ``input_names`` are the names of the gate's input tensors (None where unnamed),
    ``taken`` all the names in the graph. If a letter is taken by another tensor than its
    own input, all the gate's letters are replaced, by spare letters that are neither
    taken nor words of the statement (constants such as ``a`` and ``c``, ``e`` of
    ``e^x``, ``g`` of the upstream gradient).
    """
    names = tuple(getattr(gate, "input_names", DEFAULT_LETTERS))
    letters = [names[i] if i < len(names) else f"x{i}" for i in range(len(input_names))]
    statements = [s.strip() for s in (gate.derivative or "").split(";")]
    if all(letter not in taken or letter == own for letter, own in zip(letters, input_names)):
        return letters, statements
    used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", " ".join(statements))) | taken
    spare = iter(letter for letter in SPARE_LETTERS if letter not in used)
    mapping = {letter: next(spare, f"in{i}") for i, letter in enumerate(dict.fromkeys(letters))}
    return [mapping[letter] for letter in letters], [rename(s, mapping) for s in statements]


def rename(statement: str, mapping: Mapping[str, str]) -> str:
    """``statement`` with each letter replaced, as a word, in ``d/dx`` and before an index (``x_i``)."""
    pattern = "|".join(re.escape(letter) for letter in mapping)
    return re.sub(rf"(?:(?<=d/d)|\b)({pattern})(?=\b|_)", lambda match: mapping[match.group(1)], statement)
