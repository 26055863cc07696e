"""explain(loss, level="layer"): each layer's story, and its example numbers are the gates' own gradients."""

import re

import numpy as np
import pytest
from test_cli_explain import run

import chainrule as cr
from chainrule import nn
from chainrule.viz import explain
from chainrule.viz.layers import LayerExplanation, training_step


def example(step, pattern):
    """The index and the number of an "e.g." in a layer's story."""
    found = re.search(pattern, step.text)
    assert found, step.text
    index = tuple(int(i) for i in found.group(1).split(", "))
    return index, float(found.group(2))


def gate(step, kind):
    return next(node for node in step.gates if type(node.gate).__name__ == kind)


def test_mlp_step():
    loss = training_step("mlp", batch=8, seed=0)
    story = explain(loss, level="layer")
    assert isinstance(story, LayerExplanation)
    assert [(s.name, s.kind) for s in story] == [
        ("crossentropy", "CrossEntropy"),
        ("5", "Linear"),
        ("4", "ReLU"),
        ("3", "Linear"),
        ("2", "ReLU"),
        ("1", "Linear"),
    ]
    text = str(story)
    assert text.startswith(f"Backward pass, layer by layer, from the loss ({loss.item():.4f})")
    assert "dL/dW = dL/dY^T X: (out, N) @ (N, in) = (10, 8) @ (8, 64) -> (10, 64)" in text
    assert "dL/dX = dL/dY W: (N, out) @ (out, in) = (8, 10) @ (10, 64) -> (8, 64), sent to the layer below" in text
    for step in story:
        if step.kind == "Linear":
            (i, j), value = example(step, r"e\.g\. dL/dW\[(\d+, \d+)\] = .* = (-?[\d.e-]+)")
            assert value == pytest.approx(gate(step, "Linear").sent[1][i, j], abs=1e-4)
        if step.kind == "ReLU":
            assert re.search(r"mask = X > 0: \d+ of \d+ values pass \(\d+%\)", step.text)
    # softmax with cross-entropy: (p - y) / N at the label is the gradient the gate sends
    head = story[0]
    label = int(re.search(r"sample 0 \(label (\d)\)", head.text).group(1))
    sent = float(re.search(r"at the label \(p - y\) / N = \([\d.]+ - 1\) / 8 = (-[\d.]+)", head.text).group(1))
    assert sent == pytest.approx(gate(head, "CrossEntropy").sent[0][0, label], abs=1e-4)
    loss.backward()  # explaining released nothing


def test_cnn_step_conv_pool_and_batch_norm():
    story = explain(training_step("cnn", batch=4, seed=1), level="layer", digits=5)
    kinds = [s.kind for s in story]
    assert kinds == [
        "CrossEntropy",
        "Linear",
        "Flatten",
        "MaxPool2d",
        "ReLU",
        "BatchNorm2d",
        "Conv2d",
        "MaxPool2d",
        "ReLU",
        "BatchNorm2d",
        "Conv2d",
    ]
    first_conv = story[-1]
    assert "(N*OH*OW, C*kh*kw) = (256, 9) (stride 1, padding 1)" in first_conv.text
    for step in story:
        if step.kind == "Conv2d":
            index, value = example(step, r"e\.g\. dL/dW\[(\d+, \d+, \d+, \d+)\] = .* = (-?[\d.e-]+)")
            assert value == pytest.approx(gate(step, "Conv2d").sent[1][index], abs=1e-5)
        if step.kind == "BatchNorm2d":
            index, value = example(step, r"e\.g\. at X\[(\d+, \d+, \d+, \d+)\]: .* = (-?[\d.e-]+)")
            assert value == pytest.approx(gate(step, "BatchNorm").sent[0][index], abs=1e-5)
            assert "three terms" in step.text
        if step.kind == "MaxPool2d":
            assert re.search(r"the others get 0: (\d+) of (\d+) inputs receive one", step.text)
            routed = gate(step, "MaxPool2d").sent[0]
            assert f"{int((routed != 0).sum())} of {routed.size} inputs receive one" in step.text
    assert "the gradient (4, 128) is reshaped back to (4, 32, 2, 2)" in str(story)


def test_dropout_and_named_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(6, 16)
            self.dropout = nn.Dropout(0.5)
            self.out = nn.Linear(16, 3)

        def forward(self, x):
            return self.out(self.dropout(self.hidden(x).relu()))

    cr.manual_seed(0)
    net = Net()
    net.train()
    x = cr.tensor(np.random.default_rng(0).normal(size=(5, 6)), dtype=np.float32)
    loss = nn.CrossEntropyLoss()(net(x), cr.tensor(np.array([0, 1, 2, 0, 1])))
    story = explain(loss, level="layer")
    assert [s.name for s in story] == ["crossentropy", "out", "dropout", "relu", "hidden"]
    dropout = story[2].text
    kept = int(re.search(r"mask keeps (\d+) of 80 values", dropout).group(1))
    assert 0 < kept < 80 and "each scaled by 1/(1-p) = 2.0000" in dropout
    assert "hidden (Linear): receives dL/dY (5, 16)" in str(story)
    assert "dL/dX" not in story[-1].text  # the input needs no gradient: nothing is sent below the first layer


def test_bad_level():
    with pytest.raises(ValueError, match="explain: level must be 'gate' or 'layer', got 'module'"):
        explain(training_step("mlp", batch=2), level="module")
    with pytest.raises(ValueError, match="the model must be one of mlp, cnn, got 'rnn'"):
        training_step("rnn")
    with pytest.raises(ValueError, match="the batch must be a whole number from 1 to 256, got 0"):
        training_step("mlp", batch=0)


def test_command_line(capsys):
    status, out, err = run(capsys, "explain", "--model", "cnn", "--batch", "4")
    assert status == 0 and err == ""
    assert out.startswith("One training step of the digits cnn on a batch of 4 images (seed 0): loss ")
    assert "layer 0 (Conv2d): receives dL/dY (4, 16, 8, 8)" in out and "im2col" in out
