"""Pictures of the graph in the style of the reference text's figures.

Gates are circles labelled with their operation, wires run left to right, and each
wire carries its forward value (green) over the gradient flowing back along it (red).
Leaves show their names. Tensors with more than one element show their shape, dtype
and range, and the norm of their gradient, instead of every number.

``draw`` returns a ``graphviz.Digraph``: ``.source`` is the DOT text, ``save(graph,
"graph.svg")`` (or ``.png``, ``.pdf``, ``.dot``) writes a file, and Jupyter shows it inline.
"""

import html
import os
import re
from collections.abc import Hashable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Literal, TypedDict, TypeVar

from ..tensor import Tensor
from ..types import Array, TensorLike
from .graph import GateNode, Scope, Trace, Wire, is_parameter, trace
from .text import gradient_lines, shape_text, wire_lines

if TYPE_CHECKING:
    import graphviz  # an optional extra, imported when a picture is made

_Item = TypeVar("_Item", bound=Hashable)
#: A node statement for a Digraph: its name, its label and its attributes.
_Statement = tuple[str, str, dict[str, str]]


class _Edge(TypedDict):
    """One edge of the picture: where it runs, the wire it carries and the gradients sent back along it."""

    source: str
    target: str
    wire: Wire
    sent: list[Array | None]
    id: str


VALUE_COLOR = "#1a7f37"  # forward values: green, as in the text's figures
GRADIENT_COLOR = "#cf222e"  # gradients: red
FONT = "Helvetica"

INSTALL_GRAPHVIZ = (
    "install Graphviz, the program that lays graphs out: apt-get install graphviz "
    "(Debian/Ubuntu), brew install graphviz (macOS) or conda install graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program, which turns DOT text into SVG or PNG, is not installed."""


def draw(
    output: Tensor | Trace,
    gradient: TensorLike | None = None,
    *,
    digits: int = 2,
    max_nodes: int = 200,
    collapse_modules: bool | None = None,
    rankdir: str = "LR",
    gradients: bool | Literal["required"] = True,
) -> "graphviz.Digraph":
    """A picture of the graph behind ``output``, as a ``graphviz.Digraph``.

    Gradients are computed for the picture (one-element outputs get dL/dout = 1, others
    need ``gradient=``) without touching ``.grad`` or releasing the graph; pass
    ``gradients=False`` for values only. ``max_nodes`` bounds the number of gate
    nodes (those nearest the output are kept, a note says how many were left out).
    Gates recorded inside modules (``gate.module_path``) are drawn as one box per
    top-level module when ``collapse_modules`` is True (the default when there are
    any), or clustered by module when False. ``output`` may also be a ``Trace``.
    """
    graphviz = _import_graphviz()
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive integer, got {max_nodes!r}")
    walk = output if isinstance(output, Trace) else trace(output, gradient, where="draw", gradients=gradients)
    if collapse_modules is None:
        collapse_modules = any(node.scope for node in walk.gates)
    picture = _Picture(walk, digits, collapse_modules)
    # ordering=in keeps each gate's inputs in argument order, top to bottom (w0 above x0, as in the text).
    graph = graphviz.Digraph(
        "chainrule",
        graph_attr={
            "rankdir": rankdir,
            "ordering": "in",
            "bgcolor": "white",
            "nodesep": "0.3",
            "ranksep": "0.45",
            "fontname": FONT,
            "pad": "0.2",
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "11", "color": "#57606a", "arrowsize": "0.7"},
    )
    picture.fill(graph, max_nodes)
    return graph


def save(graph: "graphviz.Digraph", path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """Write ``graph`` to ``path`` as ``fmt`` (default: from the name's ending).

    "dot" (or "gv") writes the DOT text and needs nothing else; "svg", "png" and "pdf"
    go through Graphviz's dot program.
    """
    name = os.fspath(path)
    fmt = (fmt or os.path.splitext(name)[1].lstrip(".")).lower()
    if fmt in ("dot", "gv"):
        with open(name, "w", encoding="utf-8") as file:
            file.write(graph.source)
        return name
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(
            f"save: cannot tell the format from {name!r}; use a name ending in .svg, .png, .pdf or .dot, or pass fmt="
        )
    if fmt == "png":
        graph = graph.copy()
        graph.graph_attr["dpi"] = "144"  # crisp on screens and in documents
    data = pipe(graph, fmt, where="save")
    with open(name, "wb") as file:
        file.write(data)
    return name


def pipe(graph: "graphviz.Digraph", fmt: str, where: str = "draw") -> bytes:
    """The picture as bytes in format ``fmt``, with a clear error when Graphviz's dot is missing."""
    graphviz = _import_graphviz()
    try:
        data: bytes = graph.pipe(format=fmt)
        return data
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"{where}: Graphviz's 'dot' program was not found, so no {fmt.upper()} can be made; "
            f"{INSTALL_GRAPHVIZ}. The DOT text can still be written without it: graph.source, or "
            "save(graph, 'graph.dot')"
        ) from None


def _import_graphviz() -> ModuleType:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw: drawing graphs needs the graphviz Python package: "
            "pip install 'chainrule[extras]' (and the Graphviz program: "
            f"{INSTALL_GRAPHVIZ})"
        ) from None
    module: ModuleType = graphviz
    return module


def unit_id(node: GateNode, collapse_modules: bool) -> str:
    """The picture's node for a gate: its own (``gate3``), or its top-level module's box (``module_fc1``)."""
    return f"module_{_slug(node.scope[0][0])}" if collapse_modules and node.scope else node.node_id


class _Picture:
    """Decides what becomes a node (gate, module box, leaf) and writes nodes and edges to a Digraph."""

    def __init__(self, walk: Trace, digits: int, collapse_modules: bool) -> None:
        self.walk = walk
        self.digits = digits
        self.collapse = collapse_modules
        # Each gate belongs to a unit: its own node, or its top-level module's box when collapsed.
        self.unit_of: dict[int, str] = {}  # gate index -> unit
        self.unit_gates: dict[str, list[GateNode]] = {}
        for node in walk.gates:
            unit = unit_id(node, collapse_modules)
            self.unit_of[node.index] = unit
            self.unit_gates.setdefault(unit, []).append(node)
        # A parameter that only feeds one module's box is listed inside the box rather than drawn.
        self.absorbed: dict[str, list[Wire]] = {}
        if collapse_modules:
            for wire in walk.leaves:
                units = {self.unit_of[node.index] for node, _ in wire.consumers}
                if len(units) == 1 and is_parameter(wire) and units <= set(self._module_units()):
                    self.absorbed.setdefault(units.pop(), []).append(wire)

    def _module_units(self) -> list[str]:
        return [unit for unit in self.unit_gates if unit.startswith("module_")]

    def fill(self, graph: "graphviz.Digraph", max_nodes: int) -> None:
        drawn_units = self._units_nearest_output(max_nodes)
        left_out = [node for node in self.walk.gates if self.unit_of[node.index] not in drawn_units]
        drawn_gates = [node for node in self.walk.gates if self.unit_of[node.index] in drawn_units]
        clusters: dict[Scope, list[_Statement]] = {}  # module scope -> node statements, for modules drawn expanded
        for unit in _unique(self.unit_of[node.index] for node in drawn_gates):
            self._unit_node(graph, clusters, unit)
        edges: dict[tuple[int, int | str], _Edge] = {}
        leaves: dict[int, Wire] = {}
        for node in drawn_gates:
            target = self.unit_of[node.index]
            for position, wire in enumerate(node.inputs):
                if wire.producer is None:  # a leaf
                    if any(wire is w for w in self.absorbed.get(target, [])):
                        continue
                    source = f"wire{wire.index}"
                    leaves[wire.index] = wire
                elif self.unit_of[wire.producer.index] in drawn_units:
                    source = self.unit_of[wire.producer.index]
                else:
                    source = "omitted"
                if source == target:
                    continue  # a wire inside a collapsed module
                key = (wire.index, target) if self.collapse else (node.index, position)
                edge = edges.setdefault(
                    key,
                    {
                        "source": source,
                        "target": target,
                        "wire": wire,
                        "sent": [],
                        "id": f"edge_{node.index}_{position}",
                    },
                )
                edge["sent"].append(node.sent[position] if node.sent else None)
        for wire in leaves.values():
            self._leaf_node(graph, clusters, wire)
        _write_clusters(graph, clusters)
        if left_out:
            graph.node(
                "omitted",
                f"{len(left_out)} more gates not drawn\n(max_nodes={max_nodes})",
                id="omitted",
                shape="note",
                style="filled",
                fillcolor="#fff8c5",
                color="#9a6700",
            )
        for edge in edges.values():
            sent = [g for g in edge["sent"] if g is not None]
            grad = _sum(sent) if sent else None
            graph.edge(edge["source"], edge["target"], id=edge["id"], label=self._wire_label(edge["wire"].value, grad))
        output = self.walk.output
        assert output.producer is not None  # a trace's output has a gate
        graph.node(
            "output",
            html.escape(output.name or "out"),
            id="output",
            shape="plaintext",
            fontcolor="#24292f",
            fontsize="13",
        )
        graph.edge(
            self.unit_of[output.producer.index],
            "output",
            id="edge_output",
            label=self._wire_label(output.value, self.walk.root_gradient),
        )

    def _units_nearest_output(self, max_nodes: int) -> set[str]:
        seen = {node.index for node in self.walk.backward_order}
        order = self.walk.backward_order + [n for n in reversed(self.walk.gates) if n.index not in seen]
        units: list[str] = []
        for node in order:
            unit = self.unit_of[node.index]
            if unit not in units:
                if len(units) == max_nodes:
                    break
                units.append(unit)
        return set(units)

    def _unit_node(self, graph: "graphviz.Digraph", clusters: dict[Scope, list[_Statement]], unit: str) -> None:
        gates = self.unit_gates[unit]
        if unit.startswith("module_"):
            name, kind = gates[0].scope[0]
            small = '<font point-size="10">{}</font>'
            lines = [
                f"<b>{html.escape(name)}</b>" + (f" {small.format(html.escape(kind))}" if kind else ""),
                small.format(f"{len(gates)} gate{'s' if len(gates) > 1 else ''}"),
            ]
            for wire in self.absorbed.get(unit, []):
                short = html.escape((wire.name or "parameter").rsplit(".", 1)[-1])
                lines.append(small.format(f"{short}: {html.escape(wire_lines(wire.value)[0])}"))
            graph.node(
                unit,
                "<" + "<br/>".join(lines) + ">",
                id=unit,
                shape="box",
                style="rounded,filled",
                fillcolor="#ddf4ff",
                color="#0969da",
            )
            return
        node = gates[0]
        clusters.setdefault(node.scope, []).append(
            (
                unit,
                html.escape(node.label, quote=False),
                dict(
                    id=unit,
                    shape="circle",
                    style="filled",
                    fillcolor="#f6f8fa",
                    color="#57606a",
                    fontsize="12",
                    width="0.5",
                    margin="0.02",
                ),
            )
        )

    def _leaf_node(self, graph: "graphviz.Digraph", clusters: dict[Scope, list[_Statement]], wire: Wire) -> None:
        if wire.name:
            label, color = wire.name, "#24292f"
        elif wire.value.size == 1:
            label, color = "input", "#6e7781"
        else:  # a batch of images or labels: its shape says which
            label, color = f"input {shape_text(wire.value)}", "#6e7781"
        scope = _common_prefix([node.scope for node, _ in wire.consumers]) if is_parameter(wire) else ()
        clusters.setdefault(scope, []).append(
            (
                f"wire{wire.index}",
                html.escape(label, quote=False),
                dict(id=f"wire{wire.index}", shape="plaintext", fontcolor=color, fontsize="13"),
            )
        )

    def _wire_label(self, value: Array, grad: Array | None) -> str:
        lines = [f'<font color="{VALUE_COLOR}">{html.escape(line)}</font>' for line in wire_lines(value, self.digits)]
        if grad is not None:
            lines += [
                f'<font color="{GRADIENT_COLOR}">{html.escape(line)}</font>'
                for line in gradient_lines(grad, self.digits)
            ]
        return "<" + "<br/>".join(lines) + ">"


def _write_clusters(graph: "graphviz.Digraph", clusters: dict[Scope, list[_Statement]]) -> None:
    """Node statements grouped by module scope, written as nested Graphviz clusters (the top level as is)."""
    for statement in clusters.pop((), []):
        graph.node(statement[0], statement[1], **statement[2])
    for top in _unique(scope[:1] for scope in clusters):
        _write_cluster(graph, top, clusters)


def _write_cluster(parent: "graphviz.Digraph", scope: Scope, clusters: dict[Scope, list[_Statement]]) -> None:
    with parent.subgraph(name="cluster_" + "_".join(_slug(name) for name, _ in scope)) as sub:
        name, kind = scope[-1]
        label = ".".join(n for n, _ in scope) + (f" ({kind})" if kind else "")
        sub.attr(
            label=label, style="rounded,dashed", color="#0969da", fontcolor="#0969da", fontname=FONT, fontsize="11"
        )
        for statement in clusters.get(scope, []):
            sub.node(statement[0], statement[1], **statement[2])
        for child in _unique(s[: len(scope) + 1] for s in clusters if len(s) > len(scope) and s[: len(scope)] == scope):
            _write_cluster(sub, child, clusters)


def _common_prefix(scopes: list[Scope]) -> Scope:
    prefix = scopes[0] if scopes else ()
    for scope in scopes[1:]:
        length = 0
        while length < min(len(prefix), len(scope)) and prefix[length] == scope[length]:
            length += 1
        prefix = prefix[:length]
    return prefix


def _unique(items: Iterable[_Item]) -> list[_Item]:
    return list(dict.fromkeys(items))


def _slug(text: object) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", str(text))


def _sum(parts: list[Array]) -> Array:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
