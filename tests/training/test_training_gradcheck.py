"""A whole small convnet, checked against central differences in float64: conv, batchnorm, ReLU,
max-pooling, flatten, linear and cross-entropy, with gradients for the input and every parameter."""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def tiny_network():
    """Conv 1->2 (3x3, padding 1), BatchNorm, ReLU, 2x2 max-pool, flatten, Linear 18 -> 3, in float64."""
    nn.init.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * 3 * 3, 3),
    ).double()


def network_loss(x, conv_w, conv_b, bn_w, bn_b, fc_w, fc_b, target):
    """The same network written with the functional API, so gradcheck can vary every weight."""
    h = F.conv2d(x, conv_w, conv_b, padding=1)
    h = F.batch_norm(h, None, None, bn_w, bn_b, training=True)
    h = F.max_pool2d(F.relu(h), 2)
    return F.cross_entropy(F.linear(h.flatten(1), fc_w, fc_b), target)


def test_the_functional_copy_computes_what_the_modules_compute():
    model = tiny_network()
    x = cr.tensor(np.random.default_rng(1).normal(size=(2, 1, 6, 6)))
    target = cr.tensor(np.array([0, 2]))
    expected = F.cross_entropy(model(x), target)
    got = network_loss(x, *model.parameters(), target)
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)


def test_whole_network_gradients_match_central_differences():
    model = tiny_network()
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.normal(size=(2, 1, 6, 6)), requires_grad=True)
    target = cr.tensor(np.array([0, 2]))
    params = [cr.tensor(p.data.copy(), requires_grad=True) for p in model.parameters()]
    assert [p.shape for p in params] == [(2, 1, 3, 3), (2,), (2,), (2,), (3, 18), (3,)]
    assert cr.gradcheck(lambda *inputs: network_loss(*inputs, target), [x, *params], atol=1e-7, rtol=1e-5)
    assert cr.max_relative_error(lambda *inputs: network_loss(*inputs, target), [x, *params]) < 1e-7
