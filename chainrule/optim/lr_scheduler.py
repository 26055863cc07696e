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

PyTorch's schedules are here under their names (``LambdaLR``, ``MultiStepLR``, ``LinearLR``,
``ConstantLR``, ``PolynomialLR``, ``OneCycleLR``; ``ReduceLROnPlateau`` steps on a metric), with
their arguments and values; PyTorch computes most of them step by step, so its numbers can differ
from these closed forms in the last bits.
"""

import bisect
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar, cast

from .. import checks
from ..keywords import CheckedKeywords
from .optimizer import Optimizer

_V = TypeVar("_V")


class LRScheduler(CheckedKeywords):
    """Base class: subclasses write ``_lr_at(base_lr, epoch)``."""

    optimizer: Optimizer
    base_lrs: list[float]
    last_epoch: int
    _last_lr: list[float]

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{self._name}: expected an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{self._name}: resuming at last_epoch={last_epoch} needs 'initial_lr' "
                        f"in parameter group {i}; load the optimizer's state dict first"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    @property
    def _name(self) -> str:
        return type(self).__name__

    def step(self) -> None:
        """Move one epoch on and set every group's learning rate for it."""
        self.last_epoch += 1
        self._last_lr = self._lrs_at(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _lrs_at(self, epoch: int) -> list[float]:
        """Each group's learning rate at ``epoch``."""
        return [self._lr_at(base_lr, epoch) for base_lr in self.base_lrs]

    def get_last_lr(self) -> list[float]:
        """The learning rates (one per parameter group) the last ``step()`` set."""
        return list(self._last_lr)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError(f"{self._name} must implement _lr_at(base_lr, epoch)")

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has its own state dict)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from ``state_dict()``, and put the resumed epoch's learning rates in the groups.

        Setting them makes the order of loading free: making a scheduler sets the epoch-0
        rate, which would otherwise stay until the next ``step()``.
        """
        self.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()})
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _require(self, option: str, value: Any, ok: Callable[[Any], bool], must_be: str) -> None:
        if not checks.is_real(value) or not ok(value):
            raise ValueError(f"{self._name}: {option} must be {must_be}, got {value!r}")


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma ** (epoch // step_size)``
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self._require(
            "step_size", step_size, lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0, "a positive integer"
        )
        self._require("gamma", gamma, lambda v: v > 0, "positive")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    ``lr = base_lr * gamma ** epoch``
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self._require("gamma", gamma, lambda v: v > 0, "positive")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``

    Past ``T_max`` the cosine goes on (back up, then down again), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self._require(
            "T_max", T_max, lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0, "a positive integer"
        )
        self._require("eta_min", eta_min, lambda v: v >= 0, "non-negative")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearWarmup(LRScheduler):
    """Grow the learning rate linearly from ``start_factor * base_lr`` to ``base_lr``, then hold it.

    ``lr = base_lr * (start_factor + (1 - start_factor) * min(epoch, warmup_steps) / warmup_steps)``

    The default ``start_factor=1/3`` matches ``torch.optim.lr_scheduler.LinearLR`` with
    ``end_factor=1`` and ``total_iters=warmup_steps``; 0 starts from a learning rate of 0.
    """

    def __init__(
        self, optimizer: Optimizer, warmup_steps: int, start_factor: float = 1.0 / 3, last_epoch: int = -1
    ) -> None:
        self._require(
            "warmup_steps",
            warmup_steps,
            lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0,
            "a positive integer",
        )
        self._require("start_factor", start_factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        self.warmup_steps, self.start_factor = warmup_steps, start_factor
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        progress = min(epoch, self.warmup_steps) / self.warmup_steps
        return base_lr * (self.start_factor + (1 - self.start_factor) * progress)


def _per_group(scheduler: LRScheduler, name: str, value: _V | Sequence[_V]) -> list[_V]:
    """One value per parameter group: a list of that length, or one value for all (PyTorch's rule)."""
    groups = scheduler.optimizer.param_groups
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                f"{scheduler._name}: expected {len(groups)} values of {name} (one per parameter "
                f"group), got {len(value)}"
            )
        return list(value)
    return [cast(_V, value)] * len(groups)


class LambdaLR(LRScheduler):
    """The learning rate times a function of the epoch: ``lr = base_lr * lr_lambda(epoch)`` (``lr_lambda`` one
    function, or a list of one per parameter group). The functions are not saved by ``state_dict``."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group(self, "lr_lambda", lr_lambda)
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"{self._name}: lr_lambda must be a function of the epoch, got {f!r}")
        super().__init__(optimizer, last_epoch)

    def _lrs_at(self, epoch: int) -> list[float]:
        return [base_lr * f(epoch) for base_lr, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        del state["lr_lambdas"]  # functions: the program that made them makes them again
        return state


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each of the ``milestones`` (epochs; a repeated one counts
    each time): ``lr = base_lr * gamma ** (number of milestones <= epoch)``."""

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        milestones = list(milestones)
        for m in milestones:
            self._require(
                "milestones",
                m,
                lambda v: isinstance(v, numbers.Integral) and cast(int, v) >= 0,
                "non-negative integers",
            )
        self._require("gamma", gamma, lambda v: v > 0, "positive")
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ConstantLR(LRScheduler):
    """``factor * base_lr`` for the first ``total_iters`` epochs, then ``base_lr``."""

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        self._require("factor", factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        self._require(
            "total_iters",
            total_iters,
            lambda v: isinstance(v, numbers.Integral) and cast(int, v) >= 0,
            "a non-negative integer",
        )
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (self.factor if epoch < self.total_iters else 1.0)


class LinearLR(LRScheduler):
    """PyTorch's LinearLR: the factor grows (or shrinks) linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stays: ``lr = base_lr * (start + (end - start) * min(epoch, total_iters) /
    total_iters)``. (``LinearWarmup`` is the same with ``end_factor=1``.)"""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self._require("start_factor", start_factor, lambda v: 0 < v <= 1, "in (0, 1]")
        self._require("end_factor", end_factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        self._require(
            "total_iters",
            total_iters,
            lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0,
            "a positive integer",
        )
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class PolynomialLR(LRScheduler):
    """Decay to 0 over ``total_iters`` epochs along a polynomial: ``lr = base_lr * (1 - min(epoch, total_iters)
    / total_iters) ** power``."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self._require(
            "total_iters",
            total_iters,
            lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0,
            "a positive integer",
        )
        self._require("power", power, lambda v: v >= 0, "non-negative")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        lr: float = base_lr * (1 - min(epoch, self.total_iters) / self.total_iters) ** self.power
        return lr


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped after every batch: the learning rate rises from ``max_lr / div_factor`` to
    ``max_lr`` over the first ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then falls to
    ``max_lr / div_factor / final_div_factor`` (``anneal_strategy`` "cos" or "linear"; ``three_phase`` comes
    back to the start first, then falls). With ``cycle_momentum`` the momentum (SGD's ``momentum`` or Adam's
    first beta) moves the other way, between ``max_momentum`` and ``base_momentum``. As in PyTorch, it sets
    each group's ``initial_lr``, ``max_lr`` and ``min_lr``, and stepping past ``total_steps`` is an error."""

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{self._name}: give total_steps, or epochs and steps_per_epoch")
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                self._require(
                    name, value, lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0, "a positive integer"
                )
            total_steps = epochs * steps_per_epoch
        self._require(
            "total_steps",
            total_steps,
            lambda v: isinstance(v, numbers.Integral) and cast(int, v) > 0,
            "a positive integer",
        )
        self._require("pct_start", pct_start, lambda v: 0 <= v <= 1, "in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{self._name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy, self.cycle_momentum = int(total_steps), anneal_strategy, cycle_momentum
        up = float(pct_start * total_steps) - 1
        # (last step of the phase, lr from, lr to, momentum from, momentum to), by group keys
        self.phases: list[tuple[float, str, str, str, str]] = (
            [
                (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
            if three_phase
            else [
                (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        )
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group(self, "max_lr", max_lr)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{self._name}: cycle_momentum needs an optimizer with momentum or betas "
                    f"({type(optimizer).__name__} has neither); pass cycle_momentum=False"
                )
            self.use_beta1: bool = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group, high, low in zip(
                    optimizer.param_groups,
                    _per_group(self, "max_momentum", max_momentum),
                    _per_group(self, "base_momentum", base_momentum),
                ):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def _lrs_at(self, step: int) -> list[float]:
        if step > self.total_steps:
            raise ValueError(f"{self._name}: stepped {step} times, but the cycle has total_steps={self.total_steps}")
        lrs: list[float] = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(self.phases):
                if step <= end or i == len(self.phases) - 1:
                    fraction = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], fraction))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[momentum_from], group[momentum_to], fraction))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(CheckedKeywords):
    """Divide the learning rate when a metric stops improving: ``step(metric)`` after each evaluation; after
    more than ``patience`` epochs without an improvement (by ``threshold``, relative or absolute, for ``mode``
    "min" or "max"), every group's lr is multiplied by ``factor`` (not below ``min_lr``), then ``cooldown``
    epochs pass before counting again. PyTorch's rule and arguments."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"ReduceLROnPlateau: expected an optimizer, got {type(optimizer).__name__}")
        if not checks.is_real(factor) or not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(groups)} values of min_lr, got {len(min_lr)}")
            self.min_lrs: list[float] = list(min_lr)
        else:
            self.min_lrs = [cast(float, min_lr)] * len(groups)
        self.last_epoch = 0
        self.best: float = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in groups]

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            return value < (
                self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            )
        return value > (
            self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        )

    def step(self, metrics: Any) -> None:
        """Record this epoch's metric (a number or a one-element tensor) and lower the rates if it is time."""
        value = float(metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, floor)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group after the last step."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: the best value so far, the counters, the last rates."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()})
