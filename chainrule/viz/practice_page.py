"""The practice as one self-contained page: a box per question, a Check button, hints and a score.

The page holds the questions as JSON and a small script; it needs no network and no
Graphviz. It checks answers as :class:`~chainrule.viz.practice.Question` does: within
one unit of the last decimal, with the rule, the rule with the numbers, then the answer
after each wrong try. When every question is over it shows the whole explanation.

For tests and tools the state is in the DOM: each question is ``li.question`` with
``data-state`` ("open", "right" or "shown") and ``data-attempts``, its feedback in
``.feedback``; ``#score`` has ``data-first`` (right the first time) and ``data-done``.
"""

import html
import json
import os
import re
from importlib import resources

from .practice import HINT_LEADS


def practice_html(session):
    """The page for a :class:`~chainrule.viz.practice.Practice`, as a string."""
    questions = [{"number": q.number, "kind": q.kind, "gate": q.gate, "prompt": q.prompt, "answer": _json_number(q.answer),
                  "answer_text": q.answer_text, "hints": [lead + hint for lead, hint in zip(HINT_LEADS, q.hints)]}
                 for q in session.questions]
    data = {"digits": session.digits, "questions": questions, "explanation": session.explanation.text()}
    fills = {"TITLE": html.escape(f"Practice: {session.title}"), "GIVENS": html.escape(f"at {session.givens}"),
             "DATA": json.dumps(data).replace("</", "<\\/")}
    template = resources.files("chainrule.viz").joinpath("practice.html").read_text(encoding="utf-8")
    return re.sub(r"\{\{(TITLE|GIVENS|DATA)\}\}", lambda match: fills[match.group(1)], template)


def write_practice_html(session, path):
    """Write the practice page to ``path``; returns the path."""
    page = practice_html(session)
    with open(os.fspath(path), "w", encoding="utf-8") as file:
        file.write(page)
    return path


def _json_number(value):
    """JSON has no nan or inf: those travel as text ("nan", "inf", "-inf")."""
    return value if value == value and abs(value) != float("inf") else str(value)
