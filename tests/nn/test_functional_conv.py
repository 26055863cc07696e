"""conv2d: values against a naive loop, gradients against central differences, errors, and PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.gates.conv import (
    Geometry,
    col2im,
    col2im_batch_last,
    im2col,
    im2col_batch_last,
    is_batch_last,
    weight_gradient,
)

rng = np.random.default_rng(0)


def leaf(*shape, dtype=np.float64):
    return cr.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def naive_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """The definition, one output value at a time."""
    n, c, h, wd = x.shape
    o, c_per_group, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    padded = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    padded[:, :, ph : ph + h, pw : pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group_out = o // groups
    for b_ in range(n):
        for oc in range(o):
            first_channel = (oc // per_group_out) * c_per_group
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for cc in range(c_per_group):
                        for u in range(kh):
                            for v in range(kw):
                                pixel = padded[b_, first_channel + cc, i * sh + u * dh, j * sw + v * dw]
                                total += pixel * w[oc, cc, u, v]
                    out[b_, oc, i, j] = total + (b[oc] if b is not None else 0.0)
    return out


# (input shape, weight shape, options)
CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), dict()),
    ((2, 3, 5, 6), (4, 3, 3, 2), dict(padding=1)),
    ((1, 2, 7, 7), (3, 2, 3, 3), dict(stride=2, padding=1)),
    ((1, 2, 7, 6), (2, 2, 2, 3), dict(stride=(2, 1), padding=(0, 1))),
    ((1, 2, 7, 7), (3, 2, 3, 3), dict(dilation=2)),
    ((1, 2, 8, 7), (2, 2, 3, 2), dict(stride=2, padding=2, dilation=(2, 1))),
    ((2, 4, 5, 5), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((1, 4, 6, 6), (4, 1, 3, 3), dict(groups=4, stride=2, padding=1)),  # depthwise
    ((2, 3, 4, 4), (5, 3, 1, 1), dict()),  # 1x1
    ((1, 2, 6, 6), (3, 2, 2, 2), dict(stride=2)),  # windows tile the input
]


def _numbers(options):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return dict(
        stride=pair(options.get("stride", 1)),
        padding=pair(options.get("padding", 0)),
        dilation=pair(options.get("dilation", 1)),
        groups=options.get("groups", 1),
    )


@pytest.mark.parametrize("x_shape, w_shape, options", CASES)
def test_forward_matches_naive_loop(x_shape, w_shape, options):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out = F.conv2d(x, w, b, **options)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, **_numbers(options)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("x_shape, w_shape, options", CASES)
def test_gradients_match_central_differences(x_shape, w_shape, options):
    x, w, b = leaf(*x_shape), leaf(*w_shape), leaf(w_shape[0])
    assert cr.max_relative_error(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b]) < 1e-7


@st.composite
def geometries(draw):
    """A random small convolution that fits: groups, kernel, stride, padding and dilation per axis."""
    groups = draw(st.integers(1, 2))
    channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 6)) for k, d, p in zip(kernel, dilation, padding)]
    return (
        (draw(st.integers(1, 2)), channels) + tuple(size),
        (out_channels, channels // groups) + kernel,
        dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
        draw(st.integers(0, 2**16)),
    )


@settings(max_examples=15)
@given(geometries())
def test_random_geometries(case):
    x_shape, w_shape, options, seed = case
    values = np.random.default_rng(seed)
    x, w, b = (cr.tensor(values.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape, w_shape[:1]))
    out = F.conv2d(x, w, b, **options)
    np.testing.assert_allclose(out.data, naive_conv2d(x.data, w.data, b.data, **options), rtol=1e-10, atol=1e-10)
    # conv2d is linear in each input, so central differences have no truncation error at any step; a
    # larger step keeps their rounding error (about 1e-16 * |f| / eps) well under the 1e-7 bar.
    assert cr.max_relative_error(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b], eps=1e-3) < 1e-7


def test_without_bias_and_frozen_inputs():
    x, w = leaf(2, 3, 5, 5), leaf(4, 3, 3, 3)
    assert cr.max_relative_error(lambda x, w: F.conv2d(x, w, padding=1), [x, w]) < 1e-7
    frozen_x = cr.tensor(x.data)
    out = F.conv2d(frozen_x, w, padding=1)
    out.sum().backward()
    assert frozen_x.grad is None and w.grad.shape == w.shape


@pytest.mark.parametrize("options", [dict(stride=2, padding=1), dict(groups=2, dilation=2, padding=1)])
def test_second_derivatives(options):
    x, w, b = leaf(1, 2, 5, 5), leaf(2, 1 if options.get("groups") else 2, 2, 2), leaf(2)
    assert cr.max_relative_error(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b], second_order=True) < 1e-7
    assert cr.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **options), [x, w, b])


def test_im2col_and_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)> for any x and c: col2im is im2col's transpose.
    geometry = Geometry((2, 3, 6, 5), (3, 2), (2, 1), (1, 1), (1, 2), "test")
    x = rng.standard_normal(geometry.input_shape)
    cols = im2col(x, geometry)
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose((cols * c).sum(), (x * col2im(c, geometry)).sum(), rtol=1e-12)


def test_batch_last_columns_are_the_same_windows_and_adjoint():
    geometry = Geometry((3, 2, 6, 5), (3, 2), (2, 1), (1, 0), (1, 2), "test")
    x = rng.standard_normal(geometry.input_shape)
    cols = im2col_batch_last(x, geometry)  # (C*kh*kw, OH*OW*N)
    per_sample = im2col(x, geometry)  # (N, C*kh*kw, OH*OW)
    np.testing.assert_array_equal(cols, per_sample.transpose(1, 2, 0).reshape(cols.shape))
    c = rng.standard_normal(cols.shape)
    back = col2im_batch_last(c, geometry)
    assert is_batch_last(back) and back.shape == x.shape
    np.testing.assert_allclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


def test_layers_keep_the_batch_last_layout_and_accept_any_gradient_layout():
    # conv2d writes (C, H, W, N) memory; relu and pooling keep it, so the next conv reads it without a copy.
    own = np.random.default_rng(7)  # fixed values: the gradient check below must not straddle a kink
    x, w1, w2 = (
        cr.tensor(own.standard_normal(shape), requires_grad=True)
        for shape in [(3, 2, 8, 8), (4, 2, 3, 3), (5, 4, 3, 3)]
    )
    hidden = F.max_pool2d(F.relu(F.conv2d(x, w1, padding=1)), 2)
    assert is_batch_last(hidden.data) and is_batch_last(F.avg_pool2d(hidden, 2).data)
    out = F.conv2d(hidden, w2, padding=1)
    np.testing.assert_allclose(out.data, naive_conv2d(hidden.data, w2.data, padding=(1, 1)), rtol=1e-10)
    # A gradient in plain NCHW order (from a flatten, here) and one already batch-last give the same result.
    weights = own.standard_normal(out.shape)
    grads = []
    for g in (weights, np.ascontiguousarray(weights.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
        x.grad = w1.grad = w2.grad = None
        out = F.conv2d(F.max_pool2d(F.relu(F.conv2d(x, w1, padding=1)), 2), w2, padding=1)
        out.backward(cr.tensor(g))
        grads.append([x.grad.copy(), w1.grad.copy(), w2.grad.copy()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # Piecewise linear in each input: a large step has no truncation error and little rounding error.
    assert (
        cr.max_relative_error(
            lambda x, w1, w2: F.conv2d(F.max_pool2d(F.relu(F.conv2d(x, w1, padding=1)), 2), w2, padding=1).flatten(1),
            [x, w1, w2],
            eps=1e-3,
        )
        < 1e-7
    )


@pytest.mark.parametrize("o, k, length", [(3, 5, 20000), (6, 3, 40), (4, 9, 30)])
def test_weight_gradient_is_g_times_cols_transposed_in_every_shape(o, k, length):
    # (3, 5, 20000) sums 4096-long pieces (the last one shorter); (6, 3) puts g first; (4, 9) puts cols first.
    g, cols = rng.standard_normal((o, length)), rng.standard_normal((k, length))
    np.testing.assert_allclose(weight_gradient(g, cols), g @ cols.T, rtol=1e-10, atol=1e-10)


def test_float32_stays_float32():
    x, w, b = leaf(2, 3, 6, 6, dtype=np.float32), leaf(4, 3, 3, 3, dtype=np.float32), leaf(4, dtype=np.float32)
    out = F.conv2d(x, w, b, padding=1)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_single_image_without_batch_axis():
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    out = F.conv2d(x, w, padding="same")
    assert out.shape == (4, 5, 5)
    np.testing.assert_allclose(out.data, F.conv2d(x[None], w, padding=1).data[0])
    assert F.conv2d(x, w, padding="valid").shape == (4, 3, 3)


def test_bad_inputs_say_what_is_wrong():
    w = np.zeros((16, 1, 3, 3))
    message = r"conv2d: input has 3 channels, weight expects 1 \(weight shape \(16, 1, 3, 3\)\)"
    with pytest.raises(ValueError, match=message):
        F.conv2d(np.zeros((2, 3, 8, 8)), w)
    message = r"conv2d: input must be 4-d \(N, C, H, W\) or 3-d \(C, H, W\), got shape \(8, 8\)"
    with pytest.raises(ValueError, match=message):
        F.conv2d(np.zeros((8, 8)), w)
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-d"):
        F.conv2d(np.zeros((1, 1, 8, 8)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: kernel size 3x3 is larger than the padded input 2x2"):
        F.conv2d(np.zeros((1, 1, 2, 2)), w)
    with pytest.raises(ValueError, match=r"dilated to 5x5\) is larger than the padded input 4x4"):
        F.conv2d(np.zeros((1, 1, 4, 4)), w, dilation=2)
    with pytest.raises(ValueError, match=r"conv2d: input has 4 channels, weight expects 2 \(1 per group x 2 groups"):
        F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"not divisible by groups \(2\)"):
        F.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((3, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(16,\)"):
        F.conv2d(np.zeros((1, 1, 5, 5)), w, np.zeros(4))
    with pytest.raises(
        ValueError, match=r"conv2d: stride must be an integer or a pair of integers, each at least 1; got 0"
    ):
        F.conv2d(np.zeros((1, 1, 5, 5)), w, stride=0)
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1"):
        F.conv2d(np.zeros((1, 1, 5, 5)), w, stride=2, padding="same")


@pytest.mark.parametrize("x_shape, w_shape, options", CASES[:8])
def test_same_as_torch(x_shape, w_shape, options):
    torch = pytest.importorskip("torch")
    x, w, b = leaf(*x_shape), leaf(*w_shape), leaf(w_shape[0])
    out = F.conv2d(x, w, b, **options)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, **options)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    for ours, theirs in [(x, tx), (w, tw), (b, tb)]:
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)
