"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from typing import Any

from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from .optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``.

    Each step, for a parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                      # if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g
        if centered:                                  # estimate the variance, not the raw 2nd moment
            g_avg = alpha * g_avg + (1 - alpha) * g
            avg = sqrt(v - g_avg * g_avg) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    ``v``, ``g_avg`` and ``b`` start at zero. State per parameter: ``step``,
    ``square_avg`` (v), ``grad_avg`` (if centered), ``momentum_buffer`` (if momentum > 0).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        self._check(group, "alpha", "non-negative")

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        grad = self._with_weight_decay(p, grad, group)
        lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        state["step"] = state.get("step", 0) + 1
        v = self._state_array(state, "square_avg", p)
        work = self._buffer(p, "work")

        v *= alpha
        xp.multiply(grad, grad, out=work)
        work *= 1.0 - alpha
        v += work

        if group["centered"]:
            g_avg = self._state_array(state, "grad_avg", p)
            g_avg *= alpha
            xp.multiply(grad, 1.0 - alpha, out=work)
            g_avg += work
            xp.multiply(g_avg, g_avg, out=work)
            xp.subtract(v, work, out=work)
            xp.sqrt(work, out=work)
        else:
            xp.sqrt(v, out=work)
        work += eps  # work = avg

        xp.divide(grad, work, out=work)  # work = g / avg
        if momentum > 0:
            b = self._state_array(state, "momentum_buffer", p)
            b *= momentum
            b += work
            xp.multiply(b, lr, out=work)
        else:
            work *= lr
        p.data -= work
