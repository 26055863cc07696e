from pathlib import Path

import numpy as np

import chainrule.data
from chainrule.data import load_digits


def test_flat_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))  # raw counts, not rescaled
    np.testing.assert_array_equal(y[:10], np.arange(10))
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # The first sample is sklearn's well-known zero.
    np.testing.assert_array_equal(X[0, :8], [0, 0, 5, 13, 9, 1, 0, 0])


def test_digits_as_images():
    images, y = load_digits(as_images=True)
    X, _ = load_digits()
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)


def test_each_call_returns_fresh_arrays():
    X, y = load_digits()
    X[...] = -1
    y[...] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0


def test_bundled_file_is_small_and_pickle_free():
    path = Path(chainrule.data.__file__).with_name("digits.npz")
    assert path.stat().st_size < 100_000
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["images", "labels"]
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (1797, 8, 8)
