"""Reductions over one or more axes (``axis`` is an int, a tuple or None; negatives count from the end).

The backward of a reduction spreads the upstream gradient back over the reduced
axes: ``expand_back`` restores them (as size-1 axes if ``keepdims`` was False) and
broadcasts to the input's shape.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, overload

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, Dims, TensorLike, ValuesIndices
from . import common
from .common import as_tensor, broadcast_to, floating, normalize_axis, one_of, operation
from .elementwise import Sqrt, maximum, minimum
from .shape import cat, stack


def expand_back(grad: Any, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> Any:
    """The upstream gradient of a reduction, broadcast back to the input's ``shape``."""
    if not keepdims:
        grad = grad.reshape(_kept_shape(shape, axes))
    return broadcast_to(grad, shape)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Gate):
    derivative = "d/dx_i sum(x) = 1"
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, x: Array) -> Any:
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return expand_back(grad, x.shape, self.axes, self.keepdims)


class Mean(Gate):
    derivative = "d/dx_i mean(x) = 1/n"
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, x: Array) -> Any:
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        count = math.prod(x.shape[a] for a in self.axes)
        return expand_back(grad * (1 / builtins.max(count, 1)), x.shape, self.axes, self.keepdims)


class Max(Gate):
    """Largest value; the gradient is split evenly among elements tied for it."""

    derivative = "d/dx_i max(x) = 1/k if x_i is one of the k maxima else 0"
    fresh_gradients = True
    pick: Callable[..., Any] = staticmethod(xp.max)
    axes: tuple[int, ...]
    keepdims: bool
    share: Array  # each element's share of the gradient, set by forward

    def forward(self, x: Array) -> Any:
        kept = self.pick(x, axis=self.axes, keepdims=True)
        winners = x == kept
        if x.dtype.kind == "f":
            winners |= xp.isnan(x) & xp.isnan(kept)  # a NaN wins (and is the result), as in PyTorch
        self.share = (winners / winners.sum(axis=self.axes, keepdims=True)).astype(x.dtype)
        return kept if self.keepdims else kept.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        return expand_back(grad, x.shape, self.axes, self.keepdims) * self.share


class Min(Max):
    derivative = "d/dx_i min(x) = 1/k if x_i is one of the k minima else 0"
    pick = staticmethod(xp.min)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class LogSumExp(Gate):
    """log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the max, so it never overflows."""

    derivative = "d/dx_i logsumexp(x) = e^(x_i - logsumexp(x))"
    fresh_gradients = True
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, x: Array) -> Any:
        m = xp.max(x, axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        kept = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))
        return kept if self.keepdims else kept.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        if not self.keepdims:
            out = out.reshape(_kept_shape(x.shape, self.axes))
            grad = grad.reshape(out.shape)
        return grad * common.exp(x - out)


class Prod(Gate):
    """Product; each element's derivative is the product of all the others (zeros handled)."""

    derivative = "d/dx_i prod(x) = prod of x_j for j != i"
    fresh_gradients = True
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, x: Array) -> Any:
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        spread = expand_back(grad, x.shape, self.axes, self.keepdims)
        if not isinstance(x, xp.ndarray):  # building a graph of the gradient: it must be differentiable too
            return spread * _product_of_others_from_gates(x, self.axes)
        return spread * _product_of_others(x, self.axes)


def _product_of_others(x: Array, axes: tuple[int, ...]) -> Array:
    """For each element, the product of the other elements in its reduction group, without dividing."""
    if x.size == 0:
        return xp.ones_like(x)
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x.transpose(rest + list(axes))
    flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    others = (before * after).reshape(moved.shape)
    return others.transpose(xp.argsort(rest + list(axes)))


def _product_of_others_from_gates(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """``_product_of_others`` for a Tensor, built from gates so it can be differentiated again.

    Dividing the product by each element would be shorter but gives NaN wherever an element is 0;
    instead, for each position k of a reduction group, multiply the group without its k-th element.
    That is n products per group, affordable for the second derivatives it is used for."""
    if x.data.size == 0:
        return x
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x.permute(rest + list(axes))
    flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
    n = flat.shape[-1]
    columns = [cat([flat[..., :k], flat[..., k + 1 :]], -1).prod(dim=-1) for k in range(n)]
    others = stack(columns, -1).reshape(moved.shape)
    return others.permute([int(i) for i in xp.argsort(rest + list(axes))])


class RootOfSquares(Sqrt):
    """sqrt(s) of a sum of squares s (``norm``, ``std``). Where s = 0 every square sits at its minimum, with
    gradient 0, so the gradient is taken as 0 there (PyTorch's value), not 0 * inf = NaN."""

    derivative = "d/ds sqrt(s) = 1/(2*sqrt(s)), taken as 0 where s = 0"

    def backward(self, grad: Any, out: Any, x: Any) -> Any:
        zero = out == 0
        if isinstance(grad, Tensor):
            return common.where(zero, 0, grad * 0.5 / common.where(zero, 1, out))
        return xp.where(zero, 0, grad * 0.5 / xp.where(zero, 1, out))


def root_of_squares(squares: Tensor) -> Tensor:
    return RootOfSquares.apply(squares)


# ----- user-facing functions -------------------------------------------------------
# PyTorch's dim and keepdim, with NumPy's axis and keepdims accepted as aliases.
def _reduce(
    gate: type[Gate], input: TensorLike, dim: Dims, keepdim: bool, axis: Dims, keepdims: bool | None, where: str
) -> Tensor:
    x = as_tensor(input)
    if axis is not None or keepdims is not None:  # NumPy's spellings
        dim = one_of(dim, axis, "dim", "axis", where)
        keepdim = bool(one_of(keepdim or None, keepdims, "keepdim", "keepdims", where))
    return gate.apply(x, axes=normalize_axis(dim, x.ndim, where), keepdims=bool(keepdim))


@operation("sum")
def sum(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all), keeping the reduced dimensions if ``keepdim``."""
    return _reduce(Sum, input, dim, keepdim, axis, keepdims, "sum")


@operation("mean")
def mean(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or None for all), keeping the reduced dimensions if ``keepdim``;
    integer input gives the default float."""
    return _reduce(Mean, floating(input), dim, keepdim, axis, keepdims, "mean")


@operation("amax")
def amax(
    input: TensorLike, dim: Dims = (), keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Largest element over ``dim`` (an int, a tuple; () or None for all); ties share the gradient evenly."""
    return _reduce(Max, input, dim if dim != () else None, keepdim, axis, keepdims, "amax")


@operation("amin")
def amin(
    input: TensorLike, dim: Dims = (), keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Smallest element over ``dim`` (an int, a tuple; () or None for all); ties share the gradient evenly."""
    return _reduce(Min, input, dim if dim != () else None, keepdim, axis, keepdims, "amin")


@overload
def max(
    input: TensorLike, dim: None = None, keepdim: bool = False, *, axis: None = None, keepdims: bool | None = None
) -> Tensor: ...
@overload
def max(
    input: TensorLike, dim: int, keepdim: bool = False, *, axis: None = None, keepdims: bool | None = None
) -> ValuesIndices: ...
@overload
def max(
    input: TensorLike, dim: None = None, keepdim: bool = False, *, axis: int, keepdims: bool | None = None
) -> ValuesIndices: ...
@overload
def max(input: TensorLike, dim: Tensor) -> Tensor: ...
@operation("max")
def max(
    input: TensorLike,
    dim: int | Tensor | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor | ValuesIndices:
    """PyTorch's max: with no ``dim`` the largest element (ties share the gradient evenly); with ``dim`` the pair
    (values, indices) along it (the first of equal maxima; its gradient goes to that element); with a tensor
    in place of ``dim``, the elementwise ``maximum``. For the values alone over several dimensions, ``amax``."""
    return _extreme(input, dim, keepdim, axis, keepdims, "max")


@overload
def min(
    input: TensorLike, dim: None = None, keepdim: bool = False, *, axis: None = None, keepdims: bool | None = None
) -> Tensor: ...
@overload
def min(
    input: TensorLike, dim: int, keepdim: bool = False, *, axis: None = None, keepdims: bool | None = None
) -> ValuesIndices: ...
@overload
def min(
    input: TensorLike, dim: None = None, keepdim: bool = False, *, axis: int, keepdims: bool | None = None
) -> ValuesIndices: ...
@overload
def min(input: TensorLike, dim: Tensor) -> Tensor: ...
@operation("min")
def min(
    input: TensorLike,
    dim: int | Tensor | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor | ValuesIndices:
    """PyTorch's min, as ``max``: the smallest element, or (values, indices) along ``dim``, or ``minimum``."""
    return _extreme(input, dim, keepdim, axis, keepdims, "min")


def _extreme(
    input: TensorLike,
    dim: int | Tensor | None,
    keepdim: bool,
    axis: int | None,
    keepdims: bool | None,
    where: str,
) -> Tensor | ValuesIndices:
    from .indexing import select  # indexing builds on this module

    if isinstance(dim, (Tensor, xp.ndarray)):
        return (maximum if where == "max" else minimum)(input, dim)
    x = as_tensor(input)
    dim = one_of(dim, axis, "dim", "axis", where)
    keepdim = bool(one_of(keepdim or None, keepdims, "keepdim", "keepdims", where))
    if dim is None:
        return (Max if where == "max" else Min).apply(x, axes=tuple(range(x.ndim)), keepdims=False)
    if isinstance(dim, (tuple, list)):
        raise TypeError(
            f"{where}: dim must be one int (the result is values and indices); for the "
            f"{where}imum over several dimensions use a{where}(x, dim={tuple(dim)})"
        )
    d = normalize_axis(dim, x.ndim, where)
    if x.ndim == 0:
        return select(x, 0, xp.zeros((), dtype=xp.int64))
    if x.shape[d[0]] == 0:
        raise ValueError(f"{where}: dim {dim} of shape {x.shape} is empty, so it has no {where}imum")
    index = (xp.argmax if where == "max" else xp.argmin)(x.data, axis=d[0], keepdims=True)
    return select(x, d[0], index, keepdim)


@operation("logsumexp")
def logsumexp(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """log(sum(exp(input))) over ``dim``, without overflow."""
    return _reduce(LogSumExp, floating(input), dim, keepdim, axis, keepdims, "logsumexp")


@operation("prod")
def prod(
    input: TensorLike, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None, keepdims: bool | None = None
) -> Tensor:
    """Product over ``dim``; the gradient is exact where elements are 0."""
    return _reduce(Prod, input, dim, keepdim, axis, keepdims, "prod")


@operation("var")
def var(
    input: TensorLike,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    correction: int = 0,
    axis: Dims = None,
    keepdims: bool | None = None,
    ddof: int | None = None,
) -> Tensor:
    """Variance over ``dim``, composed from gates, dividing by n - ``correction`` (NumPy's ``ddof``).

    The default correction is 0 (NumPy's), where PyTorch's is 1: pass ``correction=1`` for the sample
    variance."""
    return _variance(input, dim, keepdim, correction, axis, keepdims, ddof, "var")


@operation("std")
def std(
    input: TensorLike,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    correction: int = 0,
    axis: Dims = None,
    keepdims: bool | None = None,
    ddof: int | None = None,
) -> Tensor:
    """Standard deviation: sqrt(var), with var's arguments."""
    return root_of_squares(_variance(input, dim, keepdim, correction, axis, keepdims, ddof, "std"))


def _variance(
    input: TensorLike,
    dim: Dims,
    keepdim: bool,
    correction: int,
    axis: Dims,
    keepdims: bool | None,
    ddof: int | None,
    where: str,
) -> Tensor:
    x = floating(input)
    dim = one_of(dim, axis, "dim", "axis", where)
    axes = normalize_axis(dim, x.ndim, where)
    keepdim = bool(one_of(keepdim or None, keepdims, "keepdim", "keepdims", where))
    correction = one_of(correction or None, ddof, "correction", "ddof", where) or 0
    count = math.prod(x.shape[a] for a in axes)
    if count - correction <= 0:
        raise ValueError(
            f"{where}: {count} elements over dim {dim} of shape {x.shape} is too few for correction={correction}"
        )
    centered = x - mean(x, axes, keepdim=True)
    return sum(centered * centered, axes, keepdim) * (1 / (count - correction))


@operation("norm")
def norm(
    input: TensorLike,
    p: float = 2,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    ord: float | None = None,
    axis: Dims = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Vector norm over ``dim``: (sum |x|^p)^(1/p) for any ``p`` > 0 (2, Euclidean, by default), or inf
    (largest absolute value) or -inf (smallest); ``ord`` is NumPy's name for ``p``. At the zero vector the
    gradient is 0, as in PyTorch (the norm has no derivative there)."""
    x = floating(input)
    p = one_of(p, ord, "p", "ord", "norm", 2)
    dim = normalize_axis(one_of(dim, axis, "dim", "axis", "norm"), x.ndim, "norm")
    keepdim = bool(one_of(keepdim or None, keepdims, "keepdim", "keepdims", "norm"))
    if p == math.inf:
        return amax(x.abs(), dim, keepdim)
    if p == -math.inf:
        return amin(x.abs(), dim, keepdim)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or -inf, got {p!r}")
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    if p == 2:
        return root_of_squares(sum(x * x, dim, keepdim))
    return _root(sum(x.abs() ** p, dim, keepdim), p)


def _root(total: Tensor, p: float) -> Tensor:
    """total ** (1/p) with gradient 0 where total is 0, where the root's own derivative is infinite and would
    meet the inner zero derivative as 0 * inf = NaN: there the root reads a stand-in 1 and is replaced by 0,
    so no gradient reaches it."""
    zero = total.data == 0
    if zero.any():
        root = _root(common.where(zero, 1.0, total), p)
        zeroed: Tensor = common.where(zero, 0.0, root)  # a Tensor, as root is
        return zeroed
    return total ** (1 / p)
