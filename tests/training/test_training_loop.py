"""The training loop as library functions: one epoch, determinism, resume, checkpoints, evaluation."""

import numpy as np
import pytest

from chainrule import io
from chainrule.training import (
    ConfigError,
    TrainConfig,
    confusion_matrix,
    evaluate_checkpoint,
    fit,
    format_confusion_matrix,
    load_checkpoint,
)


def small(tmp_path, name="run", **settings):
    """A quick run: a few hundred training digits, the MLP unless asked otherwise."""
    options = dict(
        model="mlp",
        dataset="digits",
        epochs=1,
        batch_size=32,
        train_limit=256,
        seed=3,
        out=str(tmp_path / name),
        progress=False,
        plot=False,
    )
    options.update(settings)
    return TrainConfig(**options)


def test_one_epoch_of_the_cnn_writes_checkpoint_and_plot(tmp_path):
    result = fit(small(tmp_path, model="cnn", plot=True))
    assert set(result.paths) == {"checkpoint", "plot"}
    for path in result.paths.values():
        assert (tmp_path / "run").joinpath(path.rsplit("/", 1)[-1]).stat().st_size > 0
    assert result.history["epoch"] == [1]
    assert 0.3 < result.test_accuracy <= 1.0  # one epoch on 256 digits is well above chance (10%)
    state = load_checkpoint(result.paths["checkpoint"])
    assert (state["model"], state["dataset"], state["epoch"]) == ("cnn", "digits", 1)
    assert set(state["model_state"]) == set(result.model.state_dict())


def test_the_mlp_learns_the_digits(tmp_path):
    result = fit(small(tmp_path, epochs=3, train_limit=None, lr=3e-3, out=None))
    assert result.paths == {}
    assert result.history["train_loss"][-1] < result.history["train_loss"][0]
    assert result.test_accuracy > 0.9


def test_the_same_seed_gives_the_same_numbers(tmp_path):
    first = fit(small(tmp_path, "a", epochs=2))
    second = fit(small(tmp_path, "b", epochs=2))
    other = fit(small(tmp_path, "c", epochs=2, seed=4))
    assert first.history["train_loss"] == second.history["train_loss"]
    assert first.history["val_loss"] == second.history["val_loss"]
    assert first.history["train_loss"] != other.history["train_loss"]
    for key, value in first.model.state_dict().items():
        np.testing.assert_array_equal(value, second.model.state_dict()[key])


@pytest.mark.parametrize("model, optimizer", [("cnn", "adam"), ("mlp", "sgd")])
def test_two_epochs_equal_one_plus_resumed_one(tmp_path, model, optimizer):
    settings = dict(model=model, optimizer=optimizer, momentum=0.9 if optimizer == "sgd" else 0.0, train_limit=128)
    straight = fit(small(tmp_path, "straight", epochs=2, **settings))
    half = fit(small(tmp_path, "half", epochs=1, **settings))
    resumed = fit(small(tmp_path, "resumed", epochs=2, resume=half.paths["checkpoint"], **settings))
    assert resumed.history["train_loss"] == straight.history["train_loss"]
    for key, value in straight.model.state_dict().items():  # weights and BatchNorm statistics
        np.testing.assert_array_equal(value, resumed.model.state_dict()[key], err_msg=key)
    assert resumed.test_accuracy == straight.test_accuracy


def test_evaluate_checkpoint_gives_a_confusion_matrix_over_the_test_set(tmp_path):
    result = fit(small(tmp_path))
    report = evaluate_checkpoint(result.paths["checkpoint"])
    assert report["samples"] == 360 and report["confusion"].sum() == 360
    assert report["accuracy"] == pytest.approx(np.trace(report["confusion"]) / 360)
    assert report["accuracy"] == pytest.approx(result.test_accuracy)


def test_confusion_matrix_table():
    counts = confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], classes=3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    table = format_confusion_matrix(counts)
    assert table.splitlines()[0].split() == ["true\\pred", "0", "1", "2", "total", "recall"]
    assert "50.0%" in table.splitlines()[2]
    assert table.splitlines()[-1].split() == ["total", "1", "1", "2", "4"]


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(model="resnet"), "unknown model 'resnet'"),
        (dict(dataset="cifar"), "unknown dataset 'cifar'"),
        (dict(optimizer="lbfgs"), "unknown optimizer 'lbfgs'"),
        (dict(epochs=0), "epochs must be an integer >= 1, got 0"),
        (dict(batch_size=-1), "batch size must be an integer >= 1"),
        (dict(lr=0.0), "learning rate must be a positive number, got 0.0"),
        (dict(optimizer="adam", momentum=0.9), "momentum applies to sgd and rmsprop only"),
        (dict(dataset="mnist"), "needs a data directory"),
        (dict(model=["mlp"]), r"unknown model \['mlp'\]; expected one of mlp, cnn"),
        (dict(dataset={"name": "digits"}), r"unknown dataset \{'name': 'digits'\}; expected one of digits, mnist"),
        (dict(plot="yes"), "plot must be True or False, got 'yes'"),
        (dict(out=3), r"out must be a path \(str\) or None, got 3"),
        (dict(download=True), r"download \(--download\) applies to the mnist dataset only"),
    ],
)
def test_bad_settings_are_refused_before_training(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        fit(small(tmp_path, **settings))


def test_mnist_with_a_directory_missing_files(tmp_path):
    with pytest.raises(ConfigError, match="train-images-idx3-ubyte"):
        fit(small(tmp_path, dataset="mnist", data_dir=str(tmp_path)))


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ConfigError, match="cannot read checkpoint"):
        fit(small(tmp_path, resume=str(bad)))
    foreign = tmp_path / "foreign.safetensors"
    io.save({"weights": np.zeros(3)}, foreign)
    with pytest.raises(ConfigError, match="not a training checkpoint"):
        evaluate_checkpoint(foreign)
    with pytest.raises(ConfigError, match="cannot read checkpoint"):
        evaluate_checkpoint(tmp_path / "missing.safetensors")


def test_resume_refuses_another_model_or_finished_runs(tmp_path):
    done = fit(small(tmp_path)).paths["checkpoint"]
    with pytest.raises(ConfigError, match="holds a digits mlp, not a digits cnn"):
        fit(small(tmp_path, model="cnn", epochs=2, resume=done))
    with pytest.raises(ConfigError, match="already done 1 of 1 epochs"):
        fit(small(tmp_path, resume=done))


def test_real_mnist_one_quick_epoch(tmp_path, mnist_dir):
    result = fit(small(tmp_path, dataset="mnist", data_dir=str(mnist_dir), train_limit=512, out=None))
    assert len(result.history["epoch"]) == 1
    assert result.test_accuracy > 0.5


def test_progress_modes(monkeypatch):
    import io as text_io

    from chainrule.training import Progress

    assert Progress.choose_mode(False) == "off"
    assert Progress.choose_mode(True, text_io.StringIO()) == "lines"  # not a terminal
    stream = text_io.StringIO()
    bar = Progress("bar", 100, "epoch 1/2", stream=stream)
    for _ in range(4):
        bar.update(25, 0.5)
    bar.close()
    assert "epoch 1/2" in stream.getvalue() and "sample/s" in stream.getvalue()
    monkeypatch.setattr(Progress, "LINE_EVERY_S", 0.0)
    stream = text_io.StringIO()
    lines = Progress("lines", 100, "epoch 2/2", stream=stream)
    lines.update(50, 0.25)
    assert stream.getvalue().startswith("  epoch 2/2: 50/100 samples, loss 0.2500, ")
    assert stream.getvalue().rstrip().endswith("samples/s")


def test_without_matplotlib_the_run_says_why_there_is_no_plot(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    result = fit(small(tmp_path, plot=True))
    assert "plot" not in result.paths and "checkpoint" in result.paths
    assert result.notes == ["no plot: plotting the training curves needs matplotlib: pip install 'chainrule[extras]'"]


def test_non_finite_or_constant_images_are_refused_before_training(tmp_path, monkeypatch):
    from chainrule.training import data

    real = data.load_images

    def with_a_nan_pixel(*args):
        X, y = real(*args)
        X[5, 0, 3, 3] = np.nan
        return X, y

    monkeypatch.setattr(data, "load_images", with_a_nan_pixel)
    with pytest.raises(
        ConfigError,
        match=r"the digits (training|validation) split holds 1 NaN or Inf pixel\(s\); "
        r"expected finite numbers \(they would turn the loss into NaN\)",
    ):
        fit(small(tmp_path))
    monkeypatch.setattr(data, "load_images", lambda *args: (np.ones_like(real(*args)[0]), real(*args)[1]))
    with pytest.raises(
        ConfigError,
        match="cannot standardise the digits images with pixel mean 1.0 and standard "
        "deviation 0.0; expected finite numbers and a positive deviation",
    ):
        fit(small(tmp_path))
