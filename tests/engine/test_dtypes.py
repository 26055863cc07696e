"""Dtypes as PyTorch has them: a Python number never widens a tensor, integer tensors meeting floats become the
default float, true division of integers gives floats, tensors meet in PyTorch's result dtype, and float32
weights meeting float64 or integer input is an error naming both dtypes and the layer."""

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

FLOAT32 = np.dtype(np.float32)

# Every operator path a Python number can take, with the number on either side.
NUMBER_PATHS = {
    "x + 2.5": lambda x: x + 2.5,
    "2.5 + x": lambda x: 2.5 + x,
    "x - 2.5": lambda x: x - 2.5,
    "2.5 - x": lambda x: 2.5 - x,
    "x * 2.5": lambda x: x * 2.5,
    "2.5 * x": lambda x: 2.5 * x,
    "x / 2.5": lambda x: x / 2.5,
    "2.5 / x": lambda x: 2.5 / x,
    "x / 0": lambda x: x / 0,
    "x ** 2.5": lambda x: x**2.5,
    "x ** 2": lambda x: x**2,
    "2.5 ** x": lambda x: 2.5**x,
    "x + 3": lambda x: x + 3,
    "x * np.float64(2)": lambda x: x * np.float64(2),
    "np.float64(2) - x": lambda x: np.float64(2) - x,
    "maximum(x, 0.5)": lambda x: cr.maximum(x, 0.5),
    "minimum(0.5, x)": lambda x: cr.minimum(0.5, x),
    "where(c, x, 0.0)": lambda x: cr.where(x.data > 1, x, 0.0),
    "where(c, 1.0, x)": lambda x: cr.where(x.data > 1, 1.0, x),
    "clamp(x, 0.5, 1.5)": lambda x: x.clamp(0.5, 1.5),
    "masked_fill(m, 1e30)": lambda x: x.masked_fill(x.data > 1, 1e30),
    "-x": lambda x: -x,
    "abs(x)": abs,
    "x.add(2.5)": lambda x: x.add(2.5),
    "x.mul(2.5)": lambda x: x.mul(2.5),
    "x.div(2.5)": lambda x: x.div(2.5),
    "x.pow(2.5)": lambda x: x.pow(2.5),
    "x.sub(2.5)": lambda x: x.sub(2.5),
    "x.mean() * 2.5": lambda x: x.mean() * 2.5,
}


@pytest.mark.parametrize("path", sorted(NUMBER_PATHS))
def test_a_python_number_never_widens_a_float32_tensor(path):
    x = cr.tensor(np.array([0.5, 1.25, 2.0], dtype=np.float32), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = NUMBER_PATHS[path](x)
        assert out.dtype == FLOAT32, f"{path} gave {out.dtype}"
        out.sum().backward()
    assert x.grad.dtype == FLOAT32


@pytest.mark.parametrize(
    "path, expected",
    [
        (lambda n: n * 0.5, np.float32),
        (lambda n: 0.5 + n, np.float32),
        (lambda n: n - 1.5, np.float32),
        (lambda n: n / 2, np.float32),
        (lambda n: 2 / n, np.float32),
        (lambda n: n / n, np.float32),
        (lambda n: n**0.5, np.float32),
        (lambda n: 2.5**n, np.float32),
        (lambda n: n * 2, np.int64),
        (lambda n: n + True, np.int64),
        (lambda n: n**2, np.int64),
        (lambda n: 2**n, np.int64),
        (lambda n: n.mean(), np.float32),
        (lambda n: n.float().std(), np.float32),
        (lambda n: cr.maximum(n, 1.5), np.float32),
        (lambda n: cr.where(n.data > 1, n, 0.5), np.float32),
        (lambda n: n.sum(), np.int64),
    ],
    ids=[
        "n*0.5",
        "0.5+n",
        "n-1.5",
        "n/2",
        "2/n",
        "n/n",
        "n**0.5",
        "2.5**n",
        "n*2",
        "n+True",
        "n**2",
        "2**n",
        "mean",
        "std",
        "maximum",
        "where",
        "sum",
    ],
)
def test_integer_tensors_meeting_floats_give_the_default_float(path, expected):
    n = cr.tensor(np.array([1, 2, 4], dtype=np.int64))
    assert path(n).dtype == expected


def test_true_division_of_integers_follows_the_default_dtype():
    n = cr.tensor([1, 2, 3])
    np.testing.assert_allclose((n / 2).data, [0.5, 1.0, 1.5])
    cr.set_default_dtype(cr.float64)
    try:
        assert (n / 2).dtype == np.float64 and cr.tensor(1.5).dtype == np.float64
        assert nn.Linear(2, 3).weight.dtype == np.float64 and cr.zeros(2).dtype == np.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.get_default_dtype() == cr.float32 and (n / 2).dtype == np.float32
    with pytest.raises(TypeError, match="set_default_dtype: the default dtype must be float32 or float64"):
        cr.set_default_dtype(cr.int64)


DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


def test_tensors_meet_in_pytorchs_result_dtype():
    """All pairs of dtypes, with dimensions or 0-d on each side, against torch.result_type."""
    torch = pytest.importorskip("torch")
    for (a, b), (da, db) in itertools.product(itertools.product(DTYPES, DTYPES), [(1, 1), (0, 1), (1, 0), (0, 0)]):
        x = cr.tensor(np.ones((2,) * da, dtype=a))
        y = cr.tensor(np.ones((2,) * db, dtype=b))
        theirs = torch.result_type(
            torch.ones((2,) * da, dtype=getattr(torch, a)), torch.ones((2,) * db, dtype=getattr(torch, b))
        )
        if a == b == "bool":
            continue  # bool + bool: PyTorch computes it as a logical or; NumPy agrees, but through its own path
        assert (x * y).dtype == np.dtype(str(theirs).removeprefix("torch.")), (a, da, b, db)


def test_result_dtypes_without_torch():
    f32, f64 = cr.ones(3), cr.ones(3, dtype=cr.float64)
    i64, i32 = cr.arange(3), cr.arange(3, dtype=cr.int32)
    assert (i64 + f32).dtype == np.float32  # NumPy would say float64
    assert (f32 * cr.tensor(2.0, dtype=cr.float64)).dtype == np.float32  # a 0-d tensor of the same kind is weak
    assert (i32 + cr.tensor(5)).dtype == np.int32
    assert (i64 + cr.tensor(1.5, dtype=cr.float64)).dtype == np.float64  # a higher kind wins, even 0-d
    assert (f32 + f64).dtype == np.float64


def test_promotion_casts_are_differentiable():
    w = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    scale = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    out = w * scale  # float32: the 0-d float64 is cast
    assert out.dtype == FLOAT32
    out.sum().backward()
    assert w.grad.dtype == FLOAT32 and scale.grad.dtype == np.float64 and scale.grad == 3.0
    wide = cr.tensor(np.ones(2), requires_grad=True)
    (w + wide).sum().backward()
    assert w.grad.dtype == FLOAT32 and wide.grad.dtype == np.float64


# ----- layers and products refuse mixed dtypes ------------------------------------------------------------
@pytest.mark.parametrize(
    "make, shape, layer",
    [
        (lambda: nn.Linear(4, 2), (3, 4), "Linear(in_features=4, out_features=2, bias=True)"),
        (lambda: nn.Conv2d(1, 2, 3), (1, 1, 5, 5), "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))"),
        (lambda: nn.BatchNorm1d(4), (3, 4), "BatchNorm1d(4"),
        (lambda: nn.LayerNorm(4), (3, 4), "LayerNorm((4,)"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_float32_weights_meeting_other_input_name_both_dtypes_and_the_layer(make, shape, layer, dtype):
    model = nn.Sequential(make())
    x = cr.tensor(np.ones(shape, dtype=dtype))
    with pytest.raises(TypeError) as error:
        model(x)
    message = str(error.value)
    assert message.startswith(layer) and f"is {np.dtype(dtype)} but the weight is float32" in message
    assert "model.double()" in message
    model.double()
    if dtype == np.float64:
        assert model(x).dtype == np.float64


def test_matmul_refuses_mixed_dtypes_as_pytorch():
    with pytest.raises(TypeError, match="matmul: the first operand is float32 but the second operand is float64"):
        cr.ones(2, 3) @ cr.ones(3, 2, dtype=cr.float64)
    assert (cr.arange(6).reshape(2, 3) @ cr.arange(3)).dtype == np.int64


def test_a_module_given_a_list_converts_it():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    out = model([[1.0, 2.0]])
    assert out.shape == (1, 1) and out.dtype == FLOAT32
    np.testing.assert_array_equal(out.data, model(cr.tensor([[1.0, 2.0]])).data)
    assert nn.Conv2d(1, 1, 1)([[[[1.0]]]]).shape == (1, 1, 1, 1)
    assert nn.BatchNorm1d(2)([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)
    assert nn.MaxPool2d(1)([[[[1.0]]]]).shape == (1, 1, 1, 1)
    with pytest.raises(
        TypeError,
        match=r"Linear\(in_features=2, out_features=3, bias=True\): expected a tensor "
        r"\(or an array or a list of numbers\), got str",
    ):
        model[0]("ab")
    with pytest.raises(TypeError, match=r"Linear\(in_features=2, out_features=3, bias=True\): expected a tensor"):
        model[0]([[1.0], [1.0, 2.0]])  # ragged
