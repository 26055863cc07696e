"""1-d pooling, ceil_mode, return_indices, max_unpool and adaptive pooling of any size: values against the
definitions, float64 gradients on random geometries, second derivatives, errors, and PyTorch."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F

# The second-order checks square a function linear (or piecewise linear) in each input, so its gradient is
# linear in each input too: central differences are exact at any step, and a large step (1e-3) keeps their
# rounding error far below the bar.
rng = np.random.default_rng(5)


def distinct(shape, seed=0):
    """Values all different and well apart, so no window has a tie (the max is smooth there)."""
    values = np.random.default_rng(seed).permutation(math.prod(shape)).reshape(shape) * 0.1
    return cr.tensor(values, requires_grad=True)


def output_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooled size, from its documentation."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def naive_pool(x, kernel, stride, padding, dilation, ceil_mode, kind, count_include_pad=True):
    """The definition over (N, C, H, W), one window at a time: max over the pixels the window covers (padding
    -inf), or their sum divided by PyTorch's count."""
    n, c, h, w = x.shape
    sizes = [
        output_size(size, k, s, p, d, ceil_mode) for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)
    ]
    out = np.zeros((n, c) + tuple(sizes))
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            rows = [i * stride[0] - padding[0] + u * dilation[0] for u in range(kernel[0])]
            cols = [j * stride[1] - padding[1] + v * dilation[1] for v in range(kernel[1])]
            inside = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
            if not inside:  # dilated taps that all fall in the padding: PyTorch's max is -inf
                out[:, :, i, j] = -np.inf
                continue
            values = np.stack([x[:, :, r, q] for r, q in inside], axis=-1)
            if kind == "max":
                out[:, :, i, j] = values.max(axis=-1)
                continue
            if count_include_pad:  # pixels inside the padded image, not past it (ceil_mode's overhang)
                count = (min(rows[-1] + 1, h + padding[0]) - rows[0]) * (min(cols[-1] + 1, w + padding[1]) - cols[0])
            else:
                count = len(inside)
            out[:, :, i, j] = values.sum(axis=-1) / count
    return out


@st.composite
def pools(draw):
    """A random pool that fits: 1-d or 2-d, kernel, stride, padding (at most half the window), dilation for max,
    ceil_mode."""
    dims = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["max", "avg"]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if kind == "max" else (1,) * dims
    padding = tuple(
        draw(st.integers(0, ((k - 1) * d + 1) // 2 if kind == "max" else k // 2)) for k, d in zip(kernel, dilation)
    )
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 6)) for k, d, p in zip(kernel, dilation, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    return (
        dims,
        kind,
        shape,
        dict(
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            ceil_mode=draw(st.booleans()),
            **({"dilation": dilation} if kind == "max" else {"count_include_pad": draw(st.booleans())}),
        ),
        draw(st.integers(0, 2**16)),
    )


def lifted(options):
    """1-d options as the 2-d ones of a height-1 image."""
    return {
        name: ((1 if name != "padding" else 0,) + value if isinstance(value, tuple) else value)
        for name, value in options.items()
    }


@settings(max_examples=30, deadline=None)
@given(pools())
def test_random_pools_match_the_definition_and_their_gradients_check(case):
    dims, kind, shape, options, seed = case
    x = distinct(shape, seed)
    pool = getattr(F, f"{kind}_pool{dims}d")
    out = pool(x, **options)
    image = x.data if dims == 2 else x.data[:, :, None]
    two_d = options if dims == 2 else lifted(options)
    expected = naive_pool(
        image,
        two_d["kernel_size"],
        two_d["stride"],
        two_d["padding"],
        two_d.get("dilation", (1, 1)),
        options["ceil_mode"],
        kind,
        options.get("count_include_pad", True),
    )
    np.testing.assert_allclose(out.data, expected if dims == 2 else expected[:, :, 0], rtol=1e-12)
    assume(np.isfinite(expected).all())  # a window of padding alone has no gradient to check
    assert cr.max_relative_error(lambda x: pool(x, **options), [x], eps=1e-4) < 1e-7
    if kind == "max":
        values, indices = pool(x, **options, return_indices=True)
        planes = x.data.reshape(shape[0] * shape[1], -1)
        picked = np.take_along_axis(planes, indices.data.reshape(len(planes), -1), axis=1)
        np.testing.assert_array_equal(picked.reshape(values.shape), values.data)


def test_second_derivatives_of_ceil_mode_and_indices():
    x = distinct((1, 2, 5, 6))
    for fn in (
        lambda x: F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)[0] ** 2,
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2,
        lambda x: F.max_pool1d(x.reshape(2, 6, 5), 2, ceil_mode=True) ** 2,
    ):
        assert cr.max_relative_error(fn, [x], eps=1e-3, second_order=True) < 1e-7


def test_max_pool_indices_are_plain_integers_without_gradient():
    x = distinct((2, 3, 4, 4))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    assert indices.dtype == np.int64 and not indices.requires_grad and values.requires_grad
    single_values, single_indices = F.max_pool2d(x.data[0], 2, return_indices=True)
    np.testing.assert_array_equal(single_indices.data, indices.data[0])


# ----- unpooling ------------------------------------------------------------------------------
def test_unpooling_puts_the_maxima_back_and_zeros_elsewhere():
    x = distinct((2, 3, 5, 7))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(values, indices, 2, output_size=x.shape)
    assert restored.shape == x.shape
    kept = restored.data != 0
    np.testing.assert_array_equal(restored.data[kept], x.data[kept])
    assert kept.sum() == values.numel()
    with pytest.raises(ValueError, match=r"outside the output plane of 24 positions \(output size \(4, 6\)\)"):
        F.max_unpool2d(values, indices, 2)  # the default size, 4x6, lost the odd row and column


def test_unpooling_gradients_and_second_derivatives():
    # Windows that do not overlap: each index once. (Where overlapping windows repeat an index, every copy
    # gets the gradient there, as in PyTorch, which the comparison with it checks; the write keeps one.)
    x = distinct((2, 2, 6, 5))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    v = cr.tensor(values.data, requires_grad=True)
    fn = lambda v: F.max_unpool2d(v, indices, 2, output_size=(6, 5))  # noqa: E731
    assert cr.max_relative_error(fn, [v], eps=1e-3) < 1e-7
    assert cr.max_relative_error(lambda v: fn(v) ** 2, [v], eps=1e-3, second_order=True) < 1e-7
    s = distinct((2, 3, 9))
    values, indices = F.max_pool1d(s, 3, return_indices=True)
    fn = lambda v: F.max_unpool1d(v, indices, 3, output_size=(9,))  # noqa: E731
    assert fn(values).shape == s.shape
    assert cr.max_relative_error(fn, [cr.tensor(values.data, requires_grad=True)], eps=1e-3) < 1e-7


def test_unpooling_errors():
    values, indices = F.max_pool2d(distinct((1, 1, 4, 4)), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool2d: index \d+ is outside the output plane of 16 positions"):
        F.max_unpool2d(values, indices.data + 16, 2)
    with pytest.raises(
        ValueError,
        match=r"max_unpool2d: invalid output_size \(6, 4\) \(dim 0 must be between 2 and "
        r"6, exclusive\)",
    ):
        F.max_unpool2d(values, indices, 2, output_size=(6, 4))
    with pytest.raises(ValueError, match=r"max_unpool2d: indices have shape \(1, 1, 2\) but input has shape"):
        F.max_unpool2d(values, indices.data[..., 0], 2)
    with pytest.raises(TypeError, match=r"max_unpool2d: indices must be integers"):
        F.max_unpool2d(values, indices.data.astype(float), 2)
    with pytest.raises(ValueError, match=r"max_unpool1d: input must be 3-d"):
        F.max_unpool1d(values, indices, 2)


# ----- adaptive pooling -------------------------------------------------------------------------
def naive_adaptive(x, size, kind):
    """PyTorch's adaptive windows, one output pixel at a time."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + size)
    for i in range(size[0]):
        for j in range(size[1]):
            rows = slice(i * h // size[0], -(-(i + 1) * h // size[0]))
            cols = slice(j * w // size[1], -(-(j + 1) * w // size[1]))
            window = x[:, :, rows, cols]
            out[:, :, i, j] = window.max(axis=(2, 3)) if kind == "max" else window.mean(axis=(2, 3))
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 7),
    st.integers(1, 7),
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from(["max", "avg"]),
    st.integers(0, 2**16),
)
def test_random_adaptive_pools_match_the_definition_and_their_gradients_check(h, w, oh, ow, kind, seed):
    x = distinct((2, 2, h, w), seed)
    pool = getattr(F, f"adaptive_{kind}_pool2d")
    out = pool(x, (oh, ow))
    np.testing.assert_allclose(out.data, naive_adaptive(x.data, (oh, ow), kind), rtol=1e-12)
    assert cr.max_relative_error(lambda x: pool(x, (oh, ow)), [x], eps=1e-4) < 1e-7
    pool1d = getattr(F, f"adaptive_{kind}_pool1d")
    np.testing.assert_allclose(
        pool1d(x[:, :, 0], ow).data, naive_adaptive(x.data[:, :, :1], (1, ow), kind)[:, :, 0], rtol=1e-12
    )


def test_adaptive_second_derivatives_indices_and_none():
    x = distinct((1, 2, 5, 7))
    for fn in (lambda x: F.adaptive_avg_pool2d(x, (3, 4)) ** 2, lambda x: F.adaptive_max_pool2d(x, (2, 3)) ** 2):
        assert cr.max_relative_error(fn, [x], eps=1e-3, second_order=True) < 1e-7
    values, indices = F.adaptive_max_pool2d(x, (3, 4), return_indices=True)
    picked = np.take_along_axis(x.data.reshape(2, -1), indices.data.reshape(2, -1), axis=1)
    np.testing.assert_array_equal(picked.reshape(values.shape), values.data)
    assert F.adaptive_avg_pool2d(x, (None, 3)).shape == (1, 2, 5, 3)
    assert F.adaptive_max_pool2d(x.data[0], 2).shape == (2, 2, 2)


def test_adaptive_errors():
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(
        ValueError,
        match=r"adaptive_avg_pool2d: output_size must be an int or a pair of ints \(None "
        r"keeps a side\), each at least 1; got \(0, 2\)",
    ):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(ValueError, match=r"adaptive_max_pool1d: output_size must be an int, each at least 1"):
        F.adaptive_max_pool1d(x[0], (2, 2))
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: input must be 4-d"):
        F.adaptive_max_pool2d(x[0, 0], 2)


# ----- PyTorch -------------------------------------------------------------------------------
TORCH_CASES = [
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=2, dilation=3, return_indices=True)),
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    (
        "max_pool2d",
        (2, 3, 7, 9),
        dict(kernel_size=(2, 3), stride=2, padding=(1, 0), ceil_mode=True, return_indices=True),
    ),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg_pool1d", (2, 3, 9), dict(output_size=4)),
    ("adaptive_max_pool1d", (2, 3, 9), dict(output_size=4, return_indices=True)),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(10, None))),
    ("adaptive_max_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4), return_indices=True)),
    ("adaptive_max_pool2d", (2, 3, 8, 9), dict(output_size=(4, 3), return_indices=True)),  # divides: a plain pool
]


@pytest.mark.parametrize("name, shape, options", TORCH_CASES)
def test_same_as_torch_in_float64(name, shape, options):
    torch = pytest.importorskip("torch")
    # Rounded values: plenty of ties, so the tie rule (first maximum, row-major) is compared too.
    x = np.round(rng.standard_normal(shape))
    mine, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, reference = getattr(F, name)(mine, **options), getattr(torch.nn.functional, name)(theirs, **options)
    if options.get("return_indices"):
        np.testing.assert_array_equal(out[1].data, reference[1].numpy())
        out, reference = out[0], reference[0]
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "dims, options",
    [
        (2, dict(kernel_size=2)),
        (2, dict(kernel_size=3, stride=1, padding=1)),
        (1, dict(kernel_size=3, stride=2, padding=1)),
    ],
)
def test_unpool_same_as_torch(dims, options):
    torch = pytest.importorskip("torch")
    x = np.round(rng.standard_normal((2, 3, 5, 7)[: 2 + dims]))
    ours, theirs = getattr(F, f"max_pool{dims}d"), getattr(torch.nn.functional, f"max_pool{dims}d")
    values, indices = ours(x, **options, return_indices=True)
    t_values, t_indices = theirs(torch.tensor(x), **options, return_indices=True)
    v, tv = cr.tensor(values.data, requires_grad=True), torch.tensor(values.data, requires_grad=True)
    out = getattr(F, f"max_unpool{dims}d")(v, indices, **options, output_size=x.shape[2:])
    reference = getattr(torch.nn.functional, f"max_unpool{dims}d")(tv, t_indices, **options, output_size=x.shape[2:])
    np.testing.assert_array_equal(out.data, reference.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    np.testing.assert_allclose(v.grad, tv.grad.numpy(), rtol=1e-12)
