"""Dtypes with PyTorch's names: ``chainrule.float32`` (``float``), ``float64`` (``double``), ``float16``
(``half``), ``int64`` (``long``), ``int32`` (``int``), ``int16`` (``short``), ``int8``, ``uint8``, ``bool``.

Each is the NumPy dtype itself, so ``t.dtype == chainrule.float32`` holds for a float32 tensor and any
NumPy function takes them; ``chainrule.dtype`` is their class (``numpy.dtype``). The default float,
which Python floats become, is float32 unless ``set_default_dtype`` says otherwise.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import backend
from .backend import xp

#: The class of every dtype (``isinstance(chainrule.float32, chainrule.dtype)``).
dtype = xp.dtype
finfo = xp.finfo
iinfo = xp.iinfo

float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
float16 = xp.dtype("float16")
int64 = xp.dtype("int64")
int32 = xp.dtype("int32")
int16 = xp.dtype("int16")
int8 = xp.dtype("int8")
uint8 = xp.dtype("uint8")
double = float64
half = float16
long = int64
short = int16


def get_default_dtype() -> np.dtype[Any]:
    """The dtype Python floats and the float factories (``zeros``, ``rand``, ...) give: float32 unless changed."""
    return backend.default_float()


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (float32 or float64) the default float: for Python floats made into tensors, the float
    factories, integer tensors promoted by floating functions and new layers' weights."""
    backend.set_default_float(d)


def is_floating_point(input: Any) -> builtins.bool:
    """Whether the tensor holds floats."""
    return backend.is_float(input.dtype)


def is_tensor(obj: Any) -> builtins.bool:
    """Whether ``obj`` is a chainrule Tensor."""
    from .tensor import Tensor

    return isinstance(obj, Tensor)


# Last, since they shadow Python's own names in this module.
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = xp.dtype("bool")  # noqa: A001
