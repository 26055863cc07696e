"""gather, the scatters, index_select, masked_select, take_along_dim, one_hot, tril/triu, diagonal/diag and roll:
gradients (first and second order) on hypothesis-drawn shapes and indices, PyTorch's values and gradients with
repeated indices and ties, and the errors for bad arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from operation_checks import BAR, assert_gradients, assert_matches_torch, torch_or_skip

import chainrule as cr
from chainrule.gates.indexing import linear_positions
from chainrule.nn import functional as F

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)
nonempty = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def values(draw, shape, low=-2.0, high=2.0):
    return draw(arrays(np.float64, shape, elements=st.floats(low, high, allow_nan=False, allow_subnormal=False)))


@st.composite
def gather_case(draw):
    """An input shape, a dim and an index no larger than the input off dim (repeats allowed)."""
    shape = draw(nonempty)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    index_shape = tuple(draw(st.integers(1, 4)) if i == d else draw(st.integers(1, n)) for i, n in enumerate(shape))
    index = draw(arrays(np.int64, index_shape, elements=st.integers(0, shape[d] - 1)))
    return shape, dim, index


@SETTINGS
@given(data=st.data(), case=gather_case())
def test_gather_and_scatter_add_gradients(data, case):
    shape, dim, index = case
    x = cr.tensor(values(data.draw, shape), requires_grad=True)
    out = cr.gather(x, dim, index)
    assert out.shape == index.shape
    corner = tuple(slice(None) if i == dim % len(shape) else slice(0, n) for i, n in enumerate(index.shape))
    np.testing.assert_array_equal(out.data, np.take_along_axis(x.data[corner], index, dim))
    assert_gradients(lambda t: x_squared_gathered(t, dim, index), [x])
    src = cr.tensor(values(data.draw, index.shape), requires_grad=True)
    assert_gradients(lambda t, s: cr.scatter_add(t, dim, index, s) ** 2, [x, src])
    if len(set(linear_positions(x.shape, dim % len(shape), index).ravel())) == index.size:
        # Where an index repeats, the values overwrite each other and PyTorch's gradient (each src element gets
        # its position's) is not the derivative: checked against PyTorch below instead.
        assert_gradients(lambda t, s: t.scatter(dim, index, s) ** 2, [x, src])


def x_squared_gathered(t, dim, index):
    return t.gather(dim, index) ** 2


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@SETTINGS
@given(data=st.data(), case=gather_case())
def test_scatter_reduce_gradients(reduce, include_self, data, case):
    shape, dim, index = case
    # Distinct values (no ties for amax/amin) away from 0 (prod's gradient is checked at zeros below).
    size = int(np.prod(shape)) + index.size
    pool = data.draw(st.permutations(range(size)))
    spread = (np.array(pool, dtype=np.float64) + 1) * 0.37 / size + 0.3
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    spread = spread * signs
    x = cr.tensor(spread[: int(np.prod(shape))].reshape(shape), requires_grad=True)
    src = cr.tensor(spread[int(np.prod(shape)) :].reshape(index.shape), requires_grad=True)
    fn = lambda t, s: cr.scatter_reduce(t, dim, index, s, reduce, include_self=include_self)  # noqa: E731
    assert_gradients(fn, [x, src], second_order=reduce != "prod")
    if reduce == "prod":
        assert_gradients(fn, [x, src])


SCATTER_CASES = [
    # x, dim, index, src: repeated indices, ties with x, zeros for prod
    (
        np.array([[5.0, 0.0, 2.0], [1.0, 1.0, 1.0]]),
        1,
        np.array([[0, 0, 1], [2, 2, 2]]),
        np.array([[5.0, 3.0, 0.0], [1.0, 4.0, 1.0]]),
    ),
    (np.array([1.0, 2.0, 0.0, -1.0]), 0, np.array([0, 0, 2, 2, 2]), np.array([0.0, 3.0, 0.0, 2.0, 5.0])),
    (np.array([[2.0, 2.0], [2.0, 0.0], [3.0, 3.0]]), 0, np.array([[1, 0], [1, 1]]), np.array([[2.0, 0.0], [0.0, 7.0]])),
]


@pytest.mark.parametrize("case", range(len(SCATTER_CASES)))
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_pytorch_with_repeats_ties_and_zeros(case, reduce, include_self):
    x, dim, index, src = SCATTER_CASES[case]
    torch = torch_or_skip()
    if reduce in ("amax", "amin") and not include_self:
        pytest.skip("PyTorch counts x among the ties even when it is left out (see scatter_reduce's docstring)")
    assert_matches_torch(
        lambda t, s: t.scatter_reduce(dim, index, s, reduce, include_self=include_self),
        lambda t, s: t.scatter_reduce(dim, torch.tensor(index), s, reduce, include_self=include_self),
        x,
        src,
    )


def test_scatter_reduce_amax_without_self_gives_the_whole_gradient_to_the_ties():
    x = cr.tensor([5.0, 0.0], requires_grad=True)
    src = cr.tensor([5.0, 3.0, 5.0], requires_grad=True)
    out = x.scatter_reduce(0, np.array([0, 0, 0]), src, "amax", include_self=False)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [5.0, 0.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    np.testing.assert_array_equal(src.grad, [0.5, 0.0, 0.5])


def test_prod_scatter_second_derivative_at_zeros():
    x = cr.tensor([[0.0, 2.0, 1.5], [1.0, 0.0, -1.0]], requires_grad=True)
    src = cr.tensor([[3.0, 0.0, 0.5], [2.0, 0.7, 0.0]], requires_grad=True)
    index = np.array([[0, 0, 1], [2, 2, 2]])
    fn = lambda t, s: t.scatter_reduce(1, index, s, "prod")  # noqa: E731
    assert cr.max_relative_error(fn, [x, src]) <= BAR
    assert cr.max_relative_error(fn, [x, src], second_order=True) <= 1e-6


def test_gather_scatter_match_pytorch():
    torch = torch_or_skip()
    x = np.arange(12.0).reshape(3, 4) - 5
    index = np.array([[0, 0, 3], [2, 1, 1]])
    src = np.arange(6.0).reshape(2, 3) + 0.5
    for dim in (0, 1, -1):
        i = index % x.shape[dim]
        assert_matches_torch(lambda t: t.gather(dim, i), lambda t: t.gather(dim, torch.tensor(i)), x)
        assert_matches_torch(
            lambda t, s: cr.scatter_add(t, dim, i, s),
            lambda t, s: torch.scatter_add(t, dim, torch.tensor(i), s),
            x,
            src,
        )
    unique = np.array([[2, 0, 1]])
    # (PyTorch's scatter backward fails for a src larger than index, so src is index's size here.)
    assert_matches_torch(
        lambda t, s: t.scatter(0, unique, s), lambda t, s: t.scatter(0, torch.tensor(unique), s), x, src[:1]
    )
    assert_matches_torch(lambda t: t.scatter(1, index, 2.5), lambda t: t.scatter(1, torch.tensor(index), 2.5), x)
    big_src = np.arange(20.0).reshape(4, 5)  # src larger than index: its corner is used
    rows = index % 3  # (PyTorch computes the value, but its backward fails for a src larger than index)
    out = cr.tensor(x).scatter_add(0, rows, cr.tensor(big_src))
    np.testing.assert_array_equal(out.data, torch.tensor(x).scatter_add(0, torch.tensor(rows), torch.tensor(big_src)))
    assert (
        cr.max_relative_error(
            lambda t, s: t.scatter_add(0, rows, s) ** 2,
            [cr.tensor(x, requires_grad=True), cr.tensor(big_src, requires_grad=True)],
        )
        < BAR
    )
    assert_matches_torch(
        lambda t, s: t.scatter(1, unique, s, reduce="add"),
        lambda t, s: t.scatter_reduce(1, torch.tensor(unique), s, "sum"),
        x,
        src[:1],
    )


def test_index_select_masked_select_take_along_dim_match_pytorch():
    torch = torch_or_skip()
    x = np.arange(24.0).reshape(2, 3, 4) / 7
    for dim, index in ((0, [1, 1, 0]), (1, [2]), (-1, [3, 0, 3, 1])):
        i = np.array(index)
        assert_matches_torch(
            lambda t: cr.index_select(t, dim, i), lambda t: torch.index_select(t, dim, torch.tensor(i)), x
        )
    mask = np.array([[True, False, True, False]])
    assert_matches_torch(lambda t: t.masked_select(mask), lambda t: t.masked_select(torch.tensor(mask)), x)
    order = np.argsort(-x, axis=2)[:, :, :2]
    assert_matches_torch(
        lambda t: cr.take_along_dim(t, order, 2), lambda t: torch.take_along_dim(t, torch.tensor(order), 2), x
    )
    flat = np.array([5, 5, 0, 23])
    assert_matches_torch(lambda t: t.take_along_dim(flat), lambda t: t.take_along_dim(torch.tensor(flat)), x)
    broadcast = np.array([[[1]], [[0]]])  # (2, 1, 1) against (2, 3, 4): broadcasts off dim
    assert_matches_torch(
        lambda t: cr.take_along_dim(t, broadcast, 1), lambda t: torch.take_along_dim(t, torch.tensor(broadcast), 1), x
    )


@SETTINGS
@given(data=st.data(), shape=nonempty)
def test_index_select_and_masked_select_gradients(data, shape):
    x = cr.tensor(values(data.draw, shape), requires_grad=True)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = np.array(data.draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1, max_size=5)))
    assert_gradients(lambda t: cr.index_select(t, dim, index) ** 2, [x])
    mask = data.draw(arrays(np.bool_, shape[1:]))
    assert_gradients(lambda t: cr.masked_select(t, mask) ** 2, [x])


def test_zero_dimensional_tensors_match_pytorch():
    torch = torch_or_skip()
    x, src, at = np.array(2.5), np.array(-1.0), np.array(0)
    assert_matches_torch(lambda t: t.gather(0, at), lambda t: t.gather(0, torch.tensor(at)), x)
    assert_matches_torch(
        lambda t, s: t.scatter_add(0, at, s), lambda t, s: t.scatter_add(0, torch.tensor(at), s), x, src
    )
    assert_matches_torch(lambda t, s: t.scatter(0, at, s), lambda t, s: t.scatter(0, torch.tensor(at), s), x, src)
    assert_matches_torch(lambda t: t.index_select(0, np.array([0])), lambda t: t.index_select(0, torch.tensor([0])), x)
    assert_matches_torch(lambda t: t.roll(1), lambda t: t.roll(1), x)


def test_one_hot_matches_pytorch():
    torch = torch_or_skip()
    labels = np.array([[0, 3], [2, 2]])
    for classes in (-1, 5):
        ours = F.one_hot(cr.tensor(labels), classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(labels), classes)
        assert ours.dtype == np.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(F.one_hot(np.array(1), 3).data, [0, 1, 0])


# ----- triangles, diagonals, roll -----------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), k=st.integers(-3, 3))
def test_tril_triu_diagonal_gradients(data, shape, k):
    x = cr.tensor(values(data.draw, shape), requires_grad=True)
    np.testing.assert_array_equal(cr.tril(x, k).data, np.tril(x.data, k))
    np.testing.assert_array_equal(x.triu(k).data, np.triu(x.data, k))
    assert_gradients(lambda t: cr.tril(t, k) ** 2, [x])
    assert_gradients(lambda t: t.triu(diagonal=k) ** 2, [x])
    d1, d2 = data.draw(st.permutations(range(len(shape))))[:2]
    np.testing.assert_array_equal(x.diagonal(k, d1, d2).data, np.diagonal(x.data, k, d1, d2))
    assert_gradients(lambda t: cr.diagonal(t, offset=k, dim1=d1, dim2=d2) ** 2, [x])


@SETTINGS
@given(data=st.data(), n=st.integers(1, 4), k=st.integers(-3, 3))
def test_diag_both_ways(data, n, k):
    v = cr.tensor(values(data.draw, (n,)), requires_grad=True)
    np.testing.assert_array_equal(cr.diag(v, k).data, np.diag(v.data, k))
    assert_gradients(lambda t: cr.diag(t, k) ** 2, [v])
    m = cr.tensor(values(data.draw, (n, n + 1)), requires_grad=True)
    np.testing.assert_array_equal(m.diag(k).data, np.diag(m.data, k))
    assert_gradients(lambda t: t.diag(k) ** 2, [m])


@SETTINGS
@given(data=st.data(), shape=nonempty)
def test_roll_gradients(data, shape):
    x = cr.tensor(values(data.draw, shape), requires_grad=True)
    shift = data.draw(st.integers(-5, 5))
    np.testing.assert_array_equal(x.roll(shift).data, np.roll(x.data, shift))
    assert_gradients(lambda t: cr.roll(t, shift) ** 2, [x])
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    shifts = tuple(data.draw(st.integers(-3, 3)) for _ in dims)
    np.testing.assert_array_equal(cr.roll(x, shifts, dims).data, np.roll(x.data, shifts, dims))
    assert_gradients(lambda t: t.roll(shifts, dims) ** 2, [x])


def test_matrix_operations_match_pytorch():
    torch = torch_or_skip()
    x = np.arange(24.0).reshape(2, 3, 4) / 5 - 2
    for k in (-2, 0, 1, 5):
        assert_matches_torch(lambda t: t.tril(k), lambda t: t.tril(k), x)
        assert_matches_torch(lambda t: cr.triu(t, k), lambda t: torch.triu(t, k), x)
        assert_matches_torch(lambda t: t.diagonal(k, 2, 0), lambda t: t.diagonal(k, 2, 0), x)
        assert_matches_torch(lambda t: cr.diag(t, k), lambda t: torch.diag(t, k), x[0])
        assert_matches_torch(lambda t: cr.diag(t, k), lambda t: torch.diag(t, k), x[0, 0])
    assert_matches_torch(lambda t: t.roll(5), lambda t: t.roll(5), x)
    assert_matches_torch(lambda t: t.roll((1, -2), (0, 2)), lambda t: t.roll((1, -2), (0, 2)), x)
    assert_matches_torch(lambda t: cr.roll(t, 1, -1), lambda t: torch.roll(t, 1, -1), x)


def test_integer_tensors_index_and_triangle():
    i = cr.tensor(np.arange(9).reshape(3, 3))
    assert i.tril().dtype == np.int64 and i.gather(1, np.array([[0], [2], [1]])).dtype == np.int64
    np.testing.assert_array_equal(i.scatter_reduce(1, np.array([[0, 0, 0]] * 3), i, "sum").data[:, 0], [3, 15, 27])
    np.testing.assert_array_equal(i.scatter_reduce(1, np.array([[0, 0, 0]] * 3), i, "mean").data[:, 0], [0, 3, 6])


# ----- bad arguments ------------------------------------------------------------------------------
def test_bad_indices_say_what_was_expected():
    x = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"gather: index 3 is out of bounds for dimension 1 with size 3"):
        x.gather(1, np.array([[0, 3]]))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds for dimension 0 with size 2"):
        x.gather(0, np.array([[-1, 0, 0]]))
    with pytest.raises(TypeError, match=r"gather: index must hold integers \(int64 as PyTorch's\), got dtype float64"):
        x.gather(0, np.array([[0.0]]))
    with pytest.raises(ValueError, match=r"gather: index has 1 dimensions \(shape \(2,\)\) but input has 2"):
        x.gather(0, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(1, 4\) is larger than input of shape \(2, 3\)"):
        x.gather(0, np.zeros((1, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"dimension 2 is out of range for a tensor of shape \(2, 3\)"):
        x.gather(2, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"scatter_add: src of shape \(1,\) must have index's number of dimensions"):
        x.scatter_add(0, np.zeros((1, 1), dtype=np.int64), cr.tensor([1.0]))
    with pytest.raises(
        ValueError, match=r"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin'"
    ):
        x.scatter_reduce(0, np.zeros((1, 1), dtype=np.int64), x, "max")
    with pytest.raises(TypeError, match=r"scatter: give either src \(a tensor or a number\) or value="):
        x.scatter(0, np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"scatter: reduce must be 'add' or 'multiply'"):
        x.scatter(0, np.zeros((1, 1), dtype=np.int64), 1.0, reduce="mean")
    with pytest.raises(IndexError, match=r"index_select: index 2 is out of bounds for dimension 0 with size 2"):
        x.index_select(0, np.array([2]))
    with pytest.raises(ValueError, match=r"index_select: index must be 0-d or 1-d, got shape \(1, 1\)"):
        x.index_select(0, np.array([[0]]))
    with pytest.raises(TypeError, match=r"masked_select: mask must be boolean, got dtype int64"):
        x.masked_select(np.array([1, 0, 1]))
    with pytest.raises(ValueError, match=r"masked_select: mask of shape \(2,\) does not broadcast with input of shape"):
        x.masked_select(np.array([True, False]))
    with pytest.raises(
        ValueError, match=r"take_along_dim: input of shape \(2, 3\) and indices of shape \(3, 1\) do not"
    ):
        x.take_along_dim(np.zeros((3, 1), dtype=np.int64), 1)
    with pytest.raises(ValueError, match=r"one_hot: class 3 is outside 0\.\.2 \(num_classes=3\)"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"one_hot: cannot infer the number of classes from an empty tensor"):
        F.one_hot(np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"tril: needs a tensor of at least 2 dimensions .* got shape \(3,\)"):
        cr.tril(cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"diagonal: dim1 and dim2 must differ, both are 1"):
        x.diagonal(0, 1, -1)
    with pytest.raises(ValueError, match=r"diag: needs a 1-d or 2-d tensor, got shape \(\)"):
        cr.diag(cr.tensor(1.0))
    with pytest.raises(ValueError, match=r"roll: shifts \(1, 2\) and dims \(0,\) must have the same length"):
        x.roll((1, 2), 0)
