"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: values against naive loops, gradients, ties, errors, PyTorch."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

rng = np.random.default_rng(1)


def distinct(*shape):
    """Values all different and well apart, so no window has a tie or a near-tie (max is smooth there)."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    return cr.tensor(values, requires_grad=True)


def naive_pool(x, kernel, stride, padding, reduce, pad_value, dilation=(1, 1)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), pad_value)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            out[:, :, i, j] = reduce(window.reshape(n, c, -1), axis=-1)
    return out


# (input shape, kernel, stride, padding): non-overlapping, overlapping, padded, leftover rows, rectangular
POOLS = [
    ((2, 3, 4, 4), 2, None, 0),
    ((2, 2, 5, 5), 2, None, 0),
    ((1, 2, 5, 5), 3, 1, 1),
    ((1, 2, 7, 6), 3, 2, 1),
    ((1, 2, 6, 7), (2, 3), (1, 2), (1, 0)),
]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("shape, kernel, stride, padding", POOLS)
def test_max_pool_values_and_gradients(shape, kernel, stride, padding):
    x = distinct(*shape)
    out = F.max_pool2d(x, kernel, stride, padding)
    expected = naive_pool(x.data, _pair(kernel), _pair(stride or kernel), _pair(padding), np.max, -np.inf)
    np.testing.assert_array_equal(out.data, expected)
    assert cr.max_relative_error(lambda x: F.max_pool2d(x, kernel, stride, padding), [x]) < 1e-7


def test_max_pool_with_dilation():
    x = distinct(1, 2, 7, 7)
    out = F.max_pool2d(x, 2, 1, 1, dilation=2)
    np.testing.assert_array_equal(out.data, naive_pool(x.data, (2, 2), (1, 1), (1, 1), np.max, -np.inf, (2, 2)))
    assert cr.max_relative_error(lambda x: F.max_pool2d(x, 2, 1, 1, dilation=2), [x]) < 1e-7


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1)])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum(kernel, stride):
    # All zeros (as after a ReLU): every window ties; the first element of each window gets its gradient.
    x = cr.tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    out = F.max_pool2d(x, kernel, stride)
    out.backward(np.ones(out.shape))
    expected = np.zeros((4, 4))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            expected[i * stride, j * stride] += 1
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_max_pool_sends_a_nan_windows_gradient_to_its_last_position():
    x = cr.tensor(np.array([[[[1.0, np.nan], [3.0, 2.0]]]]), requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert np.isnan(out.item())
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad, [[[[0.0, 0.0], [0.0, 1.0]]]])
    # The create_graph path routes it the same way.
    (g,) = cr.grad(F.max_pool2d(x, 2).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, x.grad)


def test_max_pool_second_derivative():
    x = distinct(1, 2, 5, 5)
    assert cr.max_relative_error(lambda x: F.max_pool2d(x, 3, 2, 1) ** 2, [x], second_order=True) < 1e-7


@pytest.mark.parametrize("shape, kernel, stride, padding", POOLS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_values_and_gradients(shape, kernel, stride, padding, count_include_pad):
    x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    out = F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad)
    summed = naive_pool(x.data, _pair(kernel), _pair(stride or kernel), _pair(padding), np.sum, 0.0)
    if count_include_pad:
        expected = summed / np.prod(_pair(kernel))
    else:
        ones = np.ones((1, 1) + shape[2:])
        expected = summed / naive_pool(ones, _pair(kernel), _pair(stride or kernel), _pair(padding), np.sum, 0.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    fn = lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad)  # noqa: E731
    assert cr.max_relative_error(fn, [x]) < 1e-7


def test_avg_pool_second_derivative_and_divisor_override():
    x = cr.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    assert cr.max_relative_error(lambda x: F.avg_pool2d(x, 3, 2, 1) ** 2, [x], second_order=True) < 1e-7
    np.testing.assert_allclose(
        F.avg_pool2d(x, 2, divisor_override=1).data, naive_pool(x.data, (2, 2), (2, 2), (0, 0), np.sum, 0.0)
    )


def test_adaptive_avg_pool():
    x = cr.tensor(rng.standard_normal((2, 3, 4, 6)), requires_grad=True)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data, x.data.mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (2, 3)).data, F.avg_pool2d(x, 2).data)


def test_float32_and_single_image():
    x = rng.standard_normal((3, 6, 6)).astype(np.float32)
    for pool in (F.max_pool2d, F.avg_pool2d):
        out = pool(x, 2)
        assert out.shape == (3, 3, 3) and out.dtype == np.float32


def test_bad_pool_arguments():
    x = np.zeros((1, 1, 4, 4))
    message = r"max_pool2d: padding should be at most half of the \(effective\) kernel size"
    with pytest.raises(ValueError, match=message):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel size 5x5 is larger than the padded input 4x4"):
        F.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an integer or a pair of integers"):
        F.max_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"max_pool2d: input must be 4-d"):
        F.max_pool2d(np.zeros((4, 4)), 2)


@pytest.mark.parametrize("shape, kernel, stride, padding", POOLS)
def test_same_as_torch(shape, kernel, stride, padding):
    torch = pytest.importorskip("torch")
    # Rounded values: plenty of ties, so the tie rule is compared too.
    x = cr.tensor(np.round(rng.standard_normal(shape)), requires_grad=True)
    for ours, theirs, options in [
        (F.max_pool2d, torch.nn.functional.max_pool2d, {}),
        (F.avg_pool2d, torch.nn.functional.avg_pool2d, {}),
        (F.avg_pool2d, torch.nn.functional.avg_pool2d, dict(count_include_pad=False)),
    ]:
        x.grad = None
        out = ours(x, kernel, stride, padding, **options)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        tx = torch.tensor(x.data, requires_grad=True)
        tout = theirs(tx, kernel, stride, padding, **options)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
