"""The callback hooks of ``fit``: their order, what they may change, early stopping and the loss guard."""

import logging
import math
import types

import numpy as np
import pytest

from chainrule import io
from chainrule.training import (
    Callback,
    EarlyStopping,
    LogLines,
    NonFiniteError,
    OneProcess,
    StopOnNonFiniteLoss,
    TrainConfig,
    fit,
)


def small(tmp_path, name="run", **settings):
    """A quick run: 128 training digits, the MLP, batches of 32 (4 per epoch)."""
    options = dict(
        model="mlp",
        dataset="digits",
        epochs=2,
        batch_size=32,
        train_limit=128,
        seed=3,
        out=str(tmp_path / name),
        plot=False,
    )
    options.update(settings)
    return TrainConfig(**options)


class Recorder(Callback):
    """Writes down every hook call, with the epoch and batch the run stands at."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, run):
        self.calls.append(("on_train_begin", run.start_epoch))

    def on_epoch_begin(self, run):
        self.calls.append(("on_epoch_begin", run.epoch, run.batches))

    def after_loss(self, run):
        assert run.loss_value == run.loss.item() and all(p.grad is None for p in run.model.parameters())
        self.calls.append(("after_loss", run.epoch, run.batch))

    def after_backward(self, run):
        assert all(p.grad is not None for p in run.model.parameters())
        self.calls.append(("after_backward", run.epoch, run.batch))

    def before_step(self, run):
        self.calls.append(("before_step", run.epoch, run.batch))

    def on_batch_end(self, run):
        self.calls.append(("on_batch_end", run.epoch, run.batch, run.meter.samples))

    def on_epoch_end(self, run):
        self.calls.append(("on_epoch_end", run.epoch, sorted(run.metrics)))

    def on_checkpoint(self, run, state):
        self.calls.append(("on_checkpoint", state["epoch"], len(state["history"]["epoch"])))

    def on_train_end(self, run):
        self.calls.append(("on_train_end", run.error))


def test_hooks_run_in_order_with_the_run_filled_in(tmp_path):
    recorder = Recorder()
    fit(small(tmp_path, train_limit=64), callbacks=[recorder])  # 64 images: two batches of 32 per epoch
    metrics = sorted(
        ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_s", "lr"]
    )
    expected = [("on_train_begin", 0)]
    for epoch in (1, 2):
        expected.append(("on_epoch_begin", epoch, 2))
        for batch in (1, 2):
            expected += [
                ("after_loss", epoch, batch),
                ("after_backward", epoch, batch),
                ("before_step", epoch, batch),
                ("on_batch_end", epoch, batch, 32 * batch),
            ]
        expected += [("on_epoch_end", epoch, metrics), ("on_checkpoint", epoch, epoch)]
    expected.append(("on_train_end", None))
    assert recorder.calls == expected


def test_gradients_can_be_changed_before_the_step(tmp_path):
    class NoUpdate(Callback):  # what averaging gradients across ranks would do, at its simplest
        def before_step(self, run):
            for p in run.model.parameters():
                p.grad = np.zeros_like(p.grad)

    initial = fit(small(tmp_path, "a", epochs=1, optimizer="sgd", out=None), callbacks=[NoUpdate()])
    from chainrule import nn
    from chainrule.models import build_model

    nn.init.manual_seed(3)
    untrained = build_model("mlp", "digits")
    for key, value in untrained.state_dict().items():
        np.testing.assert_array_equal(value, initial.model.state_dict()[key])


def test_metrics_changed_at_epoch_end_are_what_is_logged_kept_and_saved(tmp_path):
    class HalveTheLoss(Callback):  # stands for reducing metrics across data-parallel ranks
        def on_epoch_end(self, run):
            run.metrics["train_loss"] = 0.5

    lines = []
    result = fit(small(tmp_path), callbacks=[HalveTheLoss(), LogLines(lines.append)])
    assert result.history["train_loss"] == [0.5, 0.5]
    assert "train loss 0.5000" in lines[-1]
    assert io.load(result.paths["checkpoint"])["history"]["train_loss"] == [0.5, 0.5]


def test_fit_prints_nothing_and_logs_to_the_chainrule_logger(tmp_path, capsys, caplog):
    with caplog.at_level(logging.INFO, logger="chainrule"):
        fit(small(tmp_path, epochs=1), callbacks=[LogLines()])
    assert capsys.readouterr() == ("", "")
    assert [record.name for record in caplog.records] == ["chainrule", "chainrule"]
    assert caplog.records[-1].getMessage().startswith("epoch 1/1: train loss ")


def test_log_shorthand_and_callbacks_must_be_callbacks(tmp_path):
    lines = []
    fit(small(tmp_path, epochs=1, out=None), log=lines.append)
    assert lines[0].startswith("training the digits mlp") and lines[1].startswith("epoch 1/1:")
    with pytest.raises(TypeError, match="fit: callbacks must be chainrule.training.Callback instances, got object"):
        fit(small(tmp_path, out=None), callbacks=[object()])


# ----- early stopping ----------------------------------------------------------------------------------
class ValLosses(Callback):
    """Replaces the validation loss by a fixed sequence, so the test knows when it stops improving."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, run):
        run.metrics["val_loss"] = self.values[run.epoch - 1]


LOSSES = [1.0, 0.8, 0.85, 0.9, 0.95, 0.5, 0.4, 0.3]


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path):
    result = fit(small(tmp_path, epochs=8), callbacks=[ValLosses(LOSSES), EarlyStopping(patience=3)])
    assert result.epochs == 5 and result.history["epoch"] == [1, 2, 3, 4, 5]
    assert result.notes == [
        "stopped early after epoch 5: val_loss has not improved for 3 epochs (best 0.8000, patience 3)"
    ]
    assert io.load(result.paths["checkpoint"])["epoch"] == 5


def test_early_stopping_in_a_resumed_run_counts_the_epochs_before(tmp_path):
    first = fit(small(tmp_path, "first", epochs=3), callbacks=[ValLosses(LOSSES), EarlyStopping(patience=3)])
    resumed = fit(
        small(tmp_path, "second", epochs=8, resume=first.paths["checkpoint"]),
        callbacks=[ValLosses(LOSSES), EarlyStopping(patience=3)],
    )
    assert resumed.history["epoch"] == [1, 2, 3, 4, 5]


def test_early_stopping_on_accuracy_waits_for_a_rise():
    stopper = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.01)
    run = types.SimpleNamespace(
        history={"val_accuracy": [0.5]}, metrics={"val_accuracy": 0.505}, epoch=2, notes=[], stop=False
    )
    stopper.on_train_begin(run)
    stopper.on_epoch_end(run)  # 0.505 is not 0.01 better than 0.5
    assert run.stop and "val_accuracy has not improved for 1 epochs (best 0.5000" in run.notes[0]


@pytest.mark.parametrize(
    "options, message",
    [
        (
            dict(monitor="test_loss"),
            "EarlyStopping: monitor must be one of val_loss, val_accuracy, train_loss, train_accuracy, got 'test_loss'",
        ),
        (dict(patience=0), "EarlyStopping: patience must be an integer >= 1, got 0"),
        (dict(patience=2.5), "EarlyStopping: patience must be an integer >= 1, got 2.5"),
        (dict(min_delta=-1), "EarlyStopping: min_delta must be a non-negative number, got -1"),
        (dict(min_delta=math.nan), "EarlyStopping: min_delta must be a non-negative number, got nan"),
    ],
)
def test_early_stopping_refuses_bad_settings(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        EarlyStopping(**options)


# ----- bad runs lose nothing -----------------------------------------------------------------------------
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    first = fit(small(tmp_path, epochs=1))
    path = first.paths["checkpoint"]
    good = open(path, "rb").read()
    with pytest.raises(
        NonFiniteError,
        match=r"^epoch 2, batch \d of 4: the loss is (nan|inf); training diverged: "
        r"try a smaller learning rate than 1e\+30 \(--lr\)\. Stopped before "
        r"this step; nothing of this epoch was saved$",
    ):
        fit(small(tmp_path, epochs=2, lr=1e30, resume=path))
    assert open(path, "rb").read() == good


def test_a_nan_pixel_that_reaches_training_is_blamed_on_the_data(tmp_path):
    class Poison(Callback):
        def on_train_begin(self, run):
            run.splits.X_train[37, 0, 4, 4] = np.nan  # in the second batch of 32

    with pytest.raises(
        NonFiniteError,
        match=r"^epoch 1, batch \d of 4: the loss is nan; the batch's inputs hold "
        r"1 NaN or Inf value\(s\): check the data\.",
    ):
        fit(small(tmp_path, out=None), callbacks=[Poison()])


def test_the_guard_reads_the_loss_it_is_given():
    guard = StopOnNonFiniteLoss()
    run = types.SimpleNamespace(loss_value=2.3, inputs=None, processes=OneProcess())
    guard.after_loss(run)  # finite: nothing happens, not even a look at the inputs
    run = types.SimpleNamespace(
        loss_value=math.inf, inputs=np.ones(3), epoch=1, batch=2, batches=5, lr=0.5, processes=OneProcess()
    )
    with pytest.raises(
        NonFiniteError,
        match="epoch 1, batch 2 of 5: the loss is inf; training diverged: try a smaller learning rate than 0.5",
    ):
        guard.after_loss(run)


def test_non_finite_weights_are_never_written_over_a_checkpoint(tmp_path):
    class BreakWeights(Callback):  # a last step that overflowed: the loss was finite, the weights are not
        def on_epoch_end(self, run):
            next(iter(run.model.parameters())).data[0, 0] = np.inf  # the first Linear's weight: '1.weight'

    path = fit(small(tmp_path, epochs=1)).paths["checkpoint"]
    good = open(path, "rb").read()
    with pytest.raises(
        NonFiniteError,
        match=r"epoch 2: '1\.weight' holds NaN or Inf after the epoch's last step; "
        r".*checkpoint\.safetensors was not written over",
    ):
        fit(small(tmp_path, resume=path), callbacks=[BreakWeights()])
    assert open(path, "rb").read() == good


def test_the_progress_callback_reports_each_batch_on_stderr(tmp_path, capsys, monkeypatch):
    from chainrule.training import Progress

    monkeypatch.setattr(Progress, "LINE_EVERY_S", 0.0)  # a line per batch (stderr is not a terminal here)
    fit(small(tmp_path, epochs=1, out=None, progress=True))
    out, err = capsys.readouterr()
    assert out == ""
    assert [line.split(", loss")[0] for line in err.splitlines()] == [
        f"  epoch 1/1: {n}/128 samples" for n in (32, 64, 96, 128)
    ]
