"""The same runs through torch.optim, when PyTorch is installed (it is not a dependency)."""

import numpy as np
import pytest

from chainrule import optim
from chainrule.nn.utils import clip_grad_norm_
from chainrule.tensor import Tensor

torch = pytest.importorskip("torch")

STEPS = 6

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
]


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_same_trajectory_as_torch(name, options):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((4, 3))
    ours = Tensor(p0.copy(), requires_grad=True)
    theirs = torch.tensor(p0.copy(), requires_grad=True)
    opt = getattr(optim, name)([ours], **options)
    topt = getattr(torch.optim, name)([theirs], **options, foreach=False)
    for _ in range(STEPS):
        g = rng.standard_normal(p0.shape)
        ours.grad, theirs.grad = g.copy(), torch.tensor(g)
        opt.step()
        topt.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (
            lambda o: optim.StepLR(o, step_size=3, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (lambda o: optim.ExponentialLR(o, gamma=0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        (
            lambda o: optim.CosineAnnealingLR(o, T_max=8, eta_min=0.001),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.001),
        ),
        (
            lambda o: optim.LinearWarmup(o, warmup_steps=5),
            lambda o: torch.optim.lr_scheduler.LinearLR(o, total_iters=5),
        ),
    ],
    ids=["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup"],
)
def test_same_schedule_as_torch(ours, theirs):
    opt = optim.SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    sched, tsched = ours(opt), theirs(topt)
    for _ in range(20):  # past T_max too: both keep following the cosine
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-9, abs=1e-15)
        assert sched.last_epoch == tsched.last_epoch
        topt.step()
        sched.step()
        tsched.step()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_same_clipping_as_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad, tp.grad = g.copy(), torch.tensor(g)
    total = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm=0.5, norm_type=norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
