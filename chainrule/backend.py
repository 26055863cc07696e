"""The one place chainrule reaches its array library.

Every gate does its array work through ``xp``. Today that is NumPy; a library with
NumPy's interface (CuPy, for a GPU) can stand in by changing this module alone.
"""

from typing import Any

import numpy as xp
import numpy.typing as npt

from .types import Array

__all__ = ["xp", "ndarray", "default_float", "set_default_float", "as_array", "is_float"]

ndarray = xp.ndarray

_default_float: xp.dtype[Any] = xp.dtype(xp.float32)


def default_float() -> xp.dtype[Any]:
    """The dtype Python floats and float lists become unless the user asks otherwise (float32 unless
    ``chainrule.set_default_dtype`` changed it), as PyTorch's default dtype."""
    return _default_float


def set_default_float(dtype: npt.DTypeLike) -> None:
    """Make ``dtype`` (float32 or float64) the default float; see ``chainrule.set_default_dtype``."""
    global _default_float
    resolved = xp.dtype(dtype)
    if resolved not in (xp.float32, xp.float64):
        raise TypeError(f"set_default_dtype: the default dtype must be float32 or float64, got {resolved}")
    _default_float = resolved


def as_array(data: npt.ArrayLike, dtype: npt.DTypeLike | None = None) -> Array:
    """Turn user data into an array: Python floats become the default float, arrays keep their dtype."""
    if isinstance(data, ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == xp.float64 and not isinstance(data, xp.generic):
        array = array.astype(_default_float)
    return array


def is_float(dtype: npt.DTypeLike) -> bool:
    return xp.issubdtype(dtype, xp.floating)
