"""Callbacks: what plugs into ``fit``'s loop without changing it.

A callback subclasses ``Callback`` and overrides the hooks it needs. ``fit`` calls every
hook with ``run``, the ``Run`` it is training (model, optimizer, data, history, and where
the loop stands: epoch, batch, loss, metrics; see ``chainrule.training.loop.Run``). Within
one epoch the hooks come in this order::

    on_train_begin                                    once, before the first epoch
      on_epoch_begin
        after_loss -> after_backward -> before_step -> on_batch_end     per batch
      on_epoch_end -> on_checkpoint                  after validating the epoch
    on_train_end                                      once, always (also after an error)

Callbacks run in the order given. ``fit`` puts the loss guard (``StopOnNonFiniteLoss``)
first, then the caller's callbacks, then those the configuration asks for (progress bar,
checkpoint, plot), so a callback that changes gradients or metrics (averaging them
across data-parallel ranks) acts before anything logs or saves them.

The callbacks here: ``StopOnNonFiniteLoss``, ``LogLines`` (a line per epoch, to a function
or the ``chainrule`` logger), ``ProgressBar``, ``EarlyStopping``, ``ClipGradNorm``,
``WarmupCosine`` (a learning rate set every step), ``SaveCheckpoint``, ``PlotCurves`` and
``DrawTrainingStep``.
"""

import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from .. import checks, io
from ..nn.utils import clip_grad_norm_
from .checkpoints import non_finite_entries
from .reports import draw_training_step, plot_history

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .loop import Run

logger = logging.getLogger("chainrule")


class NonFiniteError(FloatingPointError):
    """Training produced NaN or Inf (a loss, or weights about to be saved); it stopped before saving them."""

    collective: bool  # set when every process raises it at the same point (data-parallel training)


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    ``main_process_only = True`` makes a callback run only in the first process of a
    data-parallel run (``run.processes.rank == 0``): for those that print or write files."""

    main_process_only = False

    def on_train_begin(self, run: "Run") -> None:
        """Before the first epoch: model, optimizer and data are ready, and a resumed run's weights,
        history and ``run.start_epoch`` are restored."""

    def on_epoch_begin(self, run: "Run") -> None:
        """Before the epoch's first batch: ``run.epoch`` (1-based, counting a resumed run's earlier
        epochs), ``run.lr`` and ``run.batches`` (batches in the epoch) are set."""

    def after_loss(self, run: "Run") -> None:
        """After the batch's forward pass: ``run.inputs``, ``run.targets``, ``run.logits``, ``run.loss``
        (a 0-d Tensor) and ``run.loss_value`` (a float) are set; the gradients are cleared and backward
        has not run, so raising here leaves the weights as the previous step left them."""

    def after_backward(self, run: "Run") -> None:
        """After ``loss.backward()``: each parameter's ``.grad`` holds this batch's gradient
        (data-parallel training averages the gradients across ranks here)."""

    def before_step(self, run: "Run") -> None:
        """After every callback's ``after_backward``, just before ``optimizer.step()``: the last chance
        to change the gradients (clipping, for example)."""

    def on_batch_end(self, run: "Run") -> None:
        """After ``optimizer.step()``: ``run.meter`` holds the epoch's running loss and accuracy."""

    def on_epoch_end(self, run: "Run") -> None:
        """After the epoch and its validation: ``run.metrics`` holds the epoch's figures (``epoch``,
        ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``seconds``,
        ``samples_per_s``, ``lr``). A callback may change them (reducing them across ranks) before
        later ones read them; they are appended to ``run.history`` after this hook. Set
        ``run.stop = True`` to end training after this epoch."""

    def on_checkpoint(self, run: "Run", state: dict[str, Any]) -> None:
        """After ``on_epoch_end``: ``state`` is the epoch's checkpoint (the dict ``SaveCheckpoint``
        writes with ``chainrule.io.save``); add entries to it to keep more."""

    def on_train_end(self, run: "Run") -> None:
        """Once, last: after the final epoch, an early stop, or an error (then ``run.error`` holds the
        exception, which ``fit`` raises after this hook). Release what the callback holds here."""


class CallbackList(Callback):
    """Several callbacks called as one, in order (those for the main process only there)."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"fit: callbacks must be chainrule.training.Callback instances, got {type(callback).__name__}"
                )

    def _active(self, run: "Run") -> Iterator[Callback]:
        for callback in self.callbacks:  # rank read at each callback: an earlier one may set run.processes
            if not callback.main_process_only or run.processes.rank == 0:
                yield callback

    def on_train_begin(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.on_train_begin(run)

    def on_epoch_begin(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.on_epoch_begin(run)

    def after_loss(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.after_loss(run)

    def after_backward(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.after_backward(run)

    def before_step(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.before_step(run)

    def on_batch_end(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.on_batch_end(run)

    def on_epoch_end(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.on_epoch_end(run)

    def on_checkpoint(self, run: "Run", state: dict[str, Any]) -> None:
        for callback in self._active(run):
            callback.on_checkpoint(run, state)

    def on_train_end(self, run: "Run") -> None:
        for callback in self._active(run):
            callback.on_train_end(run)


# ----- the loss guard ---------------------------------------------------------------------------
class StopOnNonFiniteLoss(Callback):
    """Stop at the first batch whose loss is NaN or Inf, before its backward pass and step, so
    non-finite numbers never reach the weights or a checkpoint. Raises ``NonFiniteError``
    naming the epoch and batch, and whether the batch's inputs or the learning rate is to blame.

    The loss is a number the loop reads anyway, so the check costs nothing in one process. In a
    data-parallel run every process learns every loss (one small exchange per batch), so they
    all stop together, naming the ranks whose loss went bad."""

    def after_loss(self, run: "Run") -> None:
        finite = math.isfinite(run.loss_value)
        if run.processes.size == 1 and finite:
            return
        if finite:
            bad_inputs: int | np.intp = 0
        else:
            assert run.inputs is not None  # set by the loop before after_loss
            bad_inputs = _non_finite_count(run.inputs)
        table = run.processes.gather([run.loss_value, bad_inputs])
        bad = [r for r, (loss, _) in enumerate(table) if not math.isfinite(loss)]
        if not bad:
            return
        loss, bad_inputs = table[bad[0]]
        if bad_inputs:
            reason = f"the batch's inputs hold {int(bad_inputs)} NaN or Inf value(s): check the data"
        else:
            reason = f"training diverged: try a smaller learning rate than {run.lr:g} (--lr)"
        where = f" on rank{'s' * (len(bad) > 1)} {', '.join(map(str, bad))}" if run.processes.size > 1 else ""
        error = NonFiniteError(
            f"epoch {run.epoch}, batch {run.batch} of {run.batches}: the loss is {loss}{where}; "
            f"{reason}. Stopped before this step; nothing of this epoch was saved"
        )
        error.collective = True  # every process raises it at the same batch
        raise error


def _non_finite_count(tensor: "Tensor") -> np.intp:
    values = np.asarray(tensor.data)
    return values.size - np.count_nonzero(np.isfinite(values))


# ----- the step ----------------------------------------------------------------------------------
class ClipGradNorm(Callback):
    """Before each step, scale the gradients together so that their joint norm is at most ``max_norm``
    (``nn.utils.clip_grad_norm_``); ``run.grad_norm`` holds the norm before clipping."""

    def __init__(self, max_norm: float) -> None:
        self.max_norm = max_norm

    def before_step(self, run: "Run") -> None:
        run.grad_norm = clip_grad_norm_(run.model.parameters(), self.max_norm)


class WarmupCosine(Callback):
    """The learning rate of every step: rising linearly from ``base/warmup`` to the base rate over the first
    ``warmup`` steps, then falling along a half cosine to 0 at the last step of the last epoch. Each group's
    base rate is its ``initial_lr``. The step is counted from the epoch and batch, so a resumed run
    continues the schedule exactly."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup

    def factor(self, step: int, total: int) -> float:
        """The fraction of the base rate for ``step`` (0-based) of ``total``."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        return 0.5 * (1 + math.cos(math.pi * (step - self.warmup) / max(total - self.warmup, 1)))

    def before_step(self, run: "Run") -> None:
        step = (run.epoch - 1) * run.batches + run.batch - 1
        factor = self.factor(step, run.config.epochs * run.batches)
        for group in run.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * factor


# ----- reporting ---------------------------------------------------------------------------------
class LogLines(Callback):
    """One line when training starts and one per epoch (losses, accuracies, time, throughput), handed
    to ``write``: ``print`` for a terminal; by default the ``chainrule`` logger at INFO level."""

    main_process_only = True

    def __init__(self, write: Callable[[str], object] | None = None) -> None:
        self.write = logger.info if write is None else write

    def on_train_begin(self, run: "Run") -> None:
        config, splits = run.config, run.splits
        kind = {"text": f"windows of {config.block_size} characters", "digits-rows": "sequences of 8 rows"}.get(
            config.dataset, "images"
        )
        schedule = f" ({config.schedule})" if config.schedule != "constant" else ""
        self.write(
            f"training the {config.dataset} {config.model} ({run.model.num_parameters():,} parameters) on "
            f"{len(splits.y_train):,} {kind}, validating on {len(splits.y_val):,}, testing on "
            f"{len(splits.y_test):,}; {config.optimizer} lr {run.base_lr:g}{schedule}, batch "
            f"{config.batch_size}, seed {config.seed}"
            + (f"; resuming after epoch {run.start_epoch}" if run.start_epoch else "")
        )

    def on_epoch_end(self, run: "Run") -> None:
        m = run.metrics
        bits = f" ({m['val_loss'] / math.log(2):.3f} bits/char)" if run.config.dataset == "text" else ""
        self.write(
            f"epoch {m['epoch']}/{run.config.epochs}: train loss {m['train_loss']:.4f} "
            f"acc {m['train_accuracy']:.2%} | val loss {m['val_loss']:.4f}{bits} acc {m['val_accuracy']:.2%} "
            f"| {m['seconds']:.1f} s, {m['samples_per_s']:,.0f} samples/s"
        )


class Progress:
    """Per-batch progress of one epoch: a tqdm bar, plain lines, or nothing.

    ``mode`` is 'bar' (tqdm on a terminal), 'lines' (a line every LINE_EVERY_S seconds, so short
    epochs print none) or 'off'."""

    LINE_EVERY_S = 10.0

    def __init__(self, mode: str, total: int, description: str, stream: TextIO | None = None) -> None:
        self.mode, self.total, self.description = mode, total, description
        self.stream = stream or sys.stderr
        self.done, self.start = 0, time.perf_counter()
        self.last_line = self.start
        self.bar: Any = None  # a tqdm bar (tqdm ships no types)
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                desc=description,
                unit="sample",
                unit_scale=True,
                leave=False,
                file=self.stream,
                dynamic_ncols=True,
            )

    @staticmethod
    def choose_mode(enabled: bool, stream: TextIO | None = None) -> str:
        """'bar' when enabled, tqdm is installed and ``stream`` is a terminal; 'lines' when enabled otherwise."""
        if not enabled:
            return "off"
        stream = stream or sys.stderr
        try:
            import tqdm  # noqa: F401  (optional)
        except ImportError:
            return "lines"
        return "bar" if hasattr(stream, "isatty") and stream.isatty() else "lines"

    def update(self, samples: int, mean_loss: float) -> None:
        """Move the bar (or print a line, at most every few seconds) by ``samples``, showing the running loss."""
        self.done += samples
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)
            self.bar.update(samples)
        elif self.mode == "lines" and time.perf_counter() - self.last_line >= self.LINE_EVERY_S:
            self.last_line = now = time.perf_counter()
            rate = self.done / max(now - self.start, 1e-9)
            print(
                f"  {self.description}: {self.done}/{self.total} samples, loss {mean_loss:.4f}, {rate:,.0f} samples/s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """Finish the bar, if there is one."""
        if self.bar is not None:
            self.bar.close()


class ProgressBar(Callback):
    """A ``Progress`` display per epoch on ``stream`` (default stderr): a tqdm bar on a terminal, a plain
    line every ten seconds otherwise. The bar closes after the epoch's last batch, before the
    epoch's line is logged. In a data-parallel run it counts every process's samples and shows the
    first process's running loss."""

    main_process_only = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.mode = Progress.choose_mode(True, stream)
        self.progress: Progress | None = None

    def on_epoch_begin(self, run: "Run") -> None:
        self.progress = Progress(
            self.mode, len(run.splits.y_train), f"epoch {run.epoch}/{run.config.epochs}", self.stream
        )

    def on_batch_end(self, run: "Run") -> None:
        assert self.progress is not None and run.targets is not None and run.meter is not None  # set by now
        self.progress.update(len(run.targets) * run.processes.size, run.meter.mean_loss)
        if run.batch == run.batches:
            self._close()

    def on_train_end(self, run: "Run") -> None:
        self._close()  # training failed mid-epoch

    def _close(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None


# ----- stopping early ------------------------------------------------------------------------------
class EarlyStopping(Callback):
    """End training when ``monitor`` (a key of the epoch's metrics: ``val_loss`` by default) has not
    improved by more than ``min_delta`` for ``patience`` epochs in a row. Losses improve by
    falling, accuracies by rising. A resumed run replays the history it inherits, so it stops
    where an uninterrupted run would. Leaves a note in ``run.notes`` when it stops."""

    MONITORS = ("val_loss", "val_accuracy", "train_loss", "train_accuracy")

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0) -> None:
        if monitor not in self.MONITORS:
            raise ValueError(f"EarlyStopping: monitor must be one of {', '.join(self.MONITORS)}, got {monitor!r}")
        if not checks.is_integer(patience) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 1, got {patience!r}")
        if not checks.is_real(min_delta) or not 0 <= min_delta < math.inf:
            raise ValueError(f"EarlyStopping: min_delta must be a non-negative number, got {min_delta!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.sign = 1 if monitor.endswith("loss") else -1  # compare sign * value: smaller is better
        self.best, self.bad_epochs = math.inf, 0

    def on_train_begin(self, run: "Run") -> None:
        self.best, self.bad_epochs = math.inf, 0
        for value in run.history[self.monitor]:
            self._record(value)

    def on_epoch_end(self, run: "Run") -> None:
        self._record(run.metrics[self.monitor])
        if self.bad_epochs >= self.patience:
            run.stop = True
            run.notes.append(
                f"stopped early after epoch {run.epoch}: {self.monitor} has not improved for "
                f"{self.bad_epochs} epochs (best {self.sign * self.best:.4f}, patience {self.patience})"
            )

    def _record(self, value: float) -> None:
        if self.sign * value < self.best - self.min_delta:
            self.best, self.bad_epochs = self.sign * value, 0
        else:
            self.bad_epochs += 1


# ----- files ---------------------------------------------------------------------------------------
class SaveCheckpoint(Callback):
    """Write each epoch's checkpoint to ``path`` (``run.paths["checkpoint"]``), unless its weights or
    optimizer state hold NaN or Inf: then raise ``NonFiniteError`` and keep the file that is there.

    In a data-parallel run every process checks (they hold the same weights, so they stop
    together) and only the first one writes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_checkpoint(self, run: "Run", state: dict[str, Any]) -> None:
        arrays = dict(state["model_state"])
        for index, entry in state["optimizer_state"]["state"].items():
            arrays.update(
                {
                    f"optimizer state {key} of parameter {index}": value
                    for key, value in entry.items()
                    if isinstance(value, np.ndarray)
                }
            )
        bad = non_finite_entries(arrays)
        if bad:
            error = NonFiniteError(
                f"epoch {run.epoch}: {bad[0]!r} holds NaN or Inf after the epoch's last step; "
                f"{self.path} was not written over. Try a smaller learning rate than "
                f"{run.lr:g} (--lr)"
            )
            error.collective = True  # every process holds the same weights
            raise error
        if run.processes.rank != 0:
            return
        io.save(state, self.path)
        run.paths["checkpoint"] = self.path


class PlotCurves(Callback):
    """At the end of a successful run, plot loss and accuracy per epoch to ``path`` (``run.paths["plot"]``);
    without matplotlib, say why in ``run.notes`` instead."""

    main_process_only = True

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_end(self, run: "Run") -> None:
        if run.error is not None:
            return
        try:
            run.paths["plot"] = plot_history(run.history, self.path)
        except ImportError as error:
            run.notes.append(f"no plot: {error}")


class DrawTrainingStep(Callback):
    """Before training, draw one training step of the model (modules collapsed) to ``path_stem``.svg
    (``.dot`` without Graphviz); without the graphviz package, say why in ``run.notes``."""

    main_process_only = True

    def __init__(self, path_stem: str, samples: int = 16) -> None:
        self.path_stem, self.samples = path_stem, samples

    def on_train_begin(self, run: "Run") -> None:
        few = min(len(run.splits.X_train), run.config.batch_size, self.samples)
        try:
            run.paths["graph"] = draw_training_step(
                run.model, run.loss_fn, run.splits.X_train[:few], run.splits.y_train[:few], self.path_stem
            )
        except ImportError as error:
            run.notes.append(f"no graph: {error}")
