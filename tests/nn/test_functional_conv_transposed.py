"""conv1d, conv_transpose1d and conv_transpose2d: values against the definitions, float64 gradients on
random geometries, second derivatives, errors, and PyTorch (values and every gradient)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_functional_conv import naive_conv2d

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.gates.conv import is_batch_last

# The second-order checks square a function linear (or piecewise linear) in each input, so its gradient is
# linear in each input too: central differences are exact at any step, and a large step (1e-3) keeps their
# rounding error far below the bar.
rng = np.random.default_rng(3)


def leaf(*shape, dtype=np.float64):
    return cr.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def naive_conv_transpose2d(
    x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1, dilation=(1, 1)
):
    """The definition: every input pixel adds its value times the filter into the output, stride apart."""
    n, c, h, wd = x.shape
    _, per_group_out, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, per_group_out * groups, oh + 2 * ph + sh + dh * kh, ow + 2 * pw + sw + dw * kw))
    per_group_in = c // groups
    for ci in range(c):
        g = ci // per_group_in
        for i in range(h):
            for j in range(wd):
                for u in range(kh):
                    for v in range(kw):
                        outs = slice(g * per_group_out, (g + 1) * per_group_out)
                        full[:, outs, i * sh + u * dh, j * sw + v * dw] += x[:, ci, i, j, None] * w[ci, :, u, v]
    out = full[:, :, ph : ph + oh, pw : pw + ow]
    return out + (b.reshape(1, -1, 1, 1) if b is not None else 0)


# ----- conv1d: conv2d on a (N, C, 1, L) view ---------------------------------------------------
@st.composite
def geometries_1d(draw):
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, dilation, padding, stride = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 2)),
        draw(st.integers(0, 2)),
        draw(st.integers(1, 3)),
    )
    length = draw(st.integers(max(1, dilation * (kernel - 1) + 1 - 2 * padding), 7))
    return (
        (draw(st.integers(1, 2)), channels, length),
        (out_channels, channels // groups, kernel),
        dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
        draw(st.integers(0, 2**16)),
    )


@settings(max_examples=15, deadline=None)
@given(geometries_1d())
def test_conv1d_is_conv2d_of_height_one_and_its_gradients_check(case):
    x_shape, w_shape, options, seed = case
    values = np.random.default_rng(seed)
    x, w, b = (cr.tensor(values.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape, w_shape[:1]))
    out = F.conv1d(x, w, b, **options)
    two_d = dict(
        options, stride=(1, options["stride"]), padding=(0, options["padding"]), dilation=(1, options["dilation"])
    )
    expected = naive_conv2d(x.data[:, :, None], w.data[:, :, None], b.data, **two_d)[:, :, 0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-10)
    assert cr.max_relative_error(lambda x, w, b: F.conv1d(x, w, b, **options), [x, w, b], eps=1e-3) < 1e-7


def test_conv1d_second_derivatives_single_sequence_and_same_padding():
    x, w, b = leaf(2, 4, 6), leaf(4, 2, 3), leaf(4)
    fn = lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2) ** 2  # noqa: E731
    assert cr.max_relative_error(fn, [x, w, b], eps=1e-3, second_order=True) < 1e-7
    one = F.conv1d(x.data[0], w.data, groups=2, padding="same")
    assert one.shape == (4, 6)
    np.testing.assert_allclose(one.data, F.conv1d(x.data[:1], w.data, groups=2, padding=1).data[0])


def test_conv1d_keeps_the_batch_last_layout_of_conv2d():
    out = F.conv1d(leaf(4, 3, 10), leaf(5, 3, 3), padding=1)
    assert out.shape == (4, 5, 10) and is_batch_last(out.data[:, :, None])


# ----- transposed convolutions ----------------------------------------------------------------
@st.composite
def transposed_geometries(draw):
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    # Padding that leaves a positive output size.
    padding = tuple(
        draw(st.integers(0, max(0, ((n - 1) * s + d * (k - 1) + op) // 2)))
        for n, s, d, k, op in zip(size, stride, dilation, kernel, output_padding)
    )
    return (
        (draw(st.integers(1, 2)), channels) + size,
        (channels, out_channels // groups) + kernel,
        dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation),
        draw(st.integers(0, 2**16)),
    )


@settings(max_examples=20, deadline=None)
@given(transposed_geometries())
def test_conv_transpose2d_random_geometries(case):
    x_shape, w_shape, options, seed = case
    values = np.random.default_rng(seed)
    groups = options["groups"]
    x, w, b = (
        cr.tensor(values.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape, (w_shape[1] * groups,))
    )
    out = F.conv_transpose2d(x, w, b, **options)
    np.testing.assert_allclose(
        out.data, naive_conv_transpose2d(x.data, w.data, b.data, **options), rtol=1e-10, atol=1e-10
    )
    # Linear in each input: a large step has no truncation error.
    assert cr.max_relative_error(lambda x, w, b: F.conv_transpose2d(x, w, b, **options), [x, w, b], eps=1e-3) < 1e-7


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    # <conv2d(y, w), g> = <y, conv_transpose2d(g, w)> for every y and g: the two are adjoint.
    w = rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal((2, 3, 9, 8))
    options = dict(stride=2, padding=1, dilation=(1, 2))
    out = F.conv2d(y, w, **options)
    g = rng.standard_normal(out.shape)
    back = F.conv_transpose2d(g, w, output_padding=(0, 1), **options)
    assert back.shape == y.shape
    np.testing.assert_allclose((out.data * g).sum(), (y * back.data).sum(), rtol=1e-12)


@pytest.mark.parametrize(
    "options",
    [dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2, stride=(1, 2), output_padding=(1, 0))],
)
def test_conv_transpose2d_second_derivatives(options):
    x, w, b = leaf(2, 2, 3, 3), leaf(2, 2 // options.get("groups", 1), 2, 3), leaf(2)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, **options) ** 2  # noqa: E731
    assert cr.max_relative_error(fn, [x, w, b], eps=1e-3, second_order=True) < 1e-7
    assert cr.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **options), [x, w, b])


def test_conv_transpose1d_values_gradients_and_second_derivatives():
    x, w, b = leaf(2, 4, 5), leaf(4, 3, 3), leaf(6)
    options = dict(stride=3, padding=1, output_padding=2, groups=2)
    out = F.conv_transpose1d(x, w, b, **options)
    assert out.shape == (2, 6, (5 - 1) * 3 - 2 + 2 + 2 + 1)
    two_d = naive_conv_transpose2d(
        x.data[:, :, None], w.data[:, :, None], b.data, stride=(1, 3), padding=(0, 1), output_padding=(0, 2), groups=2
    )
    np.testing.assert_allclose(out.data, two_d[:, :, 0], rtol=1e-10, atol=1e-12)
    fn = lambda x, w, b: F.conv_transpose1d(x, w, b, **options)  # noqa: E731
    assert cr.max_relative_error(fn, [x, w, b], eps=1e-3) < 1e-7
    assert cr.max_relative_error(lambda x, w, b: fn(x, w, b) ** 2, [x, w, b], eps=1e-3, second_order=True) < 1e-7
    assert F.conv_transpose1d(x.data[0], w.data, **options).shape == out.shape[1:]


def test_float32_stays_float32():
    for fn, shapes in [
        (F.conv1d, [(2, 3, 8), (4, 3, 3)]),
        (F.conv_transpose2d, [(2, 3, 4, 4), (3, 2, 3, 3)]),
        (F.conv_transpose1d, [(2, 3, 4), (3, 2, 3)]),
    ]:
        x, w = (leaf(*s, dtype=np.float32) for s in shapes)
        out = fn(x, w, stride=2)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == w.grad.dtype == np.float32


def test_bad_arguments_say_what_is_wrong():
    x = np.zeros((2, 3, 5))
    with pytest.raises(
        ValueError,
        match=r"conv1d: input has 3 channels, weight expects 2 "
        r"\(weight shape \(4, 2, 3\)\)",
    ):
        F.conv1d(x, np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match=r"conv1d: input must be 3-d \(N, C, L\) or 2-d \(C, L\), got shape \(5,\)"):
        F.conv1d(np.zeros(5), np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv1d: weight must be 3-d"):
        F.conv1d(x, np.zeros((4, 3, 3, 3)))
    with pytest.raises(
        ValueError,
        match=r"conv1d: kernel size 7 is larger than the padded input 5 \(input length 5, "
        r"padding 0\)",
    ):
        F.conv1d(x, np.zeros((4, 3, 7)))
    with pytest.raises(ValueError, match=r"conv1d: kernel size 3 \(dilated to 7\) is larger than the padded input 6"):
        F.conv1d(np.zeros((2, 3, 4)), np.zeros((4, 3, 3)), dilation=3, padding=1)
    with pytest.raises(
        ValueError,
        match=r"conv1d: stride must be an integer or a 1-tuple of integers, each at least "
        r"1; got \(1, 1\)",
    ):
        F.conv1d(x, np.zeros((4, 3, 3)), stride=(1, 1))
    x2 = np.zeros((1, 4, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: input has 4 channels, weight expects 2 \(weight shape "
        r"\(2, 3, 3, 3\): in_channels first\)",
    ):
        F.conv_transpose2d(x2, np.zeros((2, 3, 3, 3)))
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: output_padding must be smaller than stride or dilation, "
        r"got output_padding \(2, 0\), stride \(2, 2\) and dilation \(1, 1\)",
    ):
        F.conv_transpose2d(x2, np.zeros((4, 1, 3, 3)), stride=2, output_padding=(2, 0))
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: the output size would be \(-1, -1\) for input size "
        r"\(3, 3\)",
    ):
        F.conv_transpose2d(x2, np.zeros((4, 1, 1, 1)), padding=2)
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: in_channels \(4, weight shape \(4, 1, 3, 3\)\) is not "
        r"divisible by groups \(3\)",
    ):
        F.conv_transpose2d(x2, np.zeros((4, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias must have shape \(2,\)"):
        F.conv_transpose2d(x2, np.zeros((4, 1, 3, 3)), np.zeros(4), groups=2)
    with pytest.raises(
        ValueError,
        match=r"conv_transpose1d: output_padding must be smaller than stride or dilation, "
        r"got output_padding 1, stride 1 and dilation 1",
    ):
        F.conv_transpose1d(x, np.zeros((3, 1, 3)), output_padding=1)
    with pytest.raises(ValueError, match=r"conv_transpose2d: padding must be an integer or a pair"):
        F.conv_transpose2d(x2, np.zeros((4, 1, 3, 3)), padding="same")


# ----- PyTorch -------------------------------------------------------------------------------
CASES = [
    (F.conv1d, "conv1d", (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    (F.conv1d, "conv1d", (3, 3, 8), (5, 3, 4), dict(padding="valid")),
    (F.conv_transpose1d, "conv_transpose1d", (2, 4, 7), (4, 3, 3), dict(stride=3, padding=1, output_padding=2)),
    (F.conv_transpose1d, "conv_transpose1d", (2, 4, 5), (4, 1, 2), dict(groups=2, dilation=3, output_padding=2)),
    (F.conv_transpose2d, "conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    (
        F.conv_transpose2d,
        "conv_transpose2d",
        (2, 4, 5, 6),
        (4, 3, 3, 2),
        dict(padding=(0, 1), output_padding=1, dilation=2),
    ),
    (
        F.conv_transpose2d,
        "conv_transpose2d",
        (2, 4, 3, 4),
        (4, 2, 3, 3),
        dict(stride=(2, 3), padding=1, groups=2, dilation=(1, 2)),
    ),
    (F.conv_transpose2d, "conv_transpose2d", (1, 6, 4, 4), (6, 1, 4, 4), dict(stride=2, padding=1, groups=6)),
]


@pytest.mark.parametrize("ours, name, x_shape, w_shape, options", CASES)
def test_same_as_torch_in_float64(ours, name, x_shape, w_shape, options):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn.functional, name)
    groups = options.get("groups", 1)
    bias_size = w_shape[0] if name.startswith("conv1d") else w_shape[1] * groups
    arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, (bias_size,))]
    inputs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*inputs, **options)
    reference_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    reference = theirs(*reference_inputs, **options)
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    for mine, theirs_ in zip(inputs, reference_inputs):
        np.testing.assert_allclose(mine.grad, theirs_.grad.numpy(), rtol=1e-12, atol=1e-12)
