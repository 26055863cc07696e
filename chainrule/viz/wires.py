"""A picture of a graph of one-number gates, as plain SVG, with a place on each wire for numbers.

The practice page draws the graph the way the reference text does (inputs on the left,
gates as circles, wires running right to the output) and puts the learner's answer
boxes on the wires: the value a wire carries above it, the local derivative and the
gradient sent back along it below. It needs no Graphviz, so this module lays the graph
out itself, as a tree from the output:

* every use of an input is drawn as its own leaf, next to the gate that uses it, so
  every wire has its own place;
* leaves take the rows one after another, top to bottom in the order the expression
  names them; a gate sits at the middle of the rows of its inputs and one column right
  of the latest of them;
* each wire gets a *block* in the gap before the gate it enters, at the row of the
  value it carries: the numbers of that wire go there.

``wire_picture(trace)`` returns the SVG text, its size, and where each block is.
"""

import html
from dataclasses import dataclass, field

from .graph import GateNode, Trace, Wire
from .text import number

STEP = 190  # from one column of gates to the next
ROW = 76  # from one row to the next: a box above the wire, two below, and a gap
MARGIN = 30
BOX_WIDTH, BOX_HEIGHT = 64, 24
MOST_GATES = 60  # past this a picture helps no one, and the tree walk below recurses once per gate
VALUE_COLOR, GRADIENT_COLOR, WIRE_COLOR = "#1a7f37", "#cf222e", "#57606a"


@dataclass
class Block:
    """Where one wire's numbers go: the middle of the wire's straight part, left of the gate it enters."""

    x: float
    y: float

    def box(self, role: str) -> tuple[float, float]:
        """The top-left corner of the answer box for ``role``: "value" above the wire, "local" and "sent" below."""
        if role == "value":
            return self.x - BOX_WIDTH / 2, self.y - BOX_HEIGHT - 4
        if role == "local":
            return self.x - BOX_WIDTH - 3, self.y + 4
        return self.x + 3, self.y + 4


@dataclass
class WirePicture:
    """The SVG, its size, and the blocks: ``inputs[(gate id, input position)]`` and ``output`` (after the last gate)."""

    svg: str
    width: int
    height: int
    inputs: dict[tuple[str, int], Block] = field(default_factory=dict)
    output: Block | None = None
    #: gate id -> the block of the first wire carrying its value
    first_use: dict[str, Block] = field(default_factory=dict)

    def value_block(self, node_id: str) -> Block:
        """Where a gate's value goes: on the first wire that carries it."""
        return self.first_use[node_id]


def wire_picture(walk: Trace, digits: int = 2) -> WirePicture:
    """Lay out the graph of ``walk`` (a Trace of one-number gates) and draw it; returns a :class:`WirePicture`.

    The SVG is for inlining in HTML (no XML namespace declaration).

    The leaves' values are written above their wires (they are given), dL/dout = 1 under
    the output wire; the answer boxes are the page's to place, at the blocks.
    """
    if len(walk.gates) > MOST_GATES:
        raise ValueError(
            f"practice page: the graph has {len(walk.gates)} gates; a picture of more than "
            f"{MOST_GATES} is too crowded to work on (use the questions from Python or the terminal)"
        )
    layout = _Layout(walk)
    layout.place_output()
    return layout.draw(digits)


class _Layout:
    def __init__(self, walk: Trace) -> None:
        self.walk = walk
        self.column: dict[int, int] = {}  # gate index -> column (1 for gates fed only by leaves)
        for node in walk.gates:  # forward order: inputs come first
            self.column[node.index] = 1 + max(
                [self.column[w.producer.index] for w in node.inputs if w.producer is not None], default=0
            )
        self.rows = 0
        self.row_of: dict[int, float] = {}  # gate index -> row (a float: the middle of its inputs)
        #: (wire, gate, position, row): one drawn leaf per use of an input
        self.leaves: list[tuple[Wire, GateNode, int, float]] = []
        #: (source gate or None for a leaf, gate, position, row of the block)
        self.wires: list[tuple[GateNode | None, GateNode, int, float]] = []

    def place_output(self) -> None:
        assert self.walk.output.producer is not None  # a trace's output has a gate
        self._place(self.walk.output.producer)

    def _place(self, node: GateNode) -> float:
        rows: list[float] = []
        for position, wire in enumerate(node.inputs):
            row: float
            if wire.producer is None or wire.producer.index in self.row_of:  # a leaf, or a value already drawn
                row = self._next_row()
                if wire.is_leaf:
                    self.leaves.append((wire, node, position, row))
            else:
                row = self._place(wire.producer)
            self.wires.append((None if wire.is_leaf else wire.producer, node, position, row))
            rows.append(row)
        self.row_of[node.index] = sum(rows) / len(rows) if rows else self._next_row()
        return self.row_of[node.index]

    def _next_row(self) -> int:
        self.rows += 1
        return self.rows - 1

    def _x(self, column: int) -> float:
        return MARGIN + 50 + column * STEP

    def _y(self, row: float) -> float:
        return MARGIN + BOX_HEIGHT + 8 + row * ROW

    def draw(self, digits: int) -> WirePicture:
        last = self.walk.output.producer
        assert last is not None and self.walk.root_gradient is not None  # a trace's output has a gate and a gradient
        width = int(self._x(self.column[last.index]) + STEP / 2 + BOX_WIDTH + MARGIN + 30)
        height = int(self._y(max(self.rows - 1, 0)) + 2 * BOX_HEIGHT + MARGIN)
        parts = [
            f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="13">',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{WIRE_COLOR}"/></marker></defs>',
        ]
        picture = WirePicture("", width, height)
        radius = {node.index: max(20, 3.8 * len(node.label) + 8) for node in self.walk.gates}
        for source, node, position, row in self.wires:
            block = Block(self._x(self.column[node.index]) - STEP / 2, self._y(row))
            picture.inputs[(node.node_id, position)] = block
            if source is not None:
                picture.first_use.setdefault(source.node_id, block)
                start = (self._x(self.column[source.index]) + radius[source.index], self._y(self.row_of[source.index]))
            else:
                start = (self._x(self.column[node.index] - 1) + 8, block.y)
            end = (
                self._x(self.column[node.index]) - radius[node.index],
                self._y(self.row_of[node.index]) + 6 * (position - (len(node.inputs) - 1) / 2),
            )
            parts.append(
                f'<path class="wire" id="wire_{node.node_id}_{position}" d="M{start[0]:.0f},{start[1]:.0f} '
                f'L{block.x + BOX_WIDTH + 6:.0f},{block.y:.0f} L{end[0]:.0f},{end[1]:.0f}" fill="none" '
                f'stroke="{WIRE_COLOR}" stroke-width="1.5" marker-end="url(#arrow)"/>'
            )
        for wire, node, position, _row in self.leaves:
            block = picture.inputs[(node.node_id, position)]
            label = wire.name or ("input" if wire.requires_grad else number(wire.value.reshape(()), digits))
            parts.append(
                f'<text class="leaf" x="{self._x(self.column[node.index] - 1) + 4:.0f}" y="{block.y + 4:.0f}" '
                f'text-anchor="end" font-weight="bold">{html.escape(label)}</text>'
            )
            parts.append(
                f'<text class="given-value" x="{block.x:.0f}" y="{block.y - 8:.0f}" text-anchor="middle" '
                f'fill="{VALUE_COLOR}">{number(wire.value.reshape(()), digits)}</text>'
            )
        for node in self.walk.gates:
            x, y = self._x(self.column[node.index]), self._y(self.row_of[node.index])
            parts.append(
                f'<g class="gate" id="{node.node_id}"><ellipse cx="{x:.0f}" cy="{y:.0f}" '
                f'rx="{radius[node.index]:.0f}" ry="20" fill="#f6f8fa" stroke="{WIRE_COLOR}" '
                f'stroke-width="1.5"/><text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle">'
                f"{html.escape(node.label)}</text></g>"
            )
        x, y = self._x(self.column[last.index]), self._y(self.row_of[last.index])
        picture.output = Block(x + STEP / 2, y)
        picture.first_use.setdefault(last.node_id, picture.output)
        output_end = x + STEP / 2 + BOX_WIDTH + 10
        parts.append(
            f'<path class="wire" id="wire_output" d="M{x + radius[last.index]:.0f},{y:.0f} L{output_end:.0f},{y:.0f}" '
            f'stroke="{WIRE_COLOR}" stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text class="leaf" x="{output_end + 6:.0f}" y="{y + 4:.0f}" font-weight="bold">'
            f"{html.escape(self.walk.output.name or 'f')}</text>"
        )
        parts.append(
            f'<text class="given-grad" x="{picture.output.x:.0f}" y="{y + 20:.0f}" text-anchor="middle" '
            f'fill="{GRADIENT_COLOR}">{number(self.walk.root_gradient.reshape(()), digits)}</text>'
        )
        parts.append("</svg>")
        picture.svg = "".join(parts)
        return picture
