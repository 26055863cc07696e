"""The practice as one self-contained page: the graph with answer boxes on its wires, hints and a score.

The page holds a picture of the graph (plain SVG from ``wires.wire_picture``, no
Graphviz), the questions as JSON and a small script; it needs no network. Each question
has one box on the wire it is about: a gate's value above the wire that carries it, a
local derivative and the gradient sent back below the wire it goes back along. The
panel above the picture shows the question of the box in focus with a Check button
(Enter checks too); answers are checked as :class:`~chainrule.viz.practice.Question`
checks them: within one unit of the last decimal, arithmetic allowed (numbers, + - * /
and parentheses, read by a small parser, never evaluated as code), with the rule, the
rule with the numbers, then the answer after each wrong try. When every question is
over it shows the whole explanation.

For tests and tools the state is in the DOM: each question's box is
``input.box[data-number]`` inside ``#picture``; each question is also listed as
``li.question`` with ``data-state`` ("open", "right" or "shown") and ``data-attempts``,
its feedback in ``.feedback``; the panel is ``#current`` (``data-number``, the prompt in
``#current-prompt``, the button ``#check``, the latest message in ``#message``);
``#score`` has ``data-first`` (right the first time) and ``data-done``.
"""

import html
import json
import os
import re
from importlib import resources

from .practice import HINT_LEADS, Practice
from .wires import wire_picture


def practice_html(session: Practice) -> str:
    """The page for a :class:`~chainrule.viz.practice.Practice`, as a string."""
    assert session.trace is not None  # practice() keeps the graph it walked
    picture = wire_picture(session.trace, session.digits)
    questions: list[dict[str, object]] = []
    for q in session.questions:
        if q.kind == "value":
            block = picture.value_block(q.node_id)
        else:
            assert q.position is not None  # a "local" or "sent" question names its input
            block = picture.inputs[(q.node_id, q.position)]
        x, y = block.box(q.kind)
        questions.append(
            {
                "number": q.number,
                "kind": q.kind,
                "gate": q.gate,
                "prompt": q.prompt,
                "answer": _json_number(q.answer),
                "answer_text": q.answer_text,
                "x": round(x),
                "y": round(y),
                "hints": [lead + hint for lead, hint in zip(HINT_LEADS, q.hints)],
            }
        )
    data = {"digits": session.digits, "questions": questions, "explanation": session.explanation.text()}
    fills = {
        "TITLE": html.escape(f"Practice: {session.title}"),
        "GIVENS": html.escape(f"at {session.givens}"),
        "DATA": json.dumps(data).replace("</", "<\\/"),
        "SVG": picture.svg,
        "WIDTH": str(picture.width),
        "HEIGHT": str(picture.height),
    }
    template = resources.files("chainrule.viz").joinpath("practice.html").read_text(encoding="utf-8")
    return re.sub(r"\{\{(TITLE|GIVENS|DATA|SVG|WIDTH|HEIGHT)\}\}", lambda match: fills[match.group(1)], template)


def write_practice_html(session: Practice, path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """Write the practice page to ``path``; returns the path."""
    with open(path, "w", encoding="utf-8") as file:
        file.write(practice_html(session))
    return path


def _json_number(value: float) -> float | str:
    """JSON has no nan or inf: those travel as text ("nan", "inf", "-inf")."""
    return value if value == value and abs(value) != float("inf") else str(value)
