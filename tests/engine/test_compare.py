"""Comparisons, logic, any/all, argmax/argmin and masked_fill (chainrule/gates/compare.py), against NumPy's
values, PyTorch's meanings and (where torch is installed) torch itself."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)
small_ints = st.integers(-2, 2)

COMPARISONS = {
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
}
OPERATORS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@SETTINGS
@given(data=st.data(), pair=pairs)
def test_comparisons_as_functions_methods_and_operators(name, data, pair):
    a = data.draw(arrays(np.float64, pair.input_shapes[0], elements=small_ints.map(float)))
    b = data.draw(arrays(np.float64, pair.input_shapes[1], elements=small_ints.map(float)))
    x = cr.tensor(a, requires_grad=True)
    expected = COMPARISONS[name](a, b)
    for result in (
        getattr(cr, name)(x, b),
        getattr(x, name)(cr.tensor(b)),
        OPERATORS[name](x, b),
        OPERATORS[name](x, cr.tensor(b)),
    ):
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_a_number_on_the_left_of_a_comparison():
    x = cr.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((2 < x).data, [False, False, True])
    np.testing.assert_array_equal((2 == x).data, [False, True, False])
    np.testing.assert_array_equal((np.float32(2) >= x).data, [True, True, False])


def test_comparisons_that_cannot_broadcast_name_the_function():
    with pytest.raises(ValueError, match=r"lt: shapes \(2,\) and \(3,\) cannot broadcast together"):
        cr.lt(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0, 3.0]))


def test_equal_is_one_python_bool():
    assert cr.equal(cr.tensor([1, 2]), cr.tensor([1, 2])) is True
    assert cr.equal(cr.tensor([1, 2]), cr.tensor([1, 3])) is False
    assert cr.equal(cr.tensor([1, 2]), cr.tensor([[1, 2]])) is False  # shapes differ: not equal


def test_logic_on_masks():
    a, b = cr.tensor([True, True, False]), cr.tensor([True, False, False])
    np.testing.assert_array_equal((a & b).data, [True, False, False])
    np.testing.assert_array_equal((a | b).data, [True, True, False])
    np.testing.assert_array_equal((a ^ b).data, [False, True, False])
    np.testing.assert_array_equal((~a).data, [False, False, True])
    np.testing.assert_array_equal(cr.logical_and(cr.tensor([1.0, 0.0]), 2.0).data, [True, False])
    np.testing.assert_array_equal(cr.tensor([0.0, 3.0]).logical_not().data, [True, False])
    np.testing.assert_array_equal((cr.tensor([6, 3]) & 3).data, [2, 3])
    with pytest.raises(TypeError, match="bitwise_and: needs boolean or integer tensors, got dtype float32"):
        cr.tensor([1.0]) & cr.tensor([True])


# ----- any, all, argmax, argmin ---------------------------------------------------------------------------
def test_any_and_all_take_dim_and_keepdim():
    x = cr.tensor([[True, False], [False, False]])
    assert bool(x.any()) and not bool(x.all())
    np.testing.assert_array_equal(x.any(dim=1).data, [True, False])
    np.testing.assert_array_equal(x.all(0, keepdim=True).data, [[False, False]])
    np.testing.assert_array_equal(cr.any(x, axis=0, keepdims=True).data, [[True, False]])
    np.testing.assert_array_equal(cr.tensor([1.0, 0.0]).all(-1).data, False)
    with pytest.raises(ValueError, match="any: dimension 2 is out of range"):
        x.any(2)


def test_argmax_and_argmin_with_dim_keepdim_and_ties():
    x = cr.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    assert x.argmax().item() == 3 and x.argmin().item() == 4  # in the flattened tensor, the first of ties
    np.testing.assert_array_equal(x.argmax(dim=1).data, [1, 0])  # the first of tied maxima
    np.testing.assert_array_equal(cr.argmin(x, 0, keepdim=True).data, [[0, 1, 0]])
    np.testing.assert_array_equal(x.argmax(axis=-1, keepdims=True).data, [[1], [0]])
    assert x.argmax(1).dtype == np.int64 and not x.argmax(1).requires_grad
    with pytest.raises(TypeError, match="argmax: dim must be one int"):
        x.argmax((0, 1))
    with pytest.raises(ValueError, match=r"argmin: the tensor of shape \(0,\) is empty"):
        cr.tensor(np.zeros(0)).argmin()


def test_max_and_min_along_a_dim_give_values_and_indices_as_pytorch():
    x = cr.tensor(np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]]), requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])
    assert cr.max(x, 1).values is not None and cr.max(x, 1).indices.dtype == np.int64
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])  # to the index only, as PyTorch
    low = cr.min(x, 0, keepdim=True)
    np.testing.assert_array_equal(low.values.data, [[1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(low.indices.data, [[0, 1, 1]])
    # axis= is dim's other name; the values alone over one or several dimensions are amax/amin.
    np.testing.assert_array_equal(x.max(axis=1).values.data, [5.0, 7.0])
    with pytest.raises(TypeError, match=r"max: dim must be one int"):
        x.max(dim=(0, 1))
    np.testing.assert_array_equal(cr.amax(x, 1).data, [5.0, 7.0])
    np.testing.assert_array_equal(cr.amin(x, dim=0).data, [1.0, 0.0, 2.0])
    # Another tensor: the elementwise maximum.
    np.testing.assert_array_equal(cr.max(x, cr.tensor(np.full((2, 3), 3.0))).data, [[3, 5, 5], [7, 3, 3]])
    assert cr.gradcheck(lambda t: t.max(1)[0], [cr.tensor(np.array([[1.0, 3.0], [4.0, 2.0]]), requires_grad=True)])


def test_max_along_a_dim_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[1.0, 5.0], [5.0, 2.0]], [[0.0, -1.0], [3.0, 3.0]]])
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            ours, theirs = cr.tensor(a).max(dim, keepdim), torch.tensor(a).max(dim, keepdim)
            np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


# ----- masked_fill ------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), pair=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3))
def test_masked_fill_values_and_gradient(data, pair):
    shape = np.broadcast_shapes(*pair.input_shapes)
    x = cr.tensor(data.draw(arrays(np.float64, shape, elements=st.floats(-2, 2))), requires_grad=True)
    mask = data.draw(arrays(np.bool_, pair.input_shapes[1]))
    out = x.masked_fill(cr.tensor(mask), -7.5)
    np.testing.assert_array_equal(out.data, np.where(mask, -7.5, x.data))
    assert cr.gradcheck(lambda t: cr.masked_fill(t, mask, 3.0), [x])
    assert cr.gradgradcheck(lambda t: cr.masked_fill(t, mask, 3.0) ** 2, [x])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.broadcast_to(~mask, shape).astype(float))


def test_masked_fill_with_a_tensor_value_keeps_the_input_dtype_and_reaches_the_value():
    x = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    value = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    out = x.masked_fill(cr.tensor([True, False, True]), value)
    assert out.dtype == np.float32
    out.sum().backward()
    assert value.grad == 2.0 and value.grad.dtype == np.float64
    assert cr.tensor([1, 2]).masked_fill(cr.tensor([True, False]), 9).data.tolist() == [9, 2]


def test_masked_fill_errors_name_what_was_wrong():
    x = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="masked_fill: mask must be a boolean tensor, got dtype int64"):
        x.masked_fill(cr.tensor([1, 0, 1]), 0.0)
    with pytest.raises(
        ValueError,
        match=r"masked_fill: mask of shape \(2, 3, 1\) does not broadcast to the input's "
        r"shape \(2, 3\)",
    ):
        x.masked_fill(np.zeros((2, 3, 1), dtype=bool), 0.0)
    with pytest.raises(ValueError, match="masked_fill: value must be a number or a 0-d tensor"):
        x.masked_fill(np.zeros(3, dtype=bool), cr.tensor([1.0, 2.0]))


def test_masked_fill_against_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(3, 4))
    mask = a > 0.3
    ours = cr.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    (ours.masked_fill(mask, float("-inf")).softmax(-1) * np.arange(4.0)).sum().backward()
    (theirs.masked_fill(torch.tensor(mask), float("-inf")).softmax(-1) * torch.arange(4.0)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-14)
