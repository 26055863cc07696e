"""The one place chainrule reaches its array library.

Every gate does its array work through ``xp``. Today that is NumPy; a library with
NumPy's interface (CuPy, for a GPU) can stand in by changing this module alone.
"""

import numpy as xp

#: Python floats and float lists become this dtype unless the user asks otherwise.
DEFAULT_FLOAT = xp.float32

ndarray = xp.ndarray


def as_array(data, dtype=None):
    """Turn user data into an array: Python floats default to float32, arrays keep their dtype."""
    if isinstance(data, ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == xp.float64 and not isinstance(data, xp.generic):
        array = array.astype(DEFAULT_FLOAT)
    return array


def is_float(dtype):
    return xp.issubdtype(dtype, xp.floating)

