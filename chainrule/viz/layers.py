"""The backward pass told layer by layer, the way a textbook derives each layer's gradients.

``explain(loss, level="layer")`` groups the gates of a network by the module that ran
them (``gate.module_path``; a gate outside any module, such as the loss, is its own
layer) and tells each layer's backward with the real shapes and a few real numbers:

* Linear: ``dL/dW = dL/dY^T X``, (out, N) @ (N, in), and ``dL/dX = dL/dY W``;
* convolution through im2col: the image unrolled into columns, the same two products
  on the columns, and col2im adding the copies back;
* ReLU's mask, max-pool's routing of each window's gradient to its winner;
* softmax with cross-entropy's ``(p - y) / N``;
* batch norm's three terms; dropout's mask.

Each example number is worked out from the layer's formula and is the one the gate's
own backward computed (the tests check that they agree). Other gates get one line from
their derivative statement.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy.typing as npt

from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from .graph import GateNode, Trace, trace
from .steps import NumberedSteps
from .text import number, shape_text

if TYPE_CHECKING:
    from ..gates.conv import Conv2d
    from ..gates.nn_ops import BatchNorm, CrossEntropy, Dropout
    from ..gates.pooling import MaxPool2d


@dataclass
class LayerStep:
    """One layer of the backward pass: the module's name, its kind, its gates and the story told."""

    number: int
    name: str  # "3", "fc1", or the gate's label for a gate outside any module ("crossentropy")
    kind: str  # the module's class ("Linear") or the gate's
    gates: list[GateNode]  # the layer's GateNodes, in backward order
    lines: list[str]  # the story, first line first

    @property
    def heading(self) -> str:
        """How the layer is named: "layer 3 (Linear)" in a Sequential, "fc1 (Linear)", "crossentropy (CrossEntropy)"."""
        return f"{'layer ' + self.name if self.name.isdigit() else self.name} ({self.kind})"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __str__(self) -> str:
        return f"{self.number}. " + "\n   ".join(self.lines)


class LayerExplanation(NumberedSteps[LayerStep]):
    """The numbered layers of a backward pass; ``str()`` gives the story, ``print()`` prints it."""

    def __init__(self, steps: list[LayerStep], output_value: float, digits: int) -> None:
        self.steps = steps
        self.output_value = output_value
        self.digits = digits

    def __str__(self) -> str:
        head = (
            f"Backward pass, layer by layer, from the loss ({number(self.output_value, self.digits)}) back to "
            "the input (N is the batch size):"
        )
        return "\n".join([head] + [str(step) for step in self.steps])


def training_step(model: str = "mlp", batch: int = 8, seed: int = 0) -> Tensor:
    """The loss of one training step of the digits ``model`` ("mlp" or "cnn") on ``batch`` images, with its graph.

    The weights come from ``seed``; the model is in training mode, as in a real step.
    """
    from .. import nn
    from ..data import load_digits
    from ..models import IMAGE_MODELS, build_model
    from ..tensor import tensor

    if model not in IMAGE_MODELS:
        raise ValueError(f"the model must be one of {', '.join(IMAGE_MODELS)}, got {model!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 256:
        raise ValueError(f"the batch must be a whole number from 1 to 256, got {batch!r}")
    nn.init.manual_seed(seed)
    network = build_model(model, "digits")
    network.train()
    images, labels = load_digits(as_images=True)
    loss: Tensor = nn.CrossEntropyLoss()(network(tensor(images[:batch] / 16)), tensor(labels[:batch]))
    return loss


def explain_layers(output: Tensor | Trace, gradient: TensorLike | None = None, *, digits: int = 4) -> LayerExplanation:
    """Explain the backward pass of ``output`` (a Tensor or a Trace) layer by layer; returns a
    :class:`LayerExplanation`."""
    walk = output if isinstance(output, Trace) else trace(output, gradient, where="explain", gradients="required")
    #: (module name, kind) or the gate itself -> its gates, in backward order
    groups: dict[tuple[str, str | None] | GateNode, list[GateNode]] = {}
    for node in walk.backward_order:
        key = node.scope[0] if node.scope else node
        groups.setdefault(key, []).append(node)
    steps: list[LayerStep] = []
    for key, nodes in groups.items():
        name, kind = key if isinstance(key, tuple) else (key.label, type(key.gate).__name__)
        step = LayerStep(len(steps) + 1, name, kind or type(nodes[0].gate).__name__, nodes, [])
        received = "dL/dL = 1" if walk.output is nodes[0].output else f"dL/dY {_shape(nodes[0].upstream)}"
        step.lines.append(f"{step.heading}: receives {received}")
        for node in nodes:
            step.lines += STORIES.get(type(node.gate).__name__, _other)(node, digits)
        steps.append(step)
    return LayerExplanation(steps, float(xp.asarray(walk.output.value).reshape(-1)[0]), digits)


def _shape(array: npt.ArrayLike | None) -> str:
    return shape_text(xp.asarray(array))


def _upstream(node: GateNode) -> Array:
    """dL/d(output) of a gate in the backward order with one output, which always got one."""
    assert node.upstream is not None
    return node.upstream


def _largest(array: Array) -> tuple[int, ...]:
    """The index of the largest magnitude: an example entry that is not 0."""
    return tuple(int(i) for i in xp.unravel_index(int(xp.argmax(xp.abs(array))), array.shape))


def _linear(node: GateNode, digits: int) -> list[str]:
    x, w = node.inputs[0].value, node.inputs[1].value
    g = _upstream(node)
    (n, inputs), outputs = x.shape, w.shape[0]
    lines = [
        f"Y = X W^T + b with X (N, in) = ({n}, {inputs}), W (out, in) = ({outputs}, {inputs}); "
        f"dL/dY (N, out) = ({n}, {outputs})"
    ]
    if node.sent[1] is not None:
        i, j = _largest(node.sent[1])
        lines.append(
            f"dL/dW = dL/dY^T X: (out, N) @ (N, in) = ({outputs}, {n}) @ ({n}, {inputs}) -> ({outputs}, "
            f"{inputs}); e.g. dL/dW[{i}, {j}] = sum over the {n} samples of dL/dY[n, {i}] * X[n, {j}] = "
            f"{number((g[:, i] * x[:, j]).sum(), digits)}"
        )
    if len(node.inputs) > 2 and node.sent[2] is not None:
        (i,) = _largest(node.sent[2])
        lines.append(
            f"dL/db = dL/dY summed over the batch: ({outputs},); e.g. dL/db[{i}] = {number(g[:, i].sum(), digits)}"
        )
    if node.sent[0] is not None:
        lines.append(
            f"dL/dX = dL/dY W: (N, out) @ (out, in) = ({n}, {outputs}) @ ({outputs}, {inputs}) -> "
            f"({n}, {inputs}), sent to the layer below"
        )
    return lines


def _conv(node: GateNode, digits: int) -> list[str]:
    x, w = node.inputs[0].value, node.inputs[1].value
    g, geometry = _upstream(node), cast("Conv2d", node.gate).geometry
    n, c, h, width = x.shape
    f, kh, kw = w.shape[0], geometry.kh, geometry.kw
    rows, columns = n * geometry.oh * geometry.ow, c * kh * kw
    lines = [
        f"im2col unrolls X (N, C, H, W) = ({n}, {c}, {h}, {width}) into columns, one row per output pixel and "
        f"one column per kernel tap: (N*OH*OW, C*kh*kw) = ({rows}, {columns}) (stride {geometry.sh}, padding "
        f"{geometry.ph}); then Y = cols @ W^T with W (F, C*kh*kw) = ({f}, {columns})"
    ]
    if node.sent[1] is not None:
        k, channel, i, j = _largest(node.sent[1])
        padded = xp.pad(x, ((0, 0), (0, 0), (geometry.ph, geometry.ph), (geometry.pw, geometry.pw)))
        top, left = i * geometry.dh, j * geometry.dw
        under = padded[
            :,
            channel,
            top : top + geometry.oh * geometry.sh : geometry.sh,
            left : left + geometry.ow * geometry.sw : geometry.sw,
        ]
        lines.append(
            f"dL/dW = dL/dY^T cols: (F, N*OH*OW) @ (N*OH*OW, C*kh*kw) = ({f}, {rows}) @ ({rows}, {columns}) "
            f"-> reshaped to {_shape(w)}; e.g. dL/dW[{k}, {channel}, {i}, {j}] = sum over the {rows} output "
            f"pixels of dL/dY[:, {k}] * the pixel of channel {channel} under tap ({i}, {j}) = "
            f"{number((g[:, k] * under).sum(), digits)}"
        )
    if node.sent[0] is not None:
        lines.append(
            f"dL/dcols = dL/dY W: ({rows}, {f}) @ ({f}, {columns}) -> ({rows}, {columns}); col2im adds each "
            f"pixel's copies (up to {kh * kw}) back into dL/dX {_shape(x)}, sent to the layer below"
        )
    return lines


def _relu(node: GateNode, digits: int) -> list[str]:
    x, g = node.inputs[0].value, _upstream(node)
    mask = x > 0
    lines = [f"mask = X > 0: {int(mask.sum())} of {mask.size} values pass ({mask.mean():.0%}); dL/dX = dL/dY * mask"]
    stopped = xp.argwhere(~mask & (g != 0))
    if len(stopped):
        at = tuple(int(i) for i in stopped[0])
        lines.append(
            f"e.g. X{list(at)} = {number(x[at], digits)} <= 0, so its dL/dY = {number(g[at], digits)} "
            "stops there: dL/dX = 0"
        )
    return lines


def _max_pool(node: GateNode, digits: int) -> list[str]:
    x, g, geometry = node.inputs[0].value, _upstream(node), cast("MaxPool2d", node.gate).geometry
    sent = node.sent[0]
    assert sent is not None  # the graph records a pool only when its input needs a gradient
    window = x[0, 0, 0 : geometry.kh, 0 : geometry.kw]
    winner = tuple(int(i) for i in xp.unravel_index(int(xp.argmax(window)), window.shape))
    values = ", ".join(number(v, digits) for v in window.reshape(-1))
    return [
        f"each {geometry.kh}x{geometry.kw} window sends its whole gradient to its largest value (the winner); "
        f"the others get 0: {int((sent != 0).sum())} of {sent.size} inputs receive one",
        f"e.g. the first window of sample 0, channel 0 holds [{values}]: the winner {number(window[winner], digits)} "
        f"at {list(winner)} receives dL/dY[0, 0, 0, 0] = {number(g[0, 0, 0, 0], digits)}",
    ]


def _cross_entropy(node: GateNode, digits: int) -> list[str]:
    logits, gate = node.inputs[0].value, cast("CrossEntropy", node.gate)
    n, classes = logits.shape[:2]
    shifted = xp.exp(logits - logits.max(axis=1, keepdims=True))
    p = shifted / shifted.sum(axis=1, keepdims=True)
    label = int(gate.targets.index[0])
    scale = float(xp.asarray(_upstream(node)).reshape(-1)[0])
    probabilities = ", ".join(number(v, 2) for v in p[0])
    return [
        f"L = mean over the batch of -log p[label], p = softmax(logits) (N, classes) = ({n}, {classes}); "
        "dL/dlogits = (p - y) / N, y the one-hot labels",
        f"e.g. sample 0 (label {label}): p = [{probabilities}]; at the label (p - y) / N = "
        f"({number(p[0, label], digits)} - 1) / {n} = {number(scale * (p[0, label] - 1) / n, digits)}, elsewhere "
        f"p / N (class {(label + 1) % classes}: {number(scale * p[0, (label + 1) % classes] / n, digits)})",
    ]


def _batch_norm(node: GateNode, digits: int) -> list[str]:
    x, g, gate = node.inputs[0].value, _upstream(node), cast("BatchNorm", node.gate)
    axes = tuple(gate.axes)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    std = xp.sqrt(var + gate.eps)
    xhat = (x - mean) / std
    weight = node.inputs[1].value.reshape(gate.param_shape) if "weight" in gate.affine else 1
    scaled = g * weight
    terms = (scaled, scaled.mean(axis=axes, keepdims=True), xhat * (scaled * xhat).mean(axis=axes, keepdims=True))
    count = int(xp.prod([x.shape[a] for a in axes]))
    at = _largest(node.sent[0]) if node.sent[0] is not None else (0,) * x.ndim
    first, second, third, deviation = (float(xp.broadcast_to(t, x.shape)[at]) for t in terms + (std,))
    return [
        f"xhat = (X - mean) / std per channel, over the {count} values of N*H*W; dL/dX = (g - mean(g) - xhat * "
        "mean(g * xhat)) / std with g = dL/dY * weight: three terms, the gradient itself, the part that moved "
        "the mean and the part that moved the variance",
        f"e.g. at X{list(at)}: ({number(first, digits)} - {number(second, digits)} - {number(third, digits)}) / "
        f"{number(deviation, digits)} = {number((first - second - third) / deviation, digits)}",
        f"dL/dweight = sum of dL/dY * xhat, dL/dbias = sum of dL/dY, each per channel: {_shape(node.inputs[1].value)}",
    ]


def _dropout(node: GateNode, digits: int) -> list[str]:
    mask = cast("Dropout", node.gate).mask
    kept = mask != 0
    scale = float(mask[kept].reshape(-1)[0]) if kept.any() else 0.0
    return [
        f"mask keeps {int(kept.sum())} of {mask.size} values ({kept.mean():.0%}), each scaled by 1/(1-p) = "
        f"{number(scale, digits)}; dL/dX = dL/dY * mask: the dropped ones get 0"
    ]


def _reshape(node: GateNode, digits: int) -> list[str]:
    return [f"the gradient {_shape(_upstream(node))} is reshaped back to {_shape(node.inputs[0].value)}"]


def _other(node: GateNode, digits: int) -> list[str]:
    sent = ", ".join(_shape(s) for s in node.sent if s is not None) or "nothing"
    return [f"{node.label}: {node.gate.derivative or 'local derivative not stated'}; sends {sent}"]


STORIES: dict[str, Callable[[GateNode, int], list[str]]] = {
    "Linear": _linear,
    "Conv2d": _conv,
    "Relu": _relu,
    "MaxPool2d": _max_pool,
    "CrossEntropy": _cross_entropy,
    "BatchNorm": _batch_norm,
    "Dropout": _dropout,
    "Reshape": _reshape,
}
