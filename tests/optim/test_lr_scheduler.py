"""Learning-rate schedules against their closed forms, epoch by epoch."""

import math

import numpy as np
import pytest

import chainrule.optim as optim
from chainrule.optim import SGD
from chainrule.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LinearWarmup, StepLR
from chainrule.tensor import Tensor

EPOCHS = 25


def make_optimizer(*lrs):
    """An SGD with one group per learning rate."""
    groups = [{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0])


def lrs_over_epochs(scheduler):
    """The learning rates the optimizer holds at epochs 0, 1, ..., EPOCHS - 1."""
    seen = []
    for _ in range(EPOCHS):
        seen.append([g["lr"] for g in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == seen[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize("make, closed_form", [
    (lambda o: StepLR(o, step_size=4), lambda lr, t: lr * 0.1 ** (t // 4)),
    (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda lr, t: lr * 0.5 ** (t // 3)),
    (lambda o: ExponentialLR(o, gamma=0.9), lambda lr, t: lr * 0.9 ** t),
    (lambda o: CosineAnnealingLR(o, T_max=10),
     lambda lr, t: (lr / 2) * (1 + math.cos(math.pi * t / 10))),
    (lambda o: CosineAnnealingLR(o, T_max=7, eta_min=0.001),
     lambda lr, t: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * t / 7)) / 2),
    (lambda o: LinearWarmup(o, warmup_steps=5), lambda lr, t: lr * (1 / 3 + (2 / 3) * min(t, 5) / 5)),
    (lambda o: LinearWarmup(o, warmup_steps=4, start_factor=0.0), lambda lr, t: lr * min(t, 4) / 4),
], ids=["step", "step-gamma", "exponential", "cosine", "cosine-eta_min", "warmup", "warmup-from-0"])
def test_schedule_follows_its_closed_form(make, closed_form):
    scheduler = make(make_optimizer(0.1, 0.03))
    assert scheduler.last_epoch == 0
    expected = [[closed_form(0.1, t), closed_form(0.03, t)] for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs_over_epochs(scheduler), expected, rtol=1e-12, atol=1e-15)
    assert scheduler.last_epoch == EPOCHS


def test_a_few_values_by_eye():
    opt = make_optimizer(1.0)
    warmup = LinearWarmup(opt, warmup_steps=2, start_factor=0.5)
    assert [warmup.get_last_lr()[0]] + [warmup.step() or warmup.get_last_lr()[0] for _ in range(3)] == \
        [0.5, 0.75, 1.0, 1.0]
    cosine = CosineAnnealingLR(make_optimizer(1.0), T_max=2)
    assert [cosine.get_last_lr()[0]] + [cosine.step() or cosine.get_last_lr()[0] for _ in range(2)] == \
        pytest.approx([1.0, 0.5, 0.0])


def test_initial_lr_is_kept_in_the_groups():
    opt = make_optimizer(0.1)
    StepLR(opt, step_size=1, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    assert opt.param_groups[0]["lr"] == 0.1


def test_state_dict_round_trip_resumes_the_schedule():
    opt = make_optimizer(0.1)
    scheduler = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for _ in range(4):
        scheduler.step()
    saved_sched, saved_opt = scheduler.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 4
    uninterrupted = []
    for _ in range(3):
        scheduler.step()
        uninterrupted.append(scheduler.get_last_lr())

    opt2 = make_optimizer(0.1)
    opt2.load_state_dict(saved_opt)
    scheduler2 = CosineAnnealingLR(opt2, T_max=1)  # hyperparameters come from the state dict
    scheduler2.load_state_dict(saved_sched)
    assert opt2.param_groups[0]["lr"] == saved_sched["_last_lr"][0]  # the resumed epoch's rate, at once
    resumed = []
    for _ in range(3):
        scheduler2.step()
        resumed.append(scheduler2.get_last_lr())
    assert resumed == uninterrupted
    assert opt2.param_groups[0]["lr"] == uninterrupted[-1][0]


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="StepLR: resuming at last_epoch=3 needs 'initial_lr' in parameter group 0"):
        StepLR(make_optimizer(0.1), step_size=2, last_epoch=3)
    opt = make_optimizer(0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    scheduler = StepLR(opt, step_size=2, last_epoch=3)
    assert scheduler.last_epoch == 4 and scheduler.get_last_lr() == [pytest.approx(0.001)]


def test_the_module_and_the_package_offer_the_same_classes():
    assert optim.lr_scheduler.StepLR is optim.StepLR is StepLR
    assert optim.LinearWarmup is LinearWarmup and optim.CosineAnnealingLR is CosineAnnealingLR
    assert optim.ExponentialLR is ExponentialLR


@pytest.mark.parametrize("make, message", [
    (lambda o: StepLR(o, step_size=0), "StepLR: step_size must be a positive integer, got 0"),
    (lambda o: StepLR(o, step_size=2.5), "StepLR: step_size must be a positive integer, got 2.5"),
    (lambda o: StepLR(o, step_size=2, gamma=-0.1), "StepLR: gamma must be positive, got -0.1"),
    (lambda o: ExponentialLR(o, gamma=0), "ExponentialLR: gamma must be positive, got 0"),
    (lambda o: CosineAnnealingLR(o, T_max=0),
     "CosineAnnealingLR: T_max must be a positive integer, got 0"),
    (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1), "CosineAnnealingLR: eta_min must be non-negative, got -1"),
    (lambda o: LinearWarmup(o, warmup_steps=-3), "LinearWarmup: warmup_steps must be a positive integer, got -3"),
    (lambda o: LinearWarmup(o, warmup_steps=3, start_factor=1.5),
     r"LinearWarmup: start_factor must be in \[0, 1\], got 1.5"),
])
def test_bad_scheduler_options_are_named_with_their_value(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer(0.1))


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer, got list"):
        StepLR([], step_size=1)
