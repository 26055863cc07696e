"""linear, softmax, log_softmax, batch_norm, layer_norm, dropout, embedding, activations, flatten, pad."""

import numpy as np
import pytest
from projected import grads

import chainrule as cr
import chainrule.nn.functional as F

rng = np.random.default_rng(2)


def leaf(*shape, dtype=np.float64):
    return cr.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def assert_same_as_composed(fused, composed, inputs):
    value, gradients = grads(fused, inputs)
    expected_value, expected_gradients = grads(composed, inputs)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(gradients, expected_gradients):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ----- linear ----------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_matches_composed_and_central_differences(x_shape):
    x, w, b = leaf(*x_shape), leaf(5, 4), leaf(5)
    assert_same_as_composed(F.linear, lambda x, w, b: x @ w.T + b, [x, w, b])
    assert cr.max_relative_error(F.linear, [x, w, b]) < 1e-7
    assert cr.max_relative_error(lambda x, w: F.linear(x, w), [x, w]) < 1e-7


def test_linear_second_derivatives():
    x, w, b = leaf(3, 4), leaf(2, 4), leaf(2)
    assert cr.max_relative_error(lambda x, w, b: F.linear(x, w, b).tanh(), [x, w, b], second_order=True) < 1e-7


def test_linear_keeps_float32_and_checks_shapes():
    x, w, b = leaf(3, 4, dtype=np.float32), leaf(5, 4, dtype=np.float32), leaf(5, dtype=np.float32)
    out = F.linear(x, w, b)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    with pytest.raises(
        ValueError,
        match=r"linear: input has 3 features \(shape \(2, 3\)\), weight expects 4 "
        r"\(weight shape \(5, 4\)\)",
    ):
        F.linear(np.zeros((2, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(5,\)"):
        F.linear(np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"linear: weight must be 2-d"):
        F.linear(np.zeros((2, 4)), np.zeros(4))


# ----- softmax, log_softmax ------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_match_composed(axis):
    x = leaf(3, 4, 2)
    assert_same_as_composed(lambda x: F.log_softmax(x, axis), lambda x: x - x.logsumexp(axis, keepdims=True), [x])
    assert_same_as_composed(
        lambda x: F.softmax(x, dim=axis), lambda x: (x - x.logsumexp(axis, keepdims=True)).exp(), [x]
    )
    for fn in (F.softmax, F.log_softmax):
        assert cr.max_relative_error(lambda x: fn(x, axis), [x]) < 1e-7
        assert cr.max_relative_error(lambda x: fn(x, axis), [x], second_order=True) < 1e-7


def test_softmax_is_stable_for_large_values():
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(F.softmax(x, 1).data, [[1, 0, 0], [0, 0.5, 0.5]], atol=1e-7)
    np.testing.assert_allclose(F.log_softmax(x, 1).data[0], [0, -1000, -2000])
    assert F.log_softmax(x, 1).dtype == np.float32
    with pytest.raises(ValueError, match="got dim=1 and axis=0; axis is NumPy.s name for dim"):
        F.softmax(x, axis=0, dim=1)


# ----- batch_norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 3), (4, 3, 5)])
def test_batch_norm_training_values_gradients_and_running_stats(shape):
    x, w, b = leaf(*shape), leaf(3), leaf(3)
    axes = (0,) + tuple(range(2, len(shape)))
    param_shape = (1, 3) + (1,) * (len(shape) - 2)
    running_mean, running_var = np.full(3, 0.5), np.full(3, 2.0)
    out = F.batch_norm(x, running_mean, running_var, w, b, training=True, momentum=0.2)
    mean, var = x.data.mean(axis=axes), x.data.var(axis=axes)
    expected = (x.data - mean.reshape(param_shape)) / np.sqrt(var.reshape(param_shape) + 1e-5) * w.data.reshape(
        param_shape
    ) + b.data.reshape(param_shape)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    count = x.numel() // 3
    np.testing.assert_allclose(running_mean, 0.8 * 0.5 + 0.2 * mean)
    np.testing.assert_allclose(running_var, 0.8 * 2.0 + 0.2 * var * count / (count - 1))  # unbiased
    fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert cr.max_relative_error(fn, [x, w, b]) < 1e-7
    assert cr.max_relative_error(lambda x: F.batch_norm(x, None, None, training=True), [x]) < 1e-7
    assert cr.max_relative_error(fn, [x, w, b], second_order=True) < 1e-6


def test_batch_norm_matches_composed_version():
    x, w, b = leaf(4, 3, 2, 2), leaf(3), leaf(3)

    def composed(x, w, b):
        centered = x - x.mean(axis=(0, 2, 3), keepdims=True)
        var = (centered * centered).mean(axis=(0, 2, 3), keepdims=True)
        return centered / (var + 1e-5).sqrt() * w.reshape(1, 3, 1, 1) + b.reshape(1, 3, 1, 1)

    assert_same_as_composed(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), composed, [x, w, b])


def test_batch_norm_eval_uses_running_statistics():
    x, w, b = leaf(4, 3, 2, 2), leaf(3), leaf(3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    out = F.batch_norm(x, running_mean, running_var, w, b, training=False)
    shape = (1, 3, 1, 1)
    expected = (x.data - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + 1e-5) * w.data.reshape(
        shape
    ) + b.data.reshape(shape)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    before = running_mean.copy()
    assert cr.max_relative_error(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b), [x, w, b]) < 1e-7
    np.testing.assert_array_equal(running_mean, before)  # eval mode leaves them alone


def test_batch_norm_float32_and_errors():
    x = leaf(8, 3, 4, 4, dtype=np.float32)
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    out = F.batch_norm(x, mean, var, leaf(3, dtype=np.float32), None, training=True)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == mean.dtype == np.float32
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must be an array of shape \(3,\)"):
        F.batch_norm(x, np.zeros(4), var)
    message = r"batch_norm: expected more than 1 value per channel when training, got input shape \(1, 3\)"
    with pytest.raises(ValueError, match=message):
        F.batch_norm(np.zeros((1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"running_mean and running_var are needed when training=False"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\), got \(4,\)"):
        F.batch_norm(x, mean, var, np.ones(4))


# ----- layer_norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((6,), (6,))])
def test_layer_norm(shape, normalized):
    normalized_shape = (normalized,) if isinstance(normalized, int) else normalized
    x, w, b = leaf(*shape), leaf(*normalized_shape), leaf(*normalized_shape)
    axes = tuple(range(len(shape) - len(normalized_shape), len(shape)))
    out = F.layer_norm(x, normalized, w, b)
    expected = (x.data - x.data.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.data.var(axis=axes, keepdims=True) + 1e-5
    ) * w.data + b.data
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)

    def composed(x, w, b):
        centered = x - x.mean(axis=axes, keepdims=True)
        return centered / ((centered * centered).mean(axis=axes, keepdims=True) + 1e-5).sqrt() * w + b

    assert_same_as_composed(lambda x, w, b: F.layer_norm(x, normalized, w, b), composed, [x, w, b])
    assert cr.max_relative_error(lambda x, w, b: F.layer_norm(x, normalized, w, b), [x, w, b]) < 1e-7
    assert cr.max_relative_error(lambda x: F.layer_norm(x, normalized), [x]) < 1e-7
    fn = lambda x, w, b: F.layer_norm(x, normalized, w, b)  # noqa: E731
    assert cr.max_relative_error(fn, [x, w, b], second_order=True) < 1e-6


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: input shape \(4, 5\) does not end with normalized_shape \(6,\)"):
        F.layer_norm(np.zeros((4, 5)), 6)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(5,\), got \(4,\)"):
        F.layer_norm(np.zeros((4, 5)), 5, np.ones(4))


# ----- dropout -------------------------------------------------------------------------------------
def test_dropout_mask_statistics_and_reproducibility():
    x = cr.tensor(np.ones((200, 500), dtype=np.float32), requires_grad=True)
    out = F.dropout(x, 0.3, True, generator=np.random.default_rng(7))
    kept = out.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out.data[kept], 1 / 0.7, rtol=1e-6)  # inverted: kept values scaled up
    assert abs(out.data.mean() - 1) < 0.02  # so the expectation is unchanged
    assert out.dtype == np.float32
    again = F.dropout(x, 0.3, True, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(out.data, again.data)
    out.backward(np.ones(out.shape, dtype=np.float32))
    np.testing.assert_array_equal(x.grad, out.data)  # the gradient takes the same mask
    small = leaf(3, 4)
    assert cr.max_relative_error(lambda x: F.dropout(x, 0.5, generator=np.random.default_rng(1)), [small]) < 1e-7


def test_dropout_identity_in_eval_and_bad_p():
    x = leaf(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\)"):
            F.dropout(x, p)
    with pytest.raises(
        TypeError,
        match=r"dropout: generator must be a chainrule.Generator, a numpy.random.Generator "
        r"or None, got int",
    ):
        F.dropout(x, 0.5, True, generator=7)


def test_dropout_masks_repeat_after_manual_seed():
    x = cr.tensor(np.ones((4, 50), dtype=np.float32))
    cr.manual_seed(0)
    first = [F.dropout(x, 0.5).data for _ in range(2)]
    cr.manual_seed(0)
    second = [F.dropout(x, 0.5).data for _ in range(2)]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])  # one stream: the next mask differs


# ----- embedding -------------------------------------------------------------------------------------
def test_embedding_rows_and_gradients():
    weight = leaf(5, 3)
    indices = np.array([[0, 2, 2], [4, 1, 2]])
    out = F.embedding(indices, weight)
    np.testing.assert_array_equal(out.data, weight.data[indices])
    assert cr.max_relative_error(lambda w: F.embedding(indices, w), [weight]) < 1e-7
    assert cr.max_relative_error(lambda w: F.embedding(indices, w) ** 2, [weight], second_order=True) < 1e-7
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(weight.grad[:, 0], [1, 1, 3, 0, 1])  # row 2 used three times


def test_embedding_padding_idx_gets_no_gradient():
    weight = leaf(4, 2)
    out = F.embedding(cr.tensor(np.array([0, 1, 0, 3])), weight, padding_idx=0)
    np.testing.assert_array_equal(out.data[0], weight.data[0])
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(weight.grad, [[0, 0], [1, 1], [0, 0], [1, 1]])


def test_embedding_errors():
    message = r"embedding: index 12 is out of range for 10 embeddings \(weight shape \(10, 4\)\)"
    with pytest.raises(IndexError, match=message):
        F.embedding(np.array([1, 12]), np.zeros((10, 4)))
    with pytest.raises(TypeError, match=r"embedding: indices must be integers, got dtype float64"):
        F.embedding(np.array([1.0]), np.zeros((10, 4)))


# ----- activations and shapes ------------------------------------------------------------------------
def test_activations():
    x = cr.tensor(rng.uniform(0.2, 2, (3, 4)) * rng.choice([-1, 1], (3, 4)), requires_grad=True)  # away from 0
    cases = [
        (F.relu, lambda a: np.maximum(a, 0)),
        (F.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
        (F.tanh, np.tanh),
        (lambda t: F.leaky_relu(t, 0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
        (lambda t: F.elu(t, 0.5), lambda a: np.where(a > 0, a, 0.5 * (np.exp(a) - 1))),
        (F.softplus, lambda a: np.log1p(np.exp(a))),
        (lambda t: F.softplus(t, beta=2, threshold=1), lambda a: np.where(2 * a > 1, a, np.log1p(np.exp(2 * a)) / 2)),
        (F.silu, lambda a: a / (1 + np.exp(-a))),
    ]
    for fn, reference in cases:
        np.testing.assert_allclose(fn(x).data, reference(x.data), rtol=1e-12)
        assert cr.max_relative_error(fn, [x]) < 1e-7
    assert F.relu(x, inplace=True).shape == x.shape
    assert F.gelu(x).shape == F.gelu(x, approximate="tanh").shape == x.shape


def test_flatten_and_pad():
    x = leaf(2, 3, 4, 5)
    assert F.flatten(x).shape == (120,)
    assert F.flatten(x, 1).shape == (2, 60)
    assert F.flatten(x, start_dim=1, end_dim=2).shape == (2, 12, 5)
    padded = F.pad(x, (1, 2, 3, 0), value=-1.0)
    assert padded.shape == (2, 3, 7, 8)
    np.testing.assert_array_equal(padded.data[:, :, 3:, 1:6], x.data)
    assert padded.data[0, 0, 0, 0] == -1
    with pytest.raises(ValueError, match=r"pad: pad must hold \(before, after\) pairs"):
        F.pad(x, (1, 2, 3))


def test_same_as_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, w, b = leaf(4, 3, 5, 2), leaf(3), leaf(3)
    tx = torch.tensor(x.data)
    running = (np.zeros(3), np.ones(3))
    t_running = (torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    pairs = [
        (
            F.batch_norm(x, *running, w, b, training=True, momentum=0.3),
            tf.batch_norm(tx, *t_running, torch.tensor(w.data), torch.tensor(b.data), training=True, momentum=0.3),
        ),
        (F.batch_norm(x, *running, w, b), tf.batch_norm(tx, *t_running, torch.tensor(w.data), torch.tensor(b.data))),
        (F.layer_norm(x, (5, 2)), tf.layer_norm(tx, (5, 2))),
        (F.log_softmax(x, dim=1), tf.log_softmax(tx, dim=1)),
        (F.softmax(x, 2), tf.softmax(tx, 2)),
        (F.gelu(x), tf.gelu(tx)),
        (F.gelu(x, approximate="tanh"), tf.gelu(tx, approximate="tanh")),
        (F.softplus(x, 2, 1), tf.softplus(tx, 2, 1)),
        (F.elu(x, 0.7), tf.elu(tx, 0.7)),
        (F.silu(x), tf.silu(tx)),
        (F.linear(x, w6 := leaf(6, 2), b6 := leaf(6)), tf.linear(tx, torch.tensor(w6.data), torch.tensor(b6.data))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(running, t_running):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
