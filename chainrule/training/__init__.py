"""Training and evaluating the named models: a small loop with callbacks, usable without the CLI.

    from chainrule.training import EarlyStopping, LogLines, TrainConfig, fit
    result = fit(TrainConfig(model="cnn", dataset="digits", epochs=20, out="runs/cnn"),
                 callbacks=[EarlyStopping(patience=3), LogLines(print)])
    print(result.test_accuracy, result.paths)

``fit`` seeds everything from ``config.seed``, so the same seed gives the same numbers and a
run resumed from a checkpoint continues exactly as if it had never stopped. Each epoch it
writes ``checkpoint.safetensors`` (model and optimizer state, epoch, history,
configuration) into ``config.out``; at the end it plots the loss and accuracy curves and
measures the test accuracy. It prints nothing unless asked (``LogLines(print)``, or
``log=print``). A NaN or Inf loss stops it at once with ``NonFiniteError``, keeping the last
good checkpoint.

The modules, by what they hold:

============== ==================================================================================
config         TrainConfig and its checks, ConfigError, the optimizer factory
data           the splits: loading, standardising, checking for empty or non-finite data; windows
               of text for the language model
loop           fit (the loop), Run (what callbacks see), the learning-rate schedule, seeding
callbacks      Callback and the built-in ones: the loss guard, logging, progress, early
               stopping, checkpoints, plots
checkpoints    writing a training checkpoint and reading one back with every field checked
evaluation     predictions, loss and accuracy, the confusion matrix, evaluate_checkpoint
reports        the confusion table, the curves, the picture of one step
============== ==================================================================================
"""

from .callbacks import (
    Callback,
    CallbackList,
    ClipGradNorm,
    DrawTrainingStep,
    EarlyStopping,
    LogLines,
    NonFiniteError,
    PlotCurves,
    Progress,
    ProgressBar,
    SaveCheckpoint,
    StopOnNonFiniteLoss,
    WarmupCosine,
)
from .checkpoints import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_NAME,
    HISTORY_KEYS,
    checkpoint_state,
    load_checkpoint,
    model_from_checkpoint,
)
from .config import (
    DEFAULT_LR,
    MODEL_DEFAULTS,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    TrainConfig,
    make_optimizer,
    model_for,
)
from .data import TEST_SPLIT_SEED, VAL_SPLIT_SEED, Splits, load_images, load_splits, load_text_splits, standardize
from .evaluation import confusion_matrix, evaluate, evaluate_checkpoint, predict
from .loop import (
    GRAPH_NAME,
    PLOT_NAME,
    EpochMeter,
    OneProcess,
    Run,
    TrainResult,
    fit,
    learning_rate_schedule,
    seed_epoch,
)
from .reports import draw_training_step, format_confusion_matrix, plot_history, plural

__all__ = [
    "TrainConfig",
    "ConfigError",
    "fit",
    "TrainResult",
    "Run",
    "EpochMeter",
    "OneProcess",
    "Callback",
    "CallbackList",
    "StopOnNonFiniteLoss",
    "NonFiniteError",
    "LogLines",
    "Progress",
    "ProgressBar",
    "EarlyStopping",
    "ClipGradNorm",
    "WarmupCosine",
    "SaveCheckpoint",
    "PlotCurves",
    "DrawTrainingStep",
    "OPTIMIZERS",
    "DEFAULT_LR",
    "SCHEDULES",
    "MODEL_DEFAULTS",
    "make_optimizer",
    "model_for",
    "learning_rate_schedule",
    "seed_epoch",
    "Splits",
    "load_images",
    "load_splits",
    "load_text_splits",
    "standardize",
    "TEST_SPLIT_SEED",
    "VAL_SPLIT_SEED",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_NAME",
    "HISTORY_KEYS",
    "PLOT_NAME",
    "GRAPH_NAME",
    "checkpoint_state",
    "load_checkpoint",
    "model_from_checkpoint",
    "predict",
    "evaluate",
    "evaluate_checkpoint",
    "confusion_matrix",
    "format_confusion_matrix",
    "plot_history",
    "draw_training_step",
    "plural",
]
