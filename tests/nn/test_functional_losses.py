"""The losses: values against NumPy formulas, fused gates against composed ones, gradients, errors, PyTorch."""

import numpy as np
import pytest
from projected import grads

import chainrule as cr
import chainrule.nn.functional as F

rng = np.random.default_rng(3)
REDUCTIONS = ["mean", "sum", "none"]


def leaf(*shape):
    return cr.tensor(rng.standard_normal(shape), requires_grad=True)


def reference_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """PyTorch's definition written out with NumPy, for class-index targets over axis 1."""
    logits = np.moveaxis(logits, 1, -1).reshape(-1, logits.shape[1])
    target = target.reshape(-1)
    classes = logits.shape[1]
    log_probs = (
        logits
        - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True))
        - logits.max(1, keepdims=True)
    )
    w = np.ones(classes) if weight is None else weight
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    nll = -w[safe] * log_probs[np.arange(len(safe)), safe] * valid
    smooth = -(log_probs * w).sum(1) * valid
    per_sample = (1 - smoothing) * nll + smoothing / classes * smooth
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.sum() / (w[safe] * valid).sum()


# ----- cross_entropy with class indices ---------------------------------------------------------------
CE_OPTIONS = [
    dict(),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0])),
    dict(ignore_index=1),
    dict(label_smoothing=0.3),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), ignore_index=2, label_smoothing=0.1),
]


@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 2)])
def test_cross_entropy_values_and_gradients(options, reduction, shape):
    x = leaf(*shape)
    target = rng.integers(0, 4, (shape[0],) + shape[2:])
    out = F.cross_entropy(x, target, reduction=reduction, **options)
    expected = reference_cross_entropy(
        x.data,
        target,
        options.get("weight"),
        options.get("ignore_index", -100),
        reduction,
        options.get("label_smoothing", 0.0),
    )
    np.testing.assert_allclose(out.data.reshape(-1) if reduction == "none" else out.data, expected, rtol=1e-10)
    fn = lambda x: F.cross_entropy(x, target, reduction=reduction, **options)  # noqa: E731
    assert cr.max_relative_error(fn, [x], eps=1e-5) < 1e-7  # eps 1e-6 leaves ~1e-7 of rounding in a "sum"


@pytest.mark.parametrize("options", CE_OPTIONS)
def test_fused_cross_entropy_matches_composed_log_softmax_and_nll(options):
    x = leaf(6, 4)
    target = rng.integers(0, 4, 6)
    smoothing = options.get("label_smoothing", 0.0)
    weight = options.get("weight")

    def composed(x):
        log_probs = x - x.logsumexp(axis=1, keepdims=True)
        nll = F.nll_loss(log_probs, target, weight, ignore_index=options.get("ignore_index", -100), reduction="sum")
        valid = target != options.get("ignore_index", -100)
        w = np.ones(4) if weight is None else weight
        smooth = -((log_probs * w).sum(axis=1) * valid).sum()
        total = (w[np.where(valid, target, 0)] * valid).sum()
        return ((1 - smoothing) * nll + smoothing / 4 * smooth) * (1 / total)

    fused_value, fused_grads = grads(lambda x: F.cross_entropy(x, target, **options), [x])
    value, composed_grads = grads(composed, [x])
    np.testing.assert_allclose(fused_value, value, rtol=1e-12)
    np.testing.assert_allclose(fused_grads[0], composed_grads[0], rtol=1e-10, atol=1e-14)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = leaf(4, 3)
    target = np.array([0, 2, 1, 2])
    F.cross_entropy(x, target).backward()
    softmax = np.exp(x.data) / np.exp(x.data).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad, (softmax - np.eye(3)[target]) / 4, rtol=1e-12)


@pytest.mark.parametrize("options", [dict(), CE_OPTIONS[-1], dict(reduction="none")])
def test_cross_entropy_second_derivatives(options):
    x = leaf(3, 4)
    target = np.array([2, 0, 3])
    assert cr.max_relative_error(lambda x: F.cross_entropy(x, target, **options), [x], second_order=True) < 1e-7


def test_cross_entropy_float32_large_logits_and_single_sample():
    x = cr.tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1]))
    assert loss.dtype == np.float32 and np.isclose(loss.item(), 2000.0)
    loss.backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))
    single = F.cross_entropy(np.array([0.0, 1.0, 2.0]), np.array(2), reduction="none")
    assert single.shape == () and np.isclose(
        single.item(), reference_cross_entropy(np.array([[0.0, 1, 2]]), np.array([2]))[()]
    )


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient():
    x = leaf(2, 3)
    loss = F.cross_entropy(x, np.array([-100, -100]))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad, 0)


# ----- cross_entropy with probability targets ---------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=np.array([1.0, 2.0, 0.5])), dict(label_smoothing=0.2)])
def test_cross_entropy_with_probabilities(reduction, options):
    x, raw = leaf(4, 3, 2), rng.uniform(0.1, 1, (4, 3, 2))
    target = cr.tensor(raw / raw.sum(1, keepdims=True), requires_grad=True)
    out = F.cross_entropy(x, target, reduction=reduction, **options)
    log_probs = x.data - np.log(np.exp(x.data).sum(1, keepdims=True))
    q = target.data * (1 - options.get("label_smoothing", 0)) + options.get("label_smoothing", 0) / 3
    w = options.get("weight", np.ones(3)).reshape(1, 3, 1)
    per_sample = -(log_probs * q * w).sum(1)
    expected = {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.mean()}[reduction]
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    fn = lambda x, t: F.cross_entropy(x, t, reduction=reduction, **options)  # noqa: E731
    assert cr.max_relative_error(fn, [x, target]) < 1e-7


# ----- nll_loss ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), ignore_index=0)])
def test_nll_loss(reduction, options):
    log_probs = leaf(5, 4, 3)
    target = rng.integers(0, 4, (5, 3))
    out = F.nll_loss(log_probs, target, reduction=reduction, **options)
    w = options.get("weight", np.ones(4))
    valid = target != options.get("ignore_index", -100)
    picked = np.take_along_axis(log_probs.data, target[:, None], 1)[:, 0]
    per_sample = -w[target] * picked * valid
    expected = {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.sum() / (w[target] * valid).sum()}
    np.testing.assert_allclose(out.data, expected[reduction], rtol=1e-10)
    fn = lambda x: F.nll_loss(x, target, reduction=reduction, **options)  # noqa: E731
    assert cr.max_relative_error(fn, [log_probs]) < 1e-7


# ----- regression and binary losses ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    x, t = leaf(3, 4), leaf(3, 4)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    np.testing.assert_allclose(F.mse_loss(x, t, reduction=reduction).data, reduce((x.data - t.data) ** 2))
    np.testing.assert_allclose(F.l1_loss(x, t, reduction=reduction).data, reduce(np.abs(x.data - t.data)))
    for loss in (F.mse_loss, F.l1_loss):
        assert cr.max_relative_error(lambda x, t: loss(x, t, reduction=reduction), [x, t]) < 1e-7


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p = cr.tensor(rng.uniform(0.05, 0.95, (3, 4)), requires_grad=True)
    t = cr.tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    weight = rng.uniform(0.5, 2, 4)
    out = F.binary_cross_entropy(p, t, weight, reduction=reduction)
    per_element = -weight * (t.data * np.log(p.data) + (1 - t.data) * np.log(1 - p.data))
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    np.testing.assert_allclose(out.data, reduce(per_element), rtol=1e-10)
    fn = lambda p, t: F.binary_cross_entropy(p, t, weight, reduction=reduction)  # noqa: E731
    assert cr.max_relative_error(fn, [p, t]) < 1e-7
    assert cr.max_relative_error(fn, [p, t], second_order=True) < 1e-7


def test_binary_cross_entropy_at_0_and_1_is_finite():
    p = cr.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([0.0, 1.0, 1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0, 100, 100])  # log clamped at -100, as in PyTorch
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, np.array([1.0, 3.0, 0.5, 2.0])])
def test_binary_cross_entropy_with_logits(reduction, pos_weight):
    x, t = leaf(3, 4), cr.tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    weight = rng.uniform(0.5, 2, (3, 1))

    def composed(x, t):
        positive = t if pos_weight is None else t * pos_weight
        p = x.sigmoid()
        per_element = -(positive * p.log() + (1 - t) * (1 - p).log()) * weight
        return {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}[reduction]

    def fused(x, t):
        return F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos_weight)

    value, fused_grads = grads(fused, [x, t])
    expected, composed_grads = grads(composed, [x, t])
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    for ours, theirs in zip(fused_grads, composed_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert cr.max_relative_error(fused, [x, t]) < 1e-7
    assert cr.max_relative_error(fused, [x, t], second_order=True) < 1e-7


def test_binary_cross_entropy_with_logits_is_stable():
    x = cr.tensor(np.array([-1000.0, 1000.0, 50.0], dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0, 1.0], dtype=np.float32), reduction="none")
    np.testing.assert_allclose(loss.data, [1000, 1000, 0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [-1, 1, 0], atol=1e-6)


# ----- multi_margin_loss --------------------------------------------------------------------------------------
def naive_multi_margin(x, y, p, margin, weight):
    """PyTorch's multi_margin_loss, one term at a time (CS231n's SVM loss divided by C)."""
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                term = max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
                out[i] += term * (1 if weight is None else weight[y[i]])
        out[i] /= c
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin, weight", [(1, 1.0, None), (2, 0.5, np.array([1.0, 2.0, 0.5, 3.0]))])
def test_multi_margin_loss(reduction, p, margin, weight):
    x = leaf(6, 4)
    y = rng.integers(0, 4, 6)
    out = F.multi_margin_loss(x, y, p, margin, weight, reduction=reduction)
    per_sample = naive_multi_margin(x.data, y, p, margin, weight)
    expected = {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.mean()}[reduction]
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)
    fn = lambda x: F.multi_margin_loss(x, y, p=p, margin=margin, weight=weight, reduction=reduction)  # noqa: E731
    assert cr.max_relative_error(fn, [x]) < 1e-6  # random scores: a hinge kink is rarely within eps


# ----- errors --------------------------------------------------------------------------------------------------
def test_loss_errors_name_the_problem():
    logits = np.zeros((4, 10))
    with pytest.raises(ValueError, match=r"cross_entropy: target contains class 12, but logits have 10 classes"):
        F.cross_entropy(logits, np.array([1, 2, 12, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: target contains class -1, but logits have 10 classes"):
        F.cross_entropy(logits, np.array([1, 2, -1, 3]))
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: target has shape \(5,\), but logits of shape \(4, 10\) need "
        r"class indices of shape \(4,\) or class probabilities of shape \(4, 10\)",
    ):
        F.cross_entropy(logits, np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"cross_entropy: logits has shape \(4, 10\) but probability target has shape"):
        F.cross_entropy(logits, np.zeros((4, 9)))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(logits, np.zeros(4, dtype=int), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(10,\), got \(3,\)"):
        F.cross_entropy(logits, np.zeros(4, dtype=int), np.ones(3))
    with pytest.raises(
        TypeError,
        match=r"cross_entropy: target of shape \(4,\) has dtype float64; class indices must "
        r"be integers",
    ):
        F.cross_entropy(logits, np.zeros(4))
    with pytest.raises(TypeError, match=r"nll_loss: target must hold integer class indices, got dtype float64"):
        F.nll_loss(logits, np.zeros(4))
    with pytest.raises(ValueError, match=r"nll_loss: target contains class 10, but log-probabilities have 10 classes"):
        F.nll_loss(logits, np.array([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(4, 1\) but target has shape \(4,\)"):
        F.mse_loss(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target contains class 4, but scores have 4 classes"):
        F.multi_margin_loss(np.zeros((2, 4)), np.array([0, 4]))


# ----- PyTorch -------------------------------------------------------------------------------------------------
def test_same_as_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = leaf(5, 4, 3)
    target = rng.integers(0, 4, (5, 3))
    target[0, 0] = 1
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    probs = rng.uniform(0.05, 0.95, (5, 4))
    soft = np.exp(x.data) / np.exp(x.data).sum(1, keepdims=True)
    margin_target = rng.integers(0, 4, 5)
    cases = [
        (lambda x: F.cross_entropy(x, target), lambda x: tf.cross_entropy(x, torch.tensor(target))),
        (
            lambda x: F.cross_entropy(x, target, weight, ignore_index=1, label_smoothing=0.2),
            lambda x: tf.cross_entropy(
                x, torch.tensor(target), torch.tensor(weight), ignore_index=1, label_smoothing=0.2
            ),
        ),
        (
            lambda x: F.cross_entropy(x, target, weight, reduction="none", label_smoothing=0.1),
            lambda x: tf.cross_entropy(
                x, torch.tensor(target), torch.tensor(weight), reduction="none", label_smoothing=0.1
            ),
        ),
        (
            lambda x: F.cross_entropy(x, soft, weight, label_smoothing=0.3),
            lambda x: tf.cross_entropy(x, torch.tensor(soft), torch.tensor(weight), label_smoothing=0.3),
        ),
        (
            lambda x: F.nll_loss(F.log_softmax(x, dim=1), target, weight, ignore_index=2),
            lambda x: tf.nll_loss(tf.log_softmax(x, dim=1), torch.tensor(target), torch.tensor(weight), ignore_index=2),
        ),
        (
            lambda x: F.binary_cross_entropy(F.sigmoid(x[:, :, 0]), probs, weight),
            lambda x: tf.binary_cross_entropy(torch.sigmoid(x[:, :, 0]), torch.tensor(probs), torch.tensor(weight)),
        ),
        (
            lambda x: F.binary_cross_entropy_with_logits(x[:, :, 0], probs, reduction="sum", pos_weight=weight),
            lambda x: tf.binary_cross_entropy_with_logits(
                x[:, :, 0], torch.tensor(probs), reduction="sum", pos_weight=torch.tensor(weight)
            ),
        ),
        (
            lambda x: F.multi_margin_loss(x[:, :, 0], margin_target),
            lambda x: tf.multi_margin_loss(x[:, :, 0], torch.tensor(margin_target)),
        ),
        (
            lambda x: F.multi_margin_loss(x[:, :, 1], margin_target, p=2, margin=0.7, weight=weight, reduction="sum"),
            lambda x: tf.multi_margin_loss(
                x[:, :, 1], torch.tensor(margin_target), p=2, margin=0.7, weight=torch.tensor(weight), reduction="sum"
            ),
        ),
        (
            lambda x: F.mse_loss(x, x.data[::-1].copy()),
            lambda x: tf.mse_loss(x, torch.tensor(x.detach().numpy()[::-1].copy())),
        ),
        (
            lambda x: F.l1_loss(x, np.zeros(x.shape), reduction="sum"),
            lambda x: tf.l1_loss(x, torch.zeros(x.shape, dtype=torch.float64), reduction="sum"),
        ),
    ]
    for ours, theirs in cases:
        ours_x = cr.tensor(x.data, requires_grad=True)
        out = ours(ours_x)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        torch_x = torch.tensor(x.data, requires_grad=True)
        torch_out = theirs(torch_x)
        torch_out.backward(torch.tensor(g))
        np.testing.assert_allclose(out.data, torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours_x.grad, torch_x.grad.numpy(), rtol=1e-9, atol=1e-12)
