"""Linear (fully connected) layer: y = x W^T + b, and Identity."""

import math
from typing import TypeVar

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import DType, TensorLike
from . import init
from .module import Module, Parameter

_T = TypeVar("_T")


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last axis: (..., in_features) -> (..., out_features).

    ``weight`` has shape (out_features, in_features), as in PyTorch; in memory it is an
    (in_features, out_features) array seen transposed (Fortran order), which OpenBLAS
    multiplies faster here. Checkpoints and ``state_dict`` hold the same values either way.
    Initialised like
    PyTorch's: weight ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(in), 1/sqrt(in)),
    and bias U(-1/sqrt(in), 1/sqrt(in)).
    """

    in_features: int
    out_features: int
    weight: Parameter
    bias: Parameter | None

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: DType = None) -> None:
        super().__init__()
        self.in_features = checks.size("Linear", "in_features", in_features)
        self.out_features = checks.size("Linear", "out_features", out_features)
        dtype = checks.float_dtype("Linear", dtype)
        # Stored (in, out) in memory and seen as its transpose: OpenBLAS multiplies x @ weight.T and computes
        # the weight's gradient as (x^T @ g)^T faster in this layout (see gates.nn_ops.Linear).
        self.weight = Parameter(xp.empty((self.in_features, self.out_features), dtype=dtype).T)
        if bias:
            self.bias = Parameter(xp.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight and bias again as PyTorch does: Kaiming uniform, bias uniform within 1/sqrt(in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        shape = x.shape
        if not shape or shape[-1] != self.in_features:
            got = f"{shape[-1]} features" if shape else "no feature axis"
            raise ValueError(f"{self._describe()}: input has {got} (shape {tuple(shape)}), expected {self.in_features}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer). Ignores positional arguments, so
    ``Identity(64)`` can stand where ``Linear(64, 64)`` was; unlike PyTorch's, it refuses keywords rather than
    swallowing them (chainrule takes no unknown keyword anywhere)."""

    def __init__(self, *args: object) -> None:
        super().__init__()

    def forward(self, x: _T) -> _T:
        return x
