"""Learning-rate schedules: set each parameter group's ``lr`` as a function of the epoch.

Like PyTorch, a scheduler counts in ``last_epoch``: creating it sets the epoch-0 learning
rate (``last_epoch == 0``), and each ``step()`` (call it after ``optimizer.step()``)
moves one epoch on. Each schedule here is a closed form ``lr(base_lr, epoch)``, where
``base_lr`` is the group's learning rate when the scheduler was made (kept in the group
as ``initial_lr``), so a resumed run lands on exactly the same numbers.

    opt = SGD(model.parameters(), lr=0.1)
    sched = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()
"""

import math
import numbers
from .. import checks



class LRScheduler:
    """Base class: subclasses write ``_lr_at(base_lr, epoch)``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{self._name}: expected an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{self._name}: resuming at last_epoch={last_epoch} needs 'initial_lr' "
                                   f"in parameter group {i}; load the optimizer's state dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    @property
    def _name(self):
        return type(self).__name__

    def step(self):
        """Move one epoch on and set every group's learning rate for it."""
        self.last_epoch += 1
        self._last_lr = [self._lr_at(base_lr, self.last_epoch) for base_lr in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self):
        """The learning rates (one per parameter group) the last ``step()`` set."""
        return list(self._last_lr)

    def _lr_at(self, base_lr, epoch):
        raise NotImplementedError(f"{self._name} must implement _lr_at(base_lr, epoch)")

    def state_dict(self):
        """Everything but the optimizer (which has its own state dict)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()``, and put the resumed epoch's learning rates in the groups.

        Setting them makes the order of loading free: making a scheduler sets the epoch-0
        rate, which would otherwise stay until the next ``step()``.
        """
        self.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()})
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _require(self, option, value, ok, must_be):
        if not checks.is_real(value) or not ok(value):
            raise ValueError(f"{self._name}: {option} must be {must_be}, got {value!r}")


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma ** (epoch // step_size)``
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._require("step_size", step_size, lambda v: isinstance(v, numbers.Integral) and v > 0,
                      "a positive integer")
        self._require("gamma", gamma, lambda v: v > 0, "positive")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    ``lr = base_lr * gamma ** epoch``
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._require("gamma", gamma, lambda v: v > 0, "positive")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``

    Past ``T_max`` the cosine goes on (back up, then down again), as in PyTorch.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._require("T_max", T_max, lambda v: isinstance(v, numbers.Integral) and v > 0, "a positive integer")
        self._require("eta_min", eta_min, lambda v: v >= 0, "non-negative")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearWarmup(LRScheduler):
    """Grow the learning rate linearly from ``start_factor * base_lr`` to ``base_lr``, then hold it.

    ``lr = base_lr * (start_factor + (1 - start_factor) * min(epoch, warmup_steps) / warmup_steps)``

    The default ``start_factor=1/3`` matches ``torch.optim.lr_scheduler.LinearLR`` with
    ``end_factor=1`` and ``total_iters=warmup_steps``; 0 starts from a learning rate of 0.
    """

    def __init__(self, optimizer, warmup_steps, start_factor=1.0 / 3, last_epoch=-1):
        self._require("warmup_steps", warmup_steps, lambda v: isinstance(v, numbers.Integral) and v > 0,
                      "a positive integer")
        self._require("start_factor", start_factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        self.warmup_steps, self.start_factor = warmup_steps, start_factor
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch):
        progress = min(epoch, self.warmup_steps) / self.warmup_steps
        return base_lr * (self.start_factor + (1 - self.start_factor) * progress)
