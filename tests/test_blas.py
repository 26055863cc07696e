"""chainrule.blas: axpy through NumPy's own BLAS, and when it declines."""

import subprocess
import sys

import numpy as np
import pytest

from chainrule import blas

needs_blas = pytest.mark.skipif(not blas.available(), reason="NumPy here does not bundle scipy-openblas")
rng = np.random.default_rng(0)
SIZE = (blas.MIN_SIZE // 100 + 1, 100)  # just over MIN_SIZE elements


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_axpy_adds_the_scaled_array_in_place(dtype, order):
    x = np.asarray(rng.standard_normal(SIZE), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(SIZE), dtype=dtype, order=order)
    expected = y + dtype(-0.25) * x
    target = y
    assert blas.axpy(-0.25, x, y) is True
    assert y is target
    np.testing.assert_allclose(y, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize(
    "x, y",
    [
        (np.ones(10, np.float32), np.ones(10, np.float32)),  # small: NumPy is faster
        (np.ones(SIZE, np.int64), np.ones(SIZE, np.int64)),  # not a float BLAS type
        (np.ones(SIZE, np.float32), np.ones(SIZE, np.float64)),  # dtypes differ
        (np.ones(SIZE, np.float32, order="F"), np.ones(SIZE, np.float32)),  # memory orders differ
        (np.ones(SIZE, np.float32), np.ones(SIZE[::-1], np.float32)),  # shapes differ
        (np.ones((SIZE[0], 2 * SIZE[1]), np.float32)[:, ::2], np.ones(SIZE, np.float32)),  # not contiguous
    ],
)
def test_axpy_declines_what_blas_cannot_take_and_changes_nothing(x, y):
    before = y.copy()
    assert blas.axpy(2.0, x, y) is False
    np.testing.assert_array_equal(y, before)


def test_axpy_declines_a_read_only_target():
    y = np.ones(SIZE, np.float32)
    y.flags.writeable = False
    assert blas.axpy(1.0, np.ones(SIZE, np.float32), y) is False


def test_the_environment_can_switch_blas_off():
    code = "from chainrule import blas; print(blas.available())"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"CHAINRULE_BLAS": "0", "PATH": ""}
    )
    assert result.stdout.strip() == "False", result.stderr


def test_one_thread_inside_and_the_count_restored_after():
    threads = blas._ROUTINES.get("threads")
    if threads is None:
        with blas.one_thread():  # does nothing without NumPy's bundled OpenBLAS
            pass
        return
    get, set_ = threads
    before = get()
    set_(2)
    try:
        with blas.one_thread():
            assert get() == 1
            with blas.one_thread():  # nested: still one, and the outer count comes back
                assert get() == 1
            assert get() == 1
        assert get() == 2
        try:
            with blas.one_thread():
                raise KeyError("inside")
        except KeyError:
            pass
        assert get() == 2
    finally:
        set_(before)


@needs_blas
def test_set_num_threads_sets_what_get_num_threads_reads_as_in_pytorch():
    import chainrule as cr

    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        with blas.one_thread():
            assert cr.get_num_threads() == 1
        cr.set_num_threads(np.int64(2))
        assert cr.get_num_threads() == 2
        a = np.ones((64, 64), dtype=np.float32)
        np.testing.assert_array_equal(a @ a, np.full((64, 64), 64.0))  # products still right on 2 threads
    finally:
        cr.set_num_threads(before)
    assert cr.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_wants_a_whole_number_of_at_least_one(bad):
    import chainrule as cr

    before = cr.get_num_threads()
    with pytest.raises(ValueError, match=r"set_num_threads: expected a whole number of threads, at least 1, got "):
        cr.set_num_threads(bad)
    assert cr.get_num_threads() == before


def test_set_num_threads_without_the_bundled_blas_warns_and_changes_nothing():
    code = (
        "import warnings, chainrule as cr\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    cr.set_num_threads(1)\n"
        "print(caught[0].category.__name__, cr.get_num_threads() >= 1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"CHAINRULE_BLAS": "0", "PATH": ""}
    )
    assert result.stdout.strip() == "RuntimeWarning True", result.stderr
