"""What a training run depends on: ``TrainConfig``, its checks, and the optimizer it names."""

import dataclasses
import math
import os

from .. import checks, optim
from ..models import DATASETS, MODEL_NAMES

#: The update rules a run may name, with the class each name builds.
OPTIMIZER_CLASSES = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
                     "adagrad": optim.Adagrad}
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
#: Learning rate used when none is given, per optimizer.
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("constant", "cosine")


class ConfigError(ValueError):
    """Bad input to a training run (a name, a size, a path, a checkpoint), found before any training."""


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on. ``lr=None`` takes the optimizer's entry in ``DEFAULT_LR``;
    ``weight_decay=None`` the optimizer's own default (0, or 0.01 for AdamW)."""

    model: str = "cnn"
    dataset: str = "digits"
    data_dir: str | None = None  # the MNIST files; not needed for the bundled digits
    epochs: int = 10  # the total number of epochs, counting those a resumed checkpoint already did
    batch_size: int = 64
    lr: float | None = None
    optimizer: str = "adam"
    momentum: float = 0.0  # sgd and rmsprop only
    weight_decay: float | None = None
    schedule: str = "constant"  # or "cosine": the learning rate falls to 0 over the epochs
    seed: int = 0
    val_fraction: float = 0.1
    train_limit: int | None = None  # train on only the first n training samples (quick runs)
    out: str | None = "runs/train"  # None: write no files
    resume: str | None = None  # a checkpoint to continue from
    graph: bool = False  # draw one training step (needs chainrule.viz)
    progress: bool = False  # a progress bar (tqdm) on a terminal, plain lines otherwise (on stderr)
    plot: bool = True
    download: bool = False  # fetch the MNIST files missing from data_dir first (checksums verified)

    def learning_rate(self):
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    def validate(self):
        """Raise ConfigError naming the first bad setting; returns the config."""
        _require_choice("model", self.model, MODEL_NAMES)
        _require_choice("dataset", self.dataset, tuple(DATASETS))
        _require_choice("optimizer", self.optimizer, OPTIMIZERS)
        _require_choice("schedule", self.schedule, SCHEDULES)
        _require_int("epochs", self.epochs, minimum=1)
        _require_int("batch size", self.batch_size, minimum=1)
        _require_int("seed", self.seed, minimum=0)
        if self.train_limit is not None:
            _require_int("train limit", self.train_limit, minimum=2)
        if self.lr is not None:
            _require_number("learning rate", self.lr, positive=True)
        _require_number("momentum", self.momentum)
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ConfigError(f"momentum applies to sgd and rmsprop only, not {self.optimizer} (got {self.momentum})")
        if self.weight_decay is not None:
            _require_number("weight decay", self.weight_decay)
        if not checks.is_real(self.val_fraction) \
                or not 0 < self.val_fraction < 1:
            raise ConfigError(f"the validation fraction must be in (0, 1), got {self.val_fraction!r}")
        for what in ("data_dir", "out", "resume"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise ConfigError(f"{what} must be a path (str) or None, got {value!r}")
        for what in ("download", "graph", "progress", "plot"):
            if not isinstance(getattr(self, what), bool):
                raise ConfigError(f"{what} must be True or False, got {getattr(self, what)!r}")
        if self.dataset == "mnist" and not self.data_dir:
            raise ConfigError("the mnist dataset needs a data directory (--data-dir DIR) holding "
                              "train-images-idx3-ubyte(.gz) and the other three MNIST files, or where "
                              "--download may put them")
        check_download(self.dataset, self.download)
        return self


def check_download(dataset, download):
    """ConfigError when a download is asked for a data set that has none to fetch."""
    if download and dataset != "mnist":
        raise ConfigError(f"download (--download) applies to the mnist dataset only; the {dataset} dataset is bundled")


def make_optimizer(name, parameters, lr, momentum=0.0, weight_decay=None):
    """One of OPTIMIZERS over ``parameters``; ``weight_decay=None`` keeps the optimizer's default."""
    _require_choice("optimizer", name, OPTIMIZERS)
    options = {"lr": lr}
    if name in ("sgd", "rmsprop"):
        options["momentum"] = momentum
    if weight_decay is not None:
        options["weight_decay"] = weight_decay
    return OPTIMIZER_CLASSES[name](list(parameters), **options)


def _require_choice(what, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")


def _require_int(what, value, minimum):
    if not checks.is_integer(value) or value < minimum:
        raise ConfigError(f"the {what} must be an integer >= {minimum}, got {value!r}")


def _require_number(what, value, positive=False):
    bad = not checks.is_real(value) or not math.isfinite(value)
    if bad or (value <= 0 if positive else value < 0):
        raise ConfigError(f"the {what} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")
