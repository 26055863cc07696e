"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

import math
from typing import Any

from ..backend import xp
from ..tensor import Tensor
from ..types import Array
from .optimizer import Optimizer, ParamsT


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    Each step ``t = 1, 2, ...``, for a parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                      # if weight_decay != 0 (L2, coupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = maximum(v_max, v)                     # if amsgrad; then v_max replaces v below
        denom = sqrt(v) / sqrt(1 - beta2 ** t) + eps
        p = p - lr / (1 - beta1 ** t) * m / denom

    ``m`` and ``v`` start at zero. State per parameter: ``step``, ``exp_avg`` (m),
    ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (v_max).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            self._check(group, "betas", "in [0, 1)", value=beta, label=f"betas[{i}]")

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        grad = self._gradient(p, grad, group)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] = t = state.get("step", 0) + 1
        m = self._state_array(state, "exp_avg", p)
        v = self._state_array(state, "exp_avg_sq", p)
        work = self._buffer(p, "work")

        m *= beta1
        self._add_scaled(m, grad, 1.0 - beta1)

        v *= beta2
        xp.multiply(grad, grad, out=work)
        work *= 1.0 - beta2
        v += work

        if group["amsgrad"]:  # normalise by the largest v seen so far, so steps never grow back
            v_max = self._state_array(state, "max_exp_avg_sq", p)
            xp.maximum(v_max, v, out=v_max)
            v = v_max

        xp.sqrt(v, out=work)  # work = denom
        work /= math.sqrt(1.0 - beta2**t)
        work += eps
        xp.divide(m, work, out=work)
        self._add_scaled(p.data, work, -lr / (1.0 - beta1**t))

    def _gradient(self, p: Tensor, grad: Array, group: dict[str, Any]) -> Array:
        """Adam folds weight decay into the gradient (L2); AdamW overrides this."""
        return self._with_weight_decay(p, grad, group)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The decay shrinks the weights directly instead of entering ``m`` and ``v``; first::

        p = p * (1 - lr * weight_decay)

    then the Adam step above with ``weight_decay = 0``. Default ``weight_decay=1e-2``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _gradient(self, p: Tensor, grad: Array, group: dict[str, Any]) -> Array:
        weight_decay = float(group["weight_decay"])
        if weight_decay != 0:
            p.data *= 1.0 - float(group["lr"]) * weight_decay
        return grad
