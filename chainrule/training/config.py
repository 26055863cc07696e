"""What a training run depends on: ``TrainConfig``, its checks, and the optimizer it names."""

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Sequence, Sized
from typing import Any, Self

from .. import checks, nn, optim
from ..models import DATASETS, MODEL_DATASETS, MODEL_NAMES, build_model

#: The update rules a run may name, with the class each name builds.
OPTIMIZER_CLASSES: dict[str, Callable[..., optim.Optimizer]] = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
}
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
#: Learning rate used when none is given, per optimizer.
DEFAULT_LR: dict[str, float] = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("constant", "cosine", "warmup-cosine")
#: Settings a model trains well with, used for every setting the command line (or the caller) leaves out:
#: the language model with AdamW, weight decay on its matrices only, clipping and a warm-up + cosine schedule.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt": {
        "dataset": "text",
        "optimizer": "adamw",
        "lr": 3e-3,
        "weight_decay": 0.1,
        "schedule": "warmup-cosine",
        "clip": 1.0,
        "epochs": 3,
        "batch_size": 32,
    },
    "lstm": {"dataset": "digits-rows", "lr": 1e-2, "schedule": "cosine", "epochs": 20},
}


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
    text: str | None = None  # the text a gpt trains on (a UTF-8 file); None: Python's pydoc topics
    block_size: int = 64  # the gpt's context: characters per training window and the position table's size
    layers: int | None = None  # the sequence models' depth and width (None: the model's default)
    width: int | None = None
    heads: int = 4  # the gpt's attention heads
    clip: float | None = None  # clip the gradients' joint norm to this before each step
    warmup: int = 100  # the warmup-cosine schedule's warm-up, in steps

    @classmethod
    def for_model(cls, model: str, **settings: Any) -> Self:
        """A configuration with ``MODEL_DEFAULTS[model]`` where ``settings`` say nothing."""
        return cls(**{"model": model, **MODEL_DEFAULTS.get(model, {}), **settings})

    def learning_rate(self) -> float:
        """``lr``, or the optimizer's default learning rate when it is None."""
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    def validate(self) -> Self:
        """Raise ConfigError naming the first bad setting; returns the config."""
        _require_choice("model", self.model, MODEL_NAMES)
        _require_choice("dataset", self.dataset, tuple(DATASETS))
        _require_choice("optimizer", self.optimizer, OPTIMIZERS)
        _require_choice("schedule", self.schedule, SCHEDULES)
        _require_int("epochs", self.epochs, minimum=1)
        _require_int("batch size", self.batch_size, minimum=1)
        _require_int("seed", self.seed, minimum=0)
        if self.dataset not in MODEL_DATASETS[self.model]:
            raise ConfigError(
                f"the {self.model} model reads {' or '.join(MODEL_DATASETS[self.model])}, not {self.dataset}"
            )
        _require_int("block size", self.block_size, minimum=1)
        _require_int("number of heads", self.heads, minimum=1)
        _require_int("warm-up", self.warmup, minimum=0)
        for what, value in (("number of layers", self.layers), ("width", self.width)):
            if value is not None:
                _require_int(what, value, minimum=1)
        if self.model == "gpt" and (self.width or 128) % self.heads:
            raise ConfigError(
                f"the width ({self.width or 128}) must be divisible by the number of heads ({self.heads})"
            )
        if self.clip is not None:
            _require_number("gradient clipping norm", self.clip, positive=True)
        if self.text is not None and self.dataset != "text":
            raise ConfigError(f"a text file (--text) is for the text dataset, not {self.dataset}")
        if self.train_limit is not None:
            _require_int("train limit", self.train_limit, minimum=2)
        if self.lr is not None:
            _require_number("learning rate", self.lr, positive=True)
        _require_number("momentum", self.momentum)
        if self.momentum and self.optimizer not in ("sgd", "rmsprop"):
            raise ConfigError(f"momentum applies to sgd and rmsprop only, not {self.optimizer} (got {self.momentum})")
        if self.weight_decay is not None:
            _require_number("weight decay", self.weight_decay)
        if not checks.is_real(self.val_fraction) or not 0 < self.val_fraction < 1:
            raise ConfigError(f"the validation fraction must be in (0, 1), got {self.val_fraction!r}")
        for what in ("data_dir", "out", "resume", "text"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise ConfigError(f"{what} must be a path (str) or None, got {value!r}")
        for what in ("download", "graph", "progress", "plot"):
            if not isinstance(getattr(self, what), bool):
                raise ConfigError(f"{what} must be True or False, got {getattr(self, what)!r}")
        if self.dataset == "mnist" and not self.data_dir:
            raise ConfigError(
                "the mnist dataset needs a data directory (--data-dir DIR) holding "
                "train-images-idx3-ubyte(.gz) and the other three MNIST files, or where "
                "--download may put them"
            )
        check_download(self.dataset, self.download)
        return self


def check_download(dataset: str, download: bool) -> None:
    """ConfigError when a download is asked for a data set that has none to fetch."""
    if download and dataset != "mnist":
        raise ConfigError(f"download (--download) applies to the mnist dataset only; the {dataset} dataset is bundled")


def model_for(config: TrainConfig, vocabulary: Sized | None = None) -> nn.Module:
    """The model ``config`` describes (``vocabulary``: the characters of a text run), freshly initialised."""
    return build_model(
        config.model,
        config.dataset,
        vocabulary_size=None if vocabulary is None else len(vocabulary),
        block_size=config.block_size,
        layers=config.layers,
        width=config.width,
        heads=config.heads,
    )


def make_optimizer(
    name: str,
    parameters: Iterable[nn.Parameter],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float | None = None,
    decay_matrices_only: bool = False,
) -> optim.Optimizer:
    """One of OPTIMIZERS over ``parameters``; ``weight_decay=None`` keeps the optimizer's default.

    ``decay_matrices_only``: two parameter groups, weight decay on the matrices (weights and
    embeddings, 2 or more dimensions) and none on biases and normalisation gains, as GPTs train."""
    _require_choice("optimizer", name, OPTIMIZERS)
    options: dict[str, float] = {"lr": lr}
    if name in ("sgd", "rmsprop"):
        options["momentum"] = momentum
    if weight_decay is not None:
        options["weight_decay"] = weight_decay
    params = list(parameters)
    groups: list[nn.Parameter] | list[dict[str, Any]] = params
    if decay_matrices_only:
        by_kind: list[dict[str, Any]] = [
            {"params": [p for p in params if p.ndim >= 2]},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        groups = by_kind
    return OPTIMIZER_CLASSES[name](groups, **options)


def _require_choice(what: str, value: object, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")


def _require_int(what: str, value: int, minimum: int) -> None:
    if not checks.is_integer(value) or value < minimum:
        raise ConfigError(f"the {what} must be an integer >= {minimum}, got {value!r}")


def _require_number(what: str, value: float, positive: bool = False) -> None:
    bad = not checks.is_real(value) or not math.isfinite(value)
    if bad or (value <= 0 if positive else value < 0):
        raise ConfigError(f"the {what} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")
