"""What ``chainrule.tune_process_for_training()`` buys: chainrule's own workloads with and without it, in one run.

    python -m benchmarks.tuning                        # deep chain, LeNet step, MNIST MLP epoch; 3 rounds
    python -m benchmarks.tuning --only lenet_step mnist_epoch_lenet --rounds 5
    python -m benchmarks.tuning --quick                # a tenth of an MNIST epoch, fewer samples

The settings belong to the whole process and glibc's cannot be read back or truly undone,
so each measurement runs in a fresh child process (``--child``), tuned or not, and the
two kinds take turns, round after round, so a burst of load from elsewhere hits both.
A child warms up, then times samples as the suite does (benchmarks/harness.py) and
counts, per unit of work, the minor page faults (getrusage) and the cycle collector's
runs (gc.get_stats). Reported: per workload the median over rounds of each child's
median time, the ratio untuned/tuned, faults and collections. Written to
benchmarks/results/tuning.txt. Runs chainrule only (no PyTorch needed).
"""

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ("deep_chain_100k", "mlp_step_1024", "lenet_step", "mnist_epoch_mlp", "mnist_epoch_lenet")
DEFAULT = ("deep_chain_100k", "lenet_step", "mnist_epoch_mlp")  # a few minutes; the LeNet epoch takes far longer


def _collections():
    return sum(generation["collections"] for generation in gc.get_stats())


def child(name, tune, quick):
    """One workload's chainrule implementation in this (fresh) process; prints one JSON line."""
    from . import harness, registry

    tuning = harness.tune_process(tune)
    settings = harness.QUICK if quick else harness.FULL
    workload = registry.find(name, quick)
    run = workload.implementations[harness.PRIMARY]()
    _, call_s = harness._warm_up(run, settings.warmup_s)
    number = max(1, round(settings.sample_s / call_s))
    samples, faults, collections, calls = [], 0, 0, 0
    for _ in range(workload.repeats or settings.repeats):
        gc.collect()  # every sample starts from the same heap (as in the suite), outside the counts
        faults_before, collections_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, _collections()
        start = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - start) / number / workload.count)
        faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
        collections += _collections() - collections_before
        calls += number
    units = calls * workload.count
    print(
        json.dumps(
            {
                "median_s": statistics.median(samples),
                "faults_per_unit": faults / units,
                "collections_per_unit": collections / units,
                "unit": workload.unit,
                "tuning": str(tuning) if tuning else "not tuned",
            }
        )
    )


def measure(name, tune, quick):
    command = [sys.executable, "-m", "benchmarks.tuning", "--child", name, "--tune" if tune else "--no-tune"]
    if quick:
        command.append("--quick")
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"benchmarks.tuning: {name} ({'tuned' if tune else 'untuned'}) failed:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _time(seconds):
    return (
        f"{seconds:.2f} s"
        if seconds >= 1
        else f"{seconds * 1e3:.2f} ms"
        if seconds >= 1e-3
        else f"{seconds * 1e6:.2f} µs"
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tuning", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, help=f"these workloads (default: {', '.join(DEFAULT)})")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per workload and setting (default 3)")
    parser.add_argument("--quick", action="store_true", help="the suite's --quick workloads and sampling")
    parser.add_argument("--child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    parser.add_argument("--tune", action=argparse.BooleanOptionalAction, default=True, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.tune, args.quick)

    from .run_all import restart_without_openblas_overrides

    restart_without_openblas_overrides("benchmarks.tuning")  # before anything imports NumPy
    from .harness import RESULTS_DIR
    from .machine import describe, summary_line

    command = " ".join(["python -m benchmarks.tuning", *argv])
    lines = [
        f"{command}: chainrule with and without tune_process_for_training(), fresh processes taking turns",
        summary_line(describe(command, {})),
        "",
        f"{'workload':20} {'unit':12} {'untuned':>10} {'tuned':>10} {'untuned/tuned':>14} "
        f"{'page faults/unit':>22} {'gc runs/unit':>18}",
        f"{'':20} {'':12} {'':>10} {'':>10} {'':>14} {'untuned':>11}{'tuned':>11} {'untuned':>9}{'tuned':>9}",
    ]
    print("\n".join(lines), flush=True)
    spread = []
    for name in args.only or DEFAULT:
        results = {True: [], False: []}
        for round_index in range(args.rounds):
            for tune in (True, False) if round_index % 2 == 0 else (False, True):
                results[tune].append(measure(name, tune, args.quick))
        tuned, untuned = (
            {
                key: statistics.median(r[key] for r in results[tune])
                for key in ("median_s", "faults_per_unit", "collections_per_unit")
            }
            for tune in (True, False)
        )
        line = (
            f"{name:20} {results[True][0]['unit']:12} {_time(untuned['median_s']):>10} "
            f"{_time(tuned['median_s']):>10} {untuned['median_s'] / tuned['median_s']:>14.2f} "
            f"{untuned['faults_per_unit']:>11,.0f}{tuned['faults_per_unit']:>11,.0f} "
            f"{untuned['collections_per_unit']:>9.3g}{tuned['collections_per_unit']:>9.3g}"
        )
        lines.append(line)
        print(line, flush=True)
        spread.append(
            f"{name}: untuned {', '.join(_time(r['median_s']) for r in results[False])}; "
            f"tuned {', '.join(_time(r['median_s']) for r in results[True])}"
        )
    lines += [
        "",
        "each child's median, in the order run:",
        *spread,
        "",
        f"tuned children: {results[True][0]['tuning']}",
    ]
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "tuning.txt"), "w") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines[-len(spread) - 3 :]))


if __name__ == "__main__":
    main()
