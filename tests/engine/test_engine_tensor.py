"""The Tensor itself: dtypes through ops and gradients, Python numbers and NumPy arrays on
either side of an operator, comparisons, repr."""

import numpy as np
import pytest

import chainrule as cr

# Each entry is a function of a 1-d tensor with values in (0.2, 2) that returns a tensor.
OPERATIONS = {
    "add_number": lambda x: x + 3.0,
    "number_add": lambda x: 3.0 + x,
    "sub_number": lambda x: x - 1,
    "number_sub": lambda x: 2 - x,
    "mul_number": lambda x: x * 2,
    "number_mul": lambda x: 2.5 * x,
    "div_number": lambda x: x / 4.0,
    "number_div": lambda x: 3.0 / x,
    "reciprocal": lambda x: 1 / x,
    "pow_number": lambda x: x**2.5,
    "number_pow": lambda x: 2.0**x,
    "pow_tensor": lambda x: x**x,
    "neg": lambda x: -x,
    "abs": abs,
    "exp": cr.exp,
    "log": cr.log,
    "sqrt": cr.sqrt,
    "sin": cr.sin,
    "cos": cr.cos,
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "relu": cr.relu,
    "leaky_relu": cr.leaky_relu,
    "elu": cr.elu,
    "erf": cr.erf,
    "gelu": cr.gelu,
    "gelu_tanh": lambda x: cr.gelu(x, approximate="tanh"),
    "softplus": cr.softplus,
    "clip": lambda x: x.clip(0.5, 1.5),
    "maximum": lambda x: cr.maximum(x, 1.0),
    "minimum": lambda x: cr.minimum(1.0, x),
    "where": lambda x: cr.where(x > 1, x, 0.0),
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "var": lambda x: x.var(),
    "std": lambda x: x.std(ddof=1),
    "logsumexp": lambda x: x.logsumexp(),
    "prod": lambda x: x.prod(),
    "norm": lambda x: x.norm(),
    "reshape": lambda x: x.reshape(2, 2),
    "transpose": lambda x: x.reshape(2, 2).T,
    "getitem": lambda x: x[[0, 0, 3]],
    "flip": lambda x: x.flip(),
    "pad": lambda x: cr.pad(x, [(1, 2)]),
    "tile": lambda x: x.tile(2),
    "repeat": lambda x: x.repeat(2),
    "concatenate": lambda x: cr.concatenate([x, x]),
    "stack": lambda x: cr.stack([x, x]),
    "matmul": lambda x: x.reshape(2, 2) @ x.reshape(2, 2),
    "dot": lambda x: cr.dot(x, x),
    "outer": lambda x: cr.outer(x, x),
    "broadcast_to": lambda x: x.expand(3, 4),
    "numpy_scalar": lambda x: x * np.float64(2.0) + np.float64(1.0) - np.float32(0.5) / np.float64(4.0),
    "numpy_scalar_left": lambda x: np.float64(2.0) * x,
    "numpy_power": lambda x: x ** np.float64(3.0),
    "numpy_clip": lambda x: x.clip(np.float64(0.5), np.float64(1.5)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_dtype_is_kept_through_ops_and_gradients(name, dtype):
    x = cr.tensor(np.array([0.5, 1.25, 0.75, 1.75], dtype=dtype), requires_grad=True)
    out = OPERATIONS[name](x)
    assert out.dtype == dtype, f"{name} turned {np.dtype(dtype)} into {out.dtype}"
    (out.sum() if out.numel() > 1 else out).backward()
    assert x.grad.dtype == dtype, f"the gradient of {name} is {x.grad.dtype}, not {np.dtype(dtype)}"


def test_python_floats_become_float32_and_arrays_keep_their_dtype():
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor(np.ones(2)).dtype == np.float64
    assert cr.tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert cr.tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert cr.tensor([1, 2]).dtype.kind == "i"


def test_cast_is_differentiable_and_gives_the_gradient_in_the_inputs_dtype():
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.gate.name == "cast"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.astype(np.float32) is x


@pytest.mark.parametrize(
    "expression, expected_value, expected_grad",
    [
        (lambda x: 2 - x, [1.0, 0.0, -1.0], [-1.0, -1.0, -1.0]),
        (lambda x: np.ones(3) * x, [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]),
        (lambda x: x * np.arange(3.0), [0.0, 2.0, 6.0], [0.0, 1.0, 2.0]),
        (lambda x: np.arange(3.0) + x, [1.0, 3.0, 5.0], [1.0, 1.0, 1.0]),
        (lambda x: np.full(3, 10.0) - x, [9.0, 8.0, 7.0], [-1.0, -1.0, -1.0]),
        (lambda x: x / np.array([1.0, 2.0, 4.0]), [1.0, 1.0, 0.75], [1.0, 0.5, 0.25]),
        (lambda x: np.array([6.0, 6.0, 6.0]) / x, [6.0, 3.0, 2.0], [-6.0, -1.5, -6.0 / 9.0]),
        (lambda x: np.array([[1.0, 0.0, 2.0]]) @ x, [7.0], [1.0, 0.0, 2.0]),
        (lambda x: x @ np.eye(3), [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]),
        (lambda x: 2.0**x, [2.0, 4.0, 8.0], [2 * np.log(2), 4 * np.log(2), 8 * np.log(2)]),
        (lambda x: np.array([2.0, 2.0, 2.0]) ** x, [2.0, 4.0, 8.0], [2 * np.log(2), 4 * np.log(2), 8 * np.log(2)]),
    ],
)
def test_numbers_and_arrays_on_either_side(expression, expected_value, expected_grad):
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = expression(x)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.data, expected_value)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, expected_grad)


def test_number_operators_use_the_texts_constant_gates():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert (x + 1).gate.name == "addconstant" and (1 + x).gate.name == "addconstant"
    assert (x * 3).gate.name == "scale" and (3 * x).gate.name == "scale"
    assert (1 / x).gate.name == "reciprocal" and (x / 2).gate.name == "scale"
    assert (x**2).gate.name == "powconstant" and (x**x).gate.name == "pow"


@pytest.mark.parametrize(
    "compare",
    [
        lambda x: x < 1.5,
        lambda x: x <= 1.5,
        lambda x: x > 1.5,
        lambda x: x >= 1.5,
        lambda x: x == 2.0,
        lambda x: x != 2.0,
        lambda x: x > cr.tensor(np.array([0.0, 5.0, 1.0])),
    ],
)
def test_comparisons_are_not_differentiable(compare):
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    result = compare(x)
    assert result.dtype == np.bool_
    assert not result.requires_grad and result.gate is None
    np.testing.assert_array_equal(result.data, compare(x.data))


def test_comparison_results_work_as_masks():
    x = cr.tensor(np.array([-1.0, 2.0, -3.0, 4.0]), requires_grad=True)
    (x[x > 0] * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0, 2.0])
    assert (x > 0).any().item() and not (x > 10).all().item()


def test_repr_is_readable():
    assert repr(cr.tensor(1.5)) == "tensor(1.5)"
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    w = cr.tensor(np.array([0.5, 0.25]), requires_grad=True, name="w")
    assert repr(w) == "tensor([0.5 , 0.25], dtype=float64, requires_grad=True, name='w')"
    y = w * 2
    assert repr(y) == "tensor([1. , 0.5], dtype=float64, gate=scale)"
    big = repr(cr.tensor(np.zeros((100, 100))))
    assert big.startswith("tensor(") and "..." in big and len(big) < 1000
    matrix = repr(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert matrix == "tensor([[1., 2.],\n        [3., 4.]])"


def test_basic_properties():
    x = cr.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.numel() == 24 and len(x) == 2 and x.is_leaf
    assert x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert not (x * 2).is_leaf
    assert cr.tensor(3.0).item() == 3.0 and float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(4.0)) == 4
    assert np.asarray(x).shape == (2, 3, 4) and x.numpy() is x.data
    assert x.tolist() == np.zeros((2, 3, 4)).tolist()
    with pytest.raises(TypeError, match="len"):
        len(cr.tensor(1.0))
