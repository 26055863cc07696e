"""``fit``: the training loop, with ``Callback`` hooks for everything that is not training itself.

``fit`` seeds everything from ``config.seed`` (weights through ``nn.init.manual_seed``, the
shuffling and the dropout masks of each epoch from ``(seed, epoch)``), so the same seed
gives the same numbers, and a run resumed from a checkpoint continues exactly as if it had
never stopped.
"""

import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, SupportsInt, cast

import numpy as np
import numpy.typing as npt

from .. import nn, optim
from ..data import DataLoader, TensorDataset
from ..models import loss_for
from ..optim.lr_scheduler import LRScheduler
from ..tensor import Tensor
from ..types import Array
from .callbacks import (
    Callback,
    CallbackList,
    ClipGradNorm,
    DrawTrainingStep,
    LogLines,
    PlotCurves,
    ProgressBar,
    SaveCheckpoint,
    StopOnNonFiniteLoss,
    WarmupCosine,
)
from .checkpoints import (
    CHECKPOINT_NAME,
    checkpoint_state,
    empty_history,
    load_checkpoint,
    load_optimizer_state,
    load_weights,
)
from .config import ConfigError, TrainConfig, make_optimizer, model_for
from .data import Splits, load_splits, load_text_splits
from .evaluation import evaluate

PLOT_NAME = "curves.png"
GRAPH_NAME = "graph"


class EpochMeter:
    """Running loss and accuracy of one epoch, averaged over the samples seen so far. Logits hold the classes
    on their last axis; a language model's (N, T, vocabulary) logits are T predictions per sample, and a sample
    counts as the fraction of its T predictions that are right."""

    loss_sum: float
    correct: float  # in samples: a language model's sample counts the fraction of its predictions that are right
    samples: int

    def __init__(self) -> None:
        self.loss_sum, self.correct, self.samples = 0.0, 0, 0
        self.start = time.perf_counter()

    def add(self, loss_value: float, logits: Tensor, labels: Tensor) -> None:
        """Count one batch: its mean loss, and how many of its predictions match the labels."""
        n = len(labels.data)
        self.loss_sum += loss_value * n
        matches = int((logits.data.argmax(axis=-1) == labels.data).sum())
        self.correct += matches * n / labels.data.size  # in samples: a language model makes T predictions each
        self.samples += n

    @property
    def mean_loss(self) -> float:
        """The loss averaged over the samples counted so far."""
        return self.loss_sum / self.samples

    @property
    def accuracy(self) -> float:
        """The fraction of the samples counted so far that were predicted right."""
        return self.correct / self.samples


class OneProcess:
    """The processes a run spans, as the loop and its callbacks see them: here this one alone.
    Data-parallel training (``chainrule.distributed.DataParallel``) puts in its own, with the same
    three members: ``rank``, ``size``, and ``gather(values)``, every process's ``values`` (a few
    numbers) as one row each of a float64 array (a collective: every process must call it)."""

    rank, size = 0, 1

    def gather(self, values: Sequence[float | np.number[Any]]) -> npt.NDArray[np.float64]:
        """Every process's ``values`` as one row each: here the one row of this process."""
        return np.asarray([values], dtype=np.float64)


class _Processes(Protocol):
    """What ``run.processes`` holds: ``OneProcess``, or a data-parallel run's (see ``OneProcess``)."""

    rank: int
    size: int

    def gather(self, values: Sequence[float | np.number[Any]]) -> npt.NDArray[np.float64]: ...


class _EpochSampler(Protocol):
    """What ``run.sampler`` holds when set: the training indices of each epoch (``DistributedSampler``)."""

    def set_epoch(self, epoch: int) -> None: ...

    def __iter__(self) -> Iterator[SupportsInt]: ...

    def __len__(self) -> int: ...


#: ``run.evaluate``: (model, X, y) -> (mean loss, accuracy, predictions) of a split.
_Evaluate = Callable[[nn.Module, Array, Array], tuple[float, float, Array]]


@dataclasses.dataclass(eq=False)
class Run:
    """A training run as callbacks see it. The first group is set before ``on_train_begin``; the loop
    fills in the rest as it goes (see each hook of ``Callback`` for what is set when)."""

    config: TrainConfig
    model: nn.Module
    optimizer: optim.Optimizer
    loss_fn: nn.Module
    splits: Splits
    # One list per figure (HISTORY_KEYS), one entry per epoch done, a resumed run's included:
    history: dict[str, list[float]]
    start_epoch: int  # epochs done before this run started: a resumed checkpoint's, else 0
    base_lr: float  # the configured learning rate (the cosine schedule starts from it)
    # How the loop trains and measures, which a callback may change in on_train_begin (data-parallel
    # training gives each process its shard of every batch and reduces the figures over all of them):
    processes: _Processes = dataclasses.field(default_factory=lambda: OneProcess())  # who trains together
    batch_size: int = 0  # samples per batch in this process (fit sets config.batch_size)
    sampler: _EpochSampler | None = None  # the training indices of an epoch (set_epoch, iter, len); None: all, shuffled
    evaluate: _Evaluate = evaluate  # (model, X, y) -> (mean loss, accuracy, predictions) of a split
    epoch: int = 0  # the current epoch, 1-based, counting start_epoch
    lr: float = math.nan  # this epoch's learning rate
    batches: int = 0  # batches per epoch
    batch: int = 0  # the current batch, 1-based
    inputs: Tensor | None = None  # the batch's images and labels (Tensors)
    targets: Tensor | None = None
    logits: Tensor | None = None  # the model's output on the batch
    loss: Tensor | None = None  # the batch's loss (a 0-d Tensor) ...
    loss_value: float = math.nan  # ... and its value
    grad_norm: float = math.nan  # the gradients' joint norm before clipping (set by ClipGradNorm)
    meter: EpochMeter | None = None  # the epoch's running loss and accuracy
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)  # the epoch's figures, at on_epoch_end
    stop: bool = False  # a callback sets it to end training after the current epoch
    error: BaseException | None = None  # what ended the run, if it failed (in on_train_end)
    paths: dict[str, str] = dataclasses.field(default_factory=dict)  # files written: 'checkpoint', 'plot', 'graph'
    notes: list[str] = dataclasses.field(default_factory=list)  # anything skipped or stopped, with the reason


@dataclasses.dataclass
class TrainResult:
    model: nn.Module
    optimizer: optim.Optimizer
    history: dict[str, list[float]]
    test_loss: float
    test_accuracy: float
    epochs: int  # epochs completed in total (including those of a resumed checkpoint)
    seconds: float  # training time of this run (the epochs it ran, without evaluation)
    paths: dict[str, str]  # what was written: 'checkpoint', 'plot', 'graph'
    notes: list[str]  # anything skipped or stopped early, with the reason (e.g. matplotlib missing)


def fit(
    config: TrainConfig, callbacks: Iterable[Callback] = (), log: Callable[[str], object] | None = None
) -> TrainResult:
    """Train ``config.model`` on ``config.dataset`` as configured; returns a ``TrainResult``.

    ``callbacks``: ``Callback`` instances that hook into the loop (see
    ``chainrule.training.callbacks``), called after the loss guard and before those the
    configuration adds (``progress``: a progress bar; ``out``: a checkpoint each epoch and,
    with ``plot``, the curves at the end; ``graph``: a picture of one step). ``log``: a
    function that receives a line per epoch (``print``, say); shorthand for adding
    ``LogLines(log)``. Nothing is printed otherwise.

    Raises ConfigError for bad settings, data or checkpoints before training, and
    ``NonFiniteError`` if the loss turns NaN or Inf (the last good checkpoint is kept)."""
    config.validate()
    checkpoint = _resume_checkpoint(config)
    prepare_output_directory(config.out)
    splits = load_data(config, checkpoint)

    nn.init.manual_seed(config.seed)
    model = model_for(config, splits.vocabulary)
    base_lr = config.learning_rate()
    optimizer = make_optimizer(
        config.optimizer,
        model.parameters(),
        base_lr,
        config.momentum,
        config.weight_decay,
        decay_matrices_only=config.model == "gpt",
    )
    history, done = empty_history(), 0
    if checkpoint is not None:
        assert config.resume is not None  # the checkpoint _resume_checkpoint read
        source = f"training checkpoint {os.fspath(config.resume)!r}"
        load_weights(model, checkpoint, source)
        load_optimizer_state(optimizer, checkpoint, source)
        history, done = {key: list(checkpoint["history"][key]) for key in history}, checkpoint["epoch"]
    schedule = learning_rate_schedule(optimizer, config, base_lr, done)

    run = Run(
        config, model, optimizer, loss_for(config.model), splits, history, done, base_lr, batch_size=config.batch_size
    )
    hooks = CallbackList([StopOnNonFiniteLoss(), *callbacks, *_configured_callbacks(config, log, run)])
    # The loss guard reports NaN and Inf itself; NumPy's overflow warnings would only repeat it with source lines.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            hooks.on_train_begin(run)
            seconds = train_epochs(run, hooks, schedule)
        except BaseException as error:
            run.error = error
            raise
        finally:
            hooks.on_train_end(run)
    test_loss, test_accuracy, _ = run.evaluate(model, splits.X_test, splits.y_test)
    return TrainResult(
        model,
        optimizer,
        history,
        test_loss,
        test_accuracy,
        cast(int, history["epoch"][-1]),  # the epoch numbers are ints; the other figures floats
        seconds,
        run.paths,
        run.notes,
    )


def train_epochs(run: Run, callbacks: Callback, schedule: LRScheduler | None = None) -> float:
    """The loop: the epochs from ``run.start_epoch + 1`` to ``run.config.epochs`` (or until a callback
    sets ``run.stop``), each a pass over the shuffled training split and a validation, calling
    ``callbacks`` along the way. Returns the seconds spent in the training passes."""
    config, model, optimizer, splits = run.config, run.model, run.optimizer, run.splits
    train_set = TensorDataset(splits.X_train, splits.y_train)
    seconds = 0.0
    for epoch in range(run.start_epoch + 1, config.epochs + 1):
        run.epoch, run.lr = epoch, optimizer.param_groups[0]["lr"]
        generator = seed_epoch(model, config.seed, epoch)
        if run.sampler is None:
            loader = DataLoader(train_set, batch_size=run.batch_size, shuffle=True, generator=generator)
        else:
            run.sampler.set_epoch(epoch)
            loader = DataLoader(train_set, batch_size=run.batch_size, sampler=run.sampler)
        run.batches, run.meter = len(loader), EpochMeter()
        callbacks.on_epoch_begin(run)
        model.train()
        for batch, (images, labels) in enumerate(loader, 1):
            optimizer.zero_grad()
            logits = model(images)
            loss = run.loss_fn(logits, labels)
            run.batch, run.inputs, run.targets, run.logits, run.loss = batch, images, labels, logits, loss
            run.loss_value = loss.item()
            callbacks.after_loss(run)  # the loss guard stops here, before non-finite numbers reach the weights
            loss.backward()
            callbacks.after_backward(run)
            callbacks.before_step(run)
            optimizer.step()
            run.meter.add(run.loss_value, logits, labels)
            callbacks.on_batch_end(run)
        epoch_seconds = time.perf_counter() - run.meter.start
        seconds += epoch_seconds
        val_loss, val_accuracy, _ = run.evaluate(model, splits.X_val, splits.y_val)
        run.metrics = {
            "epoch": epoch,
            "train_loss": run.meter.mean_loss,
            "train_accuracy": run.meter.accuracy,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "seconds": epoch_seconds,
            "samples_per_s": run.meter.samples / epoch_seconds if epoch_seconds > 0 else math.inf,
            "lr": run.lr,
        }
        callbacks.on_epoch_end(run)
        for key in run.history:
            run.history[key].append(run.metrics[key])
        callbacks.on_checkpoint(run, checkpoint_state(config, epoch, model, optimizer, run.history, splits))
        if schedule is not None:
            schedule.step()
        if run.stop:
            break
    return seconds


# ----- the pieces of a run -----------------------------------------------------------------------
def load_data(config: TrainConfig, checkpoint: dict[str, Any] | None = None) -> Splits:
    """The splits ``config`` trains on; a resumed run keeps its checkpoint's pixel statistics or vocabulary."""
    preprocessing = {} if checkpoint is None else checkpoint["preprocessing"]
    if config.dataset == "text":
        return load_text_splits(config.text, config.block_size, config.train_limit, preprocessing.get("vocabulary"))
    stats = (preprocessing["pixel_mean"], preprocessing["pixel_std"]) if preprocessing else None
    return load_splits(config.dataset, config.data_dir, config.val_fraction, config.train_limit, stats, config.download)


def _resume_checkpoint(config: TrainConfig) -> dict[str, Any] | None:
    """The checkpoint ``config.resume`` names, checked against the configuration; None without one."""
    if not config.resume:
        return None
    checkpoint = load_checkpoint(config.resume)
    if (checkpoint["model"], checkpoint["dataset"]) != (config.model, config.dataset):
        raise ConfigError(
            f"the checkpoint {config.resume!r} holds a {checkpoint['dataset']} "
            f"{checkpoint['model']}, not a {config.dataset} {config.model}"
        )
    if checkpoint["epoch"] >= config.epochs:
        raise ConfigError(
            f"the checkpoint {config.resume!r} has already done {checkpoint['epoch']} of "
            f"{config.epochs} epochs; ask for more epochs (--epochs is the total)"
        )
    return checkpoint


def prepare_output_directory(out: str | os.PathLike[str] | None) -> None:
    """Create ``out`` (None: nothing to do) and check that files can be written there, before any
    training; ConfigError naming it otherwise."""
    if not out:
        return
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(
            f"the output directory {os.fspath(out)!r} (--out) is a file; expected a directory "
            f"(it will be created if missing)"
        )
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ConfigError(
            f"cannot write to the output directory {os.fspath(out)!r} (--out): {error.strerror or error}"
        ) from error


def learning_rate_schedule(
    optimizer: optim.Optimizer, config: TrainConfig, base_lr: float, done: int
) -> optim.CosineAnnealingLR | None:
    """Start every parameter group at ``base_lr``; for the cosine schedule, return a CosineAnnealingLR
    (towards 0 over ``config.epochs``) already moved past the ``done`` epochs of a resumed run."""
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = base_lr
    if config.schedule == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=config.epochs, last_epoch=done - 1)
    return None


def seed_epoch(model: nn.Module, seed: int, epoch: int) -> np.random.Generator:
    """Random state of one epoch, derived from (seed, epoch): the shuffle order and the masks of every module
    that draws them (Dropout, the attention and recurrent layers' dropout: each holds a ``generator``).

    Deriving it afresh each epoch, rather than carrying generators along, is what makes a
    resumed run identical to an uninterrupted one."""
    for index, module in enumerate(model.modules()):
        if isinstance(getattr(module, "generator", None), np.random.Generator):
            module.generator = np.random.default_rng([seed, epoch, index])
    return np.random.default_rng([seed, epoch])


def _configured_callbacks(config: TrainConfig, log: Callable[[str], object] | None, run: Run) -> list[Callback]:
    """The callbacks ``config`` (and ``log``) ask for, in the order they run after the caller's."""
    callbacks: list[Callback] = []
    if config.clip is not None:
        callbacks.append(ClipGradNorm(config.clip))
    if config.schedule == "warmup-cosine":
        callbacks.append(WarmupCosine(config.warmup))
    if config.progress:
        callbacks.append(ProgressBar())
    if log is not None:
        callbacks.append(LogLines(log))
    if config.graph:
        if config.out:
            callbacks.append(DrawTrainingStep(os.path.join(config.out, GRAPH_NAME)))
        else:
            run.notes.append("--graph needs an output directory; no picture drawn")
    if config.out:
        callbacks.append(SaveCheckpoint(os.path.join(config.out, CHECKPOINT_NAME)))
        if config.plot:
            callbacks.append(PlotCurves(os.path.join(config.out, PLOT_NAME)))
    return callbacks
