"""Gradient clipping: clip_grad_norm_ and clip_grad_value_."""

import math

import numpy as np
import pytest

from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_
from chainrule.tensor import Tensor


def params_with_grads(*grads, dtype=np.float64):
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = np.array(g, dtype=dtype)
        params.append(p)
    return params


def test_norm_is_that_of_all_gradients_together():
    a, b = params_with_grads([3.0, 0.0], [[0.0], [4.0]])
    assert clip_grad_norm_([a, b], max_norm=100.0) == pytest.approx(5.0)


def test_gradients_over_the_limit_are_scaled_to_it():
    a, b = params_with_grads([3.0, 0.0], [[0.0], [4.0]])
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(5.0)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * coef, 0.0])
    np.testing.assert_allclose(b.grad, [[0.0], [4.0 * coef]])
    new_total = math.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2))
    assert new_total == pytest.approx(1.0, abs=1e-6)


def test_gradients_under_the_limit_are_left_alone():
    (p,) = params_with_grads([0.3, 0.4])
    old = p.grad
    assert clip_grad_norm_(p, max_norm=1.0) == pytest.approx(0.5)  # a single parameter works too
    assert p.grad is old and np.array_equal(old, [0.3, 0.4])


def test_clipping_replaces_the_gradient_instead_of_writing_into_it():
    a, b = params_with_grads([3.0, 4.0], [3.0, 4.0])
    shared = a.grad
    b.grad = shared  # gradient arrays may be shared: clipping one must not touch the other's copy
    clip_grad_norm_([a], max_norm=1.0)
    np.testing.assert_array_equal(shared, [3.0, 4.0])
    assert a.grad is not shared and b.grad is shared


@pytest.mark.parametrize(
    "norm_type, expected", [(1.0, 10.0), (3, (27 + 64 + 27) ** (1 / 3)), (math.inf, 4.0), ("inf", 4.0)]
)
def test_other_norms(norm_type, expected):
    a, b = params_with_grads([3.0, -4.0], [-3.0])
    assert clip_grad_norm_([a, b], max_norm=1e9, norm_type=norm_type) == pytest.approx(expected)


def test_parameters_without_gradients_are_skipped_and_none_gives_zero():
    a, b = params_with_grads([3.0, 4.0], [1.0])
    b.grad = None
    assert clip_grad_norm_((p for p in [a, b]), max_norm=1.0) == pytest.approx(5.0)
    assert b.grad is None
    assert clip_grad_norm_([b], max_norm=1.0) == 0.0


def test_float32_gradients_stay_float32():
    (p,) = params_with_grads([3.0, 4.0], dtype=np.float32)
    total = clip_grad_norm_([p], max_norm=1.0)
    assert isinstance(total, float)
    assert p.grad.dtype == np.float32
    clip_grad_value_([p], 0.1)
    assert p.grad.dtype == np.float32


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")  # inf * 0, on purpose
def test_non_finite_norms():
    (p,) = params_with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total 2.0-norm of the gradients is inf"):
        clip_grad_norm_([p], max_norm=1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([p], max_norm=1.0) == math.inf  # by default, clip anyway (like PyTorch)
    assert p.grad[1] == 0.0


def test_clip_grad_value_clips_each_element():
    a, b = params_with_grads([-3.0, 0.05, 2.0], [[0.5], [-0.5]])
    old = a.grad
    clip_grad_value_([a, b], clip_value=0.1)
    np.testing.assert_allclose(a.grad, [-0.1, 0.05, 0.1])
    np.testing.assert_allclose(b.grad, [[0.1], [-0.1]])
    np.testing.assert_array_equal(old, [-3.0, 0.05, 2.0])  # replaced, not written into


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda ps: clip_grad_norm_(ps, max_norm=-1.0),
            "clip_grad_norm_: max_norm must be a non-negative number, got -1.0",
        ),
        (
            lambda ps: clip_grad_value_(ps, clip_value=-0.5),
            "clip_grad_value_: clip_value must be a non-negative number, got -0.5",
        ),
    ],
)
def test_bad_limits_are_named_with_their_value(call, message):
    with pytest.raises(ValueError, match=message):
        call(params_with_grads([1.0]))
