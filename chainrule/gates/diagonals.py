"""Triangles and diagonals of matrices: tril, triu, diagonal and diag.

Each is an exact composition of gates that already exist (a masked ``where``, advanced indexing
and its scatter), so the gradients and their gradients are those gates'. ``diagonal`` returns a
new tensor, not a view that writes through to its input as PyTorch's does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..backend import xp
from ..tensor import Tensor
from ..types import TensorLike
from .common import as_tensor, operation
from .elementwise import where
from .shape import ScatterAdd, _dim


def _offset(diagonal: int, where_: str) -> int:
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, xp.integer)):
        raise TypeError(f"{where_}: the diagonal offset must be an int, got {diagonal!r}")
    return int(diagonal)


def _triangle(input: TensorLike, diagonal: int, lower: bool, where_: str) -> Tensor:
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(
            f"{where_}: needs a tensor of at least 2 dimensions (a matrix or a batch of them), got shape {x.shape}"
        )
    rows, columns = x.shape[-2:]
    k = _offset(diagonal, where_)
    keep = xp.tri(rows, columns, k, dtype=bool) if lower else ~xp.tri(rows, columns, k - 1, dtype=bool)
    return where(keep, x, 0)


@operation("tril")
def tril(input: TensorLike, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (the last two dimensions): elements on or below the ``diagonal``-th
    diagonal kept (0 the main one, positive above it), the rest 0."""
    return _triangle(input, diagonal, True, "tril")


@operation("triu")
def triu(input: TensorLike, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix: elements on or above the ``diagonal``-th diagonal kept, the rest 0."""
    return _triangle(input, diagonal, False, "triu")


def _diagonal_positions(rows: int, columns: int, offset: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Row and column indices of the ``offset``-th diagonal of a (rows, columns) matrix."""
    length = max(0, min(rows, columns - offset) if offset >= 0 else min(rows + offset, columns))
    start_row, start_column = max(-offset, 0), max(offset, 0)
    return xp.arange(start_row, start_row + length), xp.arange(start_column, start_column + length)


@operation("diagonal")
def diagonal(input: TensorLike, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the matrices spanned by ``dim1`` and ``dim2``, as a new last dimension
    (the other dimensions stay in order)."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs a tensor of at least 2 dimensions, got shape {x.shape}")
    d1, d2 = _dim(x, dim1, "diagonal"), _dim(x, dim2, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {d1}")
    rows, columns = _diagonal_positions(x.shape[d1], x.shape[d2], _offset(offset, "diagonal"))
    others = [d for d in range(x.ndim) if d not in (d1, d2)]
    return x.permute(others + [d1, d2])[..., rows, columns]


@operation("diag")
def diag(input: TensorLike, diagonal: int = 0) -> Tensor:
    """For a 1-d tensor, the square matrix with it on the ``diagonal``-th diagonal; for a matrix, that
    diagonal of it as a 1-d tensor."""
    x = as_tensor(input)
    k = _offset(diagonal, "diag")
    if x.ndim == 2:
        return _diagonal_of(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: needs a 1-d or 2-d tensor, got shape {x.shape}")
    side = x.shape[0] + abs(k)
    rows, columns = _diagonal_positions(side, side, k)
    return ScatterAdd.apply(x, shape=(side, side), index=(rows, columns))


_diagonal_of = diagonal  # diag's argument named diagonal hides the function
