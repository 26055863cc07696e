"""``nn.utils``: gradient clipping (here) and, in ``nn.utils.rnn``, batches of sequences of unequal length.

Gradient clipping keeps one bad batch from throwing the weights far away. Both functions replace ``p.grad``
with a new, clipped array rather than writing into it, because a gradient array may be shared (with
another parameter, or the user).
"""

import math
from collections.abc import Iterable
from typing import cast

from ... import checks
from ...backend import xp
from ...tensor import Tensor
from . import rnn as rnn  # nn.utils.rnn, as in PyTorch


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if hasattr(parameters, "data") and hasattr(parameters, "grad"):
        parameters = [cast(Tensor, parameters)]  # a single parameter, as PyTorch allows
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale the gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients seen as one vector
    (``"inf"`` for the largest absolute value). When it exceeds ``max_norm`` every
    gradient is multiplied by ``max_norm / (total_norm + 1e-6)``, as in PyTorch.
    Returns the total norm before clipping, as a float (0.0 when there are no gradients).

    ``error_if_nonfinite=True`` raises instead of clipping when the norm is nan or inf.
    """
    if not checks.is_real(max_norm) or not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, got {max_norm!r}")
    norm_type = float(norm_type)
    params = _with_grads(parameters)
    if not params:
        return 0.0

    # Norm of the per-array norms equals the norm of everything concatenated, without the copy.
    norms = [float(xp.linalg.norm(p.grad.reshape(-1), ord=norm_type)) for p in params]
    total = float(xp.linalg.norm(xp.asarray(norms, dtype=xp.float64), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}, "
            f"so they cannot be clipped; pass error_if_nonfinite=False to scale them anyway"
        )

    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # also when the norm is nan or inf: the gradients turn nan/0, as in PyTorch
        for p in params:
            p.grad = p.grad * coef  # a Python float keeps a float32 gradient float32
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``."""
    if not checks.is_real(clip_value) or not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, got {clip_value!r}")
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad = xp.clip(p.grad, -clip_value, clip_value)
