"""Activation layers: nonlinearities applied element by element (or along ``dim`` for softmax).

``inplace`` arguments are accepted for PyTorch compatibility and have no effect: the
result is always a new tensor.
"""

from .. import checks
from .. import functional as F
from ..tensor import Tensor
from ..types import Number, TensorLike
from .module import Module


class ReLU(Module):
    """max(0, x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    negative_slope: float

    def __init__(self, negative_slope: Number = 0.01, inplace: bool = False) -> None:
        super().__init__()
        if not checks.is_real(negative_slope):
            raise ValueError(f"LeakyReLU: negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: TensorLike) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: TensorLike) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: TensorLike) -> Tensor:
        return F.tanh(x)


class SiLU(Module):
    """x * sigmoid(x) (also called swish)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.silu(x)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""

    approximate: str

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: TensorLike) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    alpha: float

    def __init__(self, alpha: Number = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not checks.is_real(alpha):
            raise ValueError(f"ELU: alpha must be a number, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x: TensorLike) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, a smooth ReLU; linear where beta * x > threshold."""

    beta: float
    threshold: float

    def __init__(self, beta: Number = 1.0, threshold: Number = 20.0) -> None:
        super().__init__()
        if not checks.is_real(beta) or beta == 0:
            raise ValueError(f"Softplus: beta must be a non-zero number, got {beta!r}")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: TensorLike) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x limited to [min_val, max_val] (gradient 0 at the two ends, as in PyTorch)."""

    min_val: float
    max_val: float

    def __init__(self, min_val: Number = -1.0, max_val: Number = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val = checks.number("Hardtanh", "min_val", min_val)
        self.max_val = checks.number("Hardtanh", "max_val", max_val)
        if self.min_val > self.max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")

    def forward(self, x: TensorLike) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.relu6(x)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.hardsigmoid(x)


class Hardswish(Module):
    """x * relu6(x + 3) / 6."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.hardswish(x)


class Mish(Module):
    """x * tanh(softplus(x))."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.mish(x)


class SELU(Module):
    """scale * elu(x, alpha) with the self-normalising constants."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: TensorLike) -> Tensor:
        return F.selu(x)


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    alpha: float

    def __init__(self, alpha: Number = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = checks.number("CELU", "alpha", alpha)
        if self.alpha == 0:
            raise ValueError("CELU: alpha must not be 0")

    def forward(self, x: TensorLike) -> Tensor:
        return F.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: TensorLike) -> Tensor:
        return F.softsign(x)


class LogSigmoid(Module):
    """log(sigmoid(x)), without overflow."""

    def forward(self, x: TensorLike) -> Tensor:
        return F.logsigmoid(x)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``: each slice becomes a probability distribution."""

    dim: int

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = _dim("Softmax", dim)

    def forward(self, x: TensorLike) -> Tensor:
        return F.softmax(x, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (pair it with NLLLoss)."""

    dim: int

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = _dim("LogSoftmax", dim)

    def forward(self, x: TensorLike) -> Tensor:
        return F.log_softmax(x, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _dim(layer: str, dim: int) -> int:
    if not checks.is_integer(dim):
        raise TypeError(f"{layer}: dim must be an integer axis (e.g. dim=1 for (batch, classes)), got {dim!r}")
    return int(dim)
