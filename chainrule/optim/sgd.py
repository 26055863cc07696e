"""SGD: stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay."""

from typing import Any

from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from .optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    Each step, for a parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                      # if weight_decay != 0
        if momentum != 0:
            b = g                                     # first step
            b = momentum * b + (1 - dampening) * g    # later steps
            g = g + momentum * b if nesterov else b
        p = p - lr * g

    ``nesterov=True`` needs ``momentum > 0`` and ``dampening == 0``.
    State per parameter: ``momentum_buffer`` (only when momentum is used).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        self._check(group, "dampening", "non-negative")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        grad = self._with_weight_decay(p, grad, group)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                self._add_scaled(buf, grad, 1.0 - float(group["dampening"]))
            if group["nesterov"]:
                step = self._buffer(p, "step")
                xp.multiply(buf, momentum, out=step)
                step += grad
                grad = step
            else:
                grad = buf

        self._add_scaled(p.data, grad, -lr)
