"""Padding layers with PyTorch's names: constant (and zero), reflection, replication and circular
padding of the last one or two axes; see ``nn.functional.pad``."""

from collections.abc import Sequence
from typing import Any

from .. import checks
from .. import functional as F
from ..tensor import Tensor
from ..types import Number
from .module import Module


class _Pad(Module):
    """Pad the last ``dims`` axes by ``padding``: an int for every side, or (left, right) for 1-d and (left,
    right, top, bottom) for 2-d, as in PyTorch."""

    dims: int = 2
    mode: str = "constant"
    padding: tuple[int, ...]

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        count = 2 * self.dims
        values: Any = (padding,) * count if checks.is_integer(padding) else padding  # checked below
        if not isinstance(values, (tuple, list)) or len(values) != count or not all(map(checks.is_integer, values)):
            raise ValueError(f"{type(self).__name__}: padding must be an int or {count} ints, got {padding!r}")
        self.padding = tuple(int(v) for v in values)

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    value: float

    def __init__(self, padding: int | Sequence[int], value: Number) -> None:
        super().__init__(padding)
        self.value = checks.number(type(self).__name__, "value", value)

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pad the last axis with ``value``."""

    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last two axes with ``value``."""

    dims = 2


class _ZeroPad(_ConstantPad):
    """ConstantPad with value 0, shown as PyTorch shows it (the widths alone). A mixin: ZeroPad1d(_ZeroPad,
    ConstantPad1d) resolves to ZeroPad1d, _ZeroPad, ConstantPad1d, _ConstantPad, _Pad, Module."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last axis with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two axes with zeros."""


class ReflectionPad1d(_Pad):
    """Pad the last axis with its mirror image, the edge not repeated (each width less than the side)."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_Pad):
    """Pad the last two axes with their mirror image, the edge not repeated (each width less than the side)."""

    dims, mode = 2, "reflect"


class ReplicationPad1d(_Pad):
    """Pad the last axis by repeating its edge values."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_Pad):
    """Pad the last two axes by repeating their edge values."""

    dims, mode = 2, "replicate"


class CircularPad1d(_Pad):
    """Pad the last axis by wrapping around (each width at most the side)."""

    dims, mode = 1, "circular"


class CircularPad2d(_Pad):
    """Pad the last two axes by wrapping around (each width at most the side)."""

    dims, mode = 2, "circular"
