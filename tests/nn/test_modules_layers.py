"""Layers: output shapes, values against plain NumPy, and float64 gradchecks through their parameters."""

import math

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.nn import functional as F

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return chainrule.tensor(rng.standard_normal(shape).astype(dtype))


def gradcheck_module(module, *inputs):
    """gradcheck the module's output with respect to its inputs (those requiring grad) and every parameter.

    gradcheck works on float64 copies of what it is given, so the copies of the parameters
    are swapped into the module for each evaluation."""
    module.double()
    named = list(module.named_parameters())

    def set_parameters(values):
        for (name, _), value in zip(named, values):
            path, _, attribute = name.rpartition(".")
            owner = module.get_submodule(path)
            owner._parameters[attribute] = value
            object.__setattr__(owner, attribute, value)

    def fn(*values):
        set_parameters(values[len(inputs) :])
        try:
            return module(*values[: len(inputs)])
        finally:
            set_parameters([p for _, p in named])

    assert chainrule.gradcheck(fn, list(inputs) + [p for _, p in named])


# ----- Linear, Identity, Flatten ------------------------------------------------------------
def test_linear_shapes_and_values():
    layer = nn.Linear(4, 3)
    x = randn(5, 4, dtype=np.float32)
    out = layer(x)
    assert out.shape == (5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, x.data @ layer.weight.data.T + layer.bias.data, rtol=1e-5)
    assert layer(randn(2, 5, 4, dtype=np.float32)).shape == (2, 5, 3)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    np.testing.assert_allclose(no_bias(x).data, x.data @ no_bias.weight.data.T, rtol=1e-5)
    assert nn.Linear(4, 3, dtype=np.float64)(randn(2, 4)).dtype == np.float64


def test_linear_gradcheck():
    gradcheck_module(nn.Linear(3, 2), chainrule.tensor(rng.standard_normal((4, 3)), requires_grad=True))
    gradcheck_module(nn.Linear(3, 2, bias=False), randn(2, 3))


def test_linear_weight_is_stored_transposed_and_its_gradient_follows_any_layout():
    layer = nn.Linear(6, 4, dtype=np.float64)
    assert layer.weight.shape == (4, 6) and layer.weight.data.flags.f_contiguous  # (in, out) memory, seen as (out, in)
    x, g = rng.standard_normal((5, 6)), rng.standard_normal((5, 4))
    layer(chainrule.tensor(x)).backward(chainrule.tensor(g))
    assert layer.weight.grad.flags.f_contiguous
    np.testing.assert_allclose(layer.weight.grad, g.T @ x, rtol=1e-12)
    # A weight the user replaces with a C-ordered array works the same.
    layer.weight.data = np.ascontiguousarray(layer.weight.data)
    layer.zero_grad()
    layer(chainrule.tensor(x)).backward(chainrule.tensor(g))
    assert layer.weight.grad.flags.c_contiguous
    np.testing.assert_allclose(layer.weight.grad, g.T @ x, rtol=1e-12)


def test_identity_and_flatten():
    x = randn(2, 3, 4, 5)
    assert nn.Identity(54)(x) is x  # positional arguments ignored; keywords refused (tests/test_keywords.py)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)


# ----- convolution and pooling ------------------------------------------------------------------
def test_conv2d_shapes():
    x = randn(2, 3, 9, 9, dtype=np.float32)
    assert nn.Conv2d(3, 8, 3)(x).shape == (2, 8, 7, 7)
    assert nn.Conv2d(3, 8, 3, stride=2, padding=1)(x).shape == (2, 8, 5, 5)
    assert nn.Conv2d(3, 6, (3, 1), padding=(1, 0), dilation=2, groups=3)(x).shape == (2, 6, 7, 9)
    assert nn.Conv2d(3, 8, 3)(x).dtype == np.float32
    assert nn.Conv2d(3, 4, 5, padding="same")(x).shape == (2, 4, 9, 9)
    assert nn.Conv2d(3, 4, 3, padding="valid")(x).shape == (2, 4, 7, 7)
    layer = nn.Conv2d(3, 4, 3)
    np.testing.assert_allclose(layer(x[0]).data, layer(x).data[0], rtol=1e-6)  # one (C, H, W) image


def test_conv2d_matches_a_direct_sum():
    layer = nn.Conv2d(2, 3, 2, dtype=np.float64)
    x = randn(1, 2, 3, 3)
    out = layer(x).data
    w, b = layer.weight.data, layer.bias.data
    for o in range(3):
        for i in range(2):
            for j in range(2):
                expected = (x.data[0, :, i : i + 2, j : j + 2] * w[o]).sum() + b[o]
                assert out[0, o, i, j] == pytest.approx(expected)


def test_conv2d_gradcheck():
    x = chainrule.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    gradcheck_module(nn.Conv2d(2, 2, 3, stride=2, padding=1), x)
    gradcheck_module(nn.Conv2d(2, 4, 2, dilation=2, groups=2, bias=False), x)


def test_pooling_values_and_shapes():
    x = randn(2, 3, 6, 6)
    pooled = nn.MaxPool2d(2)(x)
    assert pooled.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(pooled.data, x.data.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))
    averaged = nn.AvgPool2d(2)(x)
    np.testing.assert_allclose(averaged.data, x.data.reshape(2, 3, 3, 2, 3, 2).mean(axis=(3, 5)))
    assert nn.MaxPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 6, 6)
    assert nn.AvgPool2d((2, 3), stride=(2, 3))(x).shape == (2, 3, 3, 2)
    assert nn.MaxPool2d(2).stride == 2  # stride defaults to the kernel size, kept as given like PyTorch
    assert nn.MaxPool2d(2, stride=1, dilation=2)(x).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(2)(x[0]).shape == (3, 3, 3)
    padded = nn.AvgPool2d(2, padding=1, count_include_pad=False)(chainrule.tensor(np.ones((1, 1, 2, 2))))
    np.testing.assert_allclose(padded.data, 1.0)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).data, x.data.mean(axis=(2, 3), keepdims=True))
    assert nn.AdaptiveAvgPool2d((3, 2))(x).shape == (2, 3, 3, 2)


def test_pooling_gradcheck():
    x = chainrule.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    gradcheck_module(nn.AvgPool2d(2), x)
    gradcheck_module(nn.MaxPool2d(2, stride=1), x)


# ----- normalisation ----------------------------------------------------------------------------
def test_batchnorm2d_training_normalises_each_channel_and_updates_running_stats():
    layer = nn.BatchNorm2d(3)
    x = randn(8, 3, 4, 4, dtype=np.float32) * 2 + 5
    out = layer(x).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-3)
    batch_mean = x.data.mean(axis=(0, 2, 3))
    batch_var = x.data.var(axis=(0, 2, 3), ddof=1)  # the running variance uses the unbiased estimate
    np.testing.assert_allclose(layer.running_mean, 0.1 * batch_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * batch_var, rtol=1e-5)
    assert int(layer.num_batches_tracked) == 1


def test_batchnorm_eval_uses_running_statistics():
    layer = nn.BatchNorm1d(3, momentum=None, dtype=np.float64)  # momentum None: a plain average of all batches
    batches = [randn(6, 3) + i for i in range(3)]
    for b in batches:
        layer(b)
    means = np.mean([b.data.mean(axis=0) for b in batches], axis=0)
    np.testing.assert_allclose(layer.running_mean, means, rtol=1e-5)
    layer.eval()
    x = randn(2, 3)
    expected = (x.data - layer.running_mean) / np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-4, atol=1e-5)
    one = layer(x[:1])  # one example is fine in evaluation
    assert one.shape == (1, 3)


def test_batchnorm_without_running_stats_always_uses_the_batch():
    layer = nn.BatchNorm1d(4, affine=False, track_running_stats=False).eval()
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    out = layer(randn(10, 4, 3)).data
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0, atol=1e-6)


def test_batchnorm_gradcheck():
    x = chainrule.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    layer = nn.BatchNorm1d(3)
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    gradcheck_module(layer, x)
    gradcheck_module(nn.BatchNorm2d(2), chainrule.tensor(rng.standard_normal((2, 2, 2, 3)), requires_grad=True))
    gradcheck_module(nn.BatchNorm1d(2).eval(), chainrule.tensor(rng.standard_normal((3, 2)), requires_grad=True))


def test_layernorm_values_and_gradcheck():
    layer = nn.LayerNorm(4)
    x = randn(3, 4, dtype=np.float32) * 3 + 1
    out = layer(x).data
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=-1), 1, atol=1e-3)
    assert nn.LayerNorm((2, 4))(randn(3, 2, 4, dtype=np.float32)).shape == (3, 2, 4)
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    layer = nn.LayerNorm((2, 3))
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    gradcheck_module(layer, chainrule.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True))


# ----- dropout, embedding -------------------------------------------------------------------------
def test_dropout_is_inverted_and_off_in_eval():
    layer = nn.Dropout(0.25, seed=0)
    x = chainrule.tensor(np.ones((100, 100), dtype=np.float32))
    out = layer(x).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.unique(out), [0, 1 / 0.75], rtol=1e-6)
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.02)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x.data)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)


def test_embedding_lookup_and_gradient():
    layer = nn.Embedding(10, 3)
    ids = np.array([[1, 2], [1, 9]])
    out = layer(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data[1, 1], layer.weight.data[9])
    assert layer([0, 1]).shape == (2, 3)
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[:, 0], [0, 2, 1, 0, 0, 0, 0, 0, 0, 1])
    gradcheck_module(nn.Embedding(4, 2), np.array([0, 3, 3]))


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    layer = nn.Embedding(5, 3, padding_idx=-1)
    assert layer.padding_idx == 4 and np.all(layer.weight.data[4] == 0)
    layer(np.array([4, 1, 4])).sum().backward()
    assert np.all(layer.weight.grad[4] == 0) and np.all(layer.weight.grad[1] == 1)
    assert repr(layer) == "Embedding(5, 3, padding_idx=4)"


# ----- activations ------------------------------------------------------------------------------
ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.GELU(), lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU(approximate="tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (nn.Softplus(beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
]


@pytest.mark.parametrize("layer, reference", ACTIVATIONS, ids=[repr(a) for a, _ in ACTIVATIONS])
def test_activations_values_and_gradcheck(layer, reference):
    values = rng.uniform(0.1, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))  # away from the kink at 0
    np.testing.assert_allclose(layer(chainrule.tensor(values)).data, reference(values), rtol=1e-6, atol=1e-7)
    out32 = layer(chainrule.tensor(values.astype(np.float32)))
    assert out32.dtype == np.float32
    gradcheck_module(layer, chainrule.tensor(values, requires_grad=True))


def test_activation_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"


# ----- losses -----------------------------------------------------------------------------------
def test_loss_modules_equal_their_functional_versions():
    logits, labels = randn(5, 4), np.array([0, 3, 1, 1, 2])
    probabilities = chainrule.tensor(rng.uniform(0.05, 0.95, (5, 4)))
    targets = chainrule.tensor(rng.integers(0, 2, (5, 4)).astype(np.float64))
    weight = np.array([1.0, 2.0, 0.5, 1.0])
    cases = [
        (nn.CrossEntropyLoss(), F.cross_entropy(logits, labels), (logits, labels)),
        (
            nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1, reduction="sum"),
            F.cross_entropy(logits, labels, weight=weight, label_smoothing=0.1, reduction="sum"),
            (logits, labels),
        ),
        (
            nn.CrossEntropyLoss(ignore_index=1, reduction="none"),
            F.cross_entropy(logits, labels, ignore_index=1, reduction="none"),
            (logits, labels),
        ),
        (
            nn.NLLLoss(weight=weight),
            F.nll_loss(F.log_softmax(logits, 1), labels, weight=weight),
            (F.log_softmax(logits, 1), labels),
        ),
        (nn.MSELoss(reduction="sum"), F.mse_loss(logits, targets, reduction="sum"), (logits, targets)),
        (nn.L1Loss(), F.l1_loss(logits, targets), (logits, targets)),
        (nn.BCELoss(), F.binary_cross_entropy(probabilities, targets), (probabilities, targets)),
        (
            nn.BCEWithLogitsLoss(pos_weight=weight),
            F.binary_cross_entropy_with_logits(logits, targets, pos_weight=weight),
            (logits, targets),
        ),
        (nn.MultiMarginLoss(margin=0.5), F.multi_margin_loss(logits, labels, margin=0.5), (logits, labels)),
        (
            nn.MultiMarginLoss(p=2, weight=weight, reduction="sum"),
            F.multi_margin_loss(logits, labels, 2, 1.0, weight, reduction="sum"),
            (logits, labels),
        ),
    ]
    for module, expected, args in cases:
        np.testing.assert_allclose(module(*args).data, expected.data, err_msg=repr(module))


def test_loss_reprs_and_buffers():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert (
        repr(nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1))
        == "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    )
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0])
    assert loss.weight.dtype == np.float32 and list(loss.state_dict()) == ["weight"]


def test_model_and_loss_gradcheck():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
    loss_fn = nn.CrossEntropyLoss()

    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return loss_fn(self.model(x), np.array([0, 2]))

    gradcheck_module(WithLoss(), randn(2, 3))


def test_a_small_network_learns():
    nn.init.manual_seed(0)
    data = np.random.default_rng(1)
    x = data.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of the signs: needs the hidden layer
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(300):
        loss = loss_fn(model(chainrule.tensor(x)), y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
