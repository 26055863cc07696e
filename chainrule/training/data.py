"""The data a run trains, validates and tests on, standardised, with clear errors for bad data.

For text (the gpt model) the splits are windows of characters, as ids: the first 90% of the text
trains, the next 5% validates and the last 5% tests (see ``load_text_splits``). For images,
pixels are scaled to [0, 1] (digits / 16, MNIST / 255), then standardised with one mean and
standard deviation measured on the training split (stored in the checkpoint, so evaluation
uses the same numbers). The test split is fixed (digits: 20% of the 1,797 images, split
with seed 0; MNIST: its 10,000 test images) and a validation split is held out of the
training data (``val_fraction``, also with a fixed seed). ``digits-rows`` is the digits data with
each image as a sequence of its 8 rows, (N, 8, 8).
"""

import dataclasses
import math
import os

import numpy as np

from ..data import MNIST, Vocabulary, default_corpus, load_digits, mnist, read_text, train_test_split, windows
from ..models import DATASETS
from ..types import Array
from .config import ConfigError, check_download

TEST_SPLIT_SEED = 0  # fixed, so every run is measured on the same test images
VAL_SPLIT_SEED = 1


@dataclasses.dataclass
class Splits:
    """Standardised float32 images (N, 1, H, W) (or rows (N, 8, 8)) and int64 labels for training, validation
    and test; for text, int64 windows of character ids (N, block_size) and their targets, and the vocabulary."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array
    X_test: Array
    y_test: Array
    pixel_mean: float
    pixel_std: float
    vocabulary: str | None = None  # the characters of the text, in id order (text only)


def load_images(
    dataset: str, data_dir: str | os.PathLike[str] | None = None, part: str = "train", download: bool = False
) -> tuple[Array, Array]:
    """Images scaled to [0, 1] and labels of ``part`` ('train' or 'test') of ``dataset``.

    ``download=True`` first fetches the MNIST files missing from ``data_dir``."""
    check_download(dataset, download)
    if dataset in ("digits", "digits-rows"):
        X, y = load_digits(as_images=True)
        X /= np.float32(16)
        if dataset == "digits-rows":
            X = X.reshape(len(X), 8, 8)  # each image a sequence of its 8 rows of 8 pixels
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=TEST_SPLIT_SEED)
        return (X_train, y_train) if part == "train" else (X_test, y_test)
    if dataset != "mnist":
        raise ConfigError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    if not data_dir:
        raise ConfigError("the mnist dataset needs a data directory (--data-dir DIR)")
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise ConfigError(
            f"the MNIST data directory {os.fspath(data_dir)!r} is a file; expected a directory "
            f"holding the four MNIST files (or where --download may put them)"
        )
    if download:
        try:
            mnist.download(data_dir)
        except (OSError, ValueError) as error:  # no network, a failed checksum
            raise ConfigError(f"cannot download MNIST into {os.fspath(data_dir)!r}: {error}") from error
    if not os.path.isdir(data_dir):
        raise ConfigError(
            f"the MNIST data directory {os.fspath(data_dir)!r} does not exist; add --download to fetch MNIST into it"
        )
    train = part == "train"
    missing = [name for name in mnist.FILES[train] if mnist.find_file(data_dir, name) is None]
    if missing:
        raise ConfigError(
            f"MNIST: {missing[0]} (or {missing[0]}.gz) not found in {os.fspath(data_dir)!r}; "
            f"add --download to fetch the four files (checksums verified), or put files "
            f"fetched elsewhere into that directory"
        )
    try:
        return MNIST(data_dir, train=train).arrays()
    except (OSError, ValueError) as error:  # unreadable, truncated or malformed files
        raise ConfigError(str(error)) from error


def standardize(X: Array, mean: float, std: float) -> Array:
    """``(X - mean) / std`` in place, keeping float32."""
    X -= np.float32(mean)
    X /= np.float32(std)
    return X


def load_text_splits(
    text: str | os.PathLike[str] | None = None,
    block_size: int = 64,
    train_limit: int | None = None,
    vocabulary: str | None = None,
) -> Splits:
    """Windows of ``block_size`` character ids for training (the first 90% of the text), validation (the next
    5%) and test (the last 5%), each window's targets shifted by one character. ``text`` is a UTF-8 file
    (None: Python's pydoc topics, ``chainrule.data.text.default_corpus``); ``vocabulary`` (the characters
    of a resumed checkpoint) must cover the text. ``train_limit`` keeps the first windows only."""
    try:
        corpus = default_corpus() if text is None else read_text(text)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read the text: {error}") from error
    vocab = Vocabulary(corpus if vocabulary is None else vocabulary)
    missing = vocab.unknown(corpus)
    if missing:
        raise ConfigError(
            f"the text holds characters {missing!r} that the checkpoint's vocabulary lacks; train on "
            f"the text it was trained on"
        )
    ids = vocab.encode(corpus)
    cut_val, cut_test = int(len(ids) * 0.9), int(len(ids) * 0.95)
    parts = [windows(part, block_size) for part in (ids[:cut_val], ids[cut_val:cut_test], ids[cut_test:])]
    for name, (x, _) in zip(("training", "validation", "test"), parts):
        if len(x) == 0:
            raise ConfigError(
                f"the text ({len(ids):,} characters) is too short: its {name} part holds no window of "
                f"{block_size + 1} characters (--block-size {block_size}); give a longer text or a "
                f"smaller block size"
            )
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = parts
    if train_limit is not None:
        X_train, y_train = X_train[:train_limit], y_train[:train_limit]
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, 0.0, 1.0, vocab.characters)


def load_splits(
    dataset: str,
    data_dir: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.1,
    train_limit: int | None = None,
    pixel_stats: tuple[float, float] | None = None,
    download: bool = False,
) -> Splits:
    """Training, validation and test splits of the images, standardised with the training pixels' mean and
    std (or with ``pixel_stats=(mean, std)``, e.g. those stored in a checkpoint).

    ConfigError if a split would be empty or the images hold NaN or Inf (which would turn the loss NaN)."""
    X, y = load_images(dataset, data_dir, "train", download)
    X_test, y_test = load_images(dataset, data_dir, "test")
    try:
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=val_fraction, seed=VAL_SPLIT_SEED)
    except ValueError as error:  # too few images to hold out a validation split
        raise ConfigError(
            f"cannot hold out a validation split (val_fraction={val_fraction}) from the {dataset} "
            f"training data's {len(y)} image(s): {error}"
        ) from error
    if train_limit is not None:
        X_train, y_train = X_train[:train_limit], y_train[:train_limit]
    for name, images in (("training", X_train), ("validation", X_val), ("test", X_test)):
        check_images(images, f"the {dataset} {name} split")
    mean, std = pixel_stats if pixel_stats else (float(X_train.mean()), float(X_train.std()))
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise ConfigError(
            f"cannot standardise the {dataset} images with pixel mean {mean!r} and standard deviation "
            f"{std!r}; expected finite numbers and a positive deviation (the images are all alike)"
        )
    for part in (X_train, X_val, X_test):
        standardize(part, mean, std)
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, mean, std)


def check_images(images: Array, what: str) -> None:
    """ConfigError unless ``images`` holds at least one image and only finite pixels."""
    if len(images) == 0:
        raise ConfigError(f"{what} holds no images; expected at least one")
    bad = np.size(images) - np.count_nonzero(np.isfinite(images))
    if bad:
        raise ConfigError(
            f"{what} holds {bad} NaN or Inf pixel(s); expected finite numbers (they would turn the loss into NaN)"
        )
