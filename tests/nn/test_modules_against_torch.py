"""The same models through torch.nn, when PyTorch is installed (it is not a dependency):
state_dict names, checkpoints in both directions, outputs, gradients, reprs, init scales."""

import math

import numpy as np
import pytest

import chainrule
from chainrule import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def cnn(lib):
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1, bias=False),
        lib.BatchNorm2d(4),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(4, 3, 3, stride=1, padding="same", dilation=1, groups=1),
        lib.Tanh(),
        lib.Flatten(),
        lib.Linear(3 * 3 * 3, 8),
        lib.LayerNorm(8),
        lib.GELU(),
        lib.Linear(8, 5),
    )


def test_same_state_dict_names_and_shapes():
    ours, theirs = cnn(nn), cnn(tnn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (key, value), reference in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert value.shape == tuple(reference.shape), key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())


def test_torch_checkpoint_gives_the_same_outputs_gradients_and_running_stats():
    theirs = cnn(tnn).double()
    ours = cnn(nn).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 6, 6))
    labels = np.array([0, 4, 2, 2])

    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        out = ours(chainrule.tensor(x))
        reference = theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-10, atol=1e-12)
        ours.zero_grad()
        theirs.zero_grad()
        nn.CrossEntropyLoss()(out, labels).backward()
        tnn.CrossEntropyLoss()(reference, torch.from_numpy(labels)).backward()
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)
    for key, value in theirs.state_dict().items():  # running statistics updated alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)


def test_our_checkpoint_loads_into_torch():
    ours, theirs = cnn(nn).eval(), cnn(tnn).eval()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 2, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(
        ours(chainrule.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )


LAYERS = [
    ("Linear", (784, 256), {}),
    ("Linear", (3, 2), {"bias": False}),
    ("Conv2d", (1, 16, 3), {"padding": 1, "bias": False}),
    ("Conv2d", (4, 8, (3, 5)), {"stride": 2, "dilation": 2, "groups": 2}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 1, "padding": 1}),
    ("AvgPool2d", (2,), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("LayerNorm", (4,), {}),
    ("Embedding", (5, 3), {"padding_idx": 4}),
    ("Dropout", (), {}),
    ("Flatten", (), {}),
    ("Identity", (), {}),
    ("ReLU", (), {}),
    ("LeakyReLU", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("SiLU", (), {}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("ELU", (), {}),
    ("Softplus", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}),
    ("CrossEntropyLoss", (), {}),
    ("MSELoss", (), {}),
    ("MultiMarginLoss", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layer_reprs_match_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(tnn, name)(*args, **kwargs))


def test_gains_and_fans_match_torch():
    for nonlinearity, param in [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
        ("conv2d", None),
    ]:
        assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
            tnn.init.calculate_gain(nonlinearity, param)
        )
    for shape in [(5, 3), (16, 3, 5, 5), (2, 7, 3)]:
        assert nn.init._calculate_fan_in_and_fan_out(np.empty(shape)) == tnn.init._calculate_fan_in_and_fan_out(
            torch.empty(shape)
        )


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("kaiming_uniform_", {"a": math.sqrt(5)}),
        ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_", {"nonlinearity": "relu"}),
        ("kaiming_normal_", {"mode": "fan_out", "a": 0.1}),
        ("xavier_uniform_", {"gain": 2.0}),
        ("xavier_normal_", {}),
        ("trunc_normal_", {"std": 0.5, "a": -0.5, "b": 1}),
    ],
)
def test_init_scales_match_torch(fn, kwargs):
    ours = getattr(nn.init, fn)(nn.Parameter(np.empty((120, 60, 3, 3), dtype=np.float32)), **kwargs).data
    theirs = getattr(tnn.init, fn)(torch.empty(120, 60, 3, 3), **kwargs).numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.02 * float(theirs.std()))
    assert np.abs(ours).max() <= np.abs(theirs).max() * 1.01 or fn.endswith("normal_")


def test_default_initialisations_match_torch_scales():
    for make in [
        lambda lib: lib.Linear(500, 300),
        lambda lib: lib.Conv2d(16, 32, 5),
        lambda lib: lib.Embedding(400, 300),
    ]:
        ours, theirs = make(nn), make(tnn)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            q = q.detach().numpy()
            if p.numel() >= 1000:  # enough numbers for the spread to be a good estimate
                assert p.data.std() == pytest.approx(q.std(), rel=0.05), name
            if not isinstance(ours, nn.Embedding):  # uniform: the same bounds
                fan_in = p.numel() // p.shape[0] if p.ndim > 1 else ours.weight.numel() // ours.weight.shape[0]
                bound = 1 / math.sqrt(fan_in)
                assert np.abs(p.data).max() <= bound and np.abs(q).max() <= bound, name
