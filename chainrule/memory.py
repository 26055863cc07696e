"""Keep freed memory in the process for the next training step.

A training step allocates and frees the same large arrays every time (activations,
im2col columns, gradients: megabytes each). With glibc's default settings, memory
freed at the top of the heap goes back to the operating system at once, so the next
step's arrays arrive as fresh pages and every 4 KiB page costs a page fault when it
is first written: about 6,000 faults (10 ms of a 30 ms step) per LeNet step at batch
64, 3,000 per MLP step at batch 1024. Asking malloc to keep a padding of freed memory
at the top of the heap (``M_TOP_PAD``) removes them: the same steps then fault 0
times. Resident memory does not grow by the padding: pages are counted once touched,
and the padding holds only pages the process has already used.

This is a setting of the whole process, made once when chainrule is imported, on
Linux with glibc only (elsewhere nothing happens). Set ``CHAINRULE_MALLOC_TOP_PAD=0``
before importing chainrule to leave malloc alone, or to a number of bytes to choose
the padding.
"""

import ctypes
import ctypes.util
import os
import sys

DEFAULT_TOP_PAD = 64 * 2**20
_M_TOP_PAD = -2  # glibc's <malloc.h> constant


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
    """Ask glibc's malloc to keep ``top_pad`` bytes of freed memory; True if it was set."""
    if top_pad <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_TOP_PAD, min(top_pad, 2**31 - 1)) == 1
