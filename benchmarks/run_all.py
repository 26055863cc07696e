"""Run the benchmark suite: ``python -m benchmarks`` or ``python benchmarks/run_all.py``.

    --quick        fewer rounds and shorter samples (a few minutes; noisier)
    --only NAME    only the workloads named NAME or starting with it (repeatable; comma-separated works too)
    --no-memory    skip the child processes that measure peak memory
    --no-tune      without chainrule.tune_process_for_training() (malloc and collector settings), here and
                   in the memory children; python -m benchmarks.tuning compares the two in one run
    --list         list the workloads and exit

Results go to benchmarks/results/ (RESULTS.md, results.json, ratios.png).

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when set, make OpenBLAS pick a slower kernel or
blocking than it would detect for this CPU. OpenBLAS reads them once, when NumPy loads,
so this script removes them and restarts itself before anything imports NumPy. That
applies to the benchmark process and its children only; tests and CI are untouched.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REMOVED = "CHAINRULE_BENCHMARK_REMOVED_ENV"  # how the restarted process learns what was removed
THREADS = "CHAINRULE_BENCHMARK_THREADS"  # --threads, for harness.import_torch


def restart_without_openblas_overrides(module="benchmarks"):
    """Restart ``python -m module`` with the same arguments, without OPENBLAS_OVERRIDES, if any is set."""
    found = {name: os.environ[name] for name in OPENBLAS_OVERRIDES if name in os.environ}
    if not found:
        return
    if "numpy" in sys.modules:
        print(
            "benchmarks: NumPy was imported before the OpenBLAS overrides could be removed; "
            f"results are measured with {found}",
            file=sys.stderr,
        )
        return
    environment = {k: v for k, v in os.environ.items() if k not in found}
    environment[_REMOVED] = ";".join(f"{k}={v}" for k, v in found.items())
    print(f"benchmarks: removing {', '.join(found)} for this run and restarting", flush=True)
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "-m", module, *sys.argv[1:]], environment)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="chainrule's benchmark suite")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter samples (noisier)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run the workloads named NAME or starting with NAME (repeatable, or comma-separated)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child processes")
    parser.add_argument(
        "--no-tune",
        action="store_true",
        help="do not call chainrule.tune_process_for_training() (here and in the memory children)",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="NumPy's BLAS and PyTorch on N threads (default: one per core); on a machine shared with "
        "other work, --threads 1 keeps one library's waiting threads from deciding the ratio",
    )
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    args.only = [name for item in args.only for name in item.split(",") if name]
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    restart_without_openblas_overrides()
    here = os.path.join(ROOT, "benchmarks")
    if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == here:
        sys.path[0] = ROOT  # run as a script: import the package from the repository, not its files bare
    elif ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    args = _parse(argv)
    if args.threads:  # before NumPy loads its BLAS; the memory children inherit it too
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", THREADS):
            os.environ[name] = str(args.threads)

    from benchmarks import harness, machine, registry, report

    if args.list:
        for workload in registry.build(args.quick):
            print(f"{workload.name:20} {workload.title}")
        return
    workloads = registry.select(args.only, args.quick)
    settings = harness.QUICK if args.quick else harness.FULL
    settings = harness.Settings(
        **{**vars(settings), "memory": settings.memory and not args.no_memory, "tune": not args.no_tune}
    )
    tuning = harness.tune_process(settings.tune)
    removed = dict(item.split("=", 1) for item in os.environ.get(_REMOVED, "").split(";") if item)
    command = " ".join(["python -m benchmarks", *argv])
    description = machine.describe(command, removed)
    print(f"benchmarks: {machine.summary_line(description)}")
    if removed:
        print(f"benchmarks: removed for this run: {removed}")
    print(f"benchmarks: {tuning if tuning else 'process not tuned (--no-tune)'}")
    if description["load_average_at_start"] and description["load_average_at_start"][0] > 0.5:
        print(f"benchmarks: the machine is busy (load {description['load_average_at_start'][0]}); numbers are noisy")

    results = {}
    for workload in workloads:
        started = time.perf_counter()
        print(f"{workload.name}: {workload.title} ...", flush=True)
        load = [round(x, 2) for x in os.getloadavg()]
        result = harness.measure(workload, settings, args.quick, log=lambda text: print(text, flush=True))
        result["load_average_at_start"] = load
        results[workload.name] = result
        print(report.console_line(workload.name, result))
        print(f"    ({time.perf_counter() - started:.0f} s)", flush=True)

    run_info = {"command": command, "date": description["date"], "quick": args.quick, "tuned": settings.tune}
    report.save(description, results, run_info, merge=bool(args.only))
    print(f"benchmarks: wrote {os.path.relpath(report.RESULTS_DIR, os.getcwd())}/RESULTS.md, results.json, ratios.png")


if __name__ == "__main__":
    main()
