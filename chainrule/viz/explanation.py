"""The backward pass told step by step, as the reference text tells it for its perceptron.

``explain(output)`` walks the graph behind ``output`` from the output back to the
inputs (see ``graph.trace`` for the order) and, for each gate, writes down the
upstream gradient it received, its local derivative as the gate states it
(``gate.derivative``), that derivative evaluated at the cached inputs, and the
gradient it sends to each input with the multiplication shown::

    4. exp: local d/dx e^x = e^x = e^(-1.00) = 0.37; upstream -0.53; sends 0.37 * -0.53 = -0.20

Where a tensor is used in several places its gradient is the sum over the paths, and
the explanation shows the sum ("upstream 0.20 + 0.40 = 0.60"). Tensors with more than
one element are summarized (shape, range, norm) rather than printed in full.
"""

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, overload

import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from .graph import GateNode, Trace, Wire, format_constant, local_derivatives, trace
from .layers import LayerExplanation, explain_layers
from .letters import gate_letters, graph_names
from .steps import NumberedSteps
from .text import gradient_text, number, product, shown_equation, value_text

#: Gate attributes that derivative texts use as constants (f_c(x) = c + x, f_a(x) = ax, x^p, ...).
CONSTANT_NAMES = ("c", "a", "p", "slope", "alpha", "low", "high")


class NonFiniteWarning(RuntimeWarning):
    """A gate gave nan or inf from finite inputs: outside where it is defined (log of a negative number)."""


@dataclass
class InputGradient:
    """What one gate sends to one of its inputs."""

    letter: str  # the input's name in the derivative text: x, y, z
    name: str | None  # the tensor's own name (w0), if it has one
    value: Array  # the input value the gate cached in forward
    derivative: str  # the gate's statement for this input: "d/dx e^x = e^x"
    substituted: str | None  # its right-hand side with the values put in: "e^(-1.00)"
    local: Array | None  # the local derivative at the cached inputs (one-element gates only)
    sent: Array | None  # the gradient sent to this input (None: it needs none)
    arithmetic: str  # "0.37 * -0.53 = -0.20"

    @property
    def target(self) -> str:
        return self.name or self.letter


@dataclass
class Step:
    """One step of the backward pass: the start, or one gate."""

    number: int
    gate: str  # the gate's label ("exp", "1/x", "+1"), or "start"
    node_id: str | None  # the gate's node in pictures ("gate5"); None for the start
    upstream: Array | None  # dL/d(gate output) (None: a gate with several outputs whose first got none)
    upstream_parts: list[Array]  # the gradients that added up to it, one per use of the output
    inputs: list[InputGradient]  # InputGradient per input (empty for the start)
    text: str  # the line, without its number

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"


@dataclass
class LeafGradient:
    """The final gradient of a leaf (an input or parameter), with the paths that added up to it."""

    name: str
    value: Array
    grad: Array
    parts: list[Array]
    text: str


class Explanation(NumberedSteps[Step]):
    """The numbered steps of a backward pass; ``str()`` gives the walk, ``print()`` prints it."""

    def __init__(self, steps: list[Step], gradients: list[LeafGradient], output_value: Array, digits: int) -> None:
        self.steps = steps
        self.gradients = gradients
        self.output_value = output_value
        self.digits = digits

    def __str__(self) -> str:
        return self.text()

    def text(self, gradients: bool = True) -> str:
        """The numbered walk; with ``gradients``, followed by the gradient every input received."""
        width = len(str(len(self.steps)))
        lines = [f"Backward pass, from the output ({value_text(self.output_value, self.digits)}) back to the inputs:"]
        lines += [f"{step.number:>{width}}. {step.text}" for step in self.steps]
        if gradients and self.gradients:
            lines.append("Gradients of the inputs:")
            lines += [f"  {leaf.text}" for leaf in self.gradients]
        return "\n".join(lines)


@overload
def explain(
    output: Tensor | Trace,
    gradient: TensorLike | None = ...,
    *,
    digits: int | None = ...,
    print: bool = ...,
    level: Literal["gate"] = ...,
) -> Explanation: ...
@overload
def explain(
    output: Tensor | Trace,
    gradient: TensorLike | None = ...,
    *,
    digits: int | None = ...,
    print: bool = ...,
    level: Literal["layer"],
) -> LayerExplanation: ...
@overload
def explain(
    output: Tensor | Trace,
    gradient: TensorLike | None = ...,
    *,
    digits: int | None = ...,
    print: bool = ...,
    level: str,
) -> Explanation | LayerExplanation: ...
def explain(
    output: Tensor | Trace,
    gradient: TensorLike | None = None,
    *,
    digits: int | None = None,
    print: bool = False,
    level: str = "gate",
) -> Explanation | LayerExplanation:
    """Explain the backward pass from ``output``, gate by gate; returns an :class:`Explanation`.

    ``gradient`` is dL/d(output) (default 1 for a one-element output); ``output`` may also
    be a ``Trace`` made with gradients. Numbers are shown at ``digits`` decimals (2 for
    gates, 4 for layers); ``print=True`` also prints the explanation. ``level="layer"``
    tells a network's backward layer by layer instead, with shapes and example numbers
    (a :class:`~chainrule.viz.layers.LayerExplanation`, see ``chainrule.viz.layers``).
    Leaves' ``.grad`` is not touched and the graph is not released, so ``backward()``
    can still run.
    """
    if level not in ("gate", "layer"):
        raise ValueError(f"explain: level must be 'gate' or 'layer', got {level!r}")
    if level == "layer":
        layers = explain_layers(output, gradient, digits=4 if digits is None else digits)
        if print:
            layers.print()
        return layers
    digits = 2 if digits is None else digits
    walk = output if isinstance(output, Trace) else trace(output, gradient, where="explain", gradients="required")
    if walk.root_gradient is None:  # not walk.has_gradients
        raise ValueError("explain: this trace was made without gradients; make it with trace(output, gradient)")
    taken = graph_names(walk)
    _warn_non_finite(walk, taken, digits)
    steps = [_start_step(walk.root_gradient, digits)]
    for node in walk.backward_order:
        steps.append(_gate_step(len(steps) + 1, node, digits, taken))
    gradients = [_leaf_gradient(wire, digits) for wire in walk.leaves if wire.grad is not None]
    explanation = Explanation(steps, gradients, walk.output.value, digits)
    if print:
        explanation.print()
    return explanation


def _warn_non_finite(walk: Trace, taken: set[str], digits: int) -> None:
    """One warning per gate whose value, or the gradient it sends, is nan or inf while what it got is finite."""
    for node in walk.gates:
        if not all(_finite(wire.value) for wire in node.inputs):
            continue  # not this gate's doing: an earlier one is warned about
        letters, _ = gate_letters(node.gate, [wire.name for wire in node.inputs], taken)
        where = ", ".join(
            f"{wire.name or letter} = {value_text(wire.value, digits)}" for letter, wire in zip(letters, node.inputs)
        )
        if not _finite(node.output.value):
            problem = f"gives {value_text(node.output.value, digits)} at {where} (outside where it is defined)"
        elif _finite(node.upstream) and not all(_finite(sent) for sent in node.sent):
            problem = f"sends a gradient that is not finite at {where} (its derivative is not finite there)"
        else:
            continue
        warnings.warn(
            f"the {node.label} gate {problem}; the gradients through it are not meaningful",
            NonFiniteWarning,
            stacklevel=3,
        )


def _finite(array: Array | None) -> bool:
    return array is None or bool(xp.isfinite(array).all())


def _start_step(root: Array, digits: int) -> Step:
    if root.size == 1 and float(root.reshape(())) == 1.0:
        text = "start: dL/dout = 1"
    else:
        text = f"start: dL/dout = {gradient_text(root, digits)} (given)"
    return Step(1, "start", None, root, [root], [], text)


def _gate_step(step_number: int, node: GateNode, digits: int, taken: set[str]) -> Step:
    gate = node.gate
    letters, statements = gate_letters(gate, [wire.name for wire in node.inputs], taken)
    locals_ = local_derivatives(node)
    scalar = locals_ is not None
    values = {letter: wire.value for letter, wire in zip(letters, node.inputs)}
    inputs = []
    for position, wire in enumerate(node.inputs):
        statement = statements[min(position, len(statements) - 1)]
        substituted = substitute(right_side(statement), gate, values, digits) if scalar else None
        local = locals_[position] if locals_ is not None and position < len(locals_) else None
        sent = node.sent[position]
        inputs.append(
            InputGradient(
                letters[position],
                wire.name,
                wire.value,
                statement,
                substituted,
                local,
                sent,
                _arithmetic(local, node.upstream, sent, digits),
            )
        )
    if node.outputs is None:
        assert node.upstream is not None  # a gate with one output runs backward when that output has a gradient
        upstream = _upstream_text(node.output.parts, node.upstream, digits)
    else:  # one upstream gradient per output that got one
        upstream = ", ".join(
            f"to output {k}: {_upstream_text(wire.parts, wire.grad, digits)}"
            for k, wire in enumerate(node.outputs)
            if wire is not None and wire.grad is not None
        )
    if len(inputs) == 1:
        text = f"{node.label}: {_local_text(inputs[0], scalar, digits)}; upstream {upstream}; {_sends_text(inputs[0])}"
    else:
        given = ", ".join(_input_text(i, digits) for i in inputs)
        sends = "; ".join(f"to {i.target}: {_local_text(i, scalar, digits)}, {_sends_text(i)}" for i in inputs)
        text = f"{node.label}: {given}; upstream {upstream}; {sends}"
    return Step(step_number, node.label, node.node_id, node.upstream, list(node.output.parts), inputs, text)


def right_side(statement: str) -> str:
    """What a derivative statement says the derivative is: "e^x" of "d/dx e^x = e^x"."""
    return statement.split("=", 1)[1].strip() if "=" in statement else statement


def substitute(formula: str, gate: Gate, values: Mapping[str, Array], digits: int) -> str:
    """The formula with the input letters replaced by their values and the gate's constants by theirs."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in values:
            text = number(values[word].reshape(()), digits)
        elif word in CONSTANT_NAMES and isinstance(getattr(gate, word, None), (int, float, xp.number)):
            text = format_constant(getattr(gate, word))
        else:
            return word
        alone = match.start() == 0 and match.end() == len(formula)
        return f"({text})" if text.startswith("-") and not alone else text  # e^(-1.00), not e^-1.00

    return re.sub(r"\b[A-Za-z_][A-Za-z_0-9]*\b", replace, formula)


def _local_text(item: InputGradient, scalar: bool, digits: int) -> str:
    if not item.derivative:
        return "local derivative not stated"
    text = f"local {item.derivative}"
    right = right_side(item.derivative)
    if item.substituted is not None and item.substituted != right:
        text += f" = {item.substituted}"
    if item.local is not None and not _says(item.substituted or right, number(item.local.reshape(()), digits)):
        text += f" = {number(item.local.reshape(()), digits)}"
    return text


def _says(text: str, shown: str) -> bool:
    """Whether ``text`` already is the number ``shown``: "= 1", not "= 1 = 1.00"; "= v = 1.65", not "= 1.65 = 1.65"."""
    try:
        return float(text) == float(shown)
    except ValueError:
        return False


def _arithmetic(local: Array | None, upstream: Array | None, sent: Array | None, digits: int) -> str:
    if sent is None:
        return ""
    if local is not None and sent.size == 1:
        assert upstream is not None  # a local derivative is only found for a gate with one output, which got one
        (shown_local, shown_upstream), shown_sent = shown_equation([local, upstream], sent, digits, product)
        return f"{shown_local} * {shown_upstream} = {shown_sent}"
    return gradient_text(sent, digits)


def _sends_text(item: InputGradient) -> str:
    if item.sent is None:
        return "sends nothing (it needs no gradient)"
    return f"sends {item.arithmetic}"


def _input_text(item: InputGradient, digits: int) -> str:
    return input_text(item.letter, item.name, item.value, digits)


def input_text(letter: str, name: str | None, value: npt.ArrayLike, digits: int) -> str:
    """How an input is introduced: "x = w0 = 2.00", or "x = 2.00" when it has no other name."""
    shown = value_text(value, digits)
    return f"{letter} = {name} = {shown}" if name and name != letter else f"{letter} = {shown}"


def _upstream_text(parts: list[Array], total: Array, digits: int) -> str:
    if len(parts) > 1 and all(p.size == 1 for p in parts):
        shown_parts, shown_total = shown_equation(parts, total, digits)
        return " + ".join(shown_parts) + f" = {shown_total}"
    if len(parts) > 1:
        return f"{gradient_text(total, digits)} (the sum over {len(parts)} uses)"
    return gradient_text(total, digits)


def _leaf_gradient(wire: Wire, digits: int) -> LeafGradient:
    assert wire.grad is not None  # called for the leaves that received a gradient
    name = wire.name or f"(unnamed input {value_text(wire.value, digits)})"
    text = (
        f"{name} receives {_upstream_text(wire.parts, wire.grad, digits)}"
        if len(wire.parts) > 1
        else f"{name} = {gradient_text(wire.grad, digits)}"
    )
    return LeafGradient(name, wire.value, wire.grad, list(wire.parts), text)
