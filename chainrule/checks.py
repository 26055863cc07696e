"""Argument checks, written once: each returns the checked value (normalised) or raises an error that
names the function or layer (``where``), the argument, what it got and what it expected.

Layers check their constructor arguments here and ``functional`` checks its inputs here, so
a rule such as "a number, not a bool" or "padding='same' needs stride 1" has one wording.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, cast

import numpy as np
import numpy.typing as npt

from . import backend
from .backend import xp
from .gates.common import as_tensor, data, is_number, same_dtype
from .tensor import Tensor
from .types import Array, DType, Number, Shape, TensorLike

if TYPE_CHECKING:
    from .nn.module import Module

__all__ = [
    "is_number",
    "is_integer",
    "is_real",
    "number",
    "size",
    "pair",
    "spatial",
    "adaptive_size",
    "float_dtype",
    "positive",
    "probability",
    "reduction",
    "optional_array",
    "conv_padding",
    "channels_first",
    "layer_input",
    "layer_input_shape",
    "image_batch",
    "signal_batch",
    "unbatch",
    "same_shape",
    "constant",
    "same_dtype",
]


def is_integer(value: object) -> TypeGuard[int | np.integer[Any]]:
    """An int (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> TypeGuard[Number]:
    """A real number (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(where: str, name: str, value: object) -> float:
    """A real number (not a bool) as a float."""
    if not is_number(value):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def size(where: str, name: str, value: object, minimum: int = 1) -> int:
    """An int >= ``minimum`` (sizes, channels, kernel sides)."""
    if not is_integer(value) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def pair(where: str, name: str, value: object, minimum: int = 1) -> tuple[int, ...]:
    """An int or a pair of ints, each >= ``minimum``, as a pair: 3 -> (3, 3)."""
    return spatial(where, name, value, 2, minimum)


def spatial(where: str, name: str, value: object, dims: int, minimum: int = 1) -> tuple[int, ...]:
    """An int or ``dims`` ints (one per spatial axis), each >= ``minimum``, as a tuple: 3 -> (3,) * dims."""
    values = (value,) * dims if is_integer(value) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != dims
        or not all(is_integer(v) for v in values)
        or min(values) < minimum
    ):
        several = {1: "a 1-tuple", 2: "a pair", 3: "a triple"}[dims]
        raise ValueError(
            f"{where}: {name} must be an integer or {several} of integers, each at least {minimum}; got {value!r}"
        )
    return tuple(int(v) for v in values)


def adaptive_size(where: str, output_size: object, sizes: Sequence[int]) -> tuple[int, ...]:
    """An adaptive pool's output size as ints, one per side of ``sizes``: an int for every side, or one entry per
    side (None keeps the input's side)."""
    dims = len(sizes)
    values = (output_size,) * dims if output_size is None or is_integer(output_size) else output_size
    if (
        not isinstance(values, (tuple, list))
        or len(values) != dims
        or not all(v is None or (is_integer(v) and v >= 1) for v in values)
    ):
        several = "an int" if dims == 1 else "an int or a pair of ints (None keeps a side)"
        raise ValueError(f"{where}: output_size must be {several}, each at least 1; got {output_size!r}")
    return tuple(n if v is None else int(v) for v, n in zip(values, sizes))


def float_dtype(where: str, dtype: DType) -> np.dtype[Any]:
    """A floating NumPy dtype (float32 or float64); None is the default float (``chainrule.get_default_dtype()``)."""
    if dtype is None:
        return backend.default_float()
    try:
        resolved = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be a floating NumPy dtype, got {dtype!r}") from None
    if resolved.kind != "f":
        raise TypeError(f"{where}: dtype must be floating point (float32 or float64), got {resolved}")
    return resolved


def positive(where: str, name: str, value: object) -> float:
    if not is_real(value) or not value > 0:
        raise ValueError(f"{where}: {name} must be a positive number, got {value!r}")
    return float(value)


def probability(where: str, name: str, value: object, top_included: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``top_included``): dropout's p, label smoothing."""
    if not is_real(value) or not 0 <= value <= 1 or (value == 1 and not top_included):
        raise ValueError(f"{where}: {name} must be a probability in [0, 1{']' if top_included else ')'}, got {value!r}")
    return float(value)


def reduction(where: str, value: str) -> str:
    if value not in ("mean", "sum", "none"):
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {value!r}")
    return value


def optional_array(value: TensorLike | None) -> Array | None:
    """A class-weight argument: None, or its values as a NumPy array (kept as a buffer)."""
    if value is None:
        return None
    return backend.as_array(data(value)).copy()  # a list of Python floats becomes float32


def conv_padding(
    where: str, padding: object, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[int, ...]:
    """A convolution's padding, one int per spatial axis of ``kernel``: ints, "valid" (none) or "same" (the
    output keeps the input's size, which needs stride 1 and an even reach ``dilation * (kernel - 1)``)."""
    dims = len(kernel)
    if padding == "valid":
        return (0,) * dims
    if padding != "same":
        return spatial(where, "padding", padding, dims, minimum=0)
    if any(s != 1 for s in stride):
        raise ValueError(f"{where}: padding='same' needs stride 1, got stride {_shown(stride)}")
    reach = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(r % 2 for r in reach):
        raise ValueError(
            f"{where}: padding='same' with kernel_size {_shown(kernel)} and dilation {_shown(dilation)} "
            "would need uneven padding, which is not supported; pad explicitly with F.pad"
        )
    return tuple(r // 2 for r in reach)


def _shown(values: Sequence[int]) -> int | tuple[int, ...]:
    """A per-axis setting as the user wrote it: an int for one axis, a tuple for several."""
    return values[0] if len(values) == 1 else tuple(values)


#: The layouts a layer taking channels-first input accepts, by number of spatial axes: (batched, single).
LAYOUTS: dict[int, tuple[str, str]] = {1: ("(N, C, L)", "(C, L)"), 2: ("(N, C, H, W)", "(C, H, W)")}
#: The same in words, for the layers' messages: (batched, one sample).
LAYOUT_WORDS: dict[int, tuple[str, str]] = {
    1: ("(batch, channels, length)", "sequence (channels, length)"),
    2: ("(batch, channels, height, width)", "image (channels, height, width)"),
}


def layer_input_shape(layer: str, shape: Shape, dims: int) -> None:
    """A channels-first layer's input shape, checked: ``dims`` spatial axes, with or without the batch axis.
    ``layer`` is how the layer describes itself (its repr)."""
    if len(shape) not in (dims + 1, dims + 2):
        batched, single = LAYOUT_WORDS[dims]
        raise ValueError(
            f"{layer}: expected a {dims + 2}-d input {batched} or one {dims + 1}-d {single}, got shape {tuple(shape)}"
        )


def channels_first(x: TensorLike, where: str, dims: int) -> tuple[Tensor, bool]:
    """(N, C, *spatial) input with ``dims`` spatial axes as a Tensor, and whether it came without the batch
    axis (one (C, *spatial) sample)."""
    t = as_tensor(x)
    if t.ndim == dims + 1:
        return t.reshape((1,) + t.shape), True
    if t.ndim != dims + 2:
        batched, single = LAYOUTS[dims]
        raise ValueError(f"{where}: input must be {dims + 2}-d {batched} or {dims + 1}-d {single}, got shape {t.shape}")
    return t, False


def image_batch(x: TensorLike, where: str) -> tuple[Tensor, bool]:
    """(N, C, H, W) input as a Tensor, and whether it came as a single (C, H, W) image."""
    return channels_first(x, where, 2)


def signal_batch(x: TensorLike, where: str) -> tuple[Tensor, bool]:
    """(N, C, L) input as a Tensor, and whether it came as a single (C, L) signal."""
    return channels_first(x, where, 1)


def unbatch(out: Tensor, unbatched: bool) -> Tensor:
    """``channels_first``'s inverse for the result."""
    return out.reshape(out.shape[1:]) if unbatched else out


def same_shape(
    x: Tensor | Array,
    target: Tensor | Array,
    where: str,
    names: tuple[str, str] = ("input", "target"),
) -> None:
    if x.shape != target.shape:
        raise ValueError(
            f"{where}: {names[0]} has shape {x.shape} but {names[1]} has shape {target.shape}; "
            "they must be the same (no broadcasting)"
        )


def constant(
    value: TensorLike | None,
    like: Tensor | Array,
    where: str,
    name: str,
    expected_shape: tuple[int, ...] | None = None,
) -> Array | None:
    """An optional constant argument (class weights, pos_weight) as an array of ``like``'s dtype."""
    if value is None:
        return None
    array = xp.asarray(data(value), dtype=like.dtype)
    if expected_shape is not None and array.shape != expected_shape:
        raise ValueError(f"{where}: {name} must have shape {expected_shape}, got {array.shape}")
    return array


def layer_input(layer: Module, x: object) -> Tensor:
    """A layer's input as a Tensor: Tensors pass, NumPy arrays and (nested) lists of numbers are converted, as
    PyTorch's functions take Python numbers; anything else is a TypeError naming the layer."""
    if isinstance(x, (Tensor, xp.ndarray)):
        return as_tensor(x)
    if isinstance(x, (list, tuple, numbers.Number)) and not isinstance(x, bool):
        try:
            return as_tensor(backend.as_array(cast(npt.ArrayLike, x)))  # a numbers.Number, which NumPy takes
        except (ValueError, TypeError):  # ragged lists, lists of strings
            pass
    raise TypeError(
        f"{layer._describe()}: expected a tensor (or an array or a list of numbers), got {type(x).__name__}"
    )
