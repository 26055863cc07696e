"""Keep freed memory in the process for the next training step.

A training step allocates and frees the same large arrays every time (activations,
im2col columns, gradients: megabytes each). With glibc's default settings, memory
freed at the top of the heap goes back to the operating system at once, and arrays
above a size threshold get pages of their own from the system each time, so the next
step's arrays arrive as fresh pages and every 4 KiB page costs a page fault when it
is first written: about 6,000 faults (10 ms of a 30 ms step) per LeNet step at batch
64, 3,000 per MLP step at batch 1024. Two malloc settings remove them:

- ``M_TOP_PAD``: keep this much freed memory at the top of the heap (64 MiB);
- ``M_MMAP_THRESHOLD``: serve arrays below 32 MiB from the heap. glibc raises its
  threshold towards this value by itself as large arrays are freed, but another
  library's allocations in the same process (PyTorch's, measured) keep pulling it
  back down; fixed, the LeNet step faults 0 times alone and about 10 times a step
  when PyTorch runs in between, against 250-900 with the padding alone.

Resident memory does not grow by the padding: pages are counted once touched, and
the padding holds only pages the process has already used.

These are settings of the whole process, made once when chainrule is imported, on
Linux with glibc only (elsewhere nothing happens). Set ``CHAINRULE_MALLOC_TOP_PAD=0``
before importing chainrule to leave malloc alone, or to a number of bytes to choose
the padding.
"""

import ctypes
import ctypes.util
import os
import sys

DEFAULT_TOP_PAD = 64 * 2**20
MMAP_THRESHOLD = 32 * 2**20  # the most glibc's own adjustment would reach (on 64-bit systems)
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc's <malloc.h> constants


def top_pad_from_environment(environ=os.environ):
    """The padding in bytes that ``CHAINRULE_MALLOC_TOP_PAD`` asks for (the default when unset)."""
    text = environ.get("CHAINRULE_MALLOC_TOP_PAD", "").strip()
    if not text:
        return DEFAULT_TOP_PAD
    if not text.isdigit():
        raise ValueError(f"CHAINRULE_MALLOC_TOP_PAD: expected a number of bytes (0 to leave malloc alone), "
                         f"got {text!r}")
    return int(text)


def keep_freed_memory(top_pad):
    """Ask glibc's malloc to keep ``top_pad`` bytes of freed memory and to serve arrays below MMAP_THRESHOLD from
    the heap; True if both were set."""
    if top_pad <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_TOP_PAD, min(top_pad, 2**31 - 1)) == 1 and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
