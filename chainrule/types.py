"""Names for the types that chainrule's signatures use, for readers, editors and type checkers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .tensor import Tensor

#: Anything an operation turns into a Tensor: a Tensor, a NumPy array, a Python or NumPy number, nested lists.
TensorLike = Union["Tensor", npt.ArrayLike]  # noqa: UP007  (a forward reference: no | at run time)
#: A NumPy array of any dtype and shape: what a gate's forward and backward compute on.
Array = npt.NDArray[Any]
#: A number taken as a constant (not a bool).
Number = int | float | np.integer | np.floating
#: One dimension, several, or None for all of them.
Dims = int | Sequence[int] | None
#: A shape, as a tuple or list of ints.
Shape = Sequence[int]
#: A dtype as NumPy takes it (np.float32, "float64", ...), or None for the default.
DType = npt.DTypeLike | None
#: An index into a tensor: ints, slices, None, Ellipsis, integer or boolean arrays or Tensors, or a tuple of them.
Index = Any


class ValuesIndices(NamedTuple):
    """What sort, topk, kthvalue, median(dim), max(dim), min(dim), cummax and cummin return, as PyTorch's
    ``torch.return_types``: a pair that unpacks (``values, indices = x.sort()``) or reads by name
    (``x.max(1).indices``). The values carry the gradient; the indices are int64."""

    values: Tensor
    indices: Tensor
