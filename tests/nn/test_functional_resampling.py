"""interpolate, pad (reflect, replicate, circular) and pixel_shuffle/unshuffle: values against the
definitions, float64 gradients on random sizes, second derivatives, errors, and PyTorch."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F

# The second-order checks square a function linear (or piecewise linear) in each input, so its gradient is
# linear in each input too: central differences are exact at any step, and a large step (1e-3) keeps their
# rounding error far below the bar.
rng = np.random.default_rng(11)


def leaf(*shape):
    return cr.tensor(rng.standard_normal(shape), requires_grad=True)


# ----- interpolate ---------------------------------------------------------------------------
def source(o, size, output, scale, mode, align_corners):
    """Where output position o samples the input, from PyTorch's documented rules (in float64)."""
    if mode == "nearest":
        step = 1 / scale if scale else size / output
        return min(math.floor(o * step), size - 1)
    if align_corners:
        return o * (size - 1) / (output - 1) if output > 1 else 0.0
    step = 1 / scale if scale else size / output
    return max((o + 0.5) * step - 0.5, 0.0)


def naive_interpolate(x, output, scales, mode, align_corners):
    """The definition along the last len(output) axes, one output position at a time."""
    out = x
    for axis, (size, o_size, scale) in enumerate(zip(x.shape[2:], output, scales), start=2):
        pieces = []
        for o in range(o_size):
            s = source(o, size, o_size, scale, mode, align_corners)
            if mode == "nearest":
                pieces.append(np.take(out, s, axis=axis))
                continue
            low = min(int(math.floor(s)), size - 1)
            high = min(low + 1, size - 1)
            weight = s - low
            pieces.append((1 - weight) * np.take(out, low, axis=axis) + weight * np.take(out, high, axis=axis))
        out = np.stack(pieces, axis=axis)
    return out


@st.composite
def resizes(draw):
    dims = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["nearest", "linear" if dims == 1 else "bilinear"]))
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(dims))
    align_corners = None if mode == "nearest" else draw(st.booleans())
    if draw(st.booleans()):
        output = tuple(draw(st.integers(1, 9)) for _ in range(dims))
        options, scales = dict(size=output), (None,) * dims
    else:
        scales = tuple(draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0])) for _ in range(dims))
        output = tuple(math.floor(n * s) for n, s in zip(sizes, scales))
        if min(output) < 1:
            scales = tuple(max(s, 1.0) for s in scales)
            output = tuple(math.floor(n * s) for n, s in zip(sizes, scales))
        options = dict(scale_factor=scales)
    return (2, 2) + sizes, dict(options, mode=mode, align_corners=align_corners), output, scales


@settings(max_examples=40, deadline=None)
@given(resizes())
def test_random_resizes_match_the_definition_and_their_gradients_check(case):
    shape, options, output, scales = case
    x = leaf(*shape)
    out = F.interpolate(x, **options)
    assert out.shape == shape[:2] + output
    mode = "nearest" if options["mode"] == "nearest" else "linear"
    np.testing.assert_allclose(
        out.data, naive_interpolate(x.data, output, scales, mode, options["align_corners"]), rtol=1e-12, atol=1e-14
    )
    # Linear in x: a large step has no truncation error.
    assert cr.max_relative_error(lambda x: F.interpolate(x, **options), [x], eps=1e-3) < 1e-7


def test_interpolate_second_derivatives_area_and_recomputed_scale():
    x = leaf(1, 2, 3, 4)
    for options in (
        dict(scale_factor=2, mode="bilinear"),
        dict(size=(5, 2), mode="nearest"),
        dict(size=(2, 3), mode="area"),
        dict(scale_factor=1.5, mode="nearest-exact"),
    ):
        fn = lambda x: F.interpolate(x, **options) ** 2  # noqa: E731
        assert cr.max_relative_error(fn, [x], eps=1e-3, second_order=True) < 1e-7
    np.testing.assert_allclose(F.interpolate(x, size=(2, 3), mode="area").data, F.adaptive_avg_pool2d(x, (2, 3)).data)
    # recompute_scale_factor: the step is size / output size (4 / 6), not 1 / 1.7.
    recomputed = F.interpolate(x, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)
    np.testing.assert_allclose(recomputed.data, F.interpolate(x, size=(5, 6), mode="bilinear").data)


def test_interpolate_keeps_float32_and_copies_an_unchanged_size():
    x = cr.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    out = F.interpolate(x, scale_factor=2, mode="bilinear")
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    same = F.interpolate(x, size=(4, 4))
    np.testing.assert_array_equal(same.data, x.data)
    assert not np.shares_memory(same.data, x.data)


def test_interpolate_errors():
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"interpolate: give exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: give exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(
        ValueError,
        match=r"interpolate: mode 'linear' needs 3-d input \(batch, channels, then "
        r"length\), "
        r"got shape \(1, 2, 4, 4\)",
    ):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match=r"interpolate: mode 'bilinear' needs 4-d input"):
        F.interpolate(x[0], scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"interpolate: align_corners can only be set with the interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"interpolate: mode must be one of .*bicubic and trilinear are not supported"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"interpolate: size must be a number or 2 numbers \(one per spatial side\)"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(ValueError, match=r"interpolate: scale_factor 0.1 gives output size \(0, 0\)"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(
        ValueError,
        match=r"interpolate: recompute_scale_factor is not meaningful with an explicit "
        r"size",
    ):
        F.interpolate(x, size=3, recompute_scale_factor=True)


INTERPOLATIONS = [
    ((2, 3, 7, 9), dict(scale_factor=2, mode="nearest")),
    ((2, 3, 7, 9), dict(scale_factor=(1.7, 0.6), mode="nearest")),
    ((2, 3, 7, 9), dict(size=(4, 13), mode="nearest")),
    ((2, 3, 7, 9), dict(size=(11, 5), mode="nearest-exact")),
    ((2, 3, 7, 9), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 7, 9), dict(scale_factor=(1.7, 0.6), mode="bilinear")),
    ((2, 3, 7, 9), dict(size=(4, 13), mode="bilinear", align_corners=True)),
    ((2, 3, 7, 9), dict(scale_factor=2.5, mode="bilinear", align_corners=True)),
    ((2, 3, 7, 9), dict(size=(1, 1), mode="bilinear", align_corners=True)),
    ((2, 3, 7, 9), dict(size=(4, 13), mode="area")),
    ((2, 3, 7), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
    ((2, 3, 7), dict(scale_factor=3, mode="nearest")),
    ((2, 3, 5, 5), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape, options", INTERPOLATIONS)
def test_interpolate_same_as_torch_in_float64(shape, options):
    torch = pytest.importorskip("torch")
    compare_with_torch("interpolate", (rng.standard_normal(shape),), options, torch)


def compare_with_torch(name, arrays, options, torch, exact=False):
    mine = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, reference = getattr(F, name)(*mine, **options), getattr(torch.nn.functional, name)(*theirs, **options)
    tolerance = dict(rtol=0, atol=0) if exact else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.data, reference.detach().numpy(), **tolerance)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-12, atol=1e-12)


# ----- pad ---------------------------------------------------------------------------------------
NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@st.composite
def paddings(draw):
    mode = draw(st.sampled_from(list(NUMPY_MODES)))
    axes = draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(2, 5)) for _ in range(axes))
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
    widths = [(draw(st.integers(0, limit(n))), draw(st.integers(0, limit(n)))) for n in sizes]
    return mode, (2, 2) + sizes, widths


@settings(max_examples=40, deadline=None)
@given(paddings())
def test_random_paddings_match_numpy_and_their_gradients_check(case):
    mode, shape, widths = case
    x = leaf(*shape)
    pad = tuple(w for pair in reversed(widths) for w in pair)  # PyTorch's order: last axis first
    out = F.pad(x, pad, mode=mode)
    np.testing.assert_array_equal(out.data, np.pad(x.data, [(0, 0), (0, 0)] + widths, mode=NUMPY_MODES[mode]))
    assert cr.max_relative_error(lambda x: F.pad(x, pad, mode=mode), [x], eps=1e-3) < 1e-7


def test_pad_second_derivatives_and_negative_widths():
    x = leaf(2, 3, 4, 5)
    for mode in ("reflect", "replicate", "circular"):
        fn = lambda x: F.pad(x, (2, 1, 1, 3), mode=mode) ** 2  # noqa: E731
        assert cr.max_relative_error(fn, [x], eps=1e-3, second_order=True) < 1e-7
        cropped = F.pad(x, (-1, 2, 0, -2), mode=mode)
        np.testing.assert_array_equal(cropped.data, F.pad(x[:, :, :2, 1:], (0, 2, 0, 0), mode=mode).data)
    np.testing.assert_array_equal(F.pad(x, (-1, -1)).data, x.data[..., 1:-1])
    np.testing.assert_array_equal(F.pad(x, (1, 1), value=2.5).data[..., 0], np.full((2, 3, 4), 2.5))


def test_pad_errors():
    x = np.zeros((1, 2, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"pad: mode 'reflect' needs each width less than the size of its axis; got "
        r"widths \(3, 0\) for axis 3 of size 3",
    ):
        F.pad(x, (3, 0, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match=r"pad: mode 'circular' needs each width at most the size"):
        F.pad(x, (0, 0, 4, 0), mode="circular")
    with pytest.raises(
        ValueError,
        match=r"pad: mode 'replicate' pads the last 1, 2 or 3 axes of a tensor with one or "
        r"two more axes than that",
    ):
        F.pad(x[0, 0, 0], (1, 1), mode="replicate")
    with pytest.raises(ValueError, match=r"got 1 axes to pad for shape \(1, 2, 3, 3\)"):
        F.pad(x, (1, 1), mode="circular")
    with pytest.raises(ValueError, match=r"pad: mode 'reflect' takes no value"):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=1.0)
    with pytest.raises(
        ValueError,
        match=r"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', "
        r"got 'symmetric'",
    ):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(ValueError, match=r"pad: pad must hold \(before, after\) pairs"):
        F.pad(x, (1, 1.5))


PADS = (
    [((2, 3, 4, 5), (2, 1, 3, 0), mode) for mode in NUMPY_MODES]
    + [((2, 3, 4, 5), (-2, 1, 3, -1), mode) for mode in NUMPY_MODES]
    + [((2, 3, 7), (3, 2), mode) for mode in NUMPY_MODES]
    + [
        ((2, 3, 5), (-2, 3), "reflect"),
        ((2, 3, 5), (3, -2), "replicate"),
        ((2, 3, 5), (-3, 2), "circular"),
        ((3, 4, 5), (1, 2, 2, 1), "reflect"),
        ((3, 7), (4, 0), "circular"),
        ((2, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2), "replicate"),
    ]
)


@pytest.mark.parametrize("shape, pad, mode", PADS)
def test_pad_same_as_torch_in_float64(shape, pad, mode):
    torch = pytest.importorskip("torch")
    compare_with_torch("pad", (rng.standard_normal(shape),), dict(pad=pad, mode=mode), torch, exact=True)


# ----- pixel shuffle ---------------------------------------------------------------------------
def test_pixel_shuffle_places_each_channel_group_in_a_block():
    x = leaf(2, 2 * 9, 2, 3)
    out = F.pixel_shuffle(x, 3)
    assert out.shape == (2, 2, 6, 9)
    for c in range(2):
        for i in range(3):
            for j in range(3):
                np.testing.assert_array_equal(out.data[:, c, i::3, j::3], x.data[:, c * 9 + i * 3 + j])
    np.testing.assert_array_equal(F.pixel_unshuffle(out, 3).data, x.data)
    assert cr.max_relative_error(lambda x: F.pixel_shuffle(x, 3), [x], eps=1e-3) < 1e-7
    fn = lambda x: F.pixel_unshuffle(x, 2) ** 2  # noqa: E731
    assert cr.max_relative_error(fn, [leaf(3, 4, 2)], eps=1e-3, second_order=True) < 1e-7
    assert F.pixel_shuffle(leaf(5, 2, 8, 1, 1), 2).shape == (5, 2, 2, 2, 2)  # any leading dimensions


def test_pixel_shuffle_errors():
    with pytest.raises(
        ValueError,
        match=r"pixel_shuffle: the channel dimension \(5, shape \(1, 5, 2, 2\)\) must be "
        r"divisible by upscale_factor squared \(4\)",
    ):
        F.pixel_shuffle(np.zeros((1, 5, 2, 2)), 2)
    with pytest.raises(
        ValueError,
        match=r"pixel_unshuffle: height and width \(3, 4; shape \(1, 1, 3, 4\)\) must be "
        r"divisible by downscale_factor \(2\)",
    ):
        F.pixel_unshuffle(np.zeros((1, 1, 3, 4)), 2)
    with pytest.raises(ValueError, match=r"pixel_shuffle: input must have at least 3 dimensions"):
        F.pixel_shuffle(np.zeros((4, 2)), 2)
    with pytest.raises(ValueError, match=r"pixel_shuffle: upscale_factor must be an integer >= 1, got 0"):
        F.pixel_shuffle(np.zeros((1, 4, 2, 2)), 0)


@pytest.mark.parametrize(
    "name, shape, factor",
    [("pixel_shuffle", (2, 8, 3, 4), 2), ("pixel_unshuffle", (5, 2, 4, 6), 2), ("pixel_shuffle", (9, 2, 2), 3)],
)
def test_pixel_shuffle_same_as_torch(name, shape, factor):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape)
    mine, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, reference = getattr(F, name)(mine, factor), getattr(torch.nn.functional, name)(theirs, factor)
    np.testing.assert_array_equal(out.data, reference.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    np.testing.assert_array_equal(mine.grad, theirs.grad.numpy())
