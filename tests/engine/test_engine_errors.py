"""Bad input gets a clear error: the function, what it received and what it expected."""

import numpy as np
import pytest

import chainrule as cr


def leaf(shape):
    return cr.tensor(np.ones(shape), requires_grad=True)


@pytest.mark.parametrize(
    "name, fn",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", cr.maximum),
        ("minimum", cr.minimum),
        ("add", cr.add),
        ("mul", lambda a, b: b.data * a),  # a NumPy array on the left
    ],
)
def test_shapes_that_cannot_broadcast(name, fn):
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot broadcast"):
        fn(leaf((2, 3)), leaf((4,)))


def test_where_with_shapes_that_cannot_broadcast():
    with pytest.raises(ValueError, match=r"where: condition \(2, 3\), x \(2, 3\) and y \(4,\) cannot broadcast"):
        cr.where(np.ones((2, 3), dtype=bool), leaf((2, 3)), leaf((4,)))


def test_broadcast_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"broadcast_to: a tensor of shape \(2, 3\) cannot be broadcast to \(3, 3\)"):
        leaf((2, 3)).broadcast_to(3, 3)


@pytest.mark.parametrize(
    "shape_x, shape_y, detail",
    [
        ((2, 3), (4, 5), r"x's last dimension \(3\) must equal y's second-to-last dimension \(4\)"),
        ((3,), (4,), r"x's last dimension \(3\) must equal y's only dimension \(4\)"),
        ((2, 2, 3), (2, 5), r"x's last dimension \(3\) must equal y's second-to-last dimension \(2\)"),
    ],
)
def test_matmul_inner_dimension_mismatch(shape_x, shape_y, detail):
    with pytest.raises(ValueError, match=rf"matmul: inner dimensions differ: x has shape .*{detail}"):
        leaf(shape_x) @ leaf(shape_y)


def test_matmul_batch_dimensions_that_cannot_broadcast():
    with pytest.raises(ValueError, match=r"matmul: batch dimensions of shapes \(2, 3, 4\) and \(3, 4, 5\)"):
        cr.matmul(leaf((2, 3, 4)), leaf((3, 4, 5)))


def test_matmul_of_a_0d_tensor():
    with pytest.raises(ValueError, match=r"matmul: operands must have at least 1 dimension, got shapes \(\)"):
        cr.matmul(leaf(()), leaf((3,)))


def test_dot_and_outer_need_1d():
    with pytest.raises(ValueError, match=r"dot: expects two 1-d tensors, got shapes \(2, 3\) and \(3,\)"):
        cr.dot(leaf((2, 3)), leaf((3,)))
    with pytest.raises(ValueError, match=r"outer: expects two 1-d tensors, got shapes \(3,\) and \(\)"):
        cr.outer(leaf((3,)), leaf(()))


@pytest.mark.parametrize("values, dtype", [([1, 2], "int64"), ([True, False], "bool"), ([1, 2], "int32")])
def test_integer_or_boolean_tensors_cannot_require_grad(values, dtype):
    with pytest.raises(TypeError, match=rf"tensor: only floating-point tensors can require grad; got dtype {dtype}"):
        cr.tensor(np.array(values, dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match=rf"requires_grad_: only floating-point tensors .*dtype {dtype}"):
        cr.tensor(np.array(values, dtype=dtype)).requires_grad_()


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"backward: this tensor \(shape \(\)\) does not require grad"):
        (cr.tensor(np.ones(3)) * 2).sum().backward()
    x = leaf((3,))
    with cr.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"does not require grad.*outside no_grad\(\)"):
        y.backward()


def test_grad_of_something_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"grad: output 0 \(shape \(\)\) does not require grad"):
        cr.grad(cr.tensor(1.0), [leaf(())])
    with pytest.raises(RuntimeError, match=r"grad: input 0 \(shape \(\)\) does not require grad"):
        cr.grad(leaf(()) * 2, [cr.tensor(1.0)])


@pytest.mark.parametrize(
    "index, described",
    [
        (5, r"index 5"),
        (-4, r"index -4"),
        ((0, 3), r"index \(0, 3\)"),
        (np.array([0, 7]), r"index array\(shape=\(2,\), dtype=int64\)"),
    ],
)
def test_index_out_of_range(index, described):
    with pytest.raises(IndexError, match=rf"getitem: {described} does not fit a tensor of shape \(3, 2\)"):
        leaf((3, 2))[index]


@pytest.mark.parametrize(
    "fn, name",
    [
        (cr.sum, "sum"),
        (cr.mean, "mean"),
        (cr.amax, "amax"),
        (cr.amin, "amin"),
        (cr.logsumexp, "logsumexp"),
        (cr.prod, "prod"),
        (cr.var, "var"),
        (cr.std, "std"),
        (cr.norm, "norm"),
    ],
)
@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_reduction_axis_out_of_range(fn, name, axis):
    bad = axis if isinstance(axis, int) else 5
    with pytest.raises(
        ValueError,
        match=rf"{name}: dimension {bad} is out of range for a tensor with 2 dimensions "
        r"\(valid: -2 to 1\)",
    ):
        fn(leaf((2, 3)), axis=axis)


def test_other_axis_arguments_out_of_range():
    with pytest.raises(ValueError, match=r"flip: dimension 3 is out of range"):
        leaf((2, 3)).flip(3)
    with pytest.raises(ValueError, match=r"transpose: dimension -3 is out of range"):
        leaf((2, 3)).swapaxes(0, -3)
    with pytest.raises(ValueError, match=r"transpose: dimension 3 is out of range .*shape \(2, 3\) \(valid: -2 to 1\)"):
        leaf((2, 3)).transpose(3, 0)
    with pytest.raises(ValueError, match=r"unsqueeze: dimension 3 is out of range .*shape \(2, 3\) \(valid: -3 to 2\)"):
        leaf((2, 3)).unsqueeze(3)
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0\) are not a permutation"):
        leaf((2, 3)).permute(0, 0)
    with pytest.raises(ValueError, match=r"permute: dims \(0,\) name 1 dimensions, but the tensor has shape"):
        leaf((2, 3)).permute(0)
    with pytest.raises(ValueError, match=r"cat: dimension 2 is out of range"):
        cr.concatenate([leaf((2, 3)), leaf((2, 3))], axis=2)
    with pytest.raises(ValueError, match=r"flip: dims \(0, 0\) name a dimension more than once"):
        leaf((2, 3)).flip((0, 0))


def test_squeeze_leaves_a_dimension_that_is_not_one_as_it_is():
    assert leaf((2, 3)).squeeze(1).shape == (2, 3)  # as PyTorch does
    assert leaf((2, 1, 3)).squeeze(1).shape == (2, 3)
    assert leaf((1, 2, 1)).squeeze().shape == (2,)


@pytest.mark.parametrize("target", [(4, 2), (-1, 4), (-1, -1), (7,)])
def test_reshape_to_an_incompatible_shape(target):
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into"):
        leaf((2, 3)).reshape(target)


def test_concatenate_and_stack_with_mismatched_shapes():
    with pytest.raises(
        ValueError,
        match=r"cat: tensor 1 has shape \(3, 3\), but tensor 0 has shape \(2, 3\); "
        r"all dimensions except dim 1 must match",
    ):
        cr.concatenate([leaf((2, 3)), leaf((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 3, 1\)"):
        cr.cat([leaf((2, 3)), leaf((2, 3, 1))])
    with pytest.raises(ValueError, match=r"cat: needs at least one tensor"):
        cr.concatenate([])
    with pytest.raises(ValueError, match=r"stack: tensor 2 has shape \(3,\), but tensor 0 has shape \(2,\)"):
        cr.stack([leaf((2,)), leaf((2,)), leaf((3,))])


def test_split_pad_repeat_clip_and_norm_arguments():
    with pytest.raises(ValueError, match=r"split: section sizes \[2, 2\] must be non-negative and add up to 5"):
        leaf((5,)).split([2, 2])
    with pytest.raises(ValueError, match=r"split: split_size must be a positive int, got 0"):
        leaf((5,)).split(0)
    with pytest.raises(ValueError, match=r"pad: widths \(\(1, 1\),\) must be one non-negative"):
        cr.pad(leaf((2, 3)), [(1, 1)])
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats must be a non-negative int, got -1"):
        leaf((2,)).repeat_interleave(-1)
    with pytest.raises(ValueError, match=r"repeat: 1 repetitions \(2,\) for a tensor of shape \(2, 3\)"):
        leaf((2, 3)).repeat(2)
    with pytest.raises(ValueError, match=r"clip: give min, max or both"):
        leaf((2,)).clip()
    with pytest.raises(ValueError, match=r"norm: p must be a positive number, inf or -inf, got -1"):
        leaf((2,)).norm(ord=-1)
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        leaf((2,)).gelu(approximate="fast")
    with pytest.raises(ValueError, match=r"var: 1 elements over dim 0 of shape \(1, 3\) is too few for correction=1"):
        leaf((1, 3)).var(axis=0, ddof=1)


def test_item_and_truth_value_of_a_tensor_with_several_elements():
    with pytest.raises(ValueError, match=r"item: the tensor has shape \(2, 3\) \(6 elements\)"):
        leaf((2, 3)).item()
    with pytest.raises(ValueError, match=r"the truth value of a tensor of shape \(2,\) is ambiguous"):
        bool(leaf((2,)))


def test_register_hook_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"register_hook: the tensor does not require grad"):
        cr.tensor(np.ones(2)).register_hook(print)
