"""Measuring a model: its predictions, loss and accuracy on a split, and the confusion matrix."""

import os

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor
from .checkpoints import load_checkpoint, model_from_checkpoint
from .data import check_images, load_images, standardize


def predict(model, X, batch_size=1000):
    """Logits of ``model`` on the images ``X``, in evaluation mode and without a graph."""
    model.eval()
    outputs = []
    with no_grad():
        for start in range(0, len(X), batch_size):
            outputs.append(model(Tensor(X[start:start + batch_size])).data)
    return np.concatenate(outputs)


def evaluate(model, X, y, batch_size=1000):
    """``(mean cross-entropy loss, accuracy, predicted classes)`` of ``model`` on ``(X, y)``."""
    logits = predict(model, X, batch_size).astype(np.float64)  # the mean over many samples, in float64
    with no_grad():
        loss = nn.functional.cross_entropy(logits, y).item()
    predicted = logits.argmax(axis=1)
    return loss, float((predicted == y).mean()), predicted


def confusion_matrix(y_true, y_pred, classes=10):
    """``counts[i, j]``: how many samples of true class i were predicted as j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def evaluate_checkpoint(path, data_dir=None, download=False):
    """Test loss, accuracy and confusion matrix of a training checkpoint:
    ``{"model", "dataset", "epoch", "loss", "accuracy", "confusion", "samples"}``.
    ``data_dir`` overrides the MNIST directory stored in the checkpoint; ``download=True``
    fetches the MNIST files missing from it first."""
    state = load_checkpoint(path)
    model = model_from_checkpoint(state, f"training checkpoint {os.fspath(path)!r}")
    data_dir = data_dir or state["config"].get("data_dir")
    X_test, y_test = load_images(state["dataset"], data_dir, "test", download)
    check_images(X_test, f"the {state['dataset']} test split")
    standardize(X_test, state["preprocessing"]["pixel_mean"], state["preprocessing"]["pixel_std"])
    loss, accuracy, predicted = evaluate(model, X_test, y_test)
    return {"model": state["model"], "dataset": state["dataset"], "epoch": state["epoch"], "loss": loss,
            "accuracy": accuracy, "confusion": confusion_matrix(y_test, predicted), "samples": len(y_test)}
