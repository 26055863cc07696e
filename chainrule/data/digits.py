"""The bundled 8x8 handwritten digits: a real data set that trains in seconds, offline.

1,797 images of the digits 0-9, each an 8x8 grid of counts 0..16 (how many of the 4x4
pixels of a 32x32 bitmap are on). This is the test set of the UCI "Optical Recognition of
Handwritten Digits" data set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), in the copy that
scikit-learn ships, stored as ``digits.npz`` (uint8 ``images`` (1797, 8, 8), ``labels`` (1797,)).
"""

from importlib import resources

import numpy as np
import numpy.typing as npt


def load_digits(as_images: bool = False) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The digits as ``(X, y)``: ``X`` float32 with the raw values 0..16, ``y`` int64 labels 0..9.

    ``X`` has shape (1797, 64), one flattened image per row, or (1797, 1, 8, 8) with
    ``as_images=True`` (samples x channels x height x width, for convolutions). Values
    are not scaled: divide by 16 or fit a scaler on the training split.
    """
    # importlib.resources finds the file wherever the package is installed; no pickle is ever loaded.
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f, np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    X = images.astype(np.float32)
    X = X.reshape(len(X), 1, 8, 8) if as_images else X.reshape(len(X), 64)
    return X, labels.astype(np.int64)
