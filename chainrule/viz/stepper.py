"""One self-contained page that steps through the forward and the backward pass.

The page holds the picture (SVG made by Graphviz's ``dot``, inlined), the steps as
JSON and a small script; it needs no network. The reader moves with the Prev / Next /
Reset buttons or the Left / Right arrow keys (Home resets):

* step 1 shows the inputs' values on the wires leaving the leaves;
* then one forward step per gate, in creation order: the gate is highlighted and the
  value of its output appears on its outgoing wires;
* then the backward pass exactly as ``explain`` tells it: "start" highlights the
  output and shows dL/dout = 1, and each gate step highlights the gate, shows the
  gradients it sends on its incoming wires and prints its explanation line.

With ``level="layer"`` the page steps through a network the way ``explain(loss,
level="layer")`` tells it: the picture has one box per layer (module), the forward
pass goes one layer at a time with its shapes, and each backward step is one layer's
story (Linear's ``dL/dW = dL/dY^T X`` with its shapes and an example number, ...).

For tests and tools the state is in the DOM: ``#stepper[data-step]`` (0-based index)
and ``[data-phase]`` ("forward" or "backward"), the line in ``#step-text``, the
highlighted node has class ``current`` (gates are ``g#gate<N>``, layers
``g#module_<name>``, the output ``g#output``), and value / gradient labels are
``text.wire-value`` / ``text.wire-grad``, with class ``hidden`` until the pass reaches them.
"""

import html
import json
import os
import re
from importlib import resources
from typing import TypedDict

from ..tensor import Tensor
from ..types import TensorLike
from .drawing import GRADIENT_COLOR, VALUE_COLOR, draw, pipe, unit_id
from .explanation import Explanation, explain, input_text
from .graph import Trace, is_parameter, trace
from .layers import LayerExplanation
from .letters import gate_letters, graph_names
from .page import Page
from .text import shape_text, value_text

_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


class _PageStep(TypedDict):
    """One step of the page: its phase ("forward" or "backward"), the node to highlight and the line shown."""

    phase: str
    node: str | None
    text: str


#: Per edge of the picture: its id, the step that shows its value and the one that shows its gradient (if any).
_PageEdge = list[str | int | None]


def write_html(
    output: Tensor,
    path: str | os.PathLike[str],
    gradient: TensorLike | None = None,
    *,
    digits: int | None = None,
    title: str | None = None,
    max_nodes: int = 200,
    level: str = "gate",
) -> str | os.PathLike[str]:
    """Write the stepper page for the graph behind ``output`` to ``path``; returns the path.

    ``level="layer"`` steps through a network layer by layer (see the module docstring).
    """
    return step_through(output, gradient, digits=digits, title=title, max_nodes=max_nodes, level=level).save(path)


def step_through(
    output: Tensor,
    gradient: TensorLike | None = None,
    *,
    digits: int | None = None,
    title: str | None = None,
    max_nodes: int = 200,
    level: str = "gate",
) -> Page:
    """The stepper page as a :class:`~chainrule.viz.page.Page`: ``.save(path)`` writes it, Jupyter shows it inline."""
    return Page(stepper_html(output, gradient, digits=digits, title=title, max_nodes=max_nodes, level=level), 760)


def stepper_html(
    output: Tensor,
    gradient: TensorLike | None = None,
    *,
    digits: int | None = None,
    title: str | None = None,
    max_nodes: int = 200,
    level: str = "gate",
) -> str:
    """The stepper page as a string (see the module docstring for what it shows).

    Numbers are shown at ``digits`` decimals (2 for gates; 4 in the layer stories, 2 on the picture).
    """
    if level not in ("gate", "layer"):
        raise ValueError(f"write_html: level must be 'gate' or 'layer', got {level!r}")
    walk = trace(output, gradient, where="write_html", gradients="required")
    explanation = explain(walk, digits=digits, level=level)
    picture_digits = 2 if digits is None else digits
    graph = draw(walk, digits=picture_digits, max_nodes=max_nodes, collapse_modules=level == "layer")
    svg = _prepare_svg(pipe(graph, "svg", where="write_html").decode("utf-8"))
    if isinstance(explanation, LayerExplanation):  # level == "layer"
        steps, edges = _layer_steps(walk, explanation)
        title = title or "Backward pass, layer by layer"
    else:
        steps, edges = _steps(walk, explanation, picture_digits)
        title = title or "Backward pass, step by step"
    # Inside <script>, "</script>" or "<!--" would end or derail the block: JSON may spell <, > and & as escapes.
    data = json.dumps({"steps": steps, "edges": edges}).translate(_SCRIPT_SAFE)
    template = resources.files("chainrule.viz").joinpath("stepper.html").read_text(encoding="utf-8")
    fills = {"TITLE": html.escape(title), "DATA": data, "SVG": svg}
    return re.sub(r"\{\{(TITLE|DATA|SVG)\}\}", lambda match: fills[match.group(1)], template)


def _steps(walk: Trace, explanation: Explanation, digits: int) -> tuple[list[_PageStep], list[_PageEdge]]:
    """The page's steps (text, node to highlight, phase) and, per edge, the steps that reveal its labels."""
    steps: list[_PageStep] = [
        {"phase": "forward", "node": None, "text": "Forward pass: the inputs are " + _leaf_values(walk, digits)}
    ]
    value_step: dict[int, int] = {}  # gate index -> the step that computes its output
    taken = graph_names(walk)
    for node in walk.gates:
        value_step[node.index] = len(steps)
        letters, _ = gate_letters(node.gate, [wire.name for wire in node.inputs], taken)
        given = ", ".join(
            input_text(letter, wire.name, wire.value, digits) for letter, wire in zip(letters, node.inputs)
        )
        steps.append(
            {
                "phase": "forward",
                "node": node.node_id,
                "text": f"forward: {node.label}: {given} \u2192 {value_text(node.output.value, digits)}",
            }
        )
    gradient_step: dict[int, int] = {}  # gate index -> the backward step that sends its gradients
    for step in explanation:
        highlighted = step.node_id or "output"
        if step.node_id:
            gradient_step[int(step.node_id[len("gate") :])] = len(steps)
        else:
            start_step = len(steps)
        steps.append({"phase": "backward", "node": highlighted, "text": f"backward {step}"})
    edges: list[_PageEdge] = []
    for node in walk.gates:
        for position, wire in enumerate(node.inputs):
            shown = 0 if wire.producer is None else value_step[wire.producer.index]
            edges.append([f"edge_{node.index}_{position}", shown, gradient_step.get(node.index)])
    assert walk.output.producer is not None  # a trace's output has a gate
    edges.append(["edge_output", value_step[walk.output.producer.index], start_step])
    return steps, edges


def _layer_steps(walk: Trace, explanation: LayerExplanation) -> tuple[list[_PageStep], list[_PageEdge]]:
    """The page's steps for a network: the input, one forward step per layer, the start, one backward step per
    layer; and, per edge, the steps that reveal its labels (edge ids as ``draw`` gives them, layers collapsed)."""
    inputs = [w for w in walk.leaves if not is_parameter(w)]
    steps: list[_PageStep] = [
        {
            "phase": "forward",
            "node": None,
            "text": "Forward pass: the input, shape " + ", ".join(shape_text(w.value) for w in inputs),
        }
    ]
    value_step: dict[
        str, int
    ] = {}  # picture node (a layer's box, or a gate outside any layer) -> the step that computes it
    for layer in sorted(explanation, key=lambda layer: layer.gates[-1].index):  # gates are in backward order
        unit = unit_id(layer.gates[0], True)
        value_step[unit] = len(steps)
        first, last = layer.gates[-1], layer.gates[0]
        steps.append(
            {
                "phase": "forward",
                "node": unit,
                "text": f"forward: {layer.heading}: "
                f"{shape_text(first.inputs[0].value)} \u2192 {shape_text(last.output.value)}",
            }
        )
    start_step = len(steps)
    steps.append({"phase": "backward", "node": "output", "text": "backward: start: dL/dL = 1 at the loss"})
    gradient_step: dict[str, int] = {}
    for layer in explanation:
        unit = unit_id(layer.gates[0], True)
        gradient_step[unit] = len(steps)
        steps.append({"phase": "backward", "node": unit, "text": f"backward {layer}"})
    edges: list[_PageEdge] = []
    for node in walk.gates:  # every id an edge into this gate may have; those not drawn are skipped by the page
        unit = unit_id(node, True)
        for position, wire in enumerate(node.inputs):
            shown = 0 if wire.producer is None else value_step.get(unit_id(wire.producer, True), 0)
            edges.append([f"edge_{node.index}_{position}", shown, gradient_step.get(unit)])
    assert walk.output.producer is not None  # a trace's output has a gate
    edges.append(["edge_output", value_step[unit_id(walk.output.producer, True)], start_step])
    return steps, edges


def _leaf_values(walk: Trace, digits: int, shown: int = 8) -> str:
    leaves = [w for w in walk.leaves if w.name] or walk.leaves
    text = ", ".join(f"{w.name or 'input'} = {value_text(w.value, digits)}" for w in leaves[:shown])
    return text + (f", and {len(leaves) - shown} more" if len(leaves) > shown else "")


def _prepare_svg(svg: str) -> str:
    """dot's SVG, ready to inline: no XML prologue, scalable, labels classed as values or gradients."""
    svg = svg[svg.index("<svg") :]
    width = re.search(r'<svg width="([\d.]+)pt"', svg)
    svg = re.sub(
        r'<svg width="[\d.]+pt" height="[\d.]+pt"',
        f'<svg style="max-width: {float(width.group(1)) * 4 / 3:.0f}px"' if width else "<svg",
        svg,
        count=1,
    )
    svg = svg.replace(f'fill="{VALUE_COLOR}"', f'class="wire-value" fill="{VALUE_COLOR}"')
    return svg.replace(f'fill="{GRADIENT_COLOR}"', f'class="wire-grad" fill="{GRADIENT_COLOR}"')
