"""Each optimizer against its update formula, written out by hand, over several steps.

The references below are deliberately naive (new arrays everywhere, float64): they are
the docstring formulas and nothing more, so a mismatch points at the optimizer.
"""

import numpy as np
import pytest

from chainrule import blas
from chainrule.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from chainrule.tensor import Tensor

STEPS = 5
SHAPE = (3, 4)


def make_run(seed=0):
    """A starting point and a fresh random gradient for each step."""
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(SHAPE)
    grads = [rng.standard_normal(SHAPE) for _ in range(STEPS)]
    return p0, grads


def optimize(optimizer_class, p0, grads, **options):
    """The parameter after each step of the real optimizer."""
    p = Tensor(p0.copy(), requires_grad=True)
    opt = optimizer_class([p], **options)
    trajectory = []
    for g in grads:
        p.grad = g.copy()
        opt.step()
        trajectory.append(p.data.copy())
    return trajectory


# ----- the formulas, by hand ----------------------------------------------------------
def sgd_by_hand(p, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    trajectory, buf = [], None
    for g in grads:
        g = g + weight_decay * p
        if momentum != 0:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        trajectory.append(p)
    return trajectory


def adam_by_hand(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, decoupled=False):
    beta1, beta2 = betas
    m = v = v_max = np.zeros_like(p)
    trajectory = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(p)
    return trajectory


def rmsprop_by_hand(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
    v = g_avg = b = np.zeros_like(p)
    trajectory = []
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            avg = np.sqrt(v - g_avg * g_avg) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        trajectory.append(p)
    return trajectory


def adagrad_by_hand(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
    s = np.full_like(p, initial_accumulator_value)
    trajectory = []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
        trajectory.append(p)
    return trajectory


def assert_same_trajectory(got, expected):
    assert len(got) == len(expected) == STEPS
    for step, (a, b) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"after step {step}")


# ----- one test per optimizer, over its options -----------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        dict(lr=0.1),
        dict(lr=0.1, weight_decay=0.05),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, dampening=0.3),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.01),
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ],
)
def test_sgd_follows_its_formula(options):
    p0, grads = make_run()
    assert_same_trajectory(optimize(SGD, p0, grads, **options), sgd_by_hand(p0, grads, **options))


@pytest.mark.parametrize("order", ["C", "F", "mixed"])
@pytest.mark.parametrize(
    "optimizer_class, by_hand, options",
    [
        (SGD, sgd_by_hand, dict(lr=0.1, momentum=0.9)),
        (SGD, sgd_by_hand, dict(lr=0.1, momentum=0.9, dampening=0.2, nesterov=False)),
        (Adam, adam_by_hand, dict(lr=0.01)),
    ],
)
def test_large_parameters_in_any_memory_order(order, optimizer_class, by_hand, options):
    # Over blas.MIN_SIZE elements the updates go through BLAS's axpy (or, without it, SGD's blocks over flat
    # views); nn.Linear stores its weight transposed (F order), and a gradient may come in the other order.
    rng = np.random.default_rng(3)
    shape = (300, 500)
    p0 = np.asarray(rng.standard_normal(shape), order="C" if order == "C" else "F")
    grads = [np.asarray(rng.standard_normal(shape), order="F" if order == "F" else "C") for _ in range(STEPS)]
    assert p0.size > max(blas.MIN_SIZE, SGD.BLOCK)
    p = Tensor(p0.copy(order="K"), requires_grad=True)
    opt = optimizer_class([p], **options)
    trajectory = []
    for g in grads:
        p.grad = g
        opt.step()
        trajectory.append(p.data.copy())
    assert_same_trajectory(trajectory, by_hand(p0, grads, **options))


@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, amsgrad=True),
        dict(lr=0.01, amsgrad=True, weight_decay=0.1, betas=(0.5, 0.6)),
    ],
)
def test_adam_follows_its_formula(options):
    p0, grads = make_run()
    assert_same_trajectory(optimize(Adam, p0, grads, **options), adam_by_hand(p0, grads, **options))


@pytest.mark.parametrize(
    "options",
    [
        dict(),  # the default weight_decay=1e-2 is decoupled
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, weight_decay=0),
        dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.6)),
    ],
)
def test_adamw_follows_its_formula(options):
    p0, grads = make_run()
    expected = adam_by_hand(p0, grads, decoupled=True, **{"weight_decay": 1e-2, **options})
    assert_same_trajectory(optimize(AdamW, p0, grads, **options), expected)


def test_adamw_decay_is_not_adam_decay():
    p0, grads = make_run()
    adam = optimize(Adam, p0, grads, lr=0.01, weight_decay=0.1)
    adamw = optimize(AdamW, p0, grads, lr=0.01, weight_decay=0.1)
    assert not np.allclose(adam[-1], adamw[-1])


@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(lr=0.05, alpha=0.9, eps=1e-6),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True),
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.8),
    ],
)
def test_rmsprop_follows_its_formula(options):
    p0, grads = make_run()
    assert_same_trajectory(optimize(RMSprop, p0, grads, **options), rmsprop_by_hand(p0, grads, **options))


@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(lr=0.1, lr_decay=0.5),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-5),
        dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=1.0),
    ],
)
def test_adagrad_follows_its_formula(options):
    p0, grads = make_run()
    assert_same_trajectory(optimize(Adagrad, p0, grads, **options), adagrad_by_hand(p0, grads, **options))


# ----- parameter groups ------------------------------------------------------------------
def test_each_group_uses_its_own_options():
    (a0, grads_a), (b0, grads_b) = make_run(1), make_run(2)
    a, b = Tensor(a0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    for ga, gb in zip(grads_a, grads_b):
        a.grad, b.grad = ga.copy(), gb.copy()
        opt.step()
    np.testing.assert_allclose(a.data, sgd_by_hand(a0, grads_a, lr=0.1)[-1], rtol=1e-12)
    np.testing.assert_allclose(b.data, sgd_by_hand(b0, grads_b, lr=0.5, momentum=0.9)[-1], rtol=1e-12)


def test_changing_a_groups_lr_takes_effect_on_the_next_step():
    p = Tensor(np.zeros(2), requires_grad=True)
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    np.testing.assert_allclose(p.data, [-1.1, -1.1])


def test_add_param_group_gets_defaults_and_fresh_state():
    (a0, grads), (b0, _) = make_run(1), make_run(2)
    a, b = Tensor(a0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
    opt = Adam([a], lr=0.01)
    a.grad = grads[0].copy()
    opt.step()
    opt.add_param_group({"params": [b], "betas": (0.5, 0.5)})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.5, 0.5)
    for g in grads:
        b.grad = g.copy()
        a.grad = None
        opt.step()
    np.testing.assert_allclose(b.data, adam_by_hand(b0, grads, lr=0.01, betas=(0.5, 0.5))[-1], rtol=1e-12)
