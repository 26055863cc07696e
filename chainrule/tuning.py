"""``tune_process_for_training()``: the process-wide settings that make training faster, made on request.

Importing chainrule changes nothing outside chainrule: a notebook, a web service or a test
suite that imports it keeps its allocator and its garbage collector as they were. A process
that is there to train (the command line's ``train``, ``evaluate`` and ``demo``, the
benchmarks, your own training script) calls this once at its start:

* malloc (glibc, Linux): keep up to 512 MiB of freed memory and serve arrays under 32 MiB
  from the heap, so each step reuses the last step's pages instead of faulting in fresh
  ones (chainrule/memory.py says why and what it costs: resident memory stays near its peak);
* the cycle collector: threshold0 from 700 up to 10,000 new objects, so recording and freeing
  a graph is not interrupted by scans that find nothing (chainrule/collector.py).

``CHAINRULE_MALLOC_KEEP`` and ``CHAINRULE_GC_THRESHOLD``, read at each call, override the
amounts, and ``0`` leaves that setting alone: for the command line they are the opt-outs. A
value that is not a whole number leaves its setting alone too, with a warning naming it.

The call returns a :class:`ProcessTuning` saying what changed; its ``undo()`` (or leaving
``with tune_process_for_training():``) takes the changes back. The collector's threshold is
restored exactly. glibc cannot report its malloc settings, so undo sets glibc's documented
defaults (``M_TRIM_THRESHOLD`` and ``M_MMAP_THRESHOLD`` 128 KiB): what an untouched process
starts with, except that glibc's own raising of the mmap threshold, which any ``mallopt``
call switches off, stays off, and settings given through ``GLIBC_TUNABLES`` are not
restored. Undo changes a setting back only while it still holds what this call made, so
a later change (another call, your own ``gc.set_threshold``) is kept.
"""

import gc
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from . import collector, memory

__all__ = ["ProcessTuning", "tune_process_for_training"]

_lock = threading.Lock()  # one tune or undo at a time: each reads a setting, then changes it


@dataclass(frozen=True)
class ProcessTuning:
    """What ``tune_process_for_training`` changed. ``malloc_*``: bytes of freed memory malloc keeps
    (None: glibc's own settings); ``gc_threshold_*``: ``gc.get_threshold()`` before and after."""

    malloc_before: int | None
    malloc_after: int | None
    gc_threshold_before: tuple[int, ...]
    gc_threshold_after: tuple[int, ...]

    @property
    def changed(self) -> bool:
        """True if the call changed anything."""
        return self.malloc_before != self.malloc_after or self.gc_threshold_before != self.gc_threshold_after

    def undo(self) -> "ProcessTuning":
        """Take back what the call changed, where it still holds (see the module docstring); returns self."""
        with _lock:
            if self.gc_threshold_before != self.gc_threshold_after and gc.get_threshold() == self.gc_threshold_after:
                gc.set_threshold(*self.gc_threshold_before)
            if self.malloc_before != self.malloc_after and memory.current_keep() == self.malloc_after:
                if self.malloc_before is None:
                    memory.restore_glibc_defaults()
                else:
                    memory.keep_freed_memory(self.malloc_before)
        return self

    def __enter__(self) -> "ProcessTuning":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.undo()

    def __str__(self) -> str:
        if not self.changed:
            return "process tuning: nothing changed"

        def malloc(keep: int | None) -> str:
            return "glibc's own settings" if keep is None else f"keep up to {keep / 2**20:g} MiB of freed memory"

        parts = []
        if self.malloc_before != self.malloc_after:
            parts.append(f"malloc: {malloc(self.malloc_before)} -> {malloc(self.malloc_after)}")
        if self.gc_threshold_before != self.gc_threshold_after:
            parts.append(f"cycle collector thresholds: {self.gc_threshold_before} -> {self.gc_threshold_after}")
        return "process tuning: " + "; ".join(parts)


def tune_process_for_training(*, malloc_keep: int | None = None, gc_threshold: int | None = None) -> ProcessTuning:
    """Make the process-wide settings that speed up training; returns a :class:`ProcessTuning`.

    ``malloc_keep`` (bytes of freed memory malloc keeps) and ``gc_threshold`` (the cycle
    collector's threshold0) default to ``CHAINRULE_MALLOC_KEEP`` / ``CHAINRULE_GC_THRESHOLD``,
    else 512 MiB and 10,000; 0 leaves that setting alone. The collector's threshold is only
    ever raised, and a collector switched off stays off. See the module docstring for undo.
    """
    if malloc_keep is None:
        malloc_keep = _from_environment(memory.keep_from_environment)
    if gc_threshold is None:
        gc_threshold = _from_environment(collector.threshold_from_environment)
    for name, value in (("malloc_keep", malloc_keep), ("gc_threshold", gc_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"tune_process_for_training: {name} must be a whole number >= 0 (0 leaves the "
                f"setting alone), got {value!r}"
            )
    with _lock:
        malloc_before, gc_before = memory.current_keep(), gc.get_threshold()
        if malloc_keep != malloc_before:
            memory.keep_freed_memory(malloc_keep)
        collector.collect_less_often(gc_threshold)
        return ProcessTuning(malloc_before, memory.current_keep(), gc_before, gc.get_threshold())


def _from_environment(read: Callable[[], int]) -> int:
    try:
        return read()
    except ValueError as error:  # leaving a setting alone is always safe; crashing a training run is not
        warnings.warn(
            f"tune_process_for_training: {error}; leaving that setting alone", RuntimeWarning, stacklevel=3
        )  # the caller of tune_process_for_training
        return 0
