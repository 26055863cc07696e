"""What a run shows people: the confusion table, the loss and accuracy curves, a picture of one step."""

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from .. import nn
from ..tensor import Tensor
from ..types import Array

_Path = TypeVar("_Path", bound="str | os.PathLike[str]")


def plural(count: int, noun: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_confusion_matrix(counts: Array) -> str:
    """The confusion matrix as a table: rows are true classes, columns predictions, with per-class recall."""
    classes = len(counts)
    width = max(4, len(str(counts.max())) + 1)
    header = "true\\pred" + "".join(f"{j:>{width}}" for j in range(classes)) + f"{'total':>7}{'recall':>8}"
    lines = [header]
    for i in range(classes):
        total = int(counts[i].sum())
        recall = f"{counts[i, i] / total:.1%}" if total else "-"
        lines.append(f"{i:>9}" + "".join(f"{c:>{width}}" for c in counts[i]) + f"{total:>7}{recall:>8}")
    lines.append(f"{'total':>9}" + "".join(f"{c:>{width}}" for c in counts.sum(axis=0)) + f"{int(counts.sum()):>7}")
    return "\n".join(lines)


def plot_history(history: Mapping[str, Sequence[float]], path: _Path) -> _Path:
    """Save loss and accuracy per epoch (training and validation) as a PNG; needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plotting the training curves needs matplotlib: pip install 'chainrule[extras]'") from error
    epochs = history["epoch"]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history["train_loss"], "o-", label="training")
    loss_axes.plot(epochs, history["val_loss"], "o-", label="validation")
    loss_axes.set(title="loss (cross-entropy)", xlabel="epoch")
    accuracy_axes.plot(epochs, [100 * a for a in history["train_accuracy"]], "o-", label="training")
    accuracy_axes.plot(epochs, [100 * a for a in history["val_accuracy"]], "o-", label="validation")
    accuracy_axes.set(title="accuracy (%)", xlabel="epoch")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def draw_training_step(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    images: Array,
    labels: Array,
    path_stem: str,
) -> str:
    """Draw forward and backward of one training batch (modules collapsed) to ``path_stem``.svg,
    or ``path_stem``.dot when Graphviz's ``dot`` program is missing. Returns the path written.

    The model's state is restored afterwards, so drawing does not change the training run."""
    from .. import viz  # needs the graphviz package: ImportError with the install hint otherwise

    saved = model.state_dict()  # a train-mode forward updates BatchNorm's running statistics
    model.train()
    loss = loss_fn(model(Tensor(images)), Tensor(labels))
    picture = viz.draw(loss, collapse_modules=True)
    model.load_state_dict(saved)
    try:
        return viz.save(picture, f"{path_stem}.svg")
    except viz.GraphvizNotFoundError:
        return viz.save(picture, f"{path_stem}.dot")
