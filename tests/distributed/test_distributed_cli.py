"""``chainrule train --nproc N``: the launcher, data-parallel training through the loop's callbacks,
resuming across a change of --nproc, and failures that end the job and keep the checkpoint."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainrule import cli
from chainrule.training import load_checkpoint

from .conftest import end_session, rank_environment, worker_command

DIGITS = ["--dataset", "digits", "--no-progress"]


def chainrule(*arguments):
    return [sys.executable, "-m", "chainrule", *arguments]


def test_nproc_2_reaches_the_accuracy_of_one_process_and_resumes_with_4(mpi, tmp_path):
    one = mpi(
        chainrule("train", "--model", "mlp", *DIGITS, "--epochs", "3", "--out", tmp_path / "one", "--nproc", "1"),
        timeout=120,
    )
    assert one.status == 0, one
    two = mpi(
        chainrule(
            "train", "--model", "mlp", *DIGITS, "--epochs", "2", "--out", tmp_path / "two", "--nproc", "2", "--graph"
        ),
        timeout=120,
    )
    assert two.status == 0, two
    assert (tmp_path / "two" / "graph.svg").exists() or (tmp_path / "two" / "graph.dot").exists()
    assert len(re.findall(r"^epoch \d/2:", two.output, re.M)) == 2  # rank 0 alone prints
    assert two.output.count("test accuracy") == 1
    four = mpi(
        chainrule(
            "train",
            "--resume",
            tmp_path / "two" / "checkpoint.safetensors",
            "--epochs",
            "3",
            "--no-progress",
            "--nproc",
            "4",
        ),
        timeout=120,
    )
    assert four.status == 0, four
    assert "resuming after epoch 2" in four.output
    accuracy = [float(re.search(r"test accuracy: ([\d.]+)%", job.output).group(1)) for job in (one, four)]
    assert abs(accuracy[0] - accuracy[1]) < 3, accuracy  # the same global batch: the same within noise
    history = load_checkpoint(tmp_path / "two" / "checkpoint.safetensors")["history"]
    assert history["epoch"] == [1, 2, 3]


def test_a_diverging_run_stops_every_rank_at_the_same_batch_and_says_so_once(mpi, tmp_path):
    job = mpi(
        chainrule(
            "train", "--model", "mlp", *DIGITS, "--epochs", "1", "--lr", "1e30", "--out", tmp_path, "--nproc", "2"
        ),
        timeout=120,
    )
    assert job.status == 1, job
    errors = re.findall(
        r"chainrule train: error: epoch 1, batch \d+ of \d+: the loss is (?:nan|inf) on ranks? "
        r"[\d, ]+; training diverged",
        job.output,
    )
    assert len(errors) == 1, job
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_a_killed_rank_ends_the_job_the_launcher_names_it_and_the_checkpoint_resumes(mpi, tmp_path):
    out = tmp_path / "run"
    checkpoint = out / "checkpoint.safetensors"
    process = subprocess.Popen(
        [
            str(part)
            for part in chainrule("train", "--model", "cnn", *DIGITS, "--epochs", "40", "--out", out, "--nproc", "2")
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=rank_environment({"TMPDIR": str(tmp_path)}),
    )
    try:
        rank_1 = None
        deadline = time.monotonic() + 90
        while (rank_1 is None or not checkpoint.exists()) and time.monotonic() < deadline:
            rank_1 = next(
                (
                    name
                    for directory in tmp_path.glob("chainrule-ranks-*")
                    for name in os.listdir(directory)
                    if name.isdigit() and (directory / name).read_text() == "1"
                ),
                None,
            )
            time.sleep(0.1)
        assert rank_1 is not None and checkpoint.exists(), "the job did not get through its first epoch"
        os.kill(int(rank_1), signal.SIGKILL)
        start = time.monotonic()
        output, _ = process.communicate(timeout=60)
    finally:
        end_session(process)
    output = output.decode(errors="replace")
    assert process.returncode != 0, output
    assert time.monotonic() - start < 30
    assert (
        f"chainrule train: rank 1 (process {rank_1}) ended first, abruptly (killed by a signal, or crashed "
        f"without a Python error); mpiexec stopped the other ranks"
    ) in output, output
    state = load_checkpoint(checkpoint)  # complete and checked, whatever epoch it had reached
    resumed = mpi(
        chainrule("train", "--resume", checkpoint, "--epochs", str(state["epoch"] + 1), "--no-progress"), timeout=120
    )
    assert resumed.status == 0, resumed
    assert f"resuming after epoch {state['epoch']}" in resumed.output


def test_bad_settings_are_refused_before_any_process_starts(tmp_path, capsys, monkeypatch):
    from chainrule.distributed import launch

    def no_launch(*args, **kwargs):
        raise AssertionError("mpiexec was started")

    monkeypatch.setattr(launch, "run", no_launch)
    for name in launch.LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if "mpi4py" in sys.modules:
        pytest.skip("this process has imported mpi4py, so it counts as a rank")
    status = cli.main(["train", "--batch-size", "30", "--nproc", "4", "--out", str(tmp_path)])
    assert status == 2
    assert capsys.readouterr().err == (
        "chainrule train: error: the batch size 30 (--batch-size: the global batch, "
        "all processes together) must be a multiple of --nproc 4\n"
    )
    monkeypatch.setattr(launch, "find_mpiexec", lambda: (_ for _ in ()).throw(FileNotFoundError("no mpiexec here")))
    monkeypatch.setattr(launch, "run", lambda *a, **k: launch.find_mpiexec())
    assert cli.main(["train", "--nproc", "2", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "chainrule train: error: no mpiexec here\n"


def test_the_ranks_command_line_is_the_launchers_without_nproc_and_timeout():
    from chainrule import train_command

    parser = train_command.add_arguments(__import__("argparse").ArgumentParser())
    args = parser.parse_args(
        [
            "--model",
            "mlp",
            "--lr",
            "0.001",
            "--nproc",
            "3",
            "--timeout",
            "60",
            "--graph",
            "--no-progress",
            "--out",
            "runs/x",
        ]
    )
    assert train_command.arguments_of(args) == [
        "--model",
        "mlp",
        "--lr",
        "0.001",
        "--out",
        "runs/x",
        "--graph",
        "--no-progress",
    ]


def test_the_readmes_own_program_runs_on_two_ranks(mpi, tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (program,) = re.findall(r"^```python ddp_train\.py\n(.*?)^```", readme, flags=re.S | re.M)
    (tmp_path / "ddp_train.py").write_text(program)
    job = mpi(worker_command(2, tmp_path / "ddp_train.py"), timeout=120)
    assert job.status == 0, job
    assert re.fullmatch(r"2 ranks, loss \d\.\d{3}\n", job.output), job
