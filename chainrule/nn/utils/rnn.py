"""Batches of sequences of unequal length, as PyTorch's ``nn.utils.rnn`` handles them.

``pad_sequence`` stacks sequences of different lengths into one padded tensor.
``pack_padded_sequence`` turns a padded batch and its lengths into a ``PackedSequence``: the
valid time steps only, time step by time step, longest sequences first (``batch_sizes[t]``
sequences are still running at step t). The recurrent layers take a ``PackedSequence`` and
return one; each sequence's state then stops at its own last step (and, going backwards,
starts there), so padding never reaches the result. ``pad_packed_sequence`` turns it back into
a padded tensor and the lengths.

Every conversion is one indexing gate, so gradients flow through packing and unpacking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ...backend import xp
from ...gates.common import as_tensor, data
from ...gates.shape import cat
from ...tensor import Tensor
from ...types import Array, TensorLike


class PackedSequence(NamedTuple):
    """``data`` (total steps, *features): the valid steps, step by step, each step's running sequences
    longest first; ``batch_sizes`` (int64, one per step); ``sorted_indices`` (the batch order of the
    packed sequences: sequence ``sorted_indices[i]`` of the padded batch is the i-th longest) and
    ``unsorted_indices`` (its inverse), or None when the batch was already sorted."""

    data: Tensor
    batch_sizes: npt.NDArray[np.int64]
    sorted_indices: npt.NDArray[np.intp] | None = None
    unsorted_indices: npt.NDArray[np.intp] | None = None

    def lengths(self) -> npt.NDArray[np.int64]:
        """The length of each sequence, in the original batch order."""
        sorted_lengths = lengths_from_batch_sizes(self.batch_sizes)
        return sorted_lengths if self.unsorted_indices is None else sorted_lengths[self.unsorted_indices]


def lengths_from_batch_sizes(batch_sizes: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The lengths, longest first, of the sequences packed with these batch sizes."""
    batch_sizes = xp.asarray(batch_sizes)
    counts: Array = (batch_sizes[None, :] > xp.arange(batch_sizes[0])[:, None]).sum(axis=1)
    return counts.astype(xp.int64)


def packed_positions(batch_sizes: npt.NDArray[np.integer[Any]]) -> tuple[Array, Array]:
    """(time step, sorted batch position) of every row of a packed ``data``, in order."""
    steps = xp.repeat(xp.arange(len(batch_sizes)), batch_sizes)
    starts = xp.repeat(xp.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    return steps, xp.arange(len(steps)) - starts


def _check_lengths(lengths: TensorLike, steps: int, batch: int, where: str) -> npt.NDArray[np.int64]:
    lengths = xp.asarray(data(lengths))
    if lengths.dtype.kind not in "iu" or lengths.shape != (batch,):
        raise ValueError(
            f"{where}: lengths must hold one integer per sequence ({batch}), got "
            f"{lengths.dtype} of shape {tuple(lengths.shape)}"
        )
    if batch and (lengths.min() < 1 or lengths.max() > steps):
        raise ValueError(
            f"{where}: every length must be between 1 and the padded length {steps}, got {lengths.tolist()}"
        )
    return lengths.astype(xp.int64)


def pack_padded_sequence(
    input: TensorLike, lengths: TensorLike, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """A ``PackedSequence`` of the padded batch ``input`` (T, B, *) (or (B, T, *) with ``batch_first``)
    whose sequences have the given ``lengths``. With ``enforce_sorted`` the lengths must be in
    decreasing order; otherwise the batch is sorted here and the order kept to undo it."""
    where = "pack_padded_sequence"
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"{where}: input must be at least 2-d (T, B, *) or (B, T, *), got shape {tuple(x.shape)}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    lengths = _check_lengths(lengths, steps, batch, where)
    sorted_indices: npt.NDArray[np.intp] | None
    unsorted_indices: npt.NDArray[np.intp] | None
    if enforce_sorted:
        if (xp.diff(lengths) > 0).any():
            raise ValueError(
                f"{where}: lengths {lengths.tolist()} are not in decreasing order; sort the batch or "
                f"pass enforce_sorted=False"
            )
        sorted_indices = unsorted_indices = None
        order = xp.arange(batch)
    else:
        order = sorted_indices = xp.argsort(-lengths, kind="stable")
        unsorted_indices = xp.argsort(sorted_indices)
    batch_sizes = (lengths[None, :] > xp.arange(int(lengths.max()))[:, None]).sum(axis=1).astype(xp.int64)
    steps_index, positions = packed_positions(batch_sizes)
    rows = (order[positions], steps_index) if batch_first else (steps_index, order[positions])
    return PackedSequence(x[rows], batch_sizes, sorted_indices, unsorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, npt.NDArray[np.int64]]:
    """The padded batch (T, B, *) (or (B, T, *)) and the lengths (int64, in the original order) of a
    ``PackedSequence``; ``total_length`` pads to that many steps."""
    where = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{where}: expected a PackedSequence, got {type(sequence).__name__}")
    packed = as_tensor(sequence.data)
    batch_sizes = xp.asarray(sequence.batch_sizes)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{where}: total_length ({total_length}) is less than the longest sequence ({steps})")
        steps = int(total_length)
    padding = Tensor(xp.full((1,) + packed.shape[1:], padding_value, dtype=packed.dtype))
    index = xp.full((steps, batch), len(packed.data))  # the padding row, unless a step is there
    steps_index, positions = packed_positions(batch_sizes)
    index[steps_index, positions] = xp.arange(len(steps_index))
    if sequence.unsorted_indices is not None:
        index = index[:, sequence.unsorted_indices]
    padded = cat([packed, padding])[index.T if batch_first else index]
    return padded, sequence.lengths()


def pad_sequence(
    sequences: Iterable[TensorLike], batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Sequences (L_i, *) of different lengths as one tensor (T, B, *) (or (B, T, *)), T the longest,
    the rest filled with ``padding_value`` after each sequence (or before: ``padding_side="left"``)."""
    where = "pad_sequence"
    tensors = [as_tensor(s) for s in sequences]
    if not tensors:
        raise ValueError(f"{where}: expected at least one sequence")
    if padding_side not in ("right", "left"):
        raise ValueError(f"{where}: padding_side must be 'right' or 'left', got {padding_side!r}")
    trailing = tensors[0].shape[1:]
    for i, t in enumerate(tensors):
        if t.ndim < 1 or t.shape[1:] != trailing:
            raise ValueError(
                f"{where}: every sequence must be (length, {', '.join(map(str, trailing)) or '*'}); "
                f"sequence {i} has shape {tuple(t.shape)}, sequence 0 {tuple(tensors[0].shape)}"
            )
    lengths = xp.array([t.shape[0] for t in tensors])
    steps, total = int(lengths.max()), int(lengths.sum())
    padding = Tensor(xp.full((1,) + trailing, padding_value, dtype=tensors[0].dtype))
    index = xp.full((steps, len(tensors)), total)
    starts = xp.cumsum(lengths) - lengths
    for b, (start, length) in enumerate(zip(starts, lengths)):
        offset = 0 if padding_side == "right" else steps - length
        index[offset : offset + length, b] = xp.arange(start, start + length)
    return cat(tensors + [padding])[index.T if batch_first else index]


def pack_sequence(sequences: Sequence[TensorLike] | Tensor, enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)``."""
    lengths = [as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "packed_positions",
    "lengths_from_batch_sizes",
]
