"""Activations as functions, with PyTorch's signatures. Most are the gates' own operations; the
ones here add PyTorch's extra arguments (``inplace``, softplus's ``beta`` and ``threshold``) or
compose gates (silu)."""

from ..gates import elementwise
from ..gates.activations import (
    celu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    softsign,
)
from ..gates.common import as_tensor, data, floating
from ..gates.elementwise import gelu, sigmoid, tanh
from ..gates.nn_ops import log_softmax, softmax
from ..tensor import Tensor
from ..types import TensorLike

# ``inplace`` is accepted for PyTorch's signatures; the result is always a new tensor, so that the
# engine's gradients stay right.


def relu(input: TensorLike, inplace: bool = False) -> Tensor:
    """max(0, x) elementwise."""
    return elementwise.relu(input)


def leaky_relu(input: TensorLike, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, ``negative_slope * x`` elsewhere."""
    return elementwise.leaky_relu(input, negative_slope)


def elu(input: TensorLike, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, ``alpha * (e^x - 1)`` elsewhere."""
    return elementwise.elu(input, alpha)


def silu(input: TensorLike, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = as_tensor(input)
    return x * elementwise.sigmoid(x)


def softplus(input: TensorLike, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta * x > threshold (as in PyTorch)."""
    x = floating(input)
    smooth = elementwise.softplus(x) if beta == 1 else elementwise.softplus(x * beta) * (1 / beta)
    return elementwise.where(data(x) * beta > threshold, x, smooth)


# The gates' operations as they are, and the functions above.
__all__ = [
    "celu",
    "elu",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]
