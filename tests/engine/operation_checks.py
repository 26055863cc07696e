"""Test helpers shared by the operation tests (test_ops_*.py): hypothesis strategies, the gradient check with
its bar, and the same computation in chainrule and in PyTorch, in float64, values and input gradients side by
side (the tests skip those comparisons where torch is not installed)."""

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule as cr

#: First derivatives against central differences (see chainrule/check.py for the error measure).
BAR = 1e-7
#: Second derivatives: central differences of a gradient built with create_graph.
SECOND_ORDER_BAR = 1e-6


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def away_from(*kinks, low=-5.0, high=5.0, gap=0.05):
    """Floats in [low, high] at least ``gap`` away from every kink."""
    edges = [low] + sorted(kinks) + [high]
    return st.one_of(
        [floats(a if a == low else a + gap, b if b == high else b - gap) for a, b in zip(edges[:-1], edges[1:])]
    )


def leaf(draw, shape, elements):
    """A float64 tensor requiring grad, of ``shape``, its elements drawn from ``elements``."""
    return cr.tensor(draw(arrays(np.float64, shape, elements=elements)), requires_grad=True)


def assert_gradients(fn, inputs, second_order=True):
    """fn's gradients (and, unless told otherwise, its second derivatives) agree with central differences."""
    first = cr.max_relative_error(fn, inputs)
    assert first <= BAR, f"first derivative: max relative error {first:.3g}"
    if second_order:
        second = cr.max_relative_error(fn, inputs, second_order=True)
        assert second <= SECOND_ORDER_BAR, f"second derivative: max relative error {second:.3g}"


def torch_or_skip():
    return pytest.importorskip("torch")


def _outputs(result):
    """The float outputs of an operation (values of a (values, indices) pair, every tensor of a tuple), and the
    whole result as arrays for value comparisons."""
    if isinstance(result, (tuple, list)):
        return list(result)
    return [result]


def _as_array(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t.data)


def run(library, fn, arrays, seed=0):
    """``fn``'s outputs (as arrays) and the gradients of its float inputs (None for the others), with one fixed
    random upstream gradient per float output. ``library`` is chainrule or torch."""
    is_torch = library.__name__ == "torch"
    inputs = []
    for a in arrays:
        a = np.asarray(a)
        wants = a.dtype.kind == "f"
        if is_torch:
            inputs.append(library.tensor(a.copy(), requires_grad=wants))
        else:
            inputs.append(cr.tensor(a.copy(), requires_grad=wants))
    outputs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    total = None
    for out in outputs:
        if out.dtype in (np.float32, np.float64) or (is_torch and out.dtype.is_floating_point):
            if out.requires_grad:
                direction = rng.standard_normal(tuple(out.shape))
                with np.errstate(invalid="ignore"):
                    term = (out * (library.tensor(direction) if is_torch else cr.tensor(direction))).sum()
                total = term if total is None else total + term
    if total is not None:
        with np.errstate(invalid="ignore"):  # inf - inf in the projection, where the outputs are infinite
            total.backward()
    grads = []
    for t in inputs:
        g = t.grad if t.requires_grad else None
        grads.append(None if g is None else (g.numpy() if is_torch else np.asarray(g)))
    return [_as_array(o) for o in outputs], grads


def assert_matches_torch(chainrule_fn, torch_fn, *arrays, rtol=1e-10, atol=1e-12, seed=0):
    """chainrule and PyTorch agree on every output (values, and indices exactly) and on every float input's
    gradient, NaN and inf included, in float64."""
    torch = torch_or_skip()
    ours, our_grads = run(cr, chainrule_fn, arrays, seed)
    theirs, their_grads = run(torch, torch_fn, arrays, seed)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"output {k}: shape {a.shape} against torch's {b.shape}"
        if a.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b, err_msg=f"output {k}")
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {k}")
    for k, (a, b) in enumerate(zip(our_grads, their_grads)):
        if b is None:
            assert a is None or not np.any(a), f"input {k}: torch gives no gradient, chainrule {a}"
            continue
        if a is None:
            a = np.zeros_like(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")
    return ours, our_grads
