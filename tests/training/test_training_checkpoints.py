"""Training checkpoints with valid checksums but wrong contents: one line naming the field, never a traceback."""

import copy

import numpy as np
import pytest

from chainrule import cli, io
from chainrule.training import ConfigError, TrainConfig, evaluate_checkpoint, fit, load_checkpoint


@pytest.fixture(scope="module")
def good_state(tmp_path_factory):
    """The contents of a real one-epoch checkpoint of the digits MLP (Adam)."""
    out = tmp_path_factory.mktemp("good")
    config = TrainConfig(
        model="mlp", dataset="digits", epochs=1, batch_size=32, train_limit=64, out=str(out), plot=False
    )
    return io.load(fit(config).paths["checkpoint"])


def set_field(state, field, value):
    """``state`` with ``field`` ('a.b.0.c': dict keys and list indices) set to ``value``; ``...`` deletes it."""
    *parents, last = field.split(".")
    target = state
    for part in parents:
        target = target[int(part) if part.isdigit() else part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return state


def breaks(field, value):
    return lambda state: set_field(state, field, value)


def shrink_weight(state):
    state["model_state"]["1.weight"] = np.zeros((3, 2), dtype=np.float32)
    return state


def nan_weight(state):
    state["model_state"]["3.bias"][0] = np.nan
    return state


def wrong_moment_shape(state):
    state["optimizer_state"]["state"][0]["exp_avg"] = np.zeros(5, dtype=np.float32)
    return state


def short_history(state):
    state["history"]["val_loss"] = []
    return state


# (how to break the checkpoint, what the error must say, whether evaluate reads that field too)
CASES = {
    "config a list": (
        breaks("config", [1, 2]),
        "config holds [1, 2] (list); expected a dict of TrainConfig's settings",
        True,
    ),
    "epoch a string": (breaks("epoch", "1"), "epoch holds '1' (str); expected an integer >= 1", True),
    "epoch zero": (breaks("epoch", 0), "epoch holds 0 (int); expected an integer >= 1", True),
    "pixel_std zero": (
        breaks("preprocessing.pixel_std", 0),
        "preprocessing.pixel_std holds 0 (int); expected a positive finite number",
        True,
    ),
    "pixel_mean nan": (
        breaks("preprocessing.pixel_mean", float("nan")),
        "preprocessing.pixel_mean holds nan (float); expected a finite number",
        True,
    ),
    "preprocessing a string": (breaks("preprocessing", "z"), "preprocessing holds 'z' (str); expected a dict", True),
    "model unknown": (breaks("model", "resnet"), "model holds 'resnet' (str); expected one of mlp, cnn", True),
    "dataset a number": (breaks("dataset", 5), "dataset holds 5 (int); expected one of digits, mnist", True),
    "version 2": (breaks("version", 2), "version holds 2 (int); expected 1", True),
    "no history": (breaks("history", ...), "lacks history", True),
    "history too short": (
        short_history,
        "history.val_loss holds [] (list); expected a list of 1 number(s), one per epoch",
        True,
    ),
    "model_state a list": (breaks("model_state", [1]), "model_state holds [1] (list); expected a dict of arrays", True),
    "weights of another shape": (
        shrink_weight,
        "model_state does not fit the digits mlp: "
        "Sequential.load_state_dict: shape mismatch for '1.weight': the "
        "checkpoint has (3, 2), the model has (128, 64)",
        True,
    ),
    "NaN weights": (nan_weight, "model_state['3.bias'] holds NaN or Inf; expected finite weights", True),
    "config epochs a string": (
        breaks("config.epochs", "3"),
        "config is not a valid training configuration: the epochs must be an integer >= 1, got '3'",
        True,
    ),
    "config data_dir a list": (
        breaks("config.data_dir", ["a"]),
        "config is not a valid training configuration: data_dir must be a path (str) or None, got ['a']",
        True,
    ),
    "config of another model": (
        breaks("config.model", "cnn"),
        "config.model holds 'cnn' (str); expected 'mlp', the checkpoint's model",
        True,
    ),
    "optimizer_state a list": (
        breaks("optimizer_state", []),
        "optimizer_state holds [] (list); expected the optimizer's state_dict (a dict with 'state' and 'param_groups')",
        True,
    ),
    "optimizer params not indices": (
        breaks("optimizer_state.param_groups", [{"params": ["a"]}]),
        "optimizer_state.param_groups[0].params holds ['a'] (list); expected a list of parameter indices",
        True,
    ),
    "optimizer moment a string": (
        breaks("optimizer_state.state.0.exp_avg", "x"),
        "optimizer_state.state[0]['exp_avg'] holds 'x' (str); expected an array or a number",
        True,
    ),
    "betas a string": (
        breaks("optimizer_state.param_groups.0.betas", "ab"),
        "optimizer_state.param_groups[0] does not suit Adam: Adam: betas must be a pair (beta1, beta2), got 'ab'",
        False,
    ),
    "amsgrad a string": (
        breaks("optimizer_state.param_groups.0.amsgrad", "no"),
        "optimizer_state.param_groups[0].amsgrad holds 'no' (str); expected True or False",
        False,
    ),
    "moments of another shape": (
        wrong_moment_shape,
        "optimizer_state does not fit Adam on this model: Adam: state "
        "'exp_avg' of parameter 0 has shape (5,), but the parameter "
        "has shape (128, 64)",
        False,
    ),
}


def run_cli(argv, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    return status, *capsys.readouterr()


def write_broken(good_state, tmp_path, case):
    path = tmp_path / "broken.safetensors"
    io.save(CASES[case][0](copy.deepcopy(good_state)), path)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_field_gives_one_line_naming_it(good_state, tmp_path, capsys, case):
    path = write_broken(good_state, tmp_path, case)
    message, evaluate_reads_it = CASES[case][1], CASES[case][2]
    status, out, err = run_cli(
        ["train", "--resume", str(path), "--epochs", "2", "--out", str(tmp_path / "out")], capsys
    )
    assert status == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("chainrule train: error: ") and message in err
    if evaluate_reads_it:
        status, out, err = run_cli(["evaluate", str(path)], capsys)
        assert status == 2 and "Traceback" not in err and err.count("\n") == 1, err
        assert err.startswith("chainrule evaluate: error: ") and message in err
        with pytest.raises(ConfigError, match="field|holds|lacks|does not fit|not a valid"):
            evaluate_checkpoint(path)


def test_the_good_checkpoint_passes(good_state, tmp_path):
    path = tmp_path / "good.safetensors"
    io.save(good_state, path)
    assert load_checkpoint(path)["epoch"] == 1
    assert evaluate_checkpoint(path)["samples"] == 360
