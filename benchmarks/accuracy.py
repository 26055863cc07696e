"""Accuracy bars: train each (data set, model) pair and check its test accuracy.

    python -m benchmarks.accuracy                      # all four (MNIST from /work/shared/data/mnist)
    python -m benchmarks.accuracy --only digits-mlp digits-cnn
    python -m benchmarks.accuracy --data-dir ~/mnist --only mnist-cnn

Each run goes through ``chainrule.training.fit`` exactly as ``chainrule train`` does
(same data preparation, seeding, checkpoints), with the hyperparameters below. Its
figures are kept in ``benchmarks/results/accuracy/<name>.json``, so runs can be done
separately (the MNIST ones take minutes on a laptop); ``ACCURACY.md`` is rewritten from
all the figures kept so far after every run.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

from .harness import tune_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")
FIGURES_DIR = os.path.join(RESULTS_DIR, "accuracy")
REPORT = os.path.join(RESULTS_DIR, "ACCURACY.md")
DEFAULT_MNIST = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")

#: name -> (bar, training settings). The bar is the test accuracy the run must reach.
RUNS = {
    "digits-mlp": (
        0.97,
        dict(model="mlp", dataset="digits", epochs=30, batch_size=32, optimizer="adam", lr=1e-3, schedule="cosine"),
    ),
    "digits-cnn": (
        0.98,
        dict(model="cnn", dataset="digits", epochs=15, batch_size=32, optimizer="adam", lr=3e-3, schedule="cosine"),
    ),
    "mnist-mlp": (
        0.98,
        dict(model="mlp", dataset="mnist", epochs=12, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine"),
    ),
    "mnist-cnn": (
        0.99,
        dict(model="cnn", dataset="mnist", epochs=4, batch_size=64, optimizer="adam", lr=2e-3, schedule="cosine"),
    ),
    # Each digit read row by row: an LSTM of 64 hidden units over the 8 rows (chainrule train --model lstm).
    "digits-rows-lstm": (
        0.95,
        dict(
            model="lstm", dataset="digits-rows", epochs=20, batch_size=64, optimizer="adam", lr=1e-2, schedule="cosine"
        ),
    ),
}


def run_one(name, data_dir, seed):
    """Train run ``name``; its figures as a dict (also written to FIGURES_DIR/<name>.json)."""
    from chainrule.training import TrainConfig, fit

    bar, settings = RUNS[name]
    config = TrainConfig(
        **settings, data_dir=data_dir if settings["dataset"] == "mnist" else None, seed=seed, progress=False, plot=False
    )
    with tempfile.TemporaryDirectory() as out:
        config.out = out
        start = time.perf_counter()
        result = fit(config, log=lambda line: print(f"[{name}] {line}", flush=True))
        wall = time.perf_counter() - start
    figures = {
        "name": name,
        "settings": {**settings, "seed": seed},
        "bar": bar,
        "test_accuracy": result.test_accuracy,
        "passed": result.test_accuracy >= bar,
        "epochs": result.epochs,
        "train_seconds": result.seconds,
        "wall_seconds": wall,
        "final_val_accuracy": result.history["val_accuracy"][-1],
        "fastest_epoch_s": min(result.history["seconds"]),
        # Samples trained on per second of training, over all epochs (each epoch's count is rate * time).
        "samples_per_s": sum(r * t for r, t in zip(result.history["samples_per_s"], result.history["seconds"]))
        / result.seconds,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "python -m benchmarks.accuracy --only " + name,
    }
    os.makedirs(FIGURES_DIR, exist_ok=True)
    with open(os.path.join(FIGURES_DIR, f"{name}.json"), "w") as file:
        json.dump(figures, file, indent=2)
    print(
        f"[{name}] test accuracy {result.test_accuracy:.2%} (bar {bar:.0%}): "
        f"{'PASS' if figures['passed'] else 'FAIL'}; {result.seconds:.0f} s training, {wall:.0f} s in all",
        flush=True,
    )
    return figures


def machine():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "usable_cores": cores, "python": platform.python_version(), "numpy": np.__version__}


def write_report():
    """ACCURACY.md from every run's kept figures."""
    rows = []
    for name in RUNS:
        path = os.path.join(FIGURES_DIR, f"{name}.json")
        if os.path.exists(path):
            with open(path) as file:
                rows.append(json.load(file))
    lines = [
        "# Accuracy bars",
        "",
        "Each (data set, model) pair trained by `chainrule.training.fit` (what `chainrule train` runs) with the",
        "settings below, then measured once on the test set: the 360 held-out digits (20% of the bundled 1,797,",
        "split with seed 0; digits-rows reads each as a sequence of its 8 rows) or MNIST's 10,000 test images.",
        "10% of the training data is held out for validation.",
        "Generated by `python -m benchmarks.accuracy` (figures kept in `benchmarks/results/accuracy/`).",
        "",
        "Training time is the sum of the epochs' times on a 2-core machine shared with other jobs, whose load",
        "changed epoch times up to 30-fold; the fastest epoch shows what the machine did when it was quiet.",
        "",
        "| run | test accuracy | bar | epochs | training time | fastest epoch | throughput | settings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row["settings"]
        settings = f"{s['optimizer']} lr {s['lr']:g} ({s['schedule']}), batch {s['batch_size']}, seed {s['seed']}"
        verdict = "pass" if row["passed"] else "**FAIL**"
        fastest = f"{row['fastest_epoch_s']:.2f} s" if "fastest_epoch_s" in row else "-"
        lines.append(
            f"| {row['name']} | {row['test_accuracy']:.2%} | {row['bar']:.0%} ({verdict}) | {row['epochs']} | "
            f"{row['train_seconds']:.0f} s | {fastest} | {row['samples_per_s']:,.0f} samples/s | "
            f"{settings} |"
        )
    if rows:
        lines += ["", "Machines (training time depends on the load of other processes sharing them):", ""]
        for row in rows:
            m = row["machine"]
            lines.append(
                f"- {row['name']}: {row['date']}, {m['cpu']}, {m['usable_cores']} usable cores, "
                f"Python {m['python']}, NumPy {m['numpy']}; `{row['command']}`"
            )
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(REPORT, "w") as file:
        file.write("\n".join(lines) + "\n")
    return REPORT


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=tuple(RUNS), help="the runs to do (default: all)")
    parser.add_argument("--data-dir", default=DEFAULT_MNIST, help=f"MNIST files (default {DEFAULT_MNIST})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-only", action="store_true", help="rewrite ACCURACY.md from the kept figures")
    args = parser.parse_args(argv)
    tune_process()  # the settings the command line trains under
    failed = []
    if not args.report_only:
        for name in args.only or RUNS:
            figures = run_one(name, args.data_dir, args.seed)
            if not figures["passed"]:
                failed.append(name)
            write_report()
    print(f"wrote {write_report()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
