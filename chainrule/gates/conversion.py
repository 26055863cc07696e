"""Conversions: a tensor in another dtype, on another device or in memory of its own (PyTorch's ``to``,
``float``, ``long``, ``type_as``, ``cpu``, ``clone``, ``contiguous``).

A cast from one float dtype to another is differentiable (the gradient is cast back); a cast to an integer
or boolean dtype gives a tensor outside the graph, as in PyTorch. Only the CPU exists, so moving to it
returns the tensor itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import devices
from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, DType, TensorLike
from .common import as_tensor, operation
from .elementwise import cast


def _dtype_of(where: str, value: npt.DTypeLike) -> np.dtype[Any]:
    try:
        return xp.dtype(value)
    except TypeError:
        raise TypeError(
            f"{where}: expected a dtype (chainrule.float32, chainrule.long, ...), a device ('cpu') or "
            f"a tensor, got {value!r}"
        ) from None


@operation("to", exported=False)
def to(
    input: TensorLike,
    *args: Any,
    dtype: DType = None,
    device: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """The tensor in another dtype or on another device, as PyTorch's ``to``: ``to(dtype)``, ``to("cpu")``,
    ``to(device, dtype)``, ``to(other)`` (other's dtype). The tensor itself when nothing changes, unless
    ``copy=True``; ``non_blocking`` and ``memory_format`` are accepted and change nothing here."""
    x = as_tensor(input)
    dtype = target_dtype("to", args, dtype, device)
    result = x if dtype is None else cast(x, _dtype_of("to", dtype))
    return clone(result) if copy and result is x else result


def target_dtype(where: str, args: tuple[Any, ...], dtype: DType = None, device: Any = None) -> DType:
    """The dtype that PyTorch's ``to(...)`` arguments ask for (None: keep it), after checking the device they
    name: positional dtypes, devices ("cpu") and tensors (their dtype), in any order, and the keywords."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, devices.device)):
            device = arg
        else:
            dtype = arg
    devices.check(where, device)
    return dtype


@operation("type_as", exported=False)
def type_as(input: TensorLike, other: TensorLike) -> Tensor:
    """The tensor in ``other``'s dtype."""
    return to(input, as_tensor(other).dtype)


@operation("float", exported=False)
def to_float32(input: TensorLike) -> Tensor:
    """The tensor as float32 (differentiable from another float dtype)."""
    return cast(input, xp.float32)


@operation("double", exported=False)
def to_float64(input: TensorLike) -> Tensor:
    """The tensor as float64 (differentiable from another float dtype)."""
    return cast(input, xp.float64)


@operation("half", exported=False)
def to_float16(input: TensorLike) -> Tensor:
    """The tensor as float16 (differentiable from another float dtype)."""
    return cast(input, xp.float16)


@operation("long", exported=False)
def to_int64(input: TensorLike) -> Tensor:
    """The tensor as int64, rounded toward zero (no gradient)."""
    return cast(input, xp.int64)


@operation("int", exported=False)
def to_int32(input: TensorLike) -> Tensor:
    """The tensor as int32, rounded toward zero (no gradient)."""
    return cast(input, xp.int32)


@operation("bool", exported=False)
def to_bool(input: TensorLike) -> Tensor:
    """The tensor as booleans: True where it is nonzero (no gradient)."""
    return cast(input, xp.bool_)


@operation("cpu", exported=False)
def cpu(input: TensorLike) -> Tensor:
    """The tensor itself: it is on the CPU already (the only device)."""
    return as_tensor(input)


@operation("cuda", exported=False)
def cuda(input: TensorLike, device: Any = None, non_blocking: bool = False) -> Tensor:
    """Refused: chainrule computes on the CPU only (``chainrule.cuda.is_available()`` is False)."""
    raise RuntimeError(
        "cuda: chainrule runs on the CPU only (NumPy); there is no GPU to move the tensor to. "
        "Use .to(device) with device = 'cuda' if chainrule.cuda.is_available() else 'cpu'."
    )


class Clone(Gate):
    derivative = "d/dx clone(x) = 1"
    forwards_gradient = True

    def forward(self, x: Array) -> Array:
        return x.copy()

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return grad


@operation("clone")
def clone(input: TensorLike, *, memory_format: Any = None) -> Tensor:
    """A copy in memory of its own, still on the graph (the gradient passes through unchanged)."""
    return Clone.apply(as_tensor(input))


@operation("contiguous", exported=False)
def contiguous(input: TensorLike, memory_format: Any = None) -> Tensor:
    """The tensor itself: NumPy arrays need no contiguous copy for any operation here."""
    return as_tensor(input)
