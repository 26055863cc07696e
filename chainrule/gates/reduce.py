"""Reductions over one or more axes (``axis`` is an int, a tuple or None; negatives count from the end).

The backward of a reduction spreads the upstream gradient back over the reduced
axes: ``expand_back`` restores them (as size-1 axes if ``keepdims`` was False) and
broadcasts to the input's shape.
"""

import builtins
import math

from ..autograd import Gate
from ..backend import xp
from . import common
from .common import as_tensor, broadcast_to, method, normalize_axis
from .shape import concatenate, stack


def expand_back(grad, shape, axes, keepdims):
    """The upstream gradient of a reduction, broadcast back to the input's ``shape``."""
    if not keepdims:
        grad = grad.reshape(_kept_shape(shape, axes))
    return broadcast_to(grad, shape)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Gate):
    derivative = "d/dx_i sum(x) = 1"

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad, out, x):
        return expand_back(grad, x.shape, self.axes, self.keepdims)


class Mean(Gate):
    derivative = "d/dx_i mean(x) = 1/n"

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad, out, x):
        count = math.prod(x.shape[a] for a in self.axes)
        return expand_back(grad * (1 / builtins.max(count, 1)), x.shape, self.axes, self.keepdims)


class Max(Gate):
    """Largest value; the gradient is split evenly among elements tied for it."""

    derivative = "d/dx_i max(x) = 1/k if x_i is one of the k maxima else 0"
    fresh_gradients = True
    pick = staticmethod(xp.max)

    def forward(self, x):
        kept = self.pick(x, axis=self.axes, keepdims=True)
        winners = x == kept
        self.share = (winners / winners.sum(axis=self.axes, keepdims=True)).astype(x.dtype)
        return kept if self.keepdims else kept.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, grad, out, x):
        return expand_back(grad, x.shape, self.axes, self.keepdims) * self.share


class Min(Max):
    derivative = "d/dx_i min(x) = 1/k if x_i is one of the k minima else 0"
    pick = staticmethod(xp.min)


def _reduced_shape(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class LogSumExp(Gate):
    """log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the max, so it never overflows."""

    derivative = "d/dx_i logsumexp(x) = e^(x_i - logsumexp(x))"
    fresh_gradients = True

    def forward(self, x):
        m = xp.max(x, axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        kept = m + xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True))
        return kept if self.keepdims else kept.reshape(_reduced_shape(x.shape, self.axes))

    def backward(self, grad, out, x):
        if not self.keepdims:
            out = out.reshape(_kept_shape(x.shape, self.axes))
            grad = grad.reshape(out.shape)
        return grad * common.exp(x - out)


class Prod(Gate):
    """Product; each element's derivative is the product of all the others (zeros handled)."""

    derivative = "d/dx_i prod(x) = prod of x_j for j != i"
    fresh_gradients = True

    def forward(self, x):
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad, out, x):
        spread = expand_back(grad, x.shape, self.axes, self.keepdims)
        if not isinstance(x, xp.ndarray):  # building a graph of the gradient: it must be differentiable too
            return spread * _product_of_others_from_gates(x, self.axes)
        return spread * _product_of_others(x, self.axes)


def _product_of_others(x, axes):
    """For each element, the product of the other elements in its reduction group, without dividing."""
    if x.size == 0:
        return xp.ones_like(x)
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x.transpose(rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
    others = (before * after).reshape(moved.shape)
    return others.transpose(xp.argsort(rest + list(axes)))


def _product_of_others_from_gates(x, axes):
    """``_product_of_others`` for a Tensor, built from gates so it can be differentiated again.

    Dividing the product by each element would be shorter but gives NaN wherever an element is 0;
    instead, for each position k of a reduction group, multiply the group without its k-th element.
    That is n products per group, affordable for the second derivatives it is used for."""
    if x.size == 0:
        return x
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x.transpose(rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    n = flat.shape[-1]
    columns = [concatenate([flat[..., :k], flat[..., k + 1:]], axis=-1).prod(axis=-1) for k in range(n)]
    others = stack(columns, axis=-1).reshape(moved.shape)
    return others.transpose([int(i) for i in xp.argsort(rest + list(axes))])


# ----- user-facing functions -------------------------------------------------------
def _reduction(gate, where):
    def reduce(x, axis=None, keepdims=False):
        x = as_tensor(x)
        return gate.apply(x, axes=normalize_axis(axis, x.ndim, where), keepdims=keepdims)

    reduce.__name__ = where
    reduce.__doc__ = f"{where} over ``axis`` (int, tuple or None for all), keeping reduced axes if ``keepdims``."
    return reduce


sum = _reduction(Sum, "sum")
mean = _reduction(Mean, "mean")
max = _reduction(Max, "max")
min = _reduction(Min, "min")
logsumexp = _reduction(LogSumExp, "logsumexp")
prod = _reduction(Prod, "prod")


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance, composed from gates. ``ddof=0`` (NumPy's default) divides by n; ``ddof=1`` by n-1."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "var")
    count = math.prod(x.shape[a] for a in axes)
    if count - ddof <= 0:
        raise ValueError(f"var: {count} elements over axis {axis} of shape {x.shape} is too few for ddof={ddof}")
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims=keepdims) * (1 / (count - ddof))


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation: sqrt(var)."""
    x = as_tensor(x)
    return var(x, normalize_axis(axis, x.ndim, "std"), keepdims, ddof).sqrt()


def norm(x, ord=2, axis=None, keepdims=False):
    """Vector norm over ``axis``: ord 2 (Euclidean), 1, or inf (largest absolute value)."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "norm")
    if ord == 2:
        return sum(x * x, axis, keepdims).sqrt()
    if ord == 1:
        return sum(x.abs(), axis, keepdims)
    if ord == math.inf:
        return max(x.abs(), axis, keepdims)
    raise ValueError(f"norm: ord must be 1, 2 or inf, got {ord!r}")


for _name, _function in [("sum", sum), ("mean", mean), ("max", max), ("min", min), ("logsumexp", logsumexp),
                         ("prod", prod), ("var", var), ("std", std), ("norm", norm)]:
    method(_name, _function)

