"""Training and evaluating the named models: the loop as library functions, usable without the CLI.

    from chainrule.training import TrainConfig, fit
    result = fit(TrainConfig(model="cnn", dataset="digits", epochs=5, out="runs/cnn"))
    print(result.test_accuracy, result.paths)

``fit`` seeds everything from ``config.seed`` (weights through ``nn.init.manual_seed``,
the shuffling and the dropout masks of each epoch from ``(seed, epoch)``), so the same
seed gives the same numbers, and a run resumed from a checkpoint continues exactly as
if it had never stopped. Each epoch it writes ``checkpoint.safetensors`` (model and
optimizer state, epoch, history, configuration) into ``config.out``; at the end it plots
the loss and accuracy curves and measures the test accuracy.

Data: pixels are scaled to [0, 1] (digits / 16, MNIST / 255), then standardised with one
mean and standard deviation measured on the training split (stored in the checkpoint,
so evaluation uses the same numbers). The test split is fixed (digits: 20% of the 1,797
images, split with seed 0; MNIST: its 10,000 test images) and a validation split is held
out of the training data (``val_fraction``, also with a fixed seed).
"""

import dataclasses
import math
import numbers
import os
import sys
import time

import numpy as np

from . import io, nn, optim
from .autograd import no_grad
from .data import MNIST, DataLoader, TensorDataset, load_digits, train_test_split
from .models import DATASETS, MODEL_NAMES, build_model
from .tensor import Tensor

CHECKPOINT_FORMAT = "chainrule.training"
CHECKPOINT_NAME = "checkpoint.safetensors"
PLOT_NAME = "curves.png"
GRAPH_NAME = "graph"

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
#: Learning rate used when none is given, per optimizer.
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}
SCHEDULES = ("constant", "cosine")

TEST_SPLIT_SEED = 0  # fixed, so every run is measured on the same test images
VAL_SPLIT_SEED = 1


class ConfigError(ValueError):
    """Bad input to a training run (a name, a size, a path, a checkpoint), found before any training."""


# ----- configuration --------------------------------------------------------------------------------
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
    progress: bool = True  # a progress bar (tqdm) on a terminal, plain lines otherwise
    plot: bool = True

    def learning_rate(self):
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    def validate(self):
        """Raise ConfigError naming the first bad setting."""
        if self.model not in MODEL_NAMES:
            raise ConfigError(f"unknown model {self.model!r}; expected one of {', '.join(MODEL_NAMES)}")
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; expected one of {', '.join(DATASETS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; expected one of {', '.join(SCHEDULES)}")
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
        if isinstance(self.val_fraction, bool) or not isinstance(self.val_fraction, numbers.Real) \
                or not 0 < self.val_fraction < 1:
            raise ConfigError(f"the validation fraction must be in (0, 1), got {self.val_fraction!r}")
        if self.dataset == "mnist" and not self.data_dir:
            raise ConfigError("the mnist dataset needs a data directory (--data-dir DIR) holding "
                              "train-images-idx3-ubyte(.gz) and the other three MNIST files")
        return self


def plural(count, noun):
    """'1 epoch', '3 epochs'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _require_int(what, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"the {what} must be an integer >= {minimum}, got {value!r}")


def _require_number(what, value, positive=False):
    bad = isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
    if bad or (value <= 0 if positive else value < 0):
        raise ConfigError(f"the {what} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")


# ----- data ----------------------------------------------------------------------------------------
@dataclasses.dataclass
class Splits:
    """Standardised float32 images (N, 1, H, W) and int64 labels for training, validation and test."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    pixel_mean: float
    pixel_std: float


def load_images(dataset, data_dir=None, part="train"):
    """Images scaled to [0, 1] and labels of ``part`` ('train' or 'test') of ``dataset``."""
    if dataset == "digits":
        X, y = load_digits(as_images=True)
        X /= np.float32(16)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=TEST_SPLIT_SEED)
        return (X_train, y_train) if part == "train" else (X_test, y_test)
    if dataset == "mnist":
        if not data_dir:
            raise ConfigError("the mnist dataset needs a data directory (--data-dir DIR)")
        if not os.path.isdir(data_dir):
            raise ConfigError(f"the MNIST data directory {data_dir!r} does not exist")
        try:
            return MNIST(data_dir, train=(part == "train")).arrays()
        except (OSError, ValueError) as error:  # missing, truncated or malformed files
            raise ConfigError(str(error)) from error
    raise ConfigError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def standardize(X, mean, std):
    """``(X - mean) / std`` in place, keeping float32."""
    X -= np.float32(mean)
    X /= np.float32(std)
    return X


def load_splits(dataset, data_dir=None, val_fraction=0.1, train_limit=None, pixel_stats=None):
    """Training, validation and test splits, standardised with the training pixels' mean and std
    (or with ``pixel_stats=(mean, std)``, e.g. those stored in a checkpoint)."""
    X, y = load_images(dataset, data_dir, "train")
    X_test, y_test = load_images(dataset, data_dir, "test")
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=val_fraction, seed=VAL_SPLIT_SEED)
    if train_limit is not None:
        X_train, y_train = X_train[:train_limit], y_train[:train_limit]
    mean, std = pixel_stats if pixel_stats else (float(X_train.mean()), float(X_train.std()))
    for part in (X_train, X_val, X_test):
        standardize(part, mean, std)
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, mean, std)


# ----- the pieces of a run -----------------------------------------------------------------------
def make_optimizer(name, parameters, lr, momentum=0.0, weight_decay=None):
    """One of OPTIMIZERS over ``parameters``; ``weight_decay=None`` keeps the optimizer's default."""
    options = {} if weight_decay is None else {"weight_decay": weight_decay}
    parameters = list(parameters)
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=momentum, **options)
    if name == "adam":
        return optim.Adam(parameters, lr=lr, **options)
    if name == "adamw":
        return optim.AdamW(parameters, lr=lr, **options)
    if name == "rmsprop":
        return optim.RMSprop(parameters, lr=lr, momentum=momentum, **options)
    if name == "adagrad":
        return optim.Adagrad(parameters, lr=lr, **options)
    raise ConfigError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")


def epoch_learning_rate(base_lr, schedule, epoch, epochs):
    """The learning rate of ``epoch`` (1-based): constant, or cosine from base_lr towards 0.

    A closed form rather than a stateful scheduler, so a resumed run gets the same rates."""
    if schedule == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / epochs))
    return base_lr


def seed_epoch(model, seed, epoch):
    """Random state of one epoch, derived from (seed, epoch): the shuffle order and each Dropout's masks.

    Deriving it afresh each epoch, rather than carrying generators along, is what makes a
    resumed run identical to an uninterrupted one."""
    for index, module in enumerate(model.modules()):
        if isinstance(module, nn.Dropout):
            module.generator = np.random.default_rng([seed, epoch, index])
    return np.random.default_rng([seed, epoch])


def train_one_epoch(model, loader, loss_fn, optimizer, progress=None):
    """One pass over ``loader``: forward, loss, backward, step per batch.

    Returns ``{"loss", "accuracy", "samples", "seconds", "samples_per_s"}`` (loss and
    accuracy averaged over the samples). ``progress.update(samples, mean_loss)`` is called
    after each batch when given."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    for images, labels in loader:
        logits = model(images)
        loss = loss_fn(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        n = len(labels.data)
        total_loss += loss.item() * n
        correct += int((logits.data.argmax(axis=1) == labels.data).sum())
        seen += n
        if progress is not None:
            progress.update(n, total_loss / seen)
    seconds = time.perf_counter() - start
    return {"loss": total_loss / seen, "accuracy": correct / seen, "samples": seen, "seconds": seconds,
            "samples_per_s": seen / seconds if seconds > 0 else float("inf")}


def predict(model, X, batch_size=1000):
    """Logits of ``model`` on the images ``X``, in evaluation mode and without a graph."""
    model.eval()
    outputs = []
    with no_grad():
        for start in range(0, len(X), batch_size):
            outputs.append(model(Tensor(X[start:start + batch_size])).data)
    return np.concatenate(outputs)


def evaluate(model, X, y, batch_size=1000):
    """``(mean cross-entropy loss, accuracy, predicted classes)`` of ``model`` on ``(X, y)``."""
    logits = predict(model, X, batch_size).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probs[np.arange(len(y)), y].mean())
    predicted = logits.argmax(axis=1)
    return loss, float((predicted == y).mean()), predicted


def confusion_matrix(y_true, y_pred, classes=10):
    """``counts[i, j]``: how many samples of true class i were predicted as j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def format_confusion_matrix(counts):
    """The confusion matrix as a table: rows are true classes, columns predictions, with per-class recall."""
    classes = len(counts)
    width = max(4, len(str(counts.max())) + 1)
    header = "true\\pred" + "".join(f"{j:>{width}}" for j in range(classes)) + f"{'total':>7}{'recall':>8}"
    lines = [header]
    for i in range(classes):
        total = int(counts[i].sum())
        recall = f"{counts[i, i] / total:.1%}" if total else "-"
        lines.append(f"{i:>9}" + "".join(f"{c:>{width}}" for c in counts[i]) + f"{total:>7}{recall:>8}")
    lines.append(f"{'total':>9}" + "".join(f"{c:>{width}}" for c in counts.sum(axis=0)) + f"{int(counts.sum()):>7}")
    return "\n".join(lines)


# ----- progress ---------------------------------------------------------------------------------
class Progress:
    """Per-batch progress of one epoch: a tqdm bar, plain lines, or nothing.

    ``mode`` is 'bar' (tqdm on a terminal), 'lines' (a line every LINE_EVERY_S seconds, so short
    epochs print none) or 'off'."""

    LINE_EVERY_S = 10.0

    def __init__(self, mode, total, description, stream=None):
        self.mode, self.total, self.description = mode, total, description
        self.stream = stream or sys.stderr
        self.done, self.start = 0, time.perf_counter()
        self.last_line = self.start
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=description, unit="sample", unit_scale=True, leave=False,
                            file=self.stream, dynamic_ncols=True)

    @staticmethod
    def choose_mode(enabled, stream=None):
        """'bar' when enabled, tqdm is installed and ``stream`` is a terminal; 'lines' when enabled otherwise."""
        if not enabled:
            return "off"
        stream = stream or sys.stderr
        try:
            import tqdm  # noqa: F401  (optional)
        except ImportError:
            return "lines"
        return "bar" if hasattr(stream, "isatty") and stream.isatty() else "lines"

    def update(self, samples, mean_loss):
        self.done += samples
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)
            self.bar.update(samples)
        elif self.mode == "lines" and time.perf_counter() - self.last_line >= self.LINE_EVERY_S:
            self.last_line = now = time.perf_counter()
            rate = self.done / max(now - self.start, 1e-9)
            print(f"  {self.description}: {self.done}/{self.total} samples, loss {mean_loss:.4f}, "
                  f"{rate:,.0f} samples/s", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


# ----- checkpoints -------------------------------------------------------------------------------
def checkpoint_state(config, epoch, model, optimizer, history, splits):
    """The dictionary ``io.save`` writes: enough to resume training and to evaluate."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "model": config.model,
        "dataset": config.dataset,
        "epoch": epoch,
        "config": dataclasses.asdict(config),
        "model_state": dict(model.state_dict()),
        "optimizer_state": optimizer.state_dict(),
        "history": history,
        "preprocessing": {"pixel_mean": splits.pixel_mean, "pixel_std": splits.pixel_std},
    }


def load_checkpoint(path):
    """Read a training checkpoint; ConfigError with the reason if it is missing, corrupt or not one."""
    try:
        state = io.load(path)
    except (OSError, io.CheckpointError) as error:
        raise ConfigError(f"cannot read checkpoint {os.fspath(path)!r}: {error}") from error
    needed = ("model", "dataset", "epoch", "config", "model_state", "optimizer_state", "history", "preprocessing")
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{os.fspath(path)!r} is a chainrule checkpoint but not a training checkpoint "
                          f"(written by chainrule train)")
    missing = [key for key in needed if key not in state]
    if missing:
        raise ConfigError(f"training checkpoint {os.fspath(path)!r} lacks {', '.join(missing)}")
    if state["model"] not in MODEL_NAMES or state["dataset"] not in DATASETS:
        raise ConfigError(f"training checkpoint {os.fspath(path)!r} names an unknown model/dataset "
                          f"{state['model']!r}/{state['dataset']!r}")
    return state


def model_from_checkpoint(state):
    """The model a checkpoint describes, with its weights loaded, in evaluation mode."""
    model = build_model(state["model"], state["dataset"])
    try:
        model.load_state_dict(state["model_state"])
    except (RuntimeError, TypeError, ValueError) as error:
        raise ConfigError(f"the checkpoint's weights do not fit the {state['dataset']} {state['model']}: {error}") \
            from error
    return model.eval()


# ----- files beside the checkpoint ----------------------------------------------------------------
def plot_history(history, path):
    """Save loss and accuracy per epoch (training and validation) as a PNG; needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plotting the training curves needs matplotlib: pip install 'chainrule[extras]'") \
            from error
    epochs = history["epoch"]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history["train_loss"], "o-", label="training")
    loss_axes.plot(epochs, history["val_loss"], "o-", label="validation")
    loss_axes.set(title="loss (cross-entropy)", xlabel="epoch")
    accuracy_axes.plot(epochs, [100 * a for a in history["train_accuracy"]], "o-", label="training")
    accuracy_axes.plot(epochs, [100 * a for a in history["val_accuracy"]], "o-", label="validation")
    accuracy_axes.set(title="accuracy (%)", xlabel="epoch")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def draw_training_step(model, loss_fn, images, labels, path_stem):
    """Draw forward and backward of one training batch (modules collapsed) to ``path_stem``.svg,
    or ``path_stem``.dot when Graphviz's ``dot`` program is missing. Returns the path written.

    The model's state is restored afterwards, so drawing does not change the training run."""
    from . import viz  # needs the graphviz package: ImportError with the install hint otherwise

    saved = model.state_dict()  # a train-mode forward updates BatchNorm's running statistics
    model.train()
    loss = loss_fn(model(Tensor(images)), Tensor(labels))
    picture = viz.draw(loss, collapse_modules=True)
    model.load_state_dict(saved)
    try:
        return viz.save(picture, f"{path_stem}.svg")
    except viz.GraphvizNotFoundError:
        return viz.save(picture, f"{path_stem}.dot")


# ----- the run --------------------------------------------------------------------------------
@dataclasses.dataclass
class TrainResult:
    model: nn.Module
    optimizer: optim.Optimizer
    history: dict
    test_loss: float
    test_accuracy: float
    epochs: int  # epochs completed in total (including those of a resumed checkpoint)
    seconds: float  # training time of this run (the epochs it ran, without evaluation)
    paths: dict  # what was written: 'checkpoint', 'plot', 'graph'
    notes: list  # anything skipped, with the reason (e.g. matplotlib missing)


def _empty_history():
    keys = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_s", "lr")
    return {key: [] for key in keys}


def fit(config, log=print):
    """Train ``config.model`` on ``config.dataset`` as configured; see the module docstring.

    ``log`` receives one line per event (per epoch, files written); pass ``lambda line: None``
    to stay quiet. Raises ConfigError for bad settings, data or checkpoints before training."""
    config.validate()
    checkpoint = None
    if config.resume:
        checkpoint = load_checkpoint(config.resume)
        if (checkpoint["model"], checkpoint["dataset"]) != (config.model, config.dataset):
            raise ConfigError(f"the checkpoint {config.resume!r} holds a {checkpoint['dataset']} "
                              f"{checkpoint['model']}, not a {config.dataset} {config.model}")
        if checkpoint["epoch"] >= config.epochs:
            raise ConfigError(f"the checkpoint {config.resume!r} has already done {checkpoint['epoch']} of "
                              f"{config.epochs} epochs; ask for more epochs (--epochs is the total)")
    # A resumed run standardises with the stored numbers, exactly as its first part did.
    stats = None if checkpoint is None else (checkpoint["preprocessing"]["pixel_mean"],
                                             checkpoint["preprocessing"]["pixel_std"])
    splits = load_splits(config.dataset, config.data_dir, config.val_fraction, config.train_limit, stats)

    nn.init.manual_seed(config.seed)
    model = build_model(config.model, config.dataset)
    base_lr = config.learning_rate()
    optimizer = make_optimizer(config.optimizer, model.parameters(), base_lr, config.momentum, config.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    history, done = _empty_history(), 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model_state"])
        try:
            optimizer.load_state_dict(checkpoint["optimizer_state"])
        except (TypeError, ValueError) as error:
            raise ConfigError(f"the checkpoint's optimizer state does not fit {config.optimizer}: {error}") from error
        history = {key: list(checkpoint["history"].get(key, [])) for key in _empty_history()}
        done = checkpoint["epoch"]

    log(f"training the {config.dataset} {config.model} ({model.num_parameters():,} parameters) on "
        f"{len(splits.y_train):,} images, validating on {len(splits.y_val):,}, testing on {len(splits.y_test):,}; "
        f"{config.optimizer} lr {base_lr:g}{' (cosine)' if config.schedule == 'cosine' else ''}, "
        f"batch {config.batch_size}, seed {config.seed}"
        + (f"; resuming after epoch {done}" if done else ""))
    paths, notes = {}, []
    if config.out:
        os.makedirs(config.out, exist_ok=True)
    if config.graph:
        if not config.out:
            notes.append("--graph needs an output directory; no picture drawn")
        else:
            few = min(len(splits.X_train), config.batch_size, 16)
            try:
                paths["graph"] = draw_training_step(model, loss_fn, splits.X_train[:few], splits.y_train[:few],
                                                    os.path.join(config.out, GRAPH_NAME))
            except ImportError as error:
                notes.append(f"no graph: {error}")

    train_set = TensorDataset(splits.X_train, splits.y_train)
    mode = Progress.choose_mode(config.progress)
    seconds = 0.0
    for epoch in range(done + 1, config.epochs + 1):
        lr = epoch_learning_rate(base_lr, config.schedule, epoch, config.epochs)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                            generator=seed_epoch(model, config.seed, epoch))
        progress = Progress(mode, len(train_set), f"epoch {epoch}/{config.epochs}")
        try:
            stats = train_one_epoch(model, loader, loss_fn, optimizer, progress)
        finally:
            progress.close()
        seconds += stats["seconds"]
        val_loss, val_accuracy, _ = evaluate(model, splits.X_val, splits.y_val)
        for key, value in (("epoch", epoch), ("train_loss", stats["loss"]), ("train_accuracy", stats["accuracy"]),
                           ("val_loss", val_loss), ("val_accuracy", val_accuracy), ("seconds", stats["seconds"]),
                           ("samples_per_s", stats["samples_per_s"]), ("lr", lr)):
            history[key].append(value)
        log(f"epoch {epoch}/{config.epochs}: train loss {stats['loss']:.4f} acc {stats['accuracy']:.2%} | "
            f"val loss {val_loss:.4f} acc {val_accuracy:.2%} | {stats['seconds']:.1f} s, "
            f"{stats['samples_per_s']:,.0f} samples/s")
        if config.out:
            paths["checkpoint"] = os.path.join(config.out, CHECKPOINT_NAME)
            io.save(checkpoint_state(config, epoch, model, optimizer, history, splits), paths["checkpoint"])

    if config.out and config.plot:
        try:
            paths["plot"] = plot_history(history, os.path.join(config.out, PLOT_NAME))
        except ImportError as error:
            notes.append(f"no plot: {error}")
    test_loss, test_accuracy, _ = evaluate(model, splits.X_test, splits.y_test)
    return TrainResult(model, optimizer, history, test_loss, test_accuracy, config.epochs, seconds, paths, notes)


def evaluate_checkpoint(path, data_dir=None):
    """Test loss, accuracy and confusion matrix of a training checkpoint:
    ``{"model", "dataset", "epoch", "loss", "accuracy", "confusion", "samples"}``.
    ``data_dir`` overrides the MNIST directory stored in the checkpoint."""
    state = load_checkpoint(path)
    model = model_from_checkpoint(state)
    data_dir = data_dir or state["config"].get("data_dir")
    X_test, y_test = load_images(state["dataset"], data_dir, "test")
    standardize(X_test, state["preprocessing"]["pixel_mean"], state["preprocessing"]["pixel_std"])
    loss, accuracy, predicted = evaluate(model, X_test, y_test)
    return {"model": state["model"], "dataset": state["dataset"], "epoch": state["epoch"], "loss": loss,
            "accuracy": accuracy, "confusion": confusion_matrix(y_test, predicted), "samples": len(y_test)}
