"""Matrix products with NumPy's matmul semantics: 1-d, 2-d and batched operands, with broadcasting."""

from __future__ import annotations

from typing import Any

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from .common import as_tensor, operation, same_dtype, sum_to, swap_last_two


class MatMul(Gate):
    """x @ y. A 1-d x is a row (1, k) and a 1-d y a column (k, 1), as in NumPy."""

    derivative = "d/dx (x@y) = g@y^T; d/dy (x@y) = x^T@g"
    fresh_gradients = True

    def forward(self, x: Array, y: Array) -> Array:
        out: Array = x @ y  # NumPy's stubs type this as Any
        return out

    def backward(self, grad: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        x2 = x if x.ndim > 1 else x.reshape((1,) + x.shape)
        y2 = y if y.ndim > 1 else y.reshape(y.shape + (1,))
        if x.ndim == 1 or y.ndim == 1:
            grad = grad.reshape(grad.shape[: grad.ndim - (x.ndim > 1) - (y.ndim > 1)] + (x2.shape[-2], y2.shape[-1]))
        gx = gy = None
        if self.wants(0):
            gx = sum_to(grad @ swap_last_two(y2), x2.shape)
            gx = gx if x.ndim > 1 else gx.reshape(x.shape)
        if self.wants(1):
            gy = sum_to(swap_last_two(x2) @ grad, y2.shape)
            gy = gy if y.ndim > 1 else gy.reshape(y.shape)
        return gx, gy


@operation("matmul", "__matmul__", reflected=("__rmatmul__",))
def matmul(input: TensorLike, other: TensorLike) -> Tensor:
    """The matrix product with NumPy's and PyTorch's rules: 1-d operands are vectors, leading dimensions are
    batches that broadcast."""
    x, y = as_tensor(input), as_tensor(other)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {x.shape} and {y.shape}")
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise ValueError(
            f"matmul: inner dimensions differ: x has shape {x.shape}, y has shape {y.shape}; "
            f"x's last dimension ({inner_x}) must equal y's "
            f"{'second-to-last' if y.ndim > 1 else 'only'} dimension ({inner_y})"
        )
    try:
        xp.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {x.shape} and {y.shape} cannot broadcast") from None
    if x.data.dtype is not y.data.dtype:
        same_dtype("matmul", x, y, ("first operand", "second operand"))
    return MatMul.apply(x, y)


@operation("dot")
def dot(input: TensorLike, other: TensorLike) -> Tensor:
    """Inner product of two 1-d tensors."""
    x, y = as_tensor(input), as_tensor(other)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"dot: expects two 1-d tensors, got shapes {x.shape} and {y.shape}")
    return matmul(x, y)


@operation("outer")
def outer(input: TensorLike, vec2: TensorLike) -> Tensor:
    """Outer product of two 1-d tensors: shape (len(input), len(vec2))."""
    x, y = as_tensor(input), as_tensor(vec2)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"outer: expects two 1-d tensors, got shapes {x.shape} and {y.shape}")
    return x.reshape(-1, 1) * y.reshape(1, -1)
