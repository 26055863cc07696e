"""The one place chainrule reaches its array library.

Every gate does its array work through ``xp``. Today that is NumPy; a library with
NumPy's interface (CuPy, for a GPU) can stand in by changing this module alone.
"""

import numpy as xp

#: Python floats and float lists become this dtype unless the user asks otherwise.
DEFAULT_FLOAT = xp.float32

ndarray = xp.ndarray


def as_array(data, dtype=None):
    """Turn user data into an array: Python floats default to float32, arrays keep their dtype."""
    if isinstance(data, ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == xp.float64 and not isinstance(data, xp.generic):
        array = array.astype(DEFAULT_FLOAT)
    return array


def is_float(dtype):
    return xp.issubdtype(dtype, xp.floating)


_keeping_freed_memory = False


def keep_freed_memory():
    """Opt in, process-wide, to keeping freed memory in the heap instead of returning it to the OS.

    By default glibc serves large allocations (over 128 KiB, a threshold that adapts up to
    32 MiB) with ``mmap`` and unmaps them when freed, and trims the top of the heap after
    frees. A training loop allocates and frees the same large activations every step, so it
    page-faults all of them in again every time (measured: a LeNet step, 20.7 ms -> 14 ms).
    This raises ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` through ``mallopt``, as the
    environment variables ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` would.

    The cost: memory freed stays resident (the process keeps its peak). It applies to every
    library in the process, NumPy's and others' allocations alike. Linux with glibc only:
    elsewhere it does nothing and returns False; it returns True once set.
    """
    global _keeping_freed_memory
    if _keeping_freed_memory:
        return True
    import ctypes
    import sys
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl, for one, has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # 1 GiB; glibc before 2.26 refuses mmap thresholds over 32 MiB, so fall back to that.
    mmap_set = mallopt(M_MMAP_THRESHOLD, 1 << 30) or mallopt(M_MMAP_THRESHOLD, 32 << 20)
    trim_set = mallopt(M_TRIM_THRESHOLD, 1 << 30)
    _keeping_freed_memory = bool(mmap_set and trim_set)
    return _keeping_freed_memory
