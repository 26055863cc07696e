"""The Tensor methods PyTorch programs call: size/numel/dim, conversions (to, float, long, type_as, cpu),
views (view, view_as, reshape_as, expand_as, contiguous), clone, tolist, requires_grad_, __format__, and the
in-place forms (add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_, masked_fill_) under the in-place rules."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def leaf(values, dtype=np.float64):
    return cr.tensor(np.array(values, dtype=dtype), requires_grad=True)


# ----- what it is ----------------------------------------------------------------------------------------
def test_size_is_a_method_as_in_pytorch():
    x = cr.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) == x.shape
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(dim=1) == 3
    assert x.numel() == 24 and x.dim() == 3
    assert cr.tensor(5.0).size() == () and cr.tensor(5.0).numel() == 1 and cr.tensor(5.0).dim() == 0
    assert cr.tensor(5.0).size(0) == 1  # a 0-d tensor accepts dimension 0 and -1, as elsewhere
    with pytest.raises(IndexError, match=r"size: dimension 3 is out of range for a tensor of shape \(2, 3, 4\)"):
        x.size(3)


def test_device_and_floating_point():
    x = cr.ones(2)
    assert x.device == cr.device("cpu") and x.device == "cpu" and str(x.device) == "cpu" and not x.is_cuda
    assert x.is_floating_point() and not cr.arange(3).is_floating_point()
    assert cr.is_floating_point(x) and cr.is_tensor(x) and not cr.is_tensor(np.ones(2))


@pytest.mark.parametrize(
    "spec, value, expected",
    [
        (".4f", 0.123456, "0.1235"),
        ("", 2.5, "2.5"),
        (">8.2e", 1234.5, "1.23e+03"),
        ("d", 7, "7"),
    ],
)
def test_format_of_a_one_element_tensor_formats_its_value(spec, value, expected):
    assert format(cr.tensor(value), spec) == expected
    assert f"{cr.tensor([value]):{spec}}" == expected


def test_format_of_a_bigger_tensor():
    x = cr.tensor([1.0, 2.0])
    assert f"{x}" == str(x)
    with pytest.raises(TypeError, match=r"format: '.2f' formats a number, but the tensor has shape \(2,\)"):
        f"{x:.2f}"


def test_tolist_and_requires_grad_():
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    x = cr.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad
    assert not x.requires_grad_(False).requires_grad
    with pytest.raises(TypeError, match="requires_grad_: only floating-point tensors can require grad"):
        cr.arange(3).requires_grad_()


# ----- conversions --------------------------------------------------------------------------------------
def test_to_takes_a_dtype_a_device_a_tensor_or_keywords():
    x = leaf([1.5, -2.5])
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x and x.cpu() is x
    assert x.to(cr.float32).dtype == np.float32
    assert x.to("cpu", cr.float32).dtype == np.float32
    assert x.to(dtype=cr.float16, device="cpu").dtype == np.float16
    assert x.to(cr.tensor([1], dtype=np.int32)).dtype == np.int32
    assert x.to(cr.float64) is x and x.to(cr.float64, copy=True) is not x
    with pytest.raises(RuntimeError, match="device: chainrule runs on the CPU only"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="cuda: chainrule runs on the CPU only"):
        x.cuda()
    with pytest.raises(TypeError, match="to: expected a dtype"):
        x.to(object())


@SETTINGS
@given(x=shapes.flatmap(lambda s: arrays(np.float64, s, elements=st.floats(-3, 3))))
def test_float_casts_are_differentiable_and_integer_casts_leave_the_graph(x):
    t = cr.tensor(x, requires_grad=True)
    single = t.float()
    assert single.dtype == np.float32 and single.requires_grad
    single.sum().backward()
    assert t.grad.dtype == np.float64 and np.all(t.grad == 1)
    for method, dtype in (("long", np.int64), ("int", np.int32), ("bool", np.bool_)):
        out = getattr(t, method)()
        assert out.dtype == dtype and not out.requires_grad
        np.testing.assert_array_equal(out.data, x.astype(dtype))
    assert t.half().dtype == np.float16 and t.double() is t
    assert t.type_as(cr.tensor([1], dtype=np.int64)).dtype == np.int64


def test_clone_copies_memory_and_passes_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x.clone()
    assert not np.shares_memory(y.data, x.data) and y.requires_grad
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    assert cr.gradcheck(lambda v: cr.clone(v) ** 3, [leaf([[0.5, -1.0]])])
    assert cr.gradgradcheck(lambda v: v.clone() ** 3, [leaf([[0.5, -1.0]])])
    z = x.detach().clone()
    z[0] = 5.0
    assert x.data[0] == 1.0


def test_views_as_pytorch_names_them():
    x = leaf(np.arange(6.0))
    assert x.view(2, 3).shape == (2, 3) and x.view((3, -1)).shape == (3, 2) and x.view(-1).shape == (6,)
    other = cr.zeros(3, 2)
    assert x.view_as(other).shape == (3, 2) and x.reshape_as(other).shape == (3, 2)
    row = leaf([[1.0, 2.0]])
    expanded = row.expand_as(cr.zeros(3, 2))
    assert expanded.shape == (3, 2)
    expanded.sum().backward()
    np.testing.assert_array_equal(row.grad, [[3.0, 3.0]])
    assert x.contiguous() is x
    with pytest.raises(TypeError, match=r"view: expected a shape .* to change the dtype, use .to\(dtype\)"):
        x.view(cr.float32)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(6,\) \(6 elements\)"):
        x.view(4, 2)


# ----- in place ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, args, kwargs, expected",
    [
        ("add_", (2.0,), {}, [3.0, 4.0, 5.0]),
        ("add_", ([1.0, 1.0, 1.0],), {"alpha": 3}, [4.0, 5.0, 6.0]),
        ("sub_", (cr.tensor([1.0, 1.0, 1.0], dtype=np.float64),), {}, [0.0, 1.0, 2.0]),
        ("sub_", (1.0,), {"alpha": 0.5}, [0.5, 1.5, 2.5]),
        ("mul_", (cr.tensor(2.0),), {}, [2.0, 4.0, 6.0]),
        ("div_", (4,), {}, [0.25, 0.5, 0.75]),
        ("zero_", (), {}, [0.0, 0.0, 0.0]),
        ("fill_", (7,), {}, [7.0, 7.0, 7.0]),
        ("fill_", (cr.tensor([0.5]),), {}, [0.5, 0.5, 0.5]),
        ("copy_", (np.array([9, 8, 7]),), {}, [9.0, 8.0, 7.0]),
        ("copy_", (cr.tensor(-1.0),), {}, [-1.0, -1.0, -1.0]),
        ("clamp_", (1.5, 2.5), {}, [1.5, 2.0, 2.5]),
        ("clamp_", (), {"max": 2.0}, [1.0, 2.0, 2.0]),
        ("masked_fill_", (np.array([True, False, True]), 0.0), {}, [0.0, 2.0, 0.0]),
    ],
)
def test_in_place_forms_change_the_memory_and_return_the_tensor(method, args, kwargs, expected):
    x = cr.tensor(np.array([1.0, 2.0, 3.0]))
    memory = x.data
    assert getattr(x, method)(*args, **kwargs) is x
    assert x.data is memory and x.dtype == np.float64
    np.testing.assert_array_equal(x.data, expected)


def test_in_place_forms_follow_the_in_place_rules():
    w = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError,
        match=r"add_: in-place change of a tensor that requires grad \(shape \(2,\)\) "
        r"while recording the graph",
    ):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="zero_: in-place change"):
        w.zero_()
    with cr.no_grad():  # as optimizers and initialisations do it
        w.mul_(2.0).add_(1.0)
    np.testing.assert_array_equal(w.data, [3.0, 5.0])
    # A gate that saved the old values refuses to backpropagate through the new ones.
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    x.detach().clamp_(0.0, 1.5)
    with pytest.raises(RuntimeError, match="the 'mul' gate needs input 0"):
        y.backward()


def test_in_place_errors_name_the_method_and_dtypes():
    counts = cr.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="add_: the result is float64, which cannot be written into this int64 tensor"):
        counts.add_(0.5)
    with pytest.raises(TypeError, match="div_: the result is float64"):
        counts.div_(2)
    with pytest.raises(
        ValueError,
        match=r"mul_: an operand of shape \(2,\) cannot be broadcast to this tensor's "
        r"shape \(3,\)",
    ):
        cr.zeros(3).mul_(cr.ones(2))
    with pytest.raises(ValueError, match=r"copy_: a source of shape \(2, 3\) cannot be broadcast"):
        cr.zeros(3).copy_(np.ones((2, 3)))
    with pytest.raises(ValueError, match="fill_: value must be a number or a one-element tensor"):
        cr.zeros(3).fill_(cr.ones(2))
    with pytest.raises(ValueError, match="clamp_: give min, max or both"):
        cr.zeros(3).clamp_()
    counts.copy_(np.array([1.7, 2.2, -3.9]))  # copy_ converts, as PyTorch's does
    np.testing.assert_array_equal(counts.data, [1, 2, -3])


def test_augmented_assignment_on_a_graph_still_rebinds():
    x = leaf([1.0, 2.0])
    y = x * 1
    y += 1  # recorded: a new node, as before
    assert y.gate is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
