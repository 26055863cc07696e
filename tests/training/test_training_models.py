"""The named models: shapes, sizes, reproducible PyTorch-style initialisation, unknown names."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.models import build_model


@pytest.mark.parametrize(
    "name, dataset, side, parameters",
    [
        ("mlp", "digits", 8, 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10),
        ("cnn", "digits", 8, 16 * 9 + 2 * 16 + 32 * 16 * 9 + 2 * 32 + 128 * 10 + 10),
        ("mlp", "mnist", 28, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10),
        ("cnn", "mnist", 28, 16 * 9 + 2 * 16 + 32 * 16 * 9 + 2 * 32 + 1568 * 128 + 128 + 128 * 10 + 10),
    ],
)
def test_models_map_images_to_ten_logits(name, dataset, side, parameters):
    model = build_model(name, dataset)
    assert model.num_parameters() == parameters
    logits = model(cr.tensor(np.zeros((3, 1, side, side), dtype=np.float32)))
    assert logits.shape == (3, 10) and logits.dtype == np.float32


def test_seeded_initialisation_is_reproducible_and_pytorch_scaled():
    nn.init.manual_seed(5)
    first = build_model("mlp", "mnist").state_dict()
    nn.init.manual_seed(5)
    second = build_model("mlp", "mnist").state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    bound = 1 / math.sqrt(784)  # PyTorch's Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    weight = first["1.weight"]
    assert weight.shape == (256, 784) and np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound


@pytest.mark.parametrize(
    "name, dataset, message",
    [
        ("resnet", "digits", "unknown model 'resnet'"),
        ("mlp", "cifar", "unknown dataset 'cifar'"),
    ],
)
def test_unknown_names(name, dataset, message):
    with pytest.raises(ValueError, match=message):
        build_model(name, dataset)
