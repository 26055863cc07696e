"""Learning-rate schedules against their closed forms, epoch by epoch."""

import math

import numpy as np
import pytest

import chainrule.optim as optim
from chainrule.optim import SGD
from chainrule.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LinearWarmup,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    StepLR,
)
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


@pytest.mark.parametrize(
    "make, closed_form",
    [
        (lambda o: StepLR(o, step_size=4), lambda lr, t: lr * 0.1 ** (t // 4)),
        (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda lr, t: lr * 0.5 ** (t // 3)),
        (lambda o: ExponentialLR(o, gamma=0.9), lambda lr, t: lr * 0.9**t),
        (lambda o: CosineAnnealingLR(o, T_max=10), lambda lr, t: (lr / 2) * (1 + math.cos(math.pi * t / 10))),
        (
            lambda o: CosineAnnealingLR(o, T_max=7, eta_min=0.001),
            lambda lr, t: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * t / 7)) / 2,
        ),
        (lambda o: LinearWarmup(o, warmup_steps=5), lambda lr, t: lr * (1 / 3 + (2 / 3) * min(t, 5) / 5)),
        (lambda o: LinearWarmup(o, warmup_steps=4, start_factor=0.0), lambda lr, t: lr * min(t, 4) / 4),
    ],
    ids=["step", "step-gamma", "exponential", "cosine", "cosine-eta_min", "warmup", "warmup-from-0"],
)
def test_schedule_follows_its_closed_form(make, closed_form):
    scheduler = make(make_optimizer(0.1, 0.03))
    assert scheduler.last_epoch == 0
    expected = [[closed_form(0.1, t), closed_form(0.03, t)] for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs_over_epochs(scheduler), expected, rtol=1e-12, atol=1e-15)
    assert scheduler.last_epoch == EPOCHS


def test_a_few_values_by_eye():
    opt = make_optimizer(1.0)
    warmup = LinearWarmup(opt, warmup_steps=2, start_factor=0.5)
    assert [warmup.get_last_lr()[0]] + [warmup.step() or warmup.get_last_lr()[0] for _ in range(3)] == [
        0.5,
        0.75,
        1.0,
        1.0,
    ]
    cosine = CosineAnnealingLR(make_optimizer(1.0), T_max=2)
    assert [cosine.get_last_lr()[0]] + [cosine.step() or cosine.get_last_lr()[0] for _ in range(2)] == pytest.approx(
        [1.0, 0.5, 0.0]
    )


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


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: StepLR(o, step_size=0), "StepLR: step_size must be a positive integer, got 0"),
        (lambda o: StepLR(o, step_size=2.5), "StepLR: step_size must be a positive integer, got 2.5"),
        (lambda o: StepLR(o, step_size=2, gamma=-0.1), "StepLR: gamma must be positive, got -0.1"),
        (lambda o: ExponentialLR(o, gamma=0), "ExponentialLR: gamma must be positive, got 0"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be a positive integer, got 0"),
        (
            lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1),
            "CosineAnnealingLR: eta_min must be non-negative, got -1",
        ),
        (lambda o: LinearWarmup(o, warmup_steps=-3), "LinearWarmup: warmup_steps must be a positive integer, got -3"),
        (
            lambda o: LinearWarmup(o, warmup_steps=3, start_factor=1.5),
            r"LinearWarmup: start_factor must be in \[0, 1\], got 1.5",
        ),
    ],
)
def test_bad_scheduler_options_are_named_with_their_value(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer(0.1))


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer, got list"):
        StepLR([], step_size=1)


# ----- PyTorch's other schedules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, closed_form",
    [
        (lambda o: LambdaLR(o, lambda t: 1 / (1 + t)), lambda lr, t: lr / (1 + t)),
        (
            lambda o: MultiStepLR(o, milestones=[8, 3, 12, 12]),
            lambda lr, t: lr * 0.1 ** ((t >= 3) + (t >= 8) + 2 * (t >= 12)),
        ),
        (
            lambda o: LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=8),
            lambda lr, t: lr * (0.25 + 0.5 * min(t, 8) / 8),
        ),
        (lambda o: ConstantLR(o, factor=0.5, total_iters=3), lambda lr, t: lr * (0.5 if t < 3 else 1)),
        (lambda o: PolynomialLR(o, total_iters=10, power=2.0), lambda lr, t: lr * (1 - min(t, 10) / 10) ** 2),
    ],
    ids=["lambda", "multistep", "linear", "constant", "polynomial"],
)
def test_pytorchs_schedules_follow_their_closed_forms(make, closed_form):
    scheduler = make(make_optimizer(0.1, 0.03))
    expected = [[closed_form(0.1, t), closed_form(0.03, t)] for t in range(EPOCHS)]
    np.testing.assert_allclose(lrs_over_epochs(scheduler), expected, rtol=1e-12, atol=1e-15)


def test_lambda_lr_per_group_and_its_state_dict_leaves_the_functions_out():
    opt = make_optimizer(1.0, 2.0)
    scheduler = LambdaLR(opt, [lambda t: 0.5**t, lambda t: t + 1])
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5, 4.0]
    state = scheduler.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 1
    with pytest.raises(ValueError, match="LambdaLR: expected 2 values of lr_lambda"):
        LambdaLR(opt, [lambda t: 1])
    with pytest.raises(TypeError, match="LambdaLR: lr_lambda must be a function of the epoch"):
        LambdaLR(make_optimizer(1.0), 0.5)


def test_one_cycle_by_eye_and_its_momentum():
    opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5, anneal_strategy="linear")
    group = opt.param_groups[0]
    assert group["initial_lr"] == 0.04 and group["max_lr"] == 1.0 and group["min_lr"] == pytest.approx(4e-6)
    seen = [(group["lr"], group["momentum"])]
    for _ in range(9):
        scheduler.step()
        seen.append((group["lr"], group["momentum"]))
    assert seen[0] == (0.04, 0.95)
    assert seen[4] == pytest.approx((1.0, 0.85))  # the top of the cycle at step pct_start * total_steps - 1
    assert seen[9] == pytest.approx((4e-6, 0.95))
    scheduler.step()  # step 10 = total_steps is allowed, as in PyTorch; one more is not
    with pytest.raises(ValueError, match="OneCycleLR: stepped 11 times, but the cycle has total_steps=10"):
        scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps, or epochs and steps_per_epoch"):
        OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum needs an optimizer with momentum or betas"):
        OneCycleLR(optim.Adagrad([Tensor(np.zeros(2), requires_grad=True)]), max_lr=1.0, total_steps=5)
    adam = optim.Adam([Tensor(np.zeros(2), requires_grad=True)])
    OneCycleLR(adam, max_lr=0.01, epochs=2, steps_per_epoch=3)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)


def test_reduce_on_plateau_waits_patience_then_cools_down():
    opt = make_optimizer(1.0)
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]
    maximizing = ReduceLROnPlateau(make_optimizer(1.0), mode="max", patience=0, threshold=0.1, threshold_mode="abs")
    for accuracy in [0.5, 0.55, 0.7]:
        maximizing.step(Tensor(np.array(accuracy)))  # a one-element tensor works as the metric
    assert maximizing.get_last_lr() == [0.1]  # 0.55 was not 0.1 better than 0.5; 0.7 was
    state = scheduler.state_dict()
    again = ReduceLROnPlateau(make_optimizer(1.0))
    again.load_state_dict(state)
    assert again.best == 4 and again.num_bad_epochs == scheduler.num_bad_epochs
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: factor must be in \(0, 1\)"):
        ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode must be 'min' or 'max'"):
        ReduceLROnPlateau(opt, mode="up")


def test_every_schedule_is_in_optim_lr_scheduler():
    for name in [
        "StepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "LinearWarmup",
        "LambdaLR",
        "MultiStepLR",
        "LinearLR",
        "ConstantLR",
        "PolynomialLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
    ]:
        assert getattr(optim, name) is getattr(optim.lr_scheduler, name)


TORCH_SCHEDULES = {
    "LambdaLR": ({"lr_lambda": lambda t: 0.9**t}, None),
    "MultiStepLR": ({"milestones": [2, 5, 5, 9], "gamma": 0.5}, None),
    "StepLR": ({"step_size": 3, "gamma": 0.7}, None),
    "ExponentialLR": ({"gamma": 0.93}, None),
    "CosineAnnealingLR": ({"T_max": 8, "eta_min": 0.001}, None),
    "LinearLR": ({"start_factor": 0.2, "end_factor": 0.9, "total_iters": 6}, None),
    "ConstantLR": ({"factor": 0.3, "total_iters": 4}, None),
    "PolynomialLR": ({"total_iters": 9, "power": 1.5}, None),
    "OneCycleLR": ({"max_lr": 0.5, "total_steps": 20}, None),
    "OneCycleLR-3phase": (
        {"max_lr": [0.5, 0.2], "total_steps": 20, "three_phase": True, "anneal_strategy": "linear", "pct_start": 0.25},
        "OneCycleLR",
    ),
    "ReduceLROnPlateau": ({"patience": 1, "factor": 0.5, "cooldown": 1}, None),
}


@pytest.mark.parametrize("name", sorted(TORCH_SCHEDULES))
def test_schedules_step_by_step_against_torch(name):
    torch = pytest.importorskip("torch")
    kwargs, cls = TORCH_SCHEDULES[name]
    cls = cls or name
    ours_opt = SGD(
        [
            {"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": 0.1},
            {"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": 0.05},
        ],
        lr=0.1,
        momentum=0.9,
    )
    theirs_opt = torch.optim.SGD(
        [
            {"params": [torch.zeros(2, requires_grad=True)], "lr": 0.1},
            {"params": [torch.zeros(2, requires_grad=True)], "lr": 0.05},
        ],
        lr=0.1,
        momentum=0.9,
    )
    ours = getattr(optim.lr_scheduler, cls)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, cls)(theirs_opt, **kwargs)
    metrics = [3.0, 2.0, 2.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.0] * 3
    for step in range(20):
        for mine, their in zip(ours_opt.param_groups, theirs_opt.param_groups):
            assert mine["lr"] == pytest.approx(their["lr"], rel=1e-12, abs=1e-15), (name, step)
            assert mine["momentum"] == pytest.approx(their["momentum"], rel=1e-12), (name, step)
        theirs_opt.step()
        if cls == "ReduceLROnPlateau":
            ours.step(metrics[step])
            theirs.step(metrics[step])
        else:
            ours.step()
            theirs.step()
