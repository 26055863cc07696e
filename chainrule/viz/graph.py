"""Walking a graph once, for pictures and explanations.

``trace(output)`` collects every gate and wire (tensor) behind ``output`` in a fixed
order and computes every wire's gradient by calling each gate's own ``backward`` on
arrays, in reverse topological order, as the engine does. It records what the
engine throws away: the upstream gradient of each gate, the gradient it sent to each
input, and the separate contributions that a wire used in several places adds up.

Nothing is changed along the way: no ``.grad`` is written, no cache is released and
no hook is called, so the caller can still run ``backward()`` afterwards.

The order is deterministic. Forward, gates come in the order a left-to-right
evaluation of the expression creates them (a depth-first walk from the output that
visits inputs in position order). Backward, a gate runs once all its consumers have
run; among the gates ready at the same time the one created first goes first, so
``w0*x0 + w1*x1`` explains the ``w0*x0`` product before the ``w1*x1`` one, as the
reference text does.
"""

import heapq
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import numpy as np

from ..autograd import Gate, no_grad
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike

#: Where a gate was recorded: ``((name, class name or None), ...)`` from the outermost module down.
Scope = tuple[tuple[str, str | None], ...]


@dataclass(eq=False)
class Wire:
    """One tensor of the graph: its value, and after the backward walk its gradient."""

    index: int
    tensor: Tensor
    name: str | None
    value: Array
    producer: "GateNode | None" = None
    consumers: list[tuple["GateNode", int]] = field(default_factory=list)  # (GateNode, input position), one per use
    #: the gradients arriving from each use, in arrival order
    parts: list[Array] = field(default_factory=list)
    grad: Array | None = None  # their sum: dL/d(this tensor)

    @property
    def is_leaf(self) -> bool:
        return self.producer is None

    @property
    def requires_grad(self) -> bool:
        return self.tensor.requires_grad


@dataclass(eq=False)
class GateNode:
    """One gate of the graph with the wires around it and, after the backward walk, its gradients."""

    index: int  # position in forward order
    gate: Gate
    label: str
    inputs: list[Wire]
    output: Wire  # the output the walk reached first (for a gate with several outputs)
    scope: Scope = ()  # the modules it was recorded in, below the root: ((name, class name or None), ...)
    upstream: Array | None = None  # dL/d(output)
    #: the gradient sent to each input (None: none needed)
    sent: list[Array | None] = field(default_factory=list)
    #: For a gate with several outputs (an LSTM's output and states): one Wire per output, in the gate's order,
    #: None for an output nothing in the graph uses; their gradients (None where none came) in ``upstreams``.
    outputs: list[Wire | None] | None = None
    upstreams: tuple[Array | None, ...] | None = None

    @property
    def module_path(self) -> Any:
        return getattr(self.gate, "module_path", None)

    @property
    def node_id(self) -> str:
        return f"gate{self.index}"


@dataclass(eq=False)
class Trace:
    """Everything behind one output: wires and gates in forward order, and the backward order."""

    output: Wire
    wires: list[Wire]
    gates: list[GateNode]
    backward_order: list[GateNode]  # the gates in the order the backward walk ran them (empty without gradients)
    root_gradient: Array | None

    @property
    def has_gradients(self) -> bool:
        """Whether the backward walk ran (the output had a gradient to start from)."""
        return self.root_gradient is not None

    @property
    def leaves(self) -> list[Wire]:
        """The wires no gate produced: inputs and parameters, in forward order."""
        return [w for w in self.wires if w.is_leaf]


def gate_label(gate: Gate) -> str:
    """A short label for a gate: its name, with its constant where it has one ("+1", "*-1", "1/x")."""
    custom = getattr(gate, "label", None)
    if isinstance(custom, str):
        return custom
    kind = type(gate).__name__
    if kind == "AddConstant":
        c = getattr(gate, "c", None)
        return "-" + format_constant(-c) if _is_number(c) and c < 0 else "+" + format_constant(c, "c")
    if kind == "Scale":
        return "*" + format_constant(getattr(gate, "a", None), "a")
    if kind == "Reciprocal":
        return "1/x"
    if kind == "PowConstant":
        return "^" + format_constant(getattr(gate, "p", None), "p")
    return gate.name


def format_constant(value: object, otherwise: str = "?") -> str:
    """A gate constant as written in an expression (1, -1, 0.5, 1e-06), or ``otherwise`` if not a number."""
    return f"{float(value):g}" if _is_number(value) else otherwise


def _is_number(value: object) -> TypeGuard[int | float | np.number[Any]]:
    return isinstance(value, (int, float, xp.number)) and not isinstance(value, bool)


def trace(
    output: Tensor,
    gradient: TensorLike | None = None,
    where: str = "trace",
    gradients: bool | Literal["required"] = True,
) -> Trace:
    """Walk the graph behind ``output``; with ``gradients``, also run the backward walk.

    ``gradient`` is dL/d(output); a one-element output defaults to 1. A larger output
    without ``gradient`` gets no gradients (values only), unless ``gradients="required"``,
    which raises instead. ``where`` names the calling function in error messages.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"{where}: expects a chainrule Tensor, got {type(output).__name__}")
    if output.gate is None:
        raise ValueError(
            f"{where}: this tensor has no graph behind it (it is a leaf or was computed "
            "under no_grad); build it from tensors created with requires_grad=True"
        )
    wires, gates = _walk_forward(output, where)
    result = Trace(
        output=wires[id(output)], wires=list(wires.values()), gates=gates, backward_order=[], root_gradient=None
    )
    if gradients:
        root = _root_gradient(output, gradient, where, required=gradients == "required")
        if root is not None:
            result.root_gradient = root
            result.backward_order = _walk_backward(result, root)
    return result


def module_scope(gate: Gate, names: dict[tuple[int, int], str] | None = None) -> Scope:
    """Where a gate was recorded, as ``((name, class name or None), ...)`` from the outermost module down.

    ``gate.module_path`` holds either module names (kept as they are) or the Module
    objects themselves, root first; the root (the whole network) is left out and each
    module below it is named by its attribute in its parent ("fc1", or "0" in a
    Sequential). ``names`` caches those look-ups across gates.
    """
    path = getattr(gate, "module_path", None)
    if not path:
        return ()
    if all(isinstance(p, str) for p in path):
        return tuple((p, None) for p in path)
    names = {} if names is None else names
    scope = []
    for parent, child in zip(path, path[1:]):
        key = (id(parent), id(child))
        if key not in names:
            children = getattr(parent, "named_children", None)
            found = [n for n, c in children() if c is child] if children else []
            names[key] = found[0] if found else type(child).__name__
        scope.append((names[key], type(child).__name__))
    return tuple(scope)


def is_parameter(wire: Wire) -> bool:
    """A module's parameter: a Parameter, or a leaf with a dotted name such as "fc1.weight"."""
    return wire.is_leaf and (type(wire.tensor).__name__ == "Parameter" or "." in (wire.name or ""))


def _walk_forward(output: Tensor, where: str) -> tuple[dict[int, Wire], list[GateNode]]:
    """Wires (by id of their tensor) and gates, in left-to-right creation order; no recursion."""
    wires: dict[int, Wire] = {}
    gates: list[GateNode] = []
    names: dict[tuple[int, int], str] = {}
    nodes: dict[int, GateNode] = {}  # id(gate) -> its GateNode: a gate with several outputs is reached once per output
    stack = [(output, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            gate = tensor.gate
            assert gate is not None and gate.inputs is not None  # only tensors with a live gate are pushed so
            node = nodes.get(id(gate))
            if node is not None:  # another output of a gate already walked
                wire = _add_wire(wires, tensor)
                wire.producer = node
                assert node.outputs is not None  # a gate reached through several outputs has several
                node.outputs[_output_position(gate, tensor)] = wire
                continue
            node = nodes[id(gate)] = GateNode(
                index=len(gates),
                gate=gate,
                label=gate_label(gate),
                inputs=[wires[id(x)] for x in gate.inputs],
                output=_add_wire(wires, tensor),
                scope=module_scope(gate, names),
            )
            node.output.producer = node
            if gate.outputs is not None:
                outputs: list[Wire | None] = [None] * len(gate.outputs)
                outputs[_output_position(gate, tensor)] = node.output
                node.outputs = outputs
            for position, wire in enumerate(node.inputs):
                wire.consumers.append((node, position))
            gates.append(node)
            continue
        if id(tensor) in wires:
            continue
        gate = tensor.gate
        if gate is None:
            _add_wire(wires, tensor)
            continue
        if id(gate) in nodes:  # a further output of a gate whose inputs are walked already
            stack.append((tensor, True))
            continue
        if gate.released or gate.inputs is None:
            raise ValueError(
                f"{where}: the graph behind this tensor was released by an earlier backward() "
                f"(at its '{gate.name}' gate); call {where} before backward(), or pass "
                "retain_graph=True to backward()"
            )
        stack.append((tensor, True))
        for x in reversed(gate.inputs):  # pushed in reverse so the first input is walked first
            if id(x) not in wires:
                stack.append((x, False))
    return wires, gates


def _output_position(gate: Gate, tensor: Tensor) -> int:
    assert gate.outputs is not None  # called for gates with several outputs only
    return next(i for i, ref in enumerate(gate.outputs) if ref() is tensor)


def _add_wire(wires: dict[int, Wire], tensor: Tensor) -> Wire:
    wire = wires.get(id(tensor))
    if wire is None:
        wire = Wire(index=len(wires), tensor=tensor, name=tensor.name, value=tensor.data)
        wires[id(tensor)] = wire
    return wire


def _root_gradient(output: Tensor, gradient: TensorLike | None, where: str, required: bool) -> Array | None:
    if gradient is None:
        if output.data.size == 1:
            ones: Array = xp.ones_like(output.data)
            return ones
        if required:
            raise ValueError(
                f"{where}: the output has shape {tuple(output.shape)}, not a single element; "
                "pass gradient= (an array of that shape, dL/doutput) to say what to backpropagate"
            )
        return None
    array: Array = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=output.dtype)
    if array.shape != output.shape:
        raise ValueError(
            f"{where}: gradient has shape {tuple(array.shape)}, but the output has shape "
            f"{tuple(output.shape)}; they must match"
        )
    return array


def _walk_backward(result: Trace, root: Array) -> list[GateNode]:
    """Run every gate's backward on arrays, consumers before producers, earliest-created first on ties."""
    waiting: dict[int, int] = {}  # gate index -> uses of its outputs not yet run
    for wire in result.wires:
        if wire.producer is not None:
            waiting[wire.producer.index] = waiting.get(wire.producer.index, 0) + len(wire.consumers)
    result.output.parts.append(root)
    assert result.output.producer is not None  # trace() refuses an output without a gate
    ready = [result.output.producer.index]
    order: list[GateNode] = []
    with no_grad():
        while ready:
            node = result.gates[heapq.heappop(ready)]
            outputs: list[Wire | None] = node.outputs or [node.output]
            if any(output is not None and output.parts for output in outputs):
                order.append(node)
                for output in outputs:
                    if output is not None and output.parts:
                        output.grad = _sum(output.parts)
                node.upstream = node.output.grad
                if node.outputs is None:
                    node.sent = _run_gate_backward(node, node.upstream)
                else:
                    node.upstreams = tuple(None if w is None else w.grad for w in node.outputs)
                    node.sent = _run_gate_backward(node, node.upstreams)
            else:  # no gradient reached this gate's outputs: it sends none, but its inputs stop waiting on it
                node.sent = [None] * len(node.inputs)
            for wire, sent in zip(node.inputs, node.sent):
                if sent is not None:
                    wire.parts.append(sent)
                if wire.producer is not None:
                    waiting[wire.producer.index] -= 1
                    if waiting[wire.producer.index] == 0:
                        heapq.heappush(ready, wire.producer.index)
    for wire in result.wires:
        if wire.is_leaf and wire.parts:
            wire.grad = _sum(wire.parts)
    return order


def _run_gate_backward(node: GateNode, upstream: Array | None | tuple[Array | None, ...]) -> list[Array | None]:
    """The gate's own backward on arrays; gradients for inputs that need none are dropped, as the engine does.
    A gate with several outputs gets a tuple of upstream gradients and one of outputs."""
    gate = node.gate
    out: Array | tuple[Array | None, ...]
    if node.outputs is None:
        out = node.output.value
    else:
        out = tuple(_output_value(gate, i, wire) for i, wire in enumerate(node.outputs))
    with xp.errstate(all="ignore"):  # a non-finite gradient shows in the result; explain() warns in words
        grads = gate.backward(upstream, out, *[w.value for w in node.inputs])
    if type(grads) is not tuple:
        grads = (grads,)
    sent: list[Array | None] = []
    for wire, g in zip(node.inputs, grads):
        if g is None or not wire.requires_grad:
            sent.append(None)
        else:
            sent.append(xp.asarray(g.data if isinstance(g, Tensor) else g))
    return sent


def _output_value(gate: Gate, position: int, wire: Wire | None) -> Array | None:
    if wire is not None:
        return wire.value
    assert gate.outputs is not None  # called for gates with several outputs only
    tensor = gate.outputs[position]()
    if tensor is None:
        return None
    data: Array = tensor.data
    return data


def local_derivatives(node: GateNode) -> list[Array | None] | None:
    """For a gate on one-element tensors: d(output)/d(input) for each input, by running backward with 1.

    Returns None where the gate is not elementwise on single numbers (then "local
    derivative" is a matrix, not a number) or where its backward does not run on a 1.
    """
    if node.outputs is not None or node.output.value.size != 1 or any(w.value.size != 1 for w in node.inputs):
        return None
    try:
        with no_grad(), xp.errstate(all="ignore"):
            ones = xp.ones_like(node.output.value)
            grads = node.gate.backward(ones, node.output.value, *[w.value for w in node.inputs])
    except Exception:  # a custom gate may not cope; the explanation then shows sent/upstream only
        return None
    if type(grads) is not tuple:
        grads = (grads,)
    return [None if g is None else xp.asarray(g.data if isinstance(g, Tensor) else g) for g in grads]


def _sum(parts: list[Array]) -> Array:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
