"""Keep freed memory in the process for the next training step (part of ``tune_process_for_training``).

A training step allocates and frees the same large arrays every time (activations,
im2col columns, gradients: megabytes each). With glibc's default settings, memory
freed at the top of the heap goes back to the operating system once more than a
few megabytes are free there, and arrays above a size threshold get pages of their
own from the system each time. So the next step's arrays arrive as fresh pages, and
every 4 KiB page costs a page fault when it is first written: about 6,000 faults
(10 ms of a 30 ms step) per LeNet step at batch 64, 3,000 per MLP step at batch 1024,
7,000 per step of the batch-normalized LeNet at batch 256. Two malloc settings remove
them (0 to 1 fault per step on those workloads, measured):

- ``M_TRIM_THRESHOLD``: keep up to this much freed memory at the top of the heap
  (512 MiB by default) instead of handing it back;
- ``M_MMAP_THRESHOLD``: serve arrays below 32 MiB from the heap. glibc raises its
  threshold towards this value by itself as large arrays are freed, but another
  library's allocations in the same process (PyTorch's, measured) keep pulling it
  back down.

The cost: the process's resident memory stays near its peak instead of shrinking
between steps (it never grows past the peak because of this: only pages the process
has already used are kept).

These are settings of the whole process, so importing chainrule never makes them:
``chainrule.tune_process_for_training()`` does (see chainrule/tuning.py), on Linux
with glibc only (elsewhere nothing happens). ``CHAINRULE_MALLOC_KEEP=0`` makes that
call leave malloc alone; a number of bytes chooses how much freed memory to keep.

glibc has no call that reads these settings back, so this module remembers what it
set (``current_keep``), and ``restore_glibc_defaults`` puts glibc's documented
defaults back rather than whatever was there before.
"""

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

DEFAULT_KEEP = 512 * 2**20
MMAP_THRESHOLD = 32 * 2**20  # the most glibc's own adjustment would reach (on 64-bit systems)
# glibc's documented defaults (mallopt(3)): both thresholds start at 128 KiB.
GLIBC_DEFAULT_TRIM_THRESHOLD = 128 * 2**10
GLIBC_DEFAULT_MMAP_THRESHOLD = 128 * 2**10
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h> constants

_current_keep: int | None = None  # bytes that keep_freed_memory asked glibc to keep, while that setting holds


def keep_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """The bytes of freed memory ``CHAINRULE_MALLOC_KEEP`` asks to keep (the default when unset)."""
    return setting_from_environment("CHAINRULE_MALLOC_KEEP", DEFAULT_KEEP, "bytes (0 to leave malloc alone)", environ)


def setting_from_environment(name: str, default: int, expected: str, environ: Mapping[str, str] = os.environ) -> int:
    """The whole number ``environ[name]`` holds, ``default`` when it is unset or blank; anything else
    is an error naming the variable, what it holds and the ``expected`` kind of number."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"{name}: expected a number of {expected}, got {text!r}")
    return int(text)


def current_keep() -> int | None:
    """The bytes of freed memory chainrule asked malloc to keep, or None when malloc has its own settings."""
    return _current_keep


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's mallopt, or None (not Linux, or a libc without it: musl has none)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt


def _set_thresholds(trim: int, mmap: int) -> bool:
    mallopt = _mallopt()
    return mallopt is not None and mallopt(_M_TRIM_THRESHOLD, trim) == 1 and mallopt(_M_MMAP_THRESHOLD, mmap) == 1


def keep_freed_memory(keep: int) -> bool:
    """Ask glibc's malloc to keep up to ``keep`` bytes of freed memory and to serve arrays below
    MMAP_THRESHOLD from the heap; True if both were set."""
    global _current_keep
    if keep <= 0 or not _set_thresholds(min(keep, 2**31 - 1), MMAP_THRESHOLD):
        return False
    _current_keep = keep
    return True


def restore_glibc_defaults() -> bool:
    """Set glibc's documented default thresholds again (128 KiB each); True if set.

    Not the settings from before ``keep_freed_memory``, which glibc cannot report: its
    dynamic raising of the mmap threshold, which any ``mallopt`` call turns off, stays off,
    and values given through glibc's own variables (``GLIBC_TUNABLES``) are not restored."""
    global _current_keep
    if not _set_thresholds(GLIBC_DEFAULT_TRIM_THRESHOLD, GLIBC_DEFAULT_MMAP_THRESHOLD):
        return False
    _current_keep = None
    return True
