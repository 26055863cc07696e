"""Training checkpoints: what ``fit`` writes each epoch, and reading one back with every field checked.

A checkpoint is a dict saved with ``chainrule.io.save``: the model and data set names, the
epoch, the configuration, the model's and optimizer's state, the history of every epoch
and the pixel statistics. ``load_checkpoint`` checks every field after reading the file,
so a file with valid checksums but wrong contents (a list where the configuration should
be, a string epoch, a zero standard deviation, weights of another shape) gives one
``ConfigError`` naming the field, what it holds and what was expected, never a traceback
from deep inside training.
"""

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import numpy as np

from .. import checks, io, nn, optim
from ..models import DATASETS, MODEL_NAMES
from .config import ConfigError, TrainConfig, model_for

if TYPE_CHECKING:
    from .data import Splits

_Model = TypeVar("_Model", bound=nn.Module)

CHECKPOINT_FORMAT = "chainrule.training"
CHECKPOINT_VERSION = 1
CHECKPOINT_NAME = "checkpoint.safetensors"

#: What the history records per epoch (one list each, one entry per epoch).
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_s", "lr")


def empty_history() -> dict[str, list[float]]:
    return {key: [] for key in HISTORY_KEYS}


def checkpoint_state(
    config: TrainConfig,
    epoch: int,
    model: nn.Module,
    optimizer: optim.Optimizer,
    history: dict[str, list[float]],
    splits: "Splits",
) -> dict[str, Any]:
    """The dictionary ``io.save`` writes: enough to resume training and to evaluate."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": config.model,
        "dataset": config.dataset,
        "epoch": epoch,
        "config": dataclasses.asdict(config),
        "model_state": dict(model.state_dict()),
        "optimizer_state": optimizer.state_dict(),
        "history": history,
        "preprocessing": preprocessing(splits),
    }


def preprocessing(splits: "Splits") -> dict[str, float | str]:
    """What turns raw data into the model's input: the pixel statistics, and a text's vocabulary."""
    entries: dict[str, float | str] = {"pixel_mean": splits.pixel_mean, "pixel_std": splits.pixel_std}
    if splits.vocabulary is not None:
        entries["vocabulary"] = splits.vocabulary
    return entries


def non_finite_entries(state_dict: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point arrays in ``state_dict`` that hold NaN or Inf."""
    return [
        name
        for name, value in state_dict.items()
        if np.issubdtype(np.asarray(value).dtype, np.inexact) and not np.isfinite(value).all()
    ]


# ----- reading -----------------------------------------------------------------------------------
def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a training checkpoint and check every field; ConfigError with the reason if it is missing,
    corrupt, not a training checkpoint, or holds a field of the wrong kind."""
    where = f"training checkpoint {os.fspath(path)!r}"
    try:
        state = io.load(path)
    except (OSError, io.CheckpointError) as error:
        raise ConfigError(f"cannot read checkpoint {os.fspath(path)!r}: {error}") from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(
            f"{os.fspath(path)!r} is a chainrule checkpoint but not a training checkpoint (written by chainrule train)"
        )
    missing = [key for key in ("version",) + _FIELDS if key not in state]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}")

    def require(field: str, ok: Callable[[Any], bool], expected: str) -> None:
        value = _lookup(state, field)
        if not ok(value):
            _fail(where, field, value, expected)

    require("version", lambda v: v == CHECKPOINT_VERSION and _is_int(v), f"{CHECKPOINT_VERSION}")
    require("model", lambda v: isinstance(v, str) and v in MODEL_NAMES, f"one of {', '.join(MODEL_NAMES)}")
    require("dataset", lambda v: isinstance(v, str) and v in DATASETS, f"one of {', '.join(DATASETS)}")
    require("epoch", lambda v: _is_int(v) and v >= 1, "an integer >= 1")
    require("preprocessing", lambda v: isinstance(v, dict), "a dict with pixel_mean and pixel_std")
    require("preprocessing.pixel_mean", lambda v: _is_number(v) and math.isfinite(v), "a finite number")
    require(
        "preprocessing.pixel_std", lambda v: _is_number(v) and math.isfinite(v) and v > 0, "a positive finite number"
    )
    if state.get("dataset") == "text":
        require(
            "preprocessing.vocabulary",
            lambda v: isinstance(v, str) and len(v) > 0 and len(set(v)) == len(v),
            "the characters of the text, each once",
        )
    require(
        "model_state",
        lambda v: isinstance(v, dict) and all(isinstance(a, np.ndarray) for a in v.values()),
        "a dict of arrays (the model's state_dict)",
    )
    bad = non_finite_entries(state["model_state"])
    if bad:
        raise ConfigError(f"{where}: model_state[{bad[0]!r}] holds NaN or Inf; expected finite weights")
    _check_optimizer_state(state["optimizer_state"], where)
    require("history", lambda v: isinstance(v, dict), f"a dict of lists ({', '.join(HISTORY_KEYS)})")
    for key in HISTORY_KEYS:
        require(
            f"history.{key}",
            lambda v: isinstance(v, list) and len(v) == state["epoch"] and all(_is_number(x) for x in v),
            f"a list of {state['epoch']} number(s), one per epoch",
        )
    require("config", lambda v: isinstance(v, dict), "a dict of TrainConfig's settings")
    try:
        config_of(state).validate()
    except ConfigError as error:
        raise ConfigError(f"{where}: config is not a valid training configuration: {error}") from error
    for key in ("model", "dataset"):

        def matches(v: Any, key: str = key) -> bool:
            return bool(v == state[key])

        require(f"config.{key}", matches, f"{state[key]!r}, the checkpoint's {key}")
    return state


_FIELDS = ("model", "dataset", "epoch", "config", "model_state", "optimizer_state", "history", "preprocessing")


def load_weights(model: _Model, state: Mapping[str, Any], source: str = "the checkpoint") -> _Model:
    """Copy the checkpoint's ``model_state`` into ``model``; ConfigError if they do not fit.
    ``source`` names the checkpoint in messages."""
    try:
        model.load_state_dict(state["model_state"])
    except (RuntimeError, TypeError, ValueError) as error:
        raise ConfigError(
            f"{source}: model_state does not fit the {state['dataset']} {state['model']}: {error}"
        ) from error
    return model


def config_of(state: Mapping[str, Any]) -> TrainConfig:
    """The TrainConfig stored in a checkpoint (checked by ``load_checkpoint``)."""
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{key: value for key, value in state["config"].items() if key in fields})


def model_from_checkpoint(state: Mapping[str, Any], source: str = "the checkpoint") -> nn.Module:
    """The model a checkpoint describes, with its weights loaded, in evaluation mode."""
    model = model_for(config_of(state), state["preprocessing"].get("vocabulary"))
    return load_weights(model, state, source).eval()


def load_optimizer_state(optimizer: optim.Optimizer, state: Mapping[str, Any], source: str = "the checkpoint") -> None:
    """Restore the checkpoint's ``optimizer_state`` into ``optimizer``; ConfigError naming the field
    if its settings are of the wrong kind or its arrays do not fit the parameters."""
    saved = state["optimizer_state"]
    name = type(optimizer).__name__
    for g, (group, fresh) in enumerate(zip(saved["param_groups"], optimizer.param_groups)):
        options = {key: group[key] for key in fresh if key != "params" and key in group}
        for key, value in options.items():
            if isinstance(fresh[key], bool) and not isinstance(value, bool):
                _fail(source, f"optimizer_state.param_groups[{g}].{key}", value, "True or False")
        try:  # the optimizer's own checks of its settings, on a throwaway copy
            type(optimizer)(fresh["params"], **options)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{source}: optimizer_state.param_groups[{g}] does not suit {name}: {error}") from error
    try:
        optimizer.load_state_dict(saved)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{source}: optimizer_state does not fit {name} on this model: {error}") from error


# ----- helpers ----------------------------------------------------------------------------------
def _lookup(state: Mapping[str, Any], field: str) -> Any:
    value: Any = state
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _is_int(value: object) -> bool:
    return checks.is_integer(value)


def _is_number(value: object) -> bool:
    return checks.is_real(value)


def _check_optimizer_state(saved: object, where: str) -> None:
    """The shape of an optimizer's ``state_dict()``; whether it fits the optimizer is checked on loading."""
    if not isinstance(saved, dict):
        _fail(where, "optimizer_state", saved, "the optimizer's state_dict (a dict with 'state' and 'param_groups')")
    groups, state = saved.get("param_groups"), saved.get("state")
    if not isinstance(groups, list):
        _fail(where, "optimizer_state.param_groups", groups, "a list of dicts")
    for g, group in enumerate(groups):
        params = group.get("params") if isinstance(group, dict) else group
        if not isinstance(params, list) or not all(_is_int(i) for i in params):
            _fail(where, f"optimizer_state.param_groups[{g}].params", params, "a list of parameter indices")
    if not isinstance(state, dict):
        _fail(where, "optimizer_state.state", state, "a dict of per-parameter dicts")
    for index, entry in state.items():
        if not (_is_int(index) and isinstance(entry, dict)):
            _fail(where, f"optimizer_state.state[{index!r}]", entry, "a dict of arrays and numbers")
        for key, value in entry.items():
            if not (isinstance(value, np.ndarray) or _is_number(value)):
                _fail(where, f"optimizer_state.state[{index}][{key!r}]", value, "an array or a number")


def _fail(where: str, field: str, value: object, expected: str) -> NoReturn:
    raise ConfigError(f"{where}: {field} holds {_show(value)}; expected {expected}")


def _show(value: object, width: int = 60) -> str:
    """``value`` for an error message: its type and a repr cut to ``width`` characters."""
    text = " ".join(repr(value).split())  # one line, even for an array
    if len(text) > width:
        text = text[: width - 3] + "..."
    return "None" if value is None else f"{text} ({type(value).__name__})"
