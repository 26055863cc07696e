"""``chainrule train`` and ``chainrule evaluate`` through ``chainrule.cli.main``: output, files, exit statuses."""

import re

import numpy as np
import pytest

from chainrule import cli, io

QUICK = ["--dataset", "digits", "--epochs", "1", "--batch-size", "32", "--train-limit", "200", "--no-progress"]


def run(argv, capsys):
    """(exit status, stdout, stderr) of the chainrule command line; argparse's exits count too."""
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_train_prints_epochs_and_test_accuracy_and_writes_files(tmp_path, capsys):
    out_dir = tmp_path / "run"
    status, out, err = run(["train", "--model", "cnn", *QUICK, "--out", str(out_dir)], capsys)
    assert status == 0, err
    assert re.search(r"epoch 1/1: train loss \d\.\d{4} acc [\d.]+% \| val loss \d\.\d{4} acc [\d.]+% \| "
                     r"[\d.]+ s, [\d,]+ samples/s", out)
    assert re.search(r"test accuracy: [\d.]+% \(loss \d\.\d{4}\) after 1 epoch,", out)
    assert f"checkpoint {out_dir / 'checkpoint.safetensors'}" in out
    assert f"plot       {out_dir / 'curves.png'}" in out
    assert (out_dir / "checkpoint.safetensors").stat().st_size > 0
    assert (out_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_losses_and_resume_equals_straight_run(tmp_path, capsys):
    def losses(out):
        return re.findall(r"train loss (\d\.\d{4}) acc ([\d.]+)% \| val loss (\d\.\d{4})", out)

    args = ["train", "--model", "mlp", *QUICK, "--seed", "7"]
    _, first, _ = run(args + ["--epochs", "2", "--out", str(tmp_path / "a")], capsys)
    _, second, _ = run(args + ["--epochs", "2", "--out", str(tmp_path / "b")], capsys)
    assert len(losses(first)) == 2 and losses(first) == losses(second)

    run(args + ["--out", str(tmp_path / "c")], capsys)  # one epoch, then one more from its checkpoint
    status, resumed, err = run(["train", "--resume", str(tmp_path / "c" / "checkpoint.safetensors"), "--epochs", "2",
                                "--out", str(tmp_path / "d"), "--no-progress"], capsys)
    assert status == 0, err
    assert "resuming after epoch 1" in resumed and losses(resumed) == losses(first)[1:]
    straight = io.load(tmp_path / "a" / "checkpoint.safetensors")["model_state"]
    continued = io.load(tmp_path / "d" / "checkpoint.safetensors")["model_state"]
    for key in straight:
        np.testing.assert_array_equal(straight[key], continued[key])


def test_evaluate_prints_accuracy_and_a_confusion_matrix(tmp_path, capsys):
    run(["train", "--model", "mlp", *QUICK, "--out", str(tmp_path)], capsys)
    status, out, err = run(["evaluate", str(tmp_path / "checkpoint.safetensors")], capsys)
    assert status == 0, err
    assert re.search(r"test accuracy: [\d.]+% \(\d+ of 360\)", out)
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("true\\pred"))
    rows = [line.split() for line in lines[header + 1:header + 11]]
    counts = np.array([[int(c) for c in row[1:11]] for row in rows])
    assert [row[0] for row in rows] == [str(d) for d in range(10)]
    assert counts.sum() == 360 and lines[header + 11].split()[-1] == "360"


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (["train", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
    (["train", "--batch-size", "-4"], "argument --batch-size: must be a positive integer, got -4"),
    (["train", "--lr", "0"], "argument --lr: must be a positive number, got 0"),
    (["train", "--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
    (["train", "--dataset", "mnist", "--no-progress"], "the mnist dataset needs a data directory"),
    (["train", "--optimizer", "adam", "--momentum", "0.9", "--no-progress"], "momentum applies to sgd and rmsprop"),
])
def test_bad_training_input_exits_with_status_2_and_a_message(argv, message, capsys):
    status, out, err = run(argv, capsys)
    assert status == 2
    assert message in err and "Traceback" not in err


def test_mnist_directory_without_the_files(tmp_path, capsys):
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-progress"], capsys)
    assert status == 2 and "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found" in err
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere")], capsys)
    assert status == 2 and "does not exist" in err


def test_corrupt_checkpoints_exit_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    for argv in (["train", "--resume", str(bad)], ["evaluate", str(bad)], ["evaluate", str(tmp_path / "none")]):
        status, _, err = run(argv, capsys)
        assert status == 2 and "cannot read checkpoint" in err and "Traceback" not in err, argv
