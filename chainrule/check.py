"""Numerical gradient checking: does each gate's backward agree with central differences?

The check projects the function's output(s) on a fixed random direction ``v`` so that
one backward gives the gradient of the scalar ``sum(v * f(x))``; numerically, each input
element is nudged by +-eps and the change of the outputs, projected on ``v``, divided by
2*eps. Everything runs in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from .autograd import grad
from .backend import xp
from .tensor import Tensor
from .types import Array


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one; the message says where."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare the analytic gradient of ``fn`` at ``inputs`` with central differences.

    ``fn`` takes the tensors in ``inputs`` (in order) and returns a tensor or a tuple of
    tensors. Every input that requires grad is checked, element by element: the check
    passes where ``|analytic - numeric| <= atol + rtol * |numeric|``. On failure it raises
    :class:`GradcheckError` naming the input, the element, both values and the relative
    error (or returns False if ``raise_exception=False``). Inputs are copied to float64.
    """
    for position, analytic, numeric in compare_gradients(fn, inputs, eps, seed):
        # Written as "not within tolerance" so that a NaN on either side counts as a disagreement.
        bad = ~(xp.abs(analytic - numeric) <= atol + rtol * xp.abs(numeric))
        if bad.any():
            index = tuple(int(i) for i in xp.argwhere(bad)[0])
            a, n = analytic[index], numeric[index]
            if not raise_exception:
                return False
            raise GradcheckError(
                f"gradcheck: input {position} (shape {analytic.shape}), element {index}: analytic gradient "
                f"{a:.10g}, numerical {n:.10g}, relative error {relative_error(a, n):.3g} "
                f"(atol={atol}, rtol={rtol}); {int(bad.sum())} of {bad.size} elements disagree"
            )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck applied to the gradient of ``fn`` (built with create_graph)."""
    return gradcheck(_first_derivative(fn, seed + 1), inputs, eps, atol, rtol, seed, raise_exception)


def max_relative_error(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, seed: int = 0, second_order: bool = False
) -> float:
    """The worst relative error between analytic and numerical gradients over all checked elements
    (inf where either is NaN or infinite, so that such a gradient never looks good)."""
    if second_order:
        fn = _first_derivative(fn, seed + 1)
    worst = 0.0
    for _, analytic, numeric in compare_gradients(fn, inputs, eps, seed):
        if analytic.size:
            errors = relative_error(analytic, numeric)
            if not xp.all(xp.isfinite(errors)):
                return float("inf")
            worst = max(worst, float(errors.max()))
    return worst


def relative_error(analytic: Any, numeric: Any) -> Any:
    """|a - n| / max(|a| + |n|, 1e-3): relative for ordinary gradients, absolute near zero,
    where central differences can only be trusted to about their rounding error. Arrays give an array,
    single elements a NumPy scalar."""
    return xp.abs(analytic - numeric) / xp.maximum(xp.abs(analytic) + xp.abs(numeric), 1e-3)


def compare_gradients(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, seed: int = 0
) -> Iterator[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Yield ``(position, analytic, numeric)`` for every input that requires grad."""
    inputs = [_float64_copy(x) for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    directions: list[npt.NDArray[np.float64]] = []  # one per output, drawn at the first evaluation

    def evaluate(values: Sequence[Any]) -> list[Tensor]:
        returned = fn(*values)
        returned = list(returned) if isinstance(returned, (tuple, list)) else [returned]
        outputs = [o if isinstance(o, Tensor) else Tensor(xp.asarray(o, dtype=xp.float64)) for o in returned]
        if not directions:
            rng = xp.random.default_rng(seed)
            directions.extend(rng.standard_normal(o.shape) for o in outputs)
        return outputs

    outputs = evaluate(inputs)
    out = None
    for o, v in zip(outputs, directions):
        term = (o * v).sum()
        out = term if out is None else out + term
    total = cast(Tensor, out)  # fn returned at least one output
    wanted = [inputs[i] for i in checked]
    analytic: list[Array]
    if total.requires_grad:
        found = grad(total, wanted, allow_unused=True)
        analytic = [xp.zeros(x.shape) if g is None else g.data for x, g in zip(wanted, found)]
    else:
        analytic = [xp.zeros(x.shape) for x in wanted]

    for position, a in zip(checked, analytic):
        x = inputs[position]
        numeric = xp.zeros(x.shape)
        for index in xp.ndindex(x.shape):
            original = x.data[index]
            x.data[index] = original + eps
            plus = [o.data.copy() for o in evaluate(inputs)]  # copies: an output may be a view of x
            x.data[index] = original - eps
            minus = [o.data.copy() for o in evaluate(inputs)]
            x.data[index] = original
            # Difference the outputs before projecting them: outputs the nudge leaves alone then
            # cancel exactly, instead of adding their rounding error to the small change measured.
            change = sum(float((v * (p - m)).sum()) for p, m, v in zip(plus, minus, directions))
            numeric[index] = change / (2 * eps)
        yield position, xp.asarray(a, dtype=xp.float64), numeric


def _float64_copy(x: Any) -> Any:
    if not isinstance(x, Tensor):
        return x
    data = x.data.astype(xp.float64) if x.dtype.kind == "f" else x.data.copy()
    return Tensor(data, requires_grad=x.requires_grad)


def _first_derivative(fn: Callable[..., Any], seed: int) -> Callable[..., tuple[Tensor, ...]]:
    """fn's gradient (projected on a fixed direction) as a function that can itself be differentiated."""
    directions: dict[int, npt.NDArray[np.float64]] = {}

    def first_derivative(*values: Any) -> tuple[Tensor, ...]:
        outputs = fn(*values)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        if not directions:
            rng = xp.random.default_rng(seed)
            directions.update({i: rng.standard_normal(o.shape) for i, o in enumerate(outputs)})
        total = cast(Tensor, sum((o * directions[i]).sum() for i, o in enumerate(outputs)))  # fn's outputs are Tensors
        wanted = [v for v in values if isinstance(v, Tensor) and v.requires_grad]
        grads = grad(total, wanted, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(xp.zeros(w.shape)) for g, w in zip(grads, wanted))

    return first_derivative
