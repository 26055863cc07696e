"""Pictures and step-by-step explanations of the backward pass.

``draw(output)`` returns a graphviz picture of the graph (values and gradients on the
wires), ``explain(output)`` the backward pass told gate by gate (``level="layer"``: layer
by layer), ``write_html(output, path)`` a page that steps through both
(``step_through(output)`` the same page, shown inline in Jupyter), and
``practice(formula, at=...)`` asks the learner for every number of the pass and checks
the answers. None of them touches ``.grad`` or releases
the graph: they run each gate's own backward on the side (see ``graph.trace``).
"""

from .drawing import GraphvizNotFoundError, draw, save
from .explanation import Explanation, NonFiniteWarning, Step, explain
from .graph import Trace, trace
from .page import Page
from .practice import Practice, Question, practice
from .practice_page import practice_html, write_practice_html
from .stepper import step_through, stepper_html, write_html

__all__ = [
    "Explanation",
    "GraphvizNotFoundError",
    "NonFiniteWarning",
    "Page",
    "Practice",
    "Question",
    "Step",
    "Trace",
    "draw",
    "explain",
    "practice",
    "practice_html",
    "save",
    "step_through",
    "stepper_html",
    "trace",
    "write_html",
    "write_practice_html",
]
