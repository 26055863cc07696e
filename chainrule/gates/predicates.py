"""Elementwise tests: isnan, isinf, isfinite, isclose and allclose.

Their results are booleans (``allclose`` a Python bool), which carry no gradient, so they are
plain functions of the data rather than gates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..backend import xp
from ..tensor import Tensor
from ..types import TensorLike
from .common import as_tensor, data, operation


@operation("isnan")
def isnan(input: TensorLike) -> Tensor:
    """True where an element is NaN (boolean; no gradient)."""
    return Tensor(xp.isnan(data(as_tensor(input))))


@operation("isinf")
def isinf(input: TensorLike) -> Tensor:
    """True where an element is inf or -inf (boolean; no gradient)."""
    return Tensor(xp.isinf(data(as_tensor(input))))


@operation("isfinite")
def isfinite(input: TensorLike) -> Tensor:
    """True where an element is neither NaN nor infinite (boolean; no gradient)."""
    return Tensor(xp.isfinite(data(as_tensor(input))))


def _close(
    input: TensorLike, other: TensorLike, rtol: float, atol: float, equal_nan: bool, where: str
) -> npt.NDArray[np.bool_] | np.bool_:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, (int, float, xp.integer, xp.floating)) or value < 0:
            raise ValueError(f"{where}: {name} must be a non-negative number, got {value!r}")
    a, b = data(as_tensor(input)), data(as_tensor(other))
    try:
        xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{where}: shapes {a.shape} and {b.shape} cannot broadcast together") from None
    close: npt.NDArray[np.bool_] | np.bool_ = xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return close  # a NumPy bool when both are 0-d


@operation("isclose")
def isclose(
    input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """True where |input - other| <= atol + rtol * |other| (equal infinities are close; NaN is close to NaN
    only with ``equal_nan``), broadcasting; boolean, no gradient."""
    return Tensor(xp.asarray(_close(input, other, rtol, atol, equal_nan, "isclose")))


@operation("allclose")
def allclose(
    input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether every element of ``input`` is close to ``other``'s (see ``isclose``): a Python bool."""
    return bool(_close(input, other, rtol, atol, equal_nan, "allclose").all())
