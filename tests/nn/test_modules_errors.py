"""Bad inputs: each error names the layer (with its configuration), what it got and what it expected."""

import numpy as np
import pytest

import chainrule
from chainrule import nn


def zeros(*shape):
    return chainrule.tensor(np.zeros(shape, dtype=np.float32))


def test_linear_wrong_number_of_features():
    with pytest.raises(
        ValueError,
        match=r"^Linear\(in_features=784, out_features=256, bias=True\): input has "
        r"100 features \(shape \(32, 100\)\), expected 784$",
    ):
        nn.Linear(784, 256)(zeros(32, 100))
    with pytest.raises(ValueError, match=r"input has no feature axis \(shape \(\)\), expected 3"):
        nn.Linear(3, 2)(chainrule.tensor(1.0))


def test_conv2d_wrong_channels_or_rank_or_size():
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(1, 16, kernel_size=\(3, 3\), stride=\(1, 1\)\): input has 3 "
        r"channels \(shape \(8, 3, 28, 28\)\), expected 1$",
    ):
        nn.Conv2d(1, 16, 3)(zeros(8, 3, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"Conv2d\(1, 16, .*\): expected a 4-d input \(batch, channels, height, "
        r"width\) or one 3-d image \(channels, height, width\), got shape \(28, 28\)",
    ):
        nn.Conv2d(1, 16, 3)(zeros(28, 28))
    with pytest.raises(ValueError, match=r"input has 28 channels \(shape \(28, 28, 1\)\), expected 1"):
        nn.Conv2d(1, 16, 3)(zeros(28, 28, 1))  # channels-last by mistake
    with pytest.raises(
        ValueError,
        match=r"input width 2 \(shape \(1, 1, 5, 2\), padding 0\) is smaller than "
        r"the kernel's reach 3",
    ):
        nn.Conv2d(1, 1, 3)(zeros(1, 1, 5, 2))


def test_batchnorm_wrong_rank_channels_or_batch():
    with pytest.raises(
        ValueError,
        match=r"^BatchNorm2d\(16, eps=1e-05, momentum=0.1, affine=True, "
        r"track_running_stats=True\): expected a 4-d input \(batch, channels, "
        r"height, width\), got a 3-d input of shape \(16, 28, 28\)$",
    ):
        nn.BatchNorm2d(16)(zeros(16, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"BatchNorm1d\(10, .*\): input has 5 channels \(shape \(4, 5\)\), "
        r"expected 10",
    ):
        nn.BatchNorm1d(10)(zeros(4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(10, .*\): expected a 2-d \(batch, features\) or 3-d"):
        nn.BatchNorm1d(10)(zeros(10))
    with pytest.raises(
        ValueError,
        match=r"expected more than 1 value per channel when training, got input of "
        r"shape \(1, 10\)",
    ):
        nn.BatchNorm1d(10)(zeros(1, 10))


def test_layernorm_pooling_embedding_inputs():
    with pytest.raises(
        ValueError,
        match=r"^LayerNorm\(\(4,\), eps=1e-05, elementwise_affine=True, bias=True\): input "
        r"shape \(2, 5\) does not end with the normalized shape \(4,\)$",
    ):
        nn.LayerNorm(4)(zeros(2, 5))
    with pytest.raises(
        ValueError,
        match=r"^MaxPool2d\(kernel_size=2, stride=2, padding=0, dilation=1, "
        r"ceil_mode=False\): expected a 4-d input",
    ):
        nn.MaxPool2d(2)(zeros(4, 4))
    with pytest.raises(
        ValueError,
        match=r"AvgPool2d\(.*\): input height 1 \(shape \(1, 1, 1, 4\), padding 0\) is "
        r"smaller than the window 2",
    ):
        nn.AvgPool2d(2)(zeros(1, 1, 1, 4))
    with pytest.raises(TypeError, match=r"^Embedding\(10, 3\): indices must be integers, got dtype float32"):
        nn.Embedding(10, 3)(zeros(2))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(-1, 3), r"Linear: in_features must be an integer >= 1, got -1"),
        (lambda: nn.Linear(3, 2.5), r"Linear: out_features must be an integer >= 1, got 2.5"),
        (
            lambda: nn.Conv2d(3, 8, 0),
            r"Conv2d: kernel_size must be an integer or a pair of integers, each at least 1; got 0",
        ),
        (lambda: nn.Conv2d(3, 8, (3, 3, 3)), r"Conv2d: kernel_size must be an integer or a pair of integers"),
        (
            lambda: nn.Conv2d(3, 8, 3, padding=-1),
            r"Conv2d: padding must be an integer or a pair of integers, each at least 0; got -1",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3, groups=2),
            r"Conv2d: in_channels \(3\) and out_channels \(8\) must both be "
            r"divisible by groups \(2\)",
        ),
        (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), r"Conv2d: padding='same' needs stride 1"),
        (lambda: nn.Conv2d(3, 8, 2, padding="same"), r"Conv2d: padding='same' .* would need uneven padding"),
        (lambda: nn.MaxPool2d(2, padding=2), r"MaxPool2d: padding 2 must be at most half the kernel size 2"),
        (lambda: nn.Embedding(5, 2, padding_idx=5), r"Embedding: padding_idx must be an index into the 5 embeddings"),
        (lambda: nn.MultiMarginLoss(p=3), r"MultiMarginLoss: p must be 1 or 2, got 3"),
        (lambda: nn.BatchNorm2d(0), r"BatchNorm2d: num_features must be an integer >= 1, got 0"),
        (lambda: nn.BatchNorm1d(3, momentum=2), r"BatchNorm1d: momentum must be a number in \[0, 1\] or None"),
        (lambda: nn.BatchNorm1d(3, eps=0), r"BatchNorm1d: eps must be a positive number, got 0"),
        (lambda: nn.LayerNorm(()), r"LayerNorm: normalized_shape must be an integer or a non-empty tuple"),
        (
            lambda: nn.Dropout(1.0),
            r"Dropout: p is the probability of zeroing an element and must be in \[0, 1\), "
            r"got 1.0",
        ),
        (lambda: nn.Dropout(-0.1), r"Dropout: .* got -0.1"),
        (lambda: nn.Embedding(0, 3), r"Embedding: num_embeddings must be an integer >= 1, got 0"),
        (lambda: nn.GELU("fast"), r"GELU: approximate must be 'none' or 'tanh', got 'fast'"),
        (
            lambda: nn.CrossEntropyLoss(reduction="avg"),
            r"CrossEntropyLoss: reduction must be 'mean', 'sum' or "
            r"'none', got 'avg'",
        ),
        (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), r"label_smoothing must be in \[0, 1\], got 1.5"),
    ],
)
def test_invalid_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_invalid_types():
    with pytest.raises(TypeError, match=r"Linear: dtype must be floating point"):
        nn.Linear(3, 2, dtype=np.int32)
    with pytest.raises(TypeError, match=r"Softmax: dim must be an integer axis"):
        nn.Softmax(dim=None)


def test_errors_inside_a_sequential_name_the_layer():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(6, 2))
    with pytest.raises(
        ValueError,
        match=r"Linear\(in_features=6, out_features=2, bias=True\): input has 8 "
        r"features \(shape \(3, 8\)\), expected 6",
    ):
        model(zeros(3, 4))
