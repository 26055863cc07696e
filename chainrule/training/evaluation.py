"""Measuring a model: its predictions, loss and accuracy on a split, and the confusion matrix."""

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor
from ..types import Array
from .checkpoints import config_of, load_checkpoint, model_from_checkpoint
from .data import check_images, load_images, load_text_splits, standardize


def predict(model: nn.Module, X: Array, batch_size: int = 1000) -> Array:
    """Logits of ``model`` on the inputs ``X`` (images, sequences, windows of text), in evaluation mode and
    without a graph."""
    model.eval()
    outputs: list[Array] = []
    with no_grad():
        for start in range(0, len(X), batch_size):
            outputs.append(model(Tensor(X[start : start + batch_size])).data)
    return np.concatenate(outputs)


def evaluate(model: nn.Module, X: Array, y: Array, batch_size: int = 1000) -> tuple[float, float, Array]:
    """``(mean cross-entropy loss, accuracy, predicted classes)`` of ``model`` on ``(X, y)``. The classes are
    the logits' last axis; a language model's every position is one prediction (its loss in nats per
    character)."""
    logits = predict(model, X, batch_size).astype(np.float64)  # the mean over many samples, in float64
    with no_grad():
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), np.reshape(y, -1)).item()
    predicted = logits.argmax(axis=-1)
    return loss, float((predicted == y).mean()), predicted


def confusion_matrix(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, classes: int = 10) -> npt.NDArray[np.int64]:
    """``counts[i, j]``: how many samples of true class i were predicted as j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def evaluate_checkpoint(
    path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None, download: bool = False
) -> dict[str, Any]:
    """Test loss, accuracy and confusion matrix of a training checkpoint:
    ``{"model", "dataset", "epoch", "loss", "accuracy", "confusion", "samples"}``.
    ``data_dir`` overrides the MNIST directory stored in the checkpoint; ``download=True``
    fetches the MNIST files missing from it first. For a language model, the test split is the last 5%
    of its text, "confusion" is None and "samples" counts characters predicted."""
    state = load_checkpoint(path)
    model = model_from_checkpoint(state, f"training checkpoint {os.fspath(path)!r}")
    if state["dataset"] == "text":
        config = config_of(state)
        splits = load_text_splits(config.text, config.block_size, vocabulary=state["preprocessing"]["vocabulary"])
        loss, accuracy, _ = evaluate(model, splits.X_test, splits.y_test)
        return {
            "model": state["model"],
            "dataset": state["dataset"],
            "epoch": state["epoch"],
            "loss": loss,
            "accuracy": accuracy,
            "confusion": None,
            "samples": splits.y_test.size,
        }
    data_dir = data_dir or state["config"].get("data_dir")
    X_test, y_test = load_images(state["dataset"], data_dir, "test", download)
    check_images(X_test, f"the {state['dataset']} test split")
    standardize(X_test, state["preprocessing"]["pixel_mean"], state["preprocessing"]["pixel_std"])
    loss, accuracy, predicted = evaluate(model, X_test, y_test)
    return {
        "model": state["model"],
        "dataset": state["dataset"],
        "epoch": state["epoch"],
        "loss": loss,
        "accuracy": accuracy,
        "confusion": confusion_matrix(y_test, predicted),
        "samples": len(y_test),
    }
