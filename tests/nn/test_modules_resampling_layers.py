"""The layers of PyTorch's networks section beyond Conv2d: 1-d and transposed convolutions, 1-d, ceil_mode,
unpooling and adaptive pools, group and instance norm, upsampling, pixel shuffle, padding layers and
distances. Their checks and gradients here; with PyTorch installed, the same reprs, state_dict names and
shapes, initial weight scales, and outputs and gradients after loading PyTorch's weights."""

import math

import numpy as np
import pytest
from test_modules_layers import gradcheck_module

import chainrule
from chainrule import nn

rng = np.random.default_rng(23)


def randn(*shape, requires_grad=False):
    return chainrule.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


# ----- gradients through parameters, without PyTorch ------------------------------------------------
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), (2, 2, 7)),
        (lambda: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 5)),
        (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (1, 2, 4, 4)),
        (lambda: nn.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1), (2, 2, 4)),
        (lambda: nn.ConvTranspose2d(4, 2, (3, 2), stride=2, padding=1, groups=2, dilation=(1, 2)), (1, 4, 3, 3)),
        (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
        (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 2, 3)),
    ],
    ids=[
        "conv1d",
        "conv1d-reflect",
        "conv2d-circular",
        "convtranspose1d",
        "convtranspose2d",
        "groupnorm",
        "instancenorm",
    ],
)
def test_layers_gradcheck_through_their_parameters(make, shape):
    gradcheck_module(make(), randn(*shape, requires_grad=True))


def test_layers_without_parameters_keep_shapes():
    x = randn(2, 3, 6, 5)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 3, 3)
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert nn.MaxUnpool2d(2)(values, indices, output_size=x.shape).shape == x.shape
    assert nn.AvgPool1d(3, stride=2, ceil_mode=True)(x[:, :, 0]).shape == (2, 3, 2)
    assert nn.MaxPool1d(2)(x[0, :, 0]).shape == (3, 2)  # one sequence without the batch axis
    assert nn.AdaptiveMaxPool2d((4, None))(x).shape == (2, 3, 4, 5)
    assert nn.AdaptiveAvgPool1d(4)(x[:, :, 0]).shape == (2, 3, 4)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(x).shape == (2, 3, 12, 10)
    assert nn.PixelUnshuffle(1)(x).shape == x.shape and nn.PixelShuffle(2)(randn(1, 8, 2, 2)).shape == (1, 2, 4, 4)
    assert nn.ReflectionPad2d((1, 2, 0, 1))(x).shape == (2, 3, 7, 8)
    assert nn.ZeroPad2d(1)(x).shape == (2, 3, 8, 7)
    assert nn.CosineSimilarity(dim=-1)(x, x).shape == (2, 3, 6)
    assert nn.PairwiseDistance(keepdim=True)(x, x).shape == (2, 3, 6, 1)
    # InstanceNorm2d without the batch axis normalises the one image
    image = randn(3, 4, 5)
    batched = nn.InstanceNorm2d(3)(image.reshape(1, 3, 4, 5))
    np.testing.assert_allclose(nn.InstanceNorm2d(3)(image).data, batched.data[0])


def test_conv_transpose_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = randn(1, 2, 4, 4)
    assert layer(x).shape == (1, 3, 7, 7)
    assert layer(x, output_size=(8, 7)).shape == (1, 3, 8, 7)
    assert layer(x, output_size=(1, 3, 8, 8)).shape == (1, 3, 8, 8)
    with pytest.raises(
        ValueError,
        match=r"ConvTranspose2d\(2, 3, .*\): requested an output size of \(9, 7\), but "
        r"valid sizes range from \(7, 7\) to \(8, 8\) for an input of \(4, 4\)",
    ):
        layer(x, output_size=(9, 7))


def test_instance_norm_tracks_statistics_in_training_and_uses_them_in_eval():
    layer = nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.5).double()
    x = randn(4, 3, 5, 5) * 2 + 1
    layer(x)
    assert np.all(layer.running_mean != 0) and layer.num_batches_tracked == 0  # PyTorch does not count them
    layer.eval()
    out = layer(x)
    expected = (x.data - layer.running_mean.reshape(1, 3, 1, 1)) / np.sqrt(layer.running_var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(out.data, expected)


def test_constructor_and_input_errors_name_the_layer():
    with pytest.raises(
        ValueError,
        match=r"ConvTranspose2d: output_padding must be smaller than stride or dilation, "
        r"got output_padding \(1, 1\), stride \(1, 1\) and dilation \(1, 1\)",
    ):
        nn.ConvTranspose2d(2, 3, 3, output_padding=1)
    with pytest.raises(ValueError, match=r"ConvTranspose1d: padding_mode must be 'zeros', got 'reflect'"):
        nn.ConvTranspose1d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(
        ValueError,
        match=r"Conv1d: in_channels \(3\) and out_channels \(4\) must both be divisible "
        r"by groups \(2\)",
    ):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(
        ValueError,
        match=r"^Conv1d\(2, 4, kernel_size=\(3,\), stride=\(1,\)\): input has 3 channels "
        r"\(shape \(5, 3, 8\)\), expected 2$",
    ):
        nn.Conv1d(2, 4, 3)(randn(5, 3, 8))
    with pytest.raises(
        ValueError,
        match=r"Conv1d\(.*\): expected a 3-d input \(batch, channels, length\) or one 2-d "
        r"sequence \(channels, length\), got shape \(8,\)",
    ):
        nn.Conv1d(2, 4, 3)(randn(8))
    with pytest.raises(
        ValueError,
        match=r"Conv1d\(.*\): input length 2 \(shape \(1, 2, 2\), padding 0\) is smaller "
        r"than the kernel's reach 3",
    ):
        nn.Conv1d(2, 4, 3)(randn(1, 2, 2))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(.*\): input has 3 channels"):
        nn.ConvTranspose2d(2, 4, 3)(randn(1, 3, 4, 4))
    with pytest.raises(
        ValueError,
        match=r"MaxPool1d\(.*\): input length 1 \(shape \(1, 1, 1\), padding 0\) is "
        r"smaller than the window 2",
    ):
        nn.MaxPool1d(2)(randn(1, 1, 1))
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(
        ValueError,
        match=r"GroupNorm\(2, 4, .*\): expected an input \(batch, 4 channels, \.\.\.\), "
        r"got shape \(2, 3, 5\)",
    ):
        nn.GroupNorm(2, 4)(randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3, .*affine=True.*\): input has 4 channels"):
        nn.InstanceNorm2d(3, affine=True)(randn(2, 4, 3, 3))
    with pytest.warns(UserWarning, match=r"InstanceNorm2d: input has 4 channels, not num_features \(3\)"):
        nn.InstanceNorm2d(3)(randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"AdaptiveMaxPool2d: output_size must be an int or a pair"):
        nn.AdaptiveMaxPool2d((1, 2, 3))
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or 4 ints, got \(1, 2\)"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match=r"PixelShuffle: upscale_factor must be an integer >= 1"):
        nn.PixelShuffle(0)


# ----- PyTorch ------------------------------------------------------------------------------------
LAYERS = [
    ("Conv1d", (2, 4, 3), {}),
    ("Conv1d", (2, 4, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect")),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="replicate")),
    ("ConvTranspose1d", (2, 4, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose2d", (2, 4, 3), {}),
    ("ConvTranspose2d", (2, 4, (3, 2)), dict(stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2)),
    ("MaxPool1d", (2,), {}),
    ("AvgPool1d", (3,), {}),
    ("MaxPool2d", (2,), dict(return_indices=True, ceil_mode=True)),
    ("AvgPool2d", (2,), dict(ceil_mode=True)),
    ("MaxUnpool1d", (3, 1, 1), {}),
    ("MaxUnpool2d", (2,), {}),
    ("AdaptiveMaxPool2d", ((3, None),), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
    ("AdaptiveAvgPool1d", (2,), {}),
    ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (2, 4), dict(affine=False)),
    ("InstanceNorm1d", (3,), dict(affine=True)),
    ("InstanceNorm2d", (3,), {}),
    ("InstanceNorm2d", (3,), dict(affine=True, bias=False, track_running_stats=True)),
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(3, 4), mode="bilinear", align_corners=True)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingBilinear2d", (), dict(size=4)),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
    ("CosineSimilarity", (), {}),
    ("PairwiseDistance", (), {}),
    ("ReflectionPad1d", (1,), {}),
    ("ReflectionPad2d", (2,), {}),
    ("ReplicationPad1d", ((1, 2),), {}),
    ("ReplicationPad2d", (1,), {}),
    ("CircularPad1d", (2,), {}),
    ("CircularPad2d", (1,), {}),
    ("ZeroPad1d", ((1, 2),), {}),
    ("ZeroPad2d", (1,), {}),
    ("ConstantPad1d", (2, 1.0), {}),
    ("ConstantPad2d", (1, 3.5), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_reprs_and_state_dicts_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]


def test_default_initialisations_match_torch_scales():
    torch = pytest.importorskip("torch")
    for make in [
        lambda lib: lib.ConvTranspose2d(32, 64, 4),
        lambda lib: lib.Conv1d(40, 60, 5),
        lambda lib: lib.ConvTranspose1d(30, 20, 7, groups=2),
    ]:
        ours, theirs = make(nn), make(torch.nn)
        fan_in = theirs.weight.shape[1] * math.prod(theirs.weight.shape[2:])
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            q = q.detach().numpy()
            if p.numel() >= 1000:
                assert p.data.std() == pytest.approx(q.std(), rel=0.05), name
            assert np.abs(p.data).max() <= 1 / math.sqrt(fan_in) and np.abs(q).max() <= 1 / math.sqrt(fan_in), name


def decoder(lib):
    """A small encoder-decoder using the new layers, as a PyTorch user writes it."""
    return lib.Sequential(
        lib.ReflectionPad2d(1),
        lib.Conv2d(2, 4, 3),
        lib.GroupNorm(2, 4),
        lib.ReLU(),
        lib.MaxPool2d(2, ceil_mode=True),
        lib.InstanceNorm2d(4, affine=True),
        lib.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1),
        lib.Tanh(),
        lib.Upsample(scale_factor=0.5, mode="bilinear"),
        lib.Conv2d(4, 8, 1),
        lib.PixelShuffle(2),
        lib.AdaptiveMaxPool2d((3, 5)),
        lib.Flatten(),
        lib.Linear(2 * 15, 3),
    )


def sequence_model(lib):
    return lib.Sequential(
        lib.Conv1d(3, 6, 5, padding=2, padding_mode="circular"),
        lib.InstanceNorm1d(6, track_running_stats=True),
        lib.ReLU(),
        lib.MaxPool1d(3, stride=2, padding=1),
        lib.ConvTranspose1d(6, 4, 4, stride=2, padding=1),
        lib.AvgPool1d(2, ceil_mode=True),
        lib.AdaptiveAvgPool1d(3),
        lib.Flatten(),
        lib.Linear(12, 2),
    )


@pytest.mark.parametrize(
    "build, shape", [(decoder, (3, 2, 7, 9)), (sequence_model, (4, 3, 11))], ids=["images", "sequences"]
)
def test_torch_weights_give_the_same_outputs_and_gradients(build, shape):
    torch = pytest.importorskip("torch")
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        mine, reference_input = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, reference = ours(mine), theirs(reference_input)
        np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-10, atol=1e-12)
        ours.zero_grad()
        theirs.zero_grad()
        g = rng.standard_normal(out.shape)
        out.backward(g)
        reference.backward(torch.tensor(g))
        np.testing.assert_allclose(mine.grad, reference_input.grad.numpy(), rtol=1e-8, atol=1e-12)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)
    for key, value in theirs.state_dict().items():  # running statistics updated alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)
