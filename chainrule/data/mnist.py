"""MNIST from the four standard IDX files, with an optional checksum-verified download."""

import hashlib
import numbers
import operator
import os
import tempfile
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import SupportsIndex

import numpy as np
import numpy.typing as npt

from .dataset import Dataset
from .idx import read_idx

DEFAULT_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

# SHA-256 of the gzip files as the standard mirrors serve them.
SHA256 = {
    "train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Mean and standard deviation of the training pixels scaled to [0, 1]: what normalize=True uses.
TRAIN_MEAN, TRAIN_STD = 0.1307, 0.3081


def _sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, target: Path, expected_sha256: str, timeout: float) -> None:
    """Fetch ``url`` to ``target``, keeping it only if its SHA-256 matches.

    The bytes go to a temporary file beside the target and are renamed into place after
    the check, so an interrupted or corrupt download never looks like a good file.
    """
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
                raise OSError(f"MNIST: could not download {url}: {error}") from error
        if digest.hexdigest() != expected_sha256:
            raise ValueError(
                f"MNIST: checksum mismatch for {url}: expected sha256 {expected_sha256}, got {digest.hexdigest()}; "
                f"the file was not kept. Try again, or pass another base_url="
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _url(base_url: str, file_name: str) -> str:
    return base_url.rstrip("/") + "/" + file_name


def find_file(root: str | os.PathLike[str], name: str) -> Path | None:
    """``root/name``, else ``root/name.gz``, whichever is a file (plain preferred); None if neither is."""
    for candidate in (Path(root) / name, Path(root) / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def download(
    root: str | os.PathLike[str],
    base_url: str = DEFAULT_BASE_URL,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> None:
    """Fetch the four ``.gz`` files of MNIST from ``base_url`` into ``root`` (created if needed), each
    verified against its SHA-256 (``checksums`` overrides the known values, keyed by file name).

    A file already there is kept: plain (extracted by the user), or ``.gz`` with the right checksum.
    """
    root = Path(root).expanduser()
    checksums = SHA256 if checksums is None else checksums
    root.mkdir(parents=True, exist_ok=True)
    for name in FILES[True] + FILES[False]:
        file_name = f"{name}.gz"
        if file_name not in checksums:
            raise ValueError(f"MNIST: no SHA-256 for {file_name} in checksums; every downloaded file is verified")
        target = root / file_name
        if (root / name).is_file():
            continue  # already extracted by the user: nothing to fetch
        if target.is_file() and _sha256(target) == checksums[file_name]:
            continue
        _download(_url(base_url, file_name), target, checksums[file_name], timeout)


def _normalization(normalize: bool | tuple[float, float] | None) -> tuple[float, float] | None:
    """``normalize`` as (mean, std), or None for plain [0, 1] scaling."""
    if normalize is False or normalize is None:
        return None
    if normalize is True:
        return TRAIN_MEAN, TRAIN_STD
    try:
        mean, std = normalize
        valid = isinstance(mean, numbers.Real) and isinstance(std, numbers.Real) and std > 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(f"MNIST: normalize must be False, True or (mean, std) with std > 0, got {normalize!r}")
    return float(mean), float(std)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training or 10,000 test images, 28x28 grey levels.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-*`` for
    ``train=False``) from ``root``, each plain or ``.gz`` (plain is preferred when both
    are there). ``download=True`` first fetches the four ``.gz`` files from ``base_url``
    that are not in ``root`` yet, checking each against its SHA-256 (``checksums``
    overrides the known values, keyed by file name).

    ``images`` (uint8, N x 28 x 28) and ``labels`` (int64, N) hold the raw data.
    ``ds[i]`` is ``(image, label)``: a float32 1 x 28 x 28 image in [0, 1] and an int.
    ``normalize=True`` standardises pixels with the training set's mean and std
    (0.1307, 0.3081) instead; ``normalize=(mean, std)`` uses your own. For training, use
    the whole arrays: ``TensorDataset(*MNIST(root).arrays())`` batches without a Python
    loop over samples.
    """

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        download: bool = False,
        base_url: str = DEFAULT_BASE_URL,
        normalize: bool | tuple[float, float] | None = False,
        checksums: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> None:
        self.root = Path(root).expanduser()
        self.train = bool(train)
        self.base_url = base_url
        self.normalization = _normalization(normalize)
        if download:
            self.download(checksums=checksums, timeout=timeout)
        image_file, label_file = (self._find(name) for name in FILES[self.train])
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(
                f"MNIST: {image_file} holds {images.dtype} of shape {images.shape}; expected uint8 of shape (N, 28, 28)"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(
                f"MNIST: {label_file} holds {labels.dtype} of shape {labels.shape}; expected uint8 of shape (N,)"
            )
        if len(images) != len(labels):
            raise ValueError(f"MNIST: {image_file} has {len(images)} images but {label_file} has {len(labels)} labels")
        if len(labels) and labels.max() > 9:
            raise ValueError(f"MNIST: {label_file} has a label {labels.max()}; digits are 0..9")
        self.images = images
        self.labels = labels.astype(np.int64)

    def _find(self, name: str) -> Path:
        found = find_file(self.root, name)
        if found is None:
            raise FileNotFoundError(
                f"MNIST: {name} (or {name}.gz) not found in {self.root}. Pass download=True to fetch it, "
                f"or download {_url(self.base_url, name + '.gz')} (and the other files of the split) into that folder."
            )
        return found

    def download(self, checksums: Mapping[str, str] | None = None, timeout: float = 60) -> None:
        """Fetch the four ``.gz`` files into ``root`` unless present (see the module's ``download``)."""
        download(self.root, self.base_url, checksums, timeout)

    def _scale(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """uint8 pixels -> float32 in [0, 1], then standardised if asked; works in place on the new array."""
        x = pixels.astype(np.float32)
        x /= np.float32(255)
        if self.normalization is not None:
            mean, std = self.normalization
            x -= np.float32(mean)
            x /= np.float32(std)
        return x

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: SupportsIndex) -> tuple[npt.NDArray[np.float32], int]:
        i = operator.index(index)  # one sample; use arrays() for many
        return self._scale(self.images[i])[None], int(self.labels[i])

    def arrays(self, flatten: bool = False) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """All samples as ``(X, y)``: X float32 (N, 1, 28, 28), or (N, 784) with ``flatten=True``; y int64."""
        X = self._scale(self.images)
        X = X.reshape(len(X), 784) if flatten else X.reshape(len(X), 1, 28, 28)
        return X, self.labels.copy()

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"MNIST({split}, {len(self)} samples, root={str(self.root)!r})"
