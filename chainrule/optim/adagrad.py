"""Adagrad: per-coordinate step sizes that shrink with the sum of squared gradients."""

from typing import Any

from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from .optimizer import Optimizer, ParamsT


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    Each step ``t = 1, 2, ...``, for a parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                      # if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                                 # s starts at initial_accumulator_value
        p = p - clr * g / (sqrt(s) + eps)

    State per parameter: ``step`` and ``sum`` (s).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        self._check(group, "lr_decay", "non-negative")
        self._check(group, "initial_accumulator_value", "non-negative")

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        grad = self._with_weight_decay(p, grad, group)
        state["step"] = t = state.get("step", 0) + 1
        s = self._state_array(state, "sum", p, fill=float(group["initial_accumulator_value"]))
        work = self._buffer(p, "work")
        clr = float(group["lr"]) / (1.0 + (t - 1) * float(group["lr_decay"]))

        xp.multiply(grad, grad, out=work)
        s += work
        xp.sqrt(s, out=work)
        work += float(group["eps"])
        xp.divide(grad, work, out=work)
        work *= clr
        p.data -= work
