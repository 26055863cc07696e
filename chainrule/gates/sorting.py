"""Order statistics: sort, argsort, topk, kthvalue and median, as PyTorch has them.

Each picks elements by position, so (values, indices) come out of the ``Select`` gate and the
gradient of each value goes back to the element it was picked from. NaN sorts as the largest
value (last ascending, first descending), as in PyTorch; sorting is stable, so equal elements
keep their order (PyTorch promises that only with ``stable=True``).
"""

from __future__ import annotations

from typing import overload

from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike, ValuesIndices
from .common import as_tensor, operation
from .indexing import select
from .reduce import Max
from .shape import _dim


def sort_order(array: Array, dim: int, descending: bool = False) -> Array:
    """The indices that sort ``array`` along ``dim`` (stable; NaN largest)."""
    if not descending:
        return xp.argsort(array, axis=dim, kind="stable")
    # Descending and still stable: sort the reversed array ascending, reverse that order, and map positions
    # back (negating would break NaN's place and unsigned integers).
    n = array.shape[dim]
    order = xp.argsort(xp.flip(array, dim), axis=dim, kind="stable")
    reversed_order: Array = (n - 1) - xp.flip(order, dim)
    return reversed_order


def _prepared(input: TensorLike, dim: int, where: str) -> tuple[Tensor, int]:
    """The tensor (a 0-d one as 1-d) and ``dim`` as a non-negative int."""
    x = as_tensor(input)
    dim = _dim(x, dim, where)
    return (x.reshape(1), 0) if x.ndim == 0 else (x, dim)


def _result(pair: ValuesIndices, zero_d: bool) -> ValuesIndices:
    if zero_d:
        return ValuesIndices(pair.values.reshape(()), pair.indices.reshape(()))
    return pair


def _check_k(k: object, low: int, high: int, where: str, shape: tuple[int, ...], dim: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, xp.integer)) or not low <= k <= high:
        raise ValueError(
            f"{where}: k must be an int from {low} to {high} (the size of dim {dim} of shape {shape}), got {k!r}"
        )
    return int(k)


@operation("sort")
def sort(input: TensorLike, dim: int = -1, descending: bool = False, *, stable: bool = False) -> ValuesIndices:
    """(values, indices): the elements sorted along ``dim`` (ascending unless ``descending``) and where each
    came from. Always stable."""
    x, d = _prepared(input, dim, "sort")
    return _result(select(x, d, sort_order(x.data, d, descending)), as_tensor(input).ndim == 0)


@operation("argsort")
def argsort(input: TensorLike, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (int64, no gradient). Always stable."""
    x, d = _prepared(input, dim, "argsort")
    order = sort_order(x.data, d, descending).astype(xp.int64, copy=False)
    return Tensor(order.reshape(()) if as_tensor(input).ndim == 0 else order)


@operation("msort")
def msort(input: TensorLike) -> Tensor:
    """The elements sorted along dimension 0 (the values of ``sort(input, 0)``)."""
    return sort(input, 0).values


@operation("topk")
def topk(input: TensorLike, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """(values, indices) of the ``k`` largest elements along ``dim`` (smallest with ``largest=False``), in
    order, largest first."""
    x, d = _prepared(input, dim, "topk")
    k = _check_k(k, 0, x.shape[d], "topk", x.shape, d)
    order = xp.take(sort_order(x.data, d, descending=largest), xp.arange(k), axis=d)
    return _result(select(x, d, order), as_tensor(input).ndim == 0)


@operation("kthvalue")
def kthvalue(input: TensorLike, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(values, indices) of the ``k``-th smallest element (k from 1) along ``dim``."""
    x, d = _prepared(input, dim, "kthvalue")
    k = _check_k(k, 1, x.shape[d], "kthvalue", x.shape, d)
    order = xp.take(sort_order(x.data, d), [k - 1], axis=d)
    return _result(select(x, d, order, keepdim), as_tensor(input).ndim == 0)


class Median(Max):
    """The lower median of all elements (NaN if there is one); elements equal to it share its gradient evenly,
    as PyTorch's median() does."""

    derivative = "d/dx_i median(x) = 1/k if x_i is one of the k elements equal to the median else 0"

    @staticmethod
    def pick(x: Array, axis: tuple[int, ...], keepdims: bool) -> Array:

        ordered = xp.sort(x.reshape(-1))
        value = ordered[-1] if ordered.dtype.kind == "f" and xp.isnan(ordered[-1]) else ordered[(x.size - 1) // 2]
        return xp.full((1,) * x.ndim, value, dtype=x.dtype)


@overload
def median(input: TensorLike, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def median(input: TensorLike, dim: int, keepdim: bool = False) -> ValuesIndices: ...
@operation("median")
def median(input: TensorLike, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The lower of the two middle values, as PyTorch's median: of all elements (a 0-d tensor) when ``dim`` is
    None, else (values, indices) along ``dim``. NaN wins: a row holding one has median NaN."""
    x = as_tensor(input)
    if dim is None:
        if x.numel() == 0:
            raise ValueError("median: the tensor is empty, so it has no median")
        return Median.apply(x, axes=tuple(range(x.ndim)), keepdims=False)
    x, d = _prepared(x, dim, "median")
    n = x.shape[d]
    if n == 0:
        raise ValueError(f"median: dim {d} of shape {x.shape} is empty")
    order = sort_order(x.data, d)
    position = xp.full(x.shape[:d] + (1,) + x.shape[d + 1 :], (n - 1) // 2)
    if x.data.dtype.kind == "f":
        nans = xp.isnan(x.data).sum(axis=d, keepdims=True)
        position = xp.where(nans > 0, n - nans, position)  # the first NaN, as sorted (stably) to the end
    return _result(select(x, d, xp.take_along_axis(order, position, d), keepdim), as_tensor(input).ndim == 0)
