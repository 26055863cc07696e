"""Scans along one dimension: cumsum, cumprod, cummax, cummin and logcumsumexp.

Output k depends on inputs 0..k, so every gradient is a sum over k >= i: a scan run backwards
(``reversed_cumsum``). cumprod's gradient is exact where inputs are 0 (no division by them), and
logcumsumexp's never overflows. cummax and cummin return (values, indices) through the
``Select`` gate; the gradient of each value goes to the element it came from.

Under ``create_graph`` the cumprod and logcumsumexp backwards are built from gates as an n x n
table per scanned row (n the length of the dimension): exact, and affordable for the second
derivatives it is there for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, overload

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, DType, TensorLike, ValuesIndices
from . import common
from .common import as_tensor, floating, operation
from .elementwise import cast
from .indexing import select
from .shape import _dim


@overload
def reversed_cumsum(g: Tensor, dim: int) -> Tensor: ...
@overload
def reversed_cumsum(g: Array, dim: int) -> Array: ...
def reversed_cumsum(g: Array | Tensor, dim: int) -> Array | Tensor:
    """sum of g[k] over k >= i, for each i along ``dim``, on an array or a Tensor."""
    if isinstance(g, Tensor):
        return cumsum(g.flip(dim), dim).flip(dim)
    return running_sum(g, dim, reverse=True)


_BLOCK = 32


def running_sum(x: Array, dim: int, reverse: bool = False) -> Array:
    """The cumulative sum of an array along ``dim`` (with ``reverse``, the sum over k >= i at each i).

    NumPy's cumsum adds one element at a time: 3.3 ms for (1024, 512) float32 along dim 1, 6.3 ms along dim 0
    of (512, 1024). Here the dimension is cut into blocks of 32; the sums within each block are one product
    with a triangle of ones (BLAS), and each block then gets the total of the blocks before it: 0.7 and 1.7 ms,
    and closer to the exact sums in float32 (fewer additions in sequence). Short dimensions, integers and
    layouts that would make many tiny products take NumPy's cumsum."""
    n = x.shape[dim]
    pre, post = math.prod(x.shape[:dim]), math.prod(x.shape[dim + 1 :])
    if x.dtype.kind != "f" or n < 4 * _BLOCK or 1 < post < 16:
        if reverse:
            flipped: Array = xp.flip(xp.cumsum(xp.flip(x, dim), dim), dim)
            return flipped
        return xp.cumsum(x, dim)
    rows = xp.ascontiguousarray(x).reshape(pre, n, post)
    count = n // _BLOCK
    head = count * _BLOCK
    blocks = rows[:, :head].reshape(pre, count, _BLOCK, post)
    upper = xp.triu(xp.ones((_BLOCK, _BLOCK), dtype=x.dtype))  # [j, i] = 1 where j <= i
    if post == 1:  # the blocks as rows: (pre * count, 32) @ (32, 32)
        within = (blocks.reshape(pre * count, _BLOCK) @ (upper.T if reverse else upper)).reshape(blocks.shape)
    else:  # the blocks as columns: (32, 32) @ (32, post) for each block
        within = (upper if reverse else upper.T) @ blocks
    totals = within[:, :, 0 if reverse else -1, :]
    if reverse:
        offsets = xp.flip(xp.cumsum(xp.flip(totals, 1), 1), 1) - totals
    else:
        offsets = xp.cumsum(totals, 1) - totals
    out = xp.empty_like(rows)
    tail = rows[:, head:]
    if head < n:
        if reverse:
            out[:, head:] = xp.flip(xp.cumsum(xp.flip(tail, 1), 1), 1)
            offsets += out[:, head : head + 1]  # everything before the tail also sums the tail
        else:
            out[:, head:] = xp.cumsum(tail, 1) + (offsets[:, -1:] + totals[:, -1:])
    within += offsets[:, :, None, :]
    out[:, :head] = within.reshape(pre, head, post)
    return out.reshape(x.shape)


def _positions(n: int, dim: int, ndim: int) -> Array:
    """0..n-1 shaped to run along ``dim`` of an ``ndim``-dimensional array."""
    return xp.arange(n).reshape((n,) + (1,) * (ndim - dim - 1))


class Cumsum(Gate):
    derivative = "d/dx_i cumsum(x)_k = 1 for k >= i"
    fresh_gradients = True
    dim: int

    def forward(self, x: Array) -> Array:
        return running_sum(x, self.dim)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return reversed_cumsum(grad, self.dim)


class Cumprod(Gate):
    """Running product. Its gradient at i is sum over k >= i of g_k * (product of x_j, j <= k, j != i):
    (reversed cumsum of g * out) / x_i where no x is 0, and worked out without dividing where one is."""

    derivative = "d/dx_i cumprod(x)_k = product of x_j for j <= k, j != i (k >= i)"
    fresh_gradients = True
    dim: int

    def forward(self, x: Array) -> Array:
        return xp.cumprod(x, self.dim)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return _cumprod_gradient_from_gates(x, grad, self.dim)
        return _cumprod_gradient(x, out, grad, self.dim)


def _cumprod_gradient(x: Array, out: Array, g: Array, dim: int) -> Array:
    zero = x == 0
    if not zero.any():
        result: Array = reversed_cumsum(g * out, dim)
        result /= x
        return result
    zeros_so_far = xp.cumsum(zero, dim)
    before = zeros_so_far == 0  # before the first zero of its row: the quotient formula holds
    first = zero & (zeros_so_far == 1)
    result = reversed_cumsum(g * out, dim) / xp.where(before, x, 1)
    result *= before
    # At the first zero z: (product of x before z) * sum over k >= z of g_k * (product of x_j, z < j <= k).
    after_first = xp.cumprod(xp.where(before | first, 1, x), dim)
    tail = reversed_cumsum(g * after_first * ~before, dim)
    head = xp.cumprod(xp.where(before, x, 1), dim)  # at z: the product of the elements before it
    result += first * head * tail
    return result


def _cumprod_gradient_from_gates(x: Tensor, g: Tensor, dim: int) -> Tensor:
    """sum over k >= i of g_k * prod_{j <= k, j != i} x_j, as an (n, n) table of cumprods per row (i, k)."""
    n = x.shape[dim]
    rows = x.unsqueeze(dim).expand(*(x.shape[:dim] + (n,) + x.shape[dim:]))  # axis dim: i, axis dim+1: j
    eye = xp.eye(n, dtype=bool).reshape((n, n) + (1,) * (x.ndim - dim - 1))
    others: Tensor = cumprod(common.where(eye, 1, rows), dim + 1)  # product over j <= k, j != i
    later = xp.triu(xp.ones((n, n), dtype=bool)).reshape(eye.shape)  # k >= i
    return (others * g.unsqueeze(dim) * later).sum(dim + 1)


class LogCumSumExp(Gate):
    """log of the running sum of e^x, scanned with logaddexp (no overflow). The gradient at i is
    sum over k >= i of g_k * e^(x_i - out_k); it is summed in log space, the positive and negative parts of g
    apart, as PyTorch does, so that no e^x overflows."""

    derivative = "d/dx_i logcumsumexp(x)_k = e^(x_i - logcumsumexp(x)_k) for k >= i"
    fresh_gradients = True
    dim: int

    def forward(self, x: Array) -> Array:
        return xp.logaddexp.accumulate(x, axis=self.dim)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if isinstance(grad, Tensor):
            return _logcumsumexp_gradient_from_gates(x, out, grad, self.dim)
        dim = self.dim
        with xp.errstate(divide="ignore", invalid="ignore"):

            def part(weights: Array) -> Array:
                logs = xp.log(weights) - out
                reversed_logs = xp.flip(xp.logaddexp.accumulate(xp.flip(logs, dim), axis=dim), dim)
                terms: Array = xp.exp(x + reversed_logs)
                return terms

            return part(xp.maximum(grad, 0)) - part(xp.maximum(-grad, 0))


def _logcumsumexp_gradient_from_gates(x: Tensor, out: Tensor, g: Tensor, dim: int) -> Tensor:
    n = x.shape[dim]
    later = xp.triu(xp.ones((n, n), dtype=bool)).reshape((n, n) + (1,) * (x.ndim - dim - 1))  # (i, k): k >= i
    exponent = x.unsqueeze(dim + 1) - out.unsqueeze(dim)
    terms: Tensor = common.exp(common.where(later, exponent, -xp.inf)) * g.unsqueeze(dim)
    return terms.sum(dim + 1)


# ----- user-facing functions -------------------------------------------------------
def _scanned(input: TensorLike, dim: int, where: str, dtype: DType = None) -> tuple[Tensor, int | None]:
    x = as_tensor(input)
    if dtype is not None:
        x = cast(x, dtype) if x.data.dtype.kind == "f" else Tensor(x.data.astype(dtype))
    dim = _dim(x, dim, where)
    return x, (None if x.ndim == 0 else dim)


def _running(
    gate: type[Gate],
    integer_scan: Callable[..., Array],
    input: TensorLike,
    dim: int,
    dtype: DType,
    where: str,
) -> Tensor:
    """A running sum or product: integers and booleans as int64 (no gradient), floats through ``gate``."""
    x, axis = _scanned(input, dim, where, dtype)
    if axis is None:
        return x * 1  # one element: the scan is the element itself
    if x.data.dtype.kind in "biu":
        return Tensor(integer_scan(x.data, axis, dtype=xp.int64))
    return gate.apply(x, dim=axis)


@operation("cumsum")
def cumsum(input: TensorLike, dim: int, *, dtype: DType = None) -> Tensor:
    """Running sum along ``dim``: out[k] = x[0] + ... + x[k]. Integers and booleans sum as int64."""
    return _running(Cumsum, xp.cumsum, input, dim, dtype, "cumsum")


@operation("cumprod")
def cumprod(input: TensorLike, dim: int, *, dtype: DType = None) -> Tensor:
    """Running product along ``dim``: out[k] = x[0] * ... * x[k]; the gradient is exact where elements are 0."""
    return _running(Cumprod, xp.cumprod, input, dim, dtype, "cumprod")


@operation("logcumsumexp")
def logcumsumexp(input: TensorLike, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, without overflow."""
    x, axis = _scanned(floating(input), dim, "logcumsumexp")
    if axis is None:
        return x * 1
    return LogCumSumExp.apply(x, dim=axis)


def _running_extreme(input: TensorLike, dim: int, accumulate: Callable[..., Array], where: str) -> ValuesIndices:
    """(values, indices) of the running maximum or minimum: the index of the latest element equal to it (as
    PyTorch picks among ties), or of the latest NaN, which the scan carries on."""
    x, axis = _scanned(input, dim, where)
    if axis is None:
        return select(x, 0, xp.zeros((), dtype=xp.int64))
    values = accumulate(x.data, axis=axis)
    here = x.data == values
    if x.data.dtype.kind == "f":
        here |= xp.isnan(x.data)
    index = xp.maximum.accumulate(here * _positions(x.shape[axis], axis, x.ndim), axis=axis)
    return select(x, axis, index)


@operation("cummax")
def cummax(input: TensorLike, dim: int) -> ValuesIndices:
    """(values, indices) of the running maximum along ``dim``; the gradient of each value goes to the element
    it is (the latest one, among equals)."""
    return _running_extreme(input, dim, xp.maximum.accumulate, "cummax")


@operation("cummin")
def cummin(input: TensorLike, dim: int) -> ValuesIndices:
    """(values, indices) of the running minimum along ``dim``, as cummax."""
    return _running_extreme(input, dim, xp.minimum.accumulate, "cummin")
