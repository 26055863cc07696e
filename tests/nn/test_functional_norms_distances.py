"""group_norm, instance_norm, normalize, cosine_similarity, pairwise_distance and the norm they rest on:
values against the definitions, float64 gradients on random shapes, second derivatives, PyTorch's values
at the zero vector, errors, and PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F

rng = np.random.default_rng(17)


def leaf(*shape):
    return cr.tensor(rng.standard_normal(shape), requires_grad=True)


# ----- group and instance normalization ---------------------------------------------------------
def naive_group_norm(x, groups, weight, bias, eps=1e-5):
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, -1)
    normalized = (grouped - grouped.mean(axis=2, keepdims=True)) / np.sqrt(grouped.var(axis=2, keepdims=True) + eps)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return normalized.reshape(x.shape) * weight.reshape(shape) + bias.reshape(shape)


@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.lists(st.integers(1, 3), min_size=0, max_size=2),
    st.integers(1, 2),
    st.integers(0, 2**16),
)
def test_random_group_norms_match_the_definition_and_their_gradients_check(groups, per_group, spatial, n, seed):
    values = np.random.default_rng(seed)
    channels = groups * per_group
    if per_group * int(np.prod(spatial)) < 2:
        spatial = spatial + [2]  # at least two values per group, or the variance is 0
    x, w, b = (
        cr.tensor(values.standard_normal(s), requires_grad=True)
        for s in ((n, channels, *spatial), (channels,), (channels,))
    )
    out = F.group_norm(x, groups, w, b)
    np.testing.assert_allclose(out.data, naive_group_norm(x.data, groups, w.data, b.data), rtol=1e-10, atol=1e-12)
    assert cr.max_relative_error(lambda x, w, b: F.group_norm(x, groups, w, b), [x, w, b]) < 1e-6


def test_group_and_instance_norm_second_derivatives():
    x, w, b = leaf(2, 4, 3), leaf(4), leaf(4)
    assert cr.max_relative_error(lambda x, w, b: F.group_norm(x, 2, w, b) ** 2, [x, w, b], second_order=True) < 1e-6
    assert (
        cr.max_relative_error(lambda x, w, b: F.instance_norm(x, weight=w, bias=b) ** 2, [x, w, b], second_order=True)
        < 1e-6
    )


def test_instance_norm_is_group_norm_with_a_group_per_channel_and_tracks_statistics():
    x, w, b = leaf(3, 4, 5, 2), leaf(4), leaf(4)
    np.testing.assert_allclose(F.instance_norm(x, weight=w, bias=b).data, F.group_norm(x, 4, w, b).data, rtol=1e-12)
    running_mean, running_var = np.zeros(4), np.ones(4)
    F.instance_norm(x, running_mean, running_var, momentum=0.5)
    per_instance = x.data.reshape(3, 4, -1)
    np.testing.assert_allclose(running_mean, 0.5 * per_instance.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.5 + 0.5 * per_instance.var(axis=2, ddof=1).mean(axis=0), rtol=1e-12)
    out = F.instance_norm(x, running_mean, running_var, w, b, use_input_stats=False)
    expected = (x.data - running_mean.reshape(1, 4, 1, 1)) / np.sqrt(running_var.reshape(1, 4, 1, 1) + 1e-5)
    np.testing.assert_allclose(out.data, expected * w.data.reshape(1, 4, 1, 1) + b.data.reshape(1, 4, 1, 1))


def test_normalization_errors():
    with pytest.raises(
        ValueError,
        match=r"group_norm: the number of channels \(6, input shape \(2, 6, 4\)\) must be "
        r"divisible by num_groups \(4\)",
    ):
        F.group_norm(np.zeros((2, 6, 4)), 4)
    with pytest.raises(ValueError, match=r"group_norm: weight must have shape \(6,\), got \(3,\)"):
        F.group_norm(np.zeros((2, 6, 4)), 3, np.ones(3))
    with pytest.raises(
        ValueError,
        match=r"instance_norm: expected more than 1 spatial element when training, got "
        r"input shape \(2, 3, 1\)",
    ):
        F.instance_norm(np.zeros((2, 3, 1)))
    with pytest.raises(
        ValueError,
        match=r"instance_norm: running_mean and running_var are needed when "
        r"use_input_stats=False",
    ):
        F.instance_norm(np.zeros((2, 3, 4)), use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: input must have shape \(N, C, L\) or \(N, C, H, W\)"):
        F.instance_norm(np.zeros((2, 3)))


# ----- the norm, normalize and distances --------------------------------------------------------
@pytest.mark.parametrize("p", [1, 2, 3, 1.5, np.inf])
def test_norm_gradient_is_zero_at_the_zero_vector_and_checks_elsewhere(p):
    x = cr.tensor(np.array([[0.0, 0.0, 0.0], [0.5, -2.0, 1.0]]), requires_grad=True)
    cr.norm(x, p, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0], 0.0)
    assert np.isfinite(x.grad).all()
    y = leaf(3, 4)
    assert cr.max_relative_error(lambda y: cr.norm(y, p, dim=1), [y]) < 1e-6
    if p != np.inf:
        assert cr.max_relative_error(lambda y: cr.norm(y, p, dim=1), [y], second_order=True) < 1e-6
    np.testing.assert_allclose(cr.norm(y, p, dim=1).data, np.linalg.norm(y.data, p, axis=1), rtol=1e-12)


def test_normalize_cosine_similarity_and_pairwise_distance_definitions():
    x, y = leaf(3, 4), leaf(3, 4)
    np.testing.assert_allclose(F.normalize(x).data, x.data / np.linalg.norm(x.data, axis=1, keepdims=True))
    cosine = (x.data * y.data).sum(1) / np.linalg.norm(x.data, axis=1) / np.linalg.norm(y.data, axis=1)
    np.testing.assert_allclose(F.cosine_similarity(x, y).data, cosine, rtol=1e-12)
    np.testing.assert_allclose(
        F.pairwise_distance(x, y, p=3).data, np.linalg.norm(x.data - y.data + 1e-6, 3, axis=1), rtol=1e-12
    )
    assert F.pairwise_distance(x, y, keepdim=True).shape == (3, 1)
    assert F.cosine_similarity(leaf(3, 1, 4), leaf(1, 5, 4), dim=-1).shape == (3, 5)  # they broadcast


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: F.normalize(a, dim=-1),
        lambda a, b: F.normalize(a, p=1, dim=0),
        lambda a, b: F.cosine_similarity(a, b),
        lambda a, b: F.pairwise_distance(a, b),
        lambda a, b: F.pairwise_distance(a, b, p=1.5),
    ],
    ids=["normalize", "normalize-p1", "cosine", "pairwise", "pairwise-p1.5"],
)
def test_distance_gradients_and_second_derivatives(fn):
    a, b = leaf(3, 4), leaf(3, 4)
    assert cr.max_relative_error(fn, [a, b]) < 1e-6
    assert cr.max_relative_error(fn, [a, b], second_order=True) < 1e-6


def test_distances_at_zero_vectors_are_finite():
    zero, other = cr.tensor(np.zeros((2, 3)), requires_grad=True), leaf(2, 3)
    for out in (F.normalize(zero), F.cosine_similarity(zero, other), F.pairwise_distance(zero, zero, eps=0.0)):
        zero.grad = other.grad = None
        out.sum().backward()
        assert np.isfinite(out.data).all() and np.isfinite(zero.grad).all()


def test_distance_errors():
    with pytest.raises(ValueError, match=r"cosine_similarity: x1 \(2, 3\) and x2 \(4,\) cannot broadcast together"):
        F.cosine_similarity(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"norm: dimension 2 is out of range for a tensor with 2 dimensions"):
        F.normalize(np.zeros((2, 3)), dim=2)
    with pytest.raises(ValueError, match=r"norm: p must be a positive number, inf or -inf, got 0"):
        F.pairwise_distance(np.zeros((2, 3)), np.zeros((2, 3)), p=0)


# ----- PyTorch -------------------------------------------------------------------------------
CASES = [
    ("group_norm", [(2, 6, 4, 5), (6,), (6,)], dict(num_groups=3)),
    ("group_norm", [(3, 6), (6,), (6,)], dict(num_groups=2)),
    ("instance_norm", [(2, 6, 4), (6,), (6,)], {}),
    ("instance_norm", [(2, 6, 4, 5)], {}),
    ("normalize", [(3, 4, 2)], dict(dim=1)),
    ("normalize", [(3, 4)], dict(p=1, dim=-1)),
    ("cosine_similarity", [(3, 1, 4), (1, 5, 4)], dict(dim=-1)),
    ("pairwise_distance", [(4, 5), (5,)], dict(p=2)),
    ("pairwise_distance", [(4, 5), (4, 5)], dict(p=1, keepdim=True)),
    ("pairwise_distance", [(4, 5), (4, 5)], dict(p=3)),
    ("pairwise_distance", [(4, 5), (4, 5)], dict(p=float("inf"))),
]


@pytest.mark.parametrize("name, shapes, options", CASES)
def test_same_as_torch_in_float64(name, shapes, options):
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s) for s in shapes]
    compare(name, arrays, options, torch)


def test_zero_vectors_same_as_torch():
    torch = pytest.importorskip("torch")
    x1 = np.array([[1e-9, 0.0], [0.0, 0.0], [3.0, 4.0]])
    x2 = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 1.0]])
    compare("cosine_similarity", [x1, x2], {}, torch)
    compare("normalize", [np.zeros((2, 3))], {}, torch)
    compare("pairwise_distance", [np.zeros((2, 3)), np.zeros((2, 3))], dict(eps=0.0), torch)


def test_instance_norm_running_statistics_same_as_torch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 3, 5))
    ours, theirs = (np.zeros(3), np.ones(3)), (torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    F.instance_norm(x, *ours, momentum=0.3)
    torch.nn.functional.instance_norm(torch.tensor(x), *theirs, momentum=0.3)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-12)


def compare(name, arrays, options, torch):
    mine = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(function, inputs):
        if name.endswith("_norm"):  # input, then weight and bias by name (other arguments sit between)
            return function(inputs[0], **dict(zip(("weight", "bias"), inputs[1:])), **options)
        return function(*inputs, **options)

    out, reference = call(getattr(F, name), mine), call(getattr(torch.nn.functional, name), theirs)
    np.testing.assert_allclose(out.data, reference.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    reference.backward(torch.tensor(g))
    for a, b in zip(mine, theirs):
        scale = max(1.0, np.abs(b.grad.numpy()).max())  # gradients near a zero vector reach 1e8
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9, atol=1e-9 * scale)
