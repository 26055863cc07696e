"""``DistributedDataParallel``: the same model on every rank, its gradients averaged across ranks.

    model = DistributedDataParallel(build_model())   # same weights everywhere (rank 0's)
    loss = loss_fn(model(x_shard), y_shard)
    loss.backward()
    model.reduce_gradients()                          # .grad = the mean over the ranks
    optimizer.step()                                  # the same step on every rank

At construction every rank's parameter and buffer names, shapes and dtypes are compared
(a clear error names the first difference and the ranks), then rank 0's values are
broadcast. ``reduce_gradients`` packs the gradients into a few flat buckets (up to
``bucket_cap_mb`` each, one dtype per bucket, the parameters in reverse order, the same
on every rank), sums each bucket over the ranks with one ``Allreduce`` and divides by the
number of ranks. A parameter without a gradient counts as zero, so every rank reduces the
same buckets every step. Before the buckets, one small exchange checks that every rank is
after as many (training) forward passes, with the same buckets: a rank that skipped a
step or a reduction is an error, not a wrong sum.

Unlike PyTorch, the reduction is one explicit call after ``backward``: it happens exactly
when the program says, also after a backward that reached only some parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import checks, nn
from ..autograd import is_grad_enabled
from ..types import Array
from . import comm

#: Largest bucket, in MB: big enough that each Allreduce moves data rather than waiting on latency.
BUCKET_CAP_MB = 4.0


class Bucket:
    """Some parameters' gradients, flattened into one contiguous buffer of one dtype."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params])
        self.buffer = np.empty(int(self.offsets[-1]), dtype=params[0].data.dtype)

    def pack(self) -> None:
        """Copy every parameter's gradient into the buffer (zeros for a parameter that has none)."""
        for param, start, stop in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            grad = param.grad
            if grad is None:
                self.buffer[start:stop] = 0
            elif isinstance(grad, np.ndarray):
                self.buffer[start:stop] = grad.reshape(-1)
            else:
                raise TypeError(
                    f"DistributedDataParallel.reduce_gradients: parameter {param.name!r} holds a "
                    f"Tensor gradient (from backward(create_graph=True)); averaging across ranks needs "
                    f"plain array gradients"
                )

    def unpack(self) -> None:
        """Give every parameter its averaged gradient: a view into the buffer, like PyTorch's bucket views."""
        for param, start, stop in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            param.grad = self.buffer[start:stop].reshape(param.data.shape)


def make_buckets(params: Sequence[nn.Parameter], cap_bytes: float) -> list[Bucket]:
    """Parameters in reverse order (the last layers' gradients are final first), grouped into buckets of
    one dtype and at most ``cap_bytes`` (a bigger parameter gets a bucket of its own)."""
    buckets: list[Bucket] = []
    current: list[nn.Parameter] = []
    size = 0
    for param in reversed(params):
        nbytes = param.data.nbytes
        if current and (size + nbytes > cap_bytes or param.data.dtype != current[0].data.dtype):
            buckets.append(Bucket(current))
            current, size = [], 0
        current.append(param)
        size += nbytes
    if current:
        buckets.append(Bucket(current))
    return buckets


class DistributedDataParallel(nn.Module):
    """Wrap ``module`` for data-parallel training; call ``reduce_gradients()`` after each backward.

    Needs ``chainrule.distributed.init()`` first. The wrapper's forward is the module's; its
    ``state_dict`` keys start with ``module.`` as in PyTorch (save ``ddp.module.state_dict()``
    to get the plain model's). BatchNorm keeps running statistics per rank, from that rank's
    samples; ``sync_buffers()`` averages them (the training loop does so before each
    validation)."""

    def __init__(self, module: nn.Module, bucket_cap_mb: float = BUCKET_CAP_MB) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got {type(module).__name__}")
        bucket_cap_mb = checks.positive("DistributedDataParallel", "bucket_cap_mb", bucket_cap_mb)
        self.module = module
        self.world = comm.world()
        check_same_model(module)
        broadcast_state(module)
        self.params = [p for p in module.parameters() if p.requires_grad]
        self.buckets = make_buckets(self.params, bucket_cap_mb * 2**20)
        # Forward passes that record a graph (through the wrapper or the module itself): every rank must have
        # done as many at each reduction, so a rank that skipped a reduction, or a whole step, is caught.
        self.forwards = 0
        module.register_forward_hook(self._count_forward)

    def _count_forward(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if is_grad_enabled() and module.training:
            self.forwards += 1

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def reduce_gradients(self) -> None:
        """Replace every trainable parameter's ``.grad`` by its mean over the ranks (a parameter without a
        gradient counts as zero and gets the mean too). Every rank must call it at every step, after as
        many forward passes as the others."""
        size = self.world.size
        if size > 1:
            comm.agree(
                "gradients",
                sum(b.buffer.size for b in self.buckets),
                self.buckets[0].buffer.dtype if self.buckets else None,
                len(self.buckets),
                self.forwards,
            )
        MPI = self.world.MPI
        for bucket in self.buckets:
            bucket.pack()
            if size > 1:
                self.world.comm.Allreduce(MPI.IN_PLACE, bucket.buffer, MPI.SUM)
                np.divide(bucket.buffer, size, out=bucket.buffer)
            bucket.unpack()

    def sync_buffers(self) -> None:
        """Average the floating-point buffers (BatchNorm's running mean and variance) over the ranks and take
        the others (counters) from rank 0, so every rank evaluates and saves the same model."""
        floating = [b for _, b in self.module.named_buffers() if b.dtype.kind == "f"]
        others = [b for _, b in self.module.named_buffers() if b.dtype.kind != "f"]
        reductions: tuple[tuple[list[Array], Callable[[Array], object]], ...] = (
            (floating, lambda flat: comm.all_reduce(flat, "mean")),
            (others, lambda flat: comm.broadcast(flat, 0)),
        )
        for group, reduce in reductions:
            for arrays in _by_dtype(group):
                flat = np.concatenate([a.reshape(-1) for a in arrays])
                reduce(flat)
                _scatter(flat, arrays)


def model_signature(module: nn.Module) -> list[list[Any]]:
    """Every parameter and buffer as [kind, name, shape, dtype, requires_grad], in the model's order."""
    entries = [
        ["parameter", name, list(p.shape), p.data.dtype.name, bool(p.requires_grad)]
        for name, p in module.named_parameters()
    ]
    entries += [["buffer", name, list(b.shape), b.dtype.name, False] for name, b in module.named_buffers()]
    return entries


def check_same_model(module: nn.Module) -> None:
    """DistributedError on every rank unless every rank's model has the same parameters and buffers (names,
    shapes, dtypes, which ones train), naming the first difference and the ranks that differ from rank 0."""
    signatures = all_gather_json(model_signature(module))
    reference = signatures[0]
    differing = [r for r, signature in enumerate(signatures) if signature != reference]
    if differing:
        first = differing[0]
        raise comm.DistributedError(
            f"DistributedDataParallel: the ranks hold different models: "
            f"{comm.ranks_text(differing)} differ{'s' * (len(differing) == 1)} from rank 0; "
            f"first difference: {first_difference(reference, signatures[first], first)}"
        )


def first_difference(reference: list[list[Any]], other: list[list[Any]], rank: int) -> str:
    """The first entry where two model signatures differ, in words."""

    def show(entry: Sequence[Any]) -> str:
        kind, name, shape, dtype, trains = entry
        frozen = " (frozen)" if kind == "parameter" and not trains else ""
        return f"{kind} {name!r} of shape {tuple(shape)} {dtype}{frozen}"

    for index, (a, b) in enumerate(zip(reference, other)):
        if a != b:
            return f"entry {index} is the {show(a)} on rank 0 but the {show(b)} on rank {rank}"
    common = min(len(reference), len(other))
    holder, extra = (0, reference[common]) if len(reference) > common else (rank, other[common])
    return (
        f"rank 0 has {len(reference)} parameters and buffers, rank {rank} has {len(other)}; the first extra one "
        f"(on rank {holder}) is the {show(extra)}"
    )


def all_gather_json(value: object) -> list[Any]:
    """Every rank's ``value`` (JSON-serialisable), in rank order: the texts travel as bytes, never pickled."""
    w = comm.world()
    text = np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)
    if w.size == 1:
        return [value]
    lengths = comm.all_gather(np.array([text.size], dtype=np.int64))[:, 0]
    everything = np.empty(int(lengths.sum()), dtype=np.uint8)
    w.comm.Allgatherv(text, [everything, lengths])
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return [json.loads(everything[a:b].tobytes()) for a, b in zip(starts[:-1], starts[1:])]


def broadcast_state(module: nn.Module) -> None:
    """Give every rank rank 0's parameters and buffers (one broadcast per dtype)."""
    if comm.world().size == 1:
        return
    params = list(module.parameters())
    arrays = [p.data for p in params] + [b for _, b in module.named_buffers()]
    for group in _by_dtype(arrays):
        flat = np.concatenate([a.reshape(-1) for a in group])
        comm.broadcast(flat, 0)
        _scatter(flat, group)
    for param in params:
        param._bump_version()  # values changed in place: a graph recorded before must not reuse them


def _by_dtype(arrays: Iterable[Array]) -> list[list[Array]]:
    groups: dict[np.dtype[Any], list[Array]] = {}
    for array in arrays:
        groups.setdefault(array.dtype, []).append(array)
    return list(groups.values())


def _scatter(flat: Array, arrays: Iterable[Array]) -> None:
    """Copy consecutive pieces of ``flat`` back into ``arrays``, in place."""
    start = 0
    for array in arrays:
        np.copyto(array, flat[start : start + array.size].reshape(array.shape))
        start += array.size
