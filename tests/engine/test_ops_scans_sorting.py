"""Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and order statistics (sort, argsort, topk, kthvalue,
median, max(dim), min(dim), amax, amin): gradients of first and second order on hypothesis-drawn shapes,
PyTorch's values, indices and gradients with zeros, ties and NaN, the (values, indices) pairs, and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from operation_checks import assert_gradients, assert_matches_torch, torch_or_skip

import chainrule as cr
from chainrule.types import ValuesIndices

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


@st.composite
def distinct(draw, shape_strategy=shapes):
    """A tensor with distinct values 0.25 apart, shuffled (no ties), and a dim."""
    shape = draw(shape_strategy)
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    x = cr.tensor(((order - size / 2) * 0.25 + 0.1).reshape(shape), requires_grad=True)
    bound = max(len(shape), 1)
    return x, draw(st.integers(-bound, bound - 1))


# ----- scans -------------------------------------------------------------------------------------
@SETTINGS
@given(case=distinct())
def test_scan_gradients(case):
    x, dim = case
    np.testing.assert_allclose(cr.cumsum(x, dim).data, np.cumsum(x.data, dim) if x.ndim else x.data)
    assert_gradients(lambda t: t.cumsum(dim) ** 2, [x])
    assert_gradients(lambda t: cr.cumprod(t, dim), [x])
    assert_gradients(lambda t: t.logcumsumexp(dim), [x])
    for name in ("cummax", "cummin"):
        assert_gradients(lambda t: getattr(t, name)(dim).values ** 2, [x])


@SETTINGS
@given(data=st.data(), shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
def test_cumprod_gradient_is_exact_with_zeros(data, shape):
    values = data.draw(arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.0, -1.5, -0.5, 0.7, 2.0])))
    x = cr.tensor(values, requires_grad=True)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x.cumprod(dim).sum().backward()
    assert np.all(np.isfinite(x.grad)), "cumprod's gradient must not divide by zero"
    assert_gradients(lambda t: t.cumprod(dim), [x])


def test_scans_match_pytorch_with_zeros_ties_nan_and_infinities():
    torch = torch_or_skip()
    rows = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [1.0, 1.0, 0.0, 2.0, 2.0], [0.5, -2.0, 4.0, 0.25, 1.0]])
    for dim in (0, 1, -1):
        assert_matches_torch(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), rows)
        assert_matches_torch(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), rows)
        assert_matches_torch(lambda t: cr.logcumsumexp(t, dim), lambda t: torch.logcumsumexp(t, dim), rows)
        assert_matches_torch(lambda t: t.cummax(dim), lambda t: t.cummax(dim), rows)
        assert_matches_torch(lambda t: cr.cummin(t, dim), lambda t: torch.cummin(t, dim), rows)
    extremes = np.array([0.0, -1000.0, 1000.0, -np.inf, 3.0])
    assert_matches_torch(lambda t: t.logcumsumexp(0), lambda t: t.logcumsumexp(0), extremes)
    with_nan = np.array([1.0, np.nan, 0.0, np.nan, 2.0])
    assert_matches_torch(lambda t: t.cummax(0), lambda t: t.cummax(0), with_nan)
    assert_matches_torch(lambda t: t.cummin(0), lambda t: t.cummin(0), with_nan)
    assert_matches_torch(lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array(3.0))
    assert_matches_torch(lambda t: t.cummax(0), lambda t: t.cummax(0), np.array(3.0))


def test_cumprod_gradient_at_zeros_by_hand():
    x = cr.tensor([2.0, 0.0, 3.0, 0.0, 5.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    # Output 0 = 2, output 1 onwards 0; d/dx1 = 2 + 2*3 (outputs 1 and 2), nothing after the second zero.
    np.testing.assert_array_equal(x.grad, [1.0, 8.0, 0.0, 0.0, 0.0])


def test_integer_scans_are_int64():
    i = cr.tensor(np.array([[1, 2], [3, 4]], dtype=np.int32))
    assert i.cumsum(1).dtype == np.int64 and i.cumprod(0).dtype == np.int64
    np.testing.assert_array_equal(cr.cumsum(cr.tensor([True, True, False]), 0).data, [1, 2, 2])
    assert cr.cumsum(i, 1, dtype=np.float64).dtype == np.float64


# ----- order statistics -----------------------------------------------------------------------------
@SETTINGS
@given(case=distinct(), data=st.data())
def test_order_statistic_gradients(case, data):
    x, dim = case
    n = x.shape[dim] if x.ndim else 1
    k = data.draw(st.integers(1, n))
    descending = data.draw(st.booleans())
    assert_gradients(lambda t: t.sort(dim, descending).values ** 2, [x])
    assert_gradients(lambda t: cr.topk(t, k, dim, largest=descending).values ** 2, [x])
    assert_gradients(lambda t: t.kthvalue(k, dim, keepdim=descending).values ** 2, [x])
    assert_gradients(lambda t: t.median(dim).values ** 2, [x])
    assert_gradients(lambda t: t.median() ** 2, [x])
    assert_gradients(lambda t: t.max(dim, keepdim=descending).values ** 2, [x])
    assert_gradients(lambda t: cr.min(t, dim).values ** 2, [x])
    assert_gradients(lambda t: t.msort() ** 2 if t.ndim else t * 1, [x])


@SETTINGS
@given(case=distinct())
def test_values_and_indices_agree_with_numpy(case):
    x, dim = case
    if x.ndim == 0:
        return
    values, indices = x.sort(dim)
    np.testing.assert_array_equal(values.data, np.sort(x.data, dim))
    np.testing.assert_array_equal(indices.data, np.argsort(x.data, dim))
    np.testing.assert_array_equal(x.argsort(dim, descending=True).data, np.flip(np.argsort(x.data, dim), dim))
    result = x.max(dim)
    assert isinstance(result, ValuesIndices) and result.indices.dtype == np.int64
    np.testing.assert_array_equal(result.values.data, x.data.max(dim))
    np.testing.assert_array_equal(result.indices.data, x.data.argmax(dim))
    np.testing.assert_array_equal(x.min(dim, keepdim=True).indices.data, x.data.argmin(dim, keepdims=True))
    np.testing.assert_array_equal(x.amax(dim).data, x.data.max(dim))


ROWS = np.array(
    [[3.0, 1.0, 2.0, 2.0, 5.0], [1.0, 1.0, 1.0, 0.0, -1.0], [4.0, np.nan, 0.0, 9.0, 2.0], [0.0, -0.5, 7.0, 7.0, np.nan]]
)


def test_order_statistics_match_pytorch_with_ties_and_nan():
    torch = torch_or_skip()
    for dim in (0, 1, -1):
        for descending in (False, True):
            assert_matches_torch(
                lambda t: t.sort(dim, descending, stable=True),
                lambda t: t.sort(dim=dim, descending=descending, stable=True),
                ROWS,
            )
            assert_matches_torch(
                lambda t: cr.argsort(t, dim, descending, stable=True),
                lambda t: torch.argsort(t, dim=dim, descending=descending, stable=True),
                ROWS,
            )
        assert_matches_torch(lambda t: t.max(dim), lambda t: t.max(dim), ROWS)
        assert_matches_torch(lambda t: t.min(dim, keepdim=True), lambda t: t.min(dim, keepdim=True), ROWS)
        assert_matches_torch(lambda t: t.median(dim), lambda t: t.median(dim), ROWS[:, :4] if dim else ROWS[:2])
    no_nan = ROWS[:2]
    for dim in (0, 1):
        for k in range(1, no_nan.shape[dim] + 1):
            assert_matches_torch(
                lambda t: t.kthvalue(k, dim),
                lambda t: t.kthvalue(k, dim),
                np.array([[3.0, 1.0, 2.0, 0.5, 5.0], [1.5, 4.0, -1.0, 0.0, 2.5]]),
            )
    distinct_rows = np.array([[3.0, 1.0, 2.0, 0.5, 5.0], [1.5, 4.0, -1.0, 0.0, 2.5]])
    for k in range(0, 6):
        for largest in (True, False):
            assert_matches_torch(lambda t: t.topk(k, 1, largest), lambda t: t.topk(k, 1, largest), distinct_rows)


def test_reductions_to_one_value_split_ties_as_pytorch():
    torch = torch_or_skip()
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])
    for ours, theirs in [
        (lambda t: t.max(), lambda t: t.max()),
        (lambda t: cr.min(t), lambda t: torch.min(t)),
        (lambda t: t.amax(1), lambda t: t.amax(1)),
        (lambda t: t.amin((0, 1)), lambda t: t.amin((0, 1))),
        (lambda t: t.median(), lambda t: t.median()),
        (lambda t: cr.amax(t), lambda t: torch.amax(t)),
    ]:
        assert_matches_torch(ours, theirs, ties)
    assert_matches_torch(lambda t: t.max(), lambda t: t.max(), np.array([1.0, np.nan, 3.0]))
    assert_matches_torch(lambda t: t.median(), lambda t: t.median(), np.array([1.0, np.nan, 3.0]))
    assert_matches_torch(lambda t: t.max(0), lambda t: t.max(0), np.array(2.0))
    assert_matches_torch(lambda t: t.sort(), lambda t: t.sort(), np.array(2.0))


def test_pairs_unpack_and_read_by_name_like_pytorch_return_types():
    x = cr.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(indices.data, [1, 2])
    assert x.max(dim=1).values is not None and x.max(axis=1).indices.shape == (2,)
    top = x.topk(2)
    assert top.values.shape == (2, 2) and top[1].dtype == np.int64 and not top.indices.requires_grad
    (top.values.sum() + values.sum()).backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 2.0, 1.0], [1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(cr.max(x, cr.tensor([[2.0], [5.0]])).data, [[2.0, 5.0, 3.0], [5.0, 5.0, 6.0]])
    assert x.max().shape == () and x.median().shape == ()


def test_max_dim_gradient_goes_to_the_first_maximum_only():
    x = cr.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0]])


def test_second_order_through_a_max_inside_a_backward():
    x = cr.tensor([[0.3, -1.2, 2.0], [1.0, 0.5, -0.7]], requires_grad=True)
    fn = lambda t: (t * t.max(1, keepdim=True).values).sum(1) ** 2  # noqa: E731
    assert cr.max_relative_error(fn, [x], second_order=True) < 1e-6


# ----- bad arguments ----------------------------------------------------------------------------------
def test_bad_arguments_say_what_was_expected():
    x = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"max: dim must be one int .* use amax\(x, dim=\(0, 1\)\)"):
        x.max((0, 1))
    with pytest.raises(ValueError, match=r"max: dimension 2 is out of range for a tensor with 2 dimensions"):
        x.max(2)
    with pytest.raises(
        ValueError, match=r"topk: k must be an int from 0 to 3 \(the size of dim 1 of shape \(2, 3\)\), got 4"
    ):
        x.topk(4)
    with pytest.raises(ValueError, match=r"kthvalue: k must be an int from 1 to 2 .* got 0"):
        x.kthvalue(0, 0)
    with pytest.raises(ValueError, match=r"median: the tensor is empty"):
        cr.tensor(np.zeros(0)).median()
    with pytest.raises(ValueError, match=r"min: dim 0 of shape \(0, 2\) is empty"):
        cr.tensor(np.zeros((0, 2))).min(0)
    with pytest.raises(ValueError, match=r"cumsum: dimension 3 is out of range for a tensor of shape \(2, 3\)"):
        x.cumsum(3)
    with pytest.raises(ValueError, match=r"sort: dimension -3 is out of range"):
        x.sort(-3)
