"""``chainrule train`` and ``chainrule evaluate`` through ``chainrule.cli.main``: output, files, exit statuses."""

import re
from pathlib import Path

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
    assert re.search(
        r"epoch 1/1: train loss \d\.\d{4} acc [\d.]+% \| val loss \d\.\d{4} acc [\d.]+% \| "
        r"[\d.]+ s, [\d,]+ samples/s",
        out,
    )
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
    status, resumed, err = run(
        [
            "train",
            "--resume",
            str(tmp_path / "c" / "checkpoint.safetensors"),
            "--epochs",
            "2",
            "--out",
            str(tmp_path / "d"),
            "--no-progress",
        ],
        capsys,
    )
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
    rows = [line.split() for line in lines[header + 1 : header + 11]]
    counts = np.array([[int(c) for c in row[1:11]] for row in rows])
    assert [row[0] for row in rows] == [str(d) for d in range(10)]
    assert counts.sum() == 360 and lines[header + 11].split()[-1] == "360"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
        (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
        (["train", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
        (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
        (["train", "--batch-size", "-4"], "argument --batch-size: must be a positive integer, got -4"),
        (["train", "--lr", "0"], "argument --lr: must be a positive number, got 0"),
        (["train", "--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
        (["train", "--dataset", "mnist", "--no-progress"], "the mnist dataset needs a data directory"),
        (["train", "--optimizer", "adam", "--momentum", "0.9", "--no-progress"], "momentum applies to sgd and rmsprop"),
    ],
)
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


# ----- bad runs and bad places: one line, a non-zero status, nothing lost -------------------------------
def test_a_diverging_resume_exits_1_and_keeps_the_checkpoint(tmp_path, capsys):
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"
    assert run(["train", "--model", "mlp", *QUICK, "--out", str(tmp_path / "run")], capsys)[0] == 0
    good = checkpoint.read_bytes()
    status, out, err = run(
        ["train", "--resume", str(checkpoint), "--epochs", "2", "--lr", "1e30", "--no-progress"], capsys
    )
    assert status == 1 and "train loss nan" not in out
    assert re.fullmatch(
        r"chainrule train: error: epoch 2, batch \d+ of 7: the loss is (nan|inf); training diverged: "
        r"try a smaller learning rate than 1e\+30 \(--lr\)\. Stopped before this step; nothing of "
        r"this epoch was saved\n",
        err,
    )
    assert checkpoint.read_bytes() == good


def test_out_that_is_a_file_or_cannot_be_written(tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("not a directory")
    status, _, err = run(["train", *QUICK, "--out", str(a_file)], capsys)
    assert status == 2 and err == (
        f"chainrule train: error: the output directory {str(a_file)!r} (--out) is a file; "
        f"expected a directory (it will be created if missing)\n"
    )
    status, _, err = run(["train", *QUICK, "--out", str(a_file / "below")], capsys)
    assert (
        status == 2
        and err.startswith(
            f"chainrule train: error: cannot write to the output directory {str(a_file / 'below')!r} (--out): "
        )
        and err.count("\n") == 1
    )


# ----- MNIST from the command line ----------------------------------------------------------------------
def write_tiny_mnist(folder, train=40, test=10):
    """Random 28x28 images and labels in the four MNIST files (gzip), as a download would leave them."""
    from chainrule.data import write_idx

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), gzip=True
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8), gzip=True)


@pytest.fixture
def fake_download(monkeypatch):
    """chainrule.data.mnist.download replaced by one that writes a tiny MNIST: no network in tests."""
    from chainrule.data import mnist

    calls = []

    def download(root, *args, **kwargs):
        calls.append(str(root))
        write_tiny_mnist(Path(root))

    monkeypatch.setattr(mnist, "download", download)
    return calls


def test_download_fetches_into_the_data_dir_then_trains_and_evaluates(tmp_path, capsys, fake_download):
    data = tmp_path / "mnist"
    argv = [
        "train",
        "--dataset",
        "mnist",
        "--data-dir",
        str(data),
        "--download",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--no-progress",
        "--out",
        str(tmp_path / "run"),
    ]
    status, out, err = run(argv, capsys)
    assert status == 0, err
    assert fake_download == [str(data)] and "on 36 images, validating on 4, testing on 10" in out
    status, out, err = run(["evaluate", str(tmp_path / "run" / "checkpoint.safetensors"), "--download"], capsys)
    assert status == 0, err
    assert fake_download == [str(data), str(data)] and "of 10)" in out


def test_without_download_the_error_says_how_to_get_mnist(tmp_path, capsys, fake_download):
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-progress"], capsys)
    assert status == 2 and not fake_download
    assert (
        "add --download to fetch the four files (checksums verified), or put files fetched elsewhere into "
        "that directory"
        in err
        and "download=True" not in err
    )
    status, _, err = run(["train", "--dataset", "digits", "--download"], capsys)
    assert status == 2 and "download (--download) applies to the mnist dataset only" in err
    run(["train", "--model", "mlp", *QUICK, "--out", str(tmp_path / "digits")], capsys)
    status, _, err = run(["evaluate", str(tmp_path / "digits" / "checkpoint.safetensors"), "--download"], capsys)
    assert status == 2 and err == (
        "chainrule evaluate: error: download (--download) applies to the mnist dataset "
        "only; the digits dataset is bundled\n"
    )


def test_data_dir_that_is_a_file(tmp_path, capsys):
    a_file = tmp_path / "mnist.gz"
    a_file.write_bytes(b"\x1f\x8b")
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(a_file), "--download"], capsys)
    assert status == 2 and err == (
        f"chainrule train: error: the MNIST data directory {str(a_file)!r} is a file; "
        f"expected a directory holding the four MNIST files (or where --download may put "
        f"them)\n"
    )


def test_a_failed_download_is_one_line(tmp_path, capsys, monkeypatch):
    from chainrule.data import mnist

    def unreachable(root, *args, **kwargs):
        raise OSError("MNIST: could not download https://example/train-images-idx3-ubyte.gz: timed out")

    monkeypatch.setattr(mnist, "download", unreachable)
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--download"], capsys)
    assert status == 2 and err == (
        f"chainrule train: error: cannot download MNIST into {str(tmp_path)!r}: MNIST: "
        f"could not download https://example/train-images-idx3-ubyte.gz: timed out\n"
    )


@pytest.mark.parametrize(
    "train, test, message",
    [
        (40, 0, "the mnist test split holds no images; expected at least one"),
        (1, 10, "cannot hold out a validation split (val_fraction=0.1) from the mnist training data's 1 image(s)"),
    ],
)
def test_empty_splits_are_refused(tmp_path, capsys, train, test, message):
    write_tiny_mnist(tmp_path, train, test)
    status, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-progress"], capsys)
    assert status == 2 and message in err and err.count("\n") == 1
