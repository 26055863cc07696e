"""NumPy's own BLAS, for what NumPy does not expose: axpy (``y += a * x`` in place) and the thread count.

An optimizer step is ``p -= lr * g`` for every parameter. In NumPy that is a scaled
temporary and then a subtraction: two passes over memory, on one thread. BLAS's axpy
does it in one pass, on BLAS's threads: 23 µs against 211 µs for a 784x512 float32
weight on 2 cores (measured), about a tenth of an MLP training step.

NumPy's wheels bundle OpenBLAS as "scipy-openblas", whose symbols have known names and
integer widths; this module looks for that library next to NumPy and uses its saxpy and
daxpy, and its thread setting for ``one_thread()``. With any other BLAS (conda's MKL, Apple's
Accelerate, a system OpenBLAS: their names and integer widths differ), or with ``CHAINRULE_BLAS=0`` in the environment,
``axpy`` returns False and the caller does the NumPy version, and ``one_thread()`` changes nothing.

Why one thread: a loop of small products (a recurrence's W_hh h_t, step after step) hands
each product to BLAS's threads, which sleep between products. Waking them costs more than
the product itself, and on a busy machine far more: measured on 2 shared cores, a
(256, 64) @ (64, 64) float32 product inside such a loop took 11.5 ms with two threads and
25 µs with one.
"""

import contextlib
import ctypes
import glob
import os
import warnings
from collections.abc import Iterator
from typing import Any

from .backend import xp
from .types import Array

#: Below this many elements NumPy's two passes are faster than the foreign call (measured).
MIN_SIZE = 32768

# (symbol prefix, suffix, integer type) of the CBLAS routines in NumPy's scipy-openblas builds:
# the 64-bit-integer library NumPy ships, and the 32-bit-integer one.
_NAMINGS = (("scipy_cblas_", "64_", ctypes.c_int64), ("scipy_cblas_", "", ctypes.c_int32))


def _libraries() -> list[str]:
    """Paths of the OpenBLAS libraries bundled with NumPy (Linux, macOS and Windows wheel layouts)."""
    here = os.path.dirname(xp.__file__)
    patterns = [os.path.join(here, os.pardir, "numpy.libs", "*openblas*"), os.path.join(here, ".dylibs", "*openblas*")]
    return sorted(path for pattern in patterns for path in glob.glob(pattern))


def _load_routines() -> dict[Any, Any]:
    """{dtype: axpy routine, "threads": (get, set)} from NumPy's bundled OpenBLAS, or {} when there is none to
    trust."""
    if os.environ.get("CHAINRULE_BLAS", "").strip() == "0":
        return {}
    for path in _libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, integer in _NAMINGS:
            try:
                single, double = getattr(library, f"{prefix}saxpy{suffix}"), getattr(library, f"{prefix}daxpy{suffix}")
            except AttributeError:
                continue
            for routine, scalar in ((single, ctypes.c_float), (double, ctypes.c_double)):
                routine.argtypes = (integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer)
                routine.restype = None
            routines: dict[Any, Any] = {xp.dtype(xp.float32): single, xp.dtype(xp.float64): double}
            try:
                get = getattr(library, f"scipy_openblas_get_num_threads{suffix}")
                set_ = getattr(library, f"scipy_openblas_set_num_threads{suffix}")
            except AttributeError:
                return routines
            get.argtypes, get.restype = (), ctypes.c_int
            set_.argtypes, set_.restype = (ctypes.c_int,), None
            routines["threads"] = (get, set_)
            return routines
    return {}


_ROUTINES = _load_routines()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Inside, NumPy's BLAS runs every product on the calling thread (see the module docstring); the thread
    count it had is restored on exit. Does nothing when the BLAS is not NumPy's bundled OpenBLAS."""
    threads = _ROUTINES.get("threads")
    if threads is None:
        yield
        return
    get, set_ = threads
    before = get()
    if before == 1:
        yield
        return
    set_(1)
    try:
        yield
    finally:
        set_(before)


def get_num_threads() -> int:
    """PyTorch's ``torch.get_num_threads()``: the threads NumPy's BLAS runs a product on (the one place chainrule
    uses several threads). Where the BLAS is not NumPy's bundled OpenBLAS, the number of CPUs."""
    threads = _ROUTINES.get("threads")
    return int(threads[0]()) if threads is not None else (os.cpu_count() or 1)


def set_num_threads(threads: int) -> None:
    """PyTorch's ``torch.set_num_threads(n)``: NumPy's BLAS runs its products on ``threads`` threads from now on,
    in the whole process (elementwise work in NumPy runs on one thread either way). Where the BLAS is not
    NumPy's bundled OpenBLAS it warns and changes nothing."""
    from .checks import is_integer  # here: checks imports the gates, which import this module

    if not is_integer(threads) or threads < 1:
        raise ValueError(f"set_num_threads: expected a whole number of threads, at least 1, got {threads!r}")
    routines = _ROUTINES.get("threads")
    if routines is None:
        warnings.warn(
            "set_num_threads: NumPy's BLAS is not the OpenBLAS bundled with NumPy (or CHAINRULE_BLAS=0), so its "
            "thread count is left as it is; set OPENBLAS_NUM_THREADS or OMP_NUM_THREADS before starting Python",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    routines[1](int(threads))


def available() -> bool:
    """Whether axpy runs on NumPy's BLAS in this process."""
    return bool(_ROUTINES)


def axpy(alpha: float, x: Array, y: Array) -> bool:
    """``y += alpha * x`` in place through BLAS, and True; False (nothing done) when BLAS cannot take it:
    no trusted BLAS, fewer than MIN_SIZE elements, different dtypes or shapes, a dtype other than float32 or
    float64, or arrays that are not contiguous in one same memory order (C or Fortran)."""
    routine = _ROUTINES.get(y.dtype)
    if (
        routine is None
        or y.size < MIN_SIZE
        or x.dtype != y.dtype
        or x.shape != y.shape
        or not y.flags.writeable
        or not same_contiguous_order(x, y)
    ):
        return False
    routine(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    return True


def same_contiguous_order(x: Array, y: Array) -> bool:
    """Whether x and y are both C-contiguous or both Fortran-contiguous (so their flat memory lines up)."""
    return (x.flags.c_contiguous and y.flags.c_contiguous) or (x.flags.f_contiguous and y.flags.f_contiguous)
