"""Constructor-argument checks shared by the layers: each error names the layer and the value."""

import numbers

from .. import backend
from ..backend import xp


def size(layer, name, value, minimum=1):
    """An int >= ``minimum`` (sizes, channels, kernel sides)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def pair(layer, name, value, minimum=1):
    """An int or a pair of ints, each >= ``minimum``, as a pair: 3 -> (3, 3)."""
    values = (value, value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or len(values) != 2:
        raise ValueError(f"{layer}: {name} must be an integer or a pair of integers, got {value!r}")
    return tuple(size(layer, name, v, minimum) for v in values)


def float_dtype(layer, dtype):
    try:
        dtype = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"{layer}: dtype must be a floating NumPy dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{layer}: dtype must be floating point (float32 or float64), got {dtype}")
    return dtype


def positive(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{layer}: {name} must be a positive number, got {value!r}")
    return float(value)


def reduction(layer, value):
    if value not in ("mean", "sum", "none"):
        raise ValueError(f"{layer}: reduction must be 'mean', 'sum' or 'none', got {value!r}")
    return value


def optional_array(value):
    """A class-weight argument: None, or its values as a NumPy array (kept as a buffer)."""
    if value is None:
        return None
    if hasattr(value, "data") and not isinstance(value, xp.ndarray):
        value = value.data  # a Tensor
    return backend.as_array(value).copy()  # a list of Python floats becomes float32
