"""How a workload is timed and how its memory is measured.

A workload runs the same computation in several implementations (chainrule and its
baselines). Each implementation is a ``setup()`` that prepares its inputs and returns
``run()``: one complete forward+backward, returning the gradients (or loss) as NumPy
arrays so the implementations can be checked against each other.

Timing happens in this process. After a warm-up, the implementations take turns:
each round times one sample of every implementation back to back, and the order
rotates from round to round, so a burst of load from another process hits them
alike. A sample is ``number`` calls of ``run()`` (calibrated to last about
``sample_s``), divided by the workload's ``count`` (ops, gates, passes...). The
headline ratio is the median over rounds of chainrule's sample divided by the
baseline's sample of the same round (paired), which is steadier on a busy machine
than the ratio of two medians (also kept).

Memory is measured in a fresh child process per implementation
(``benchmarks/memory_probe.py``): tracemalloc sees neither NumPy's buffers nor
PyTorch's C++ graph, but the kernel's resident-set high-water mark (VmHWM) sees
everything. The child sets up, resets the high-water mark to the current RSS
(writing 5 to /proc/self/clear_refs), runs once, and reports the peak above the RSS
it started from: the memory one forward+backward needs, imports and setup excluded.
"""

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

#: The implementation every ratio is about; the others are baselines.
PRIMARY = "chainrule"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")


def write_text_result(name, text):
    """Print ``text`` and save it as benchmarks/results/``name``; returns the path."""
    print(text)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name)
    with open(path, "w") as out:
        out.write(text + "\n")
    return path


@dataclass
class Workload:
    """One thing to measure, in every implementation that can do it."""

    name: str  # what --only selects and the results are keyed by
    title: str  # one line for tables
    unit: str  # what one ``count`` is: "op", "gate", "pass", "step", "epoch"
    count: int  # units in one call of run(); times are reported per unit
    implementations: dict  # label -> setup() returning run(); "chainrule" first, then baselines
    description: str = ""  # what exactly is computed, for RESULTS.md
    targets: dict = field(default_factory=dict)  # baseline label -> highest acceptable chainrule/baseline
    memory: bool = False  # measure peak memory in a child process per implementation
    repeats: int | None = None  # rounds of timing, when the default suits a long workload badly
    rtol: float = 1e-3  # how closely the implementations' outputs must agree
    family: str | None = None  # workloads of one family at several sizes (memory scaling is compared)
    rate: tuple | None = None  # (name, amount per unit), e.g. ("samples/s", 60000): a rate column, amount / time


@dataclass
class Settings:
    repeats: int  # timing rounds
    warmup_s: float  # seconds of calls before timing (at least one call)
    sample_s: float  # aimed length of one timing sample
    memory: bool  # run the memory children
    tune: bool = True  # run under chainrule.tune_process_for_training(), as the command line trains


QUICK = Settings(repeats=5, warmup_s=0.1, sample_s=0.03, memory=True)
FULL = Settings(repeats=15, warmup_s=0.5, sample_s=0.2, memory=True)


_torch_ready = False


def import_torch():
    """PyTorch on the CPU with one thread per core (or as many as ``--threads`` says), set once (call it inside
    a setup())."""
    global _torch_ready
    import torch

    if not _torch_ready:
        torch.set_num_threads(int(os.environ.get("CHAINRULE_BENCHMARK_THREADS") or os.cpu_count()))
        _torch_ready = True
    return torch


def tune_process(enabled=True):
    """Make the process-wide settings chainrule's command line trains under (malloc, cycle collector), unless
    ``enabled`` is false; returns the ``ProcessTuning`` (None when not tuned). Every benchmark entry point calls it."""
    if not enabled:
        return None
    import chainrule

    return chainrule.tune_process_for_training()


# ----- timing ------------------------------------------------------------------------
def measure(workload, settings, quick, log=print):
    """Time (and, if asked, measure the memory of) every implementation of ``workload``; a dict for the JSON."""
    runs, status, outputs, call_s = {}, {}, {}, {}
    for label, setup in workload.implementations.items():
        try:
            runs[label] = setup()
            status[label] = "ok"
        except ImportError as error:
            status[label] = f"skipped: {error}"
    for label in list(runs):
        try:
            outputs[label], call_s[label] = _warm_up(runs[label], settings.warmup_s)
        except Exception as error:  # a crash is a result (deep chains must not crash): record it, go on
            status[label] = f"failed: {type(error).__name__}: {error}"
            del runs[label]

    labels = list(runs)
    number = {label: max(1, round(settings.sample_s / call_s[label])) for label in labels}
    repeats = workload.repeats or settings.repeats
    samples = {label: [] for label in labels}
    for round_index in range(repeats):
        shift = round_index % max(len(labels), 1)
        for label in labels[shift:] + labels[:shift]:
            if label not in runs:
                continue
            try:
                samples[label].append(_sample(runs[label], number[label]) / workload.count)
            except Exception as error:
                status[label] = f"failed: {type(error).__name__}: {error}"
                del runs[label]
    del runs
    gc.collect()

    implementations = {}
    for label in workload.implementations:
        entry = {"status": status[label]}
        if samples.get(label):
            entry.update(_summary(samples[label]), number=number[label], samples=samples[label])
        implementations[label] = entry
    result = {
        "title": workload.title,
        "description": workload.description,
        "unit": workload.unit,
        "count": workload.count,
        "family": workload.family,
        "rate": workload.rate,
        "targets": workload.targets,
        "implementations": implementations,
        "ratios": _ratios(samples, workload.targets),
        "agreement": _agreement(outputs, workload.rtol),
    }
    if settings.memory and workload.memory:
        for label in workload.implementations:
            if status[label] == "ok" or status[label].startswith("failed"):
                log(f"    memory: {label} in a fresh process ...")
                implementations[label]["memory"] = measure_memory_in_child(workload, label, quick, settings.tune)
    return result


def _warm_up(run, warmup_s):
    """Call ``run`` for about ``warmup_s`` (twice at least, unless a call takes over a second).

    Returns the first call's output and the median seconds per call after the first."""
    start = time.perf_counter()
    output = run()
    first = time.perf_counter() - start
    times = []
    while time.perf_counter() - start < warmup_s or (not times and first < 1.0):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return output, statistics.median(times) if times else first


def _sample(run, number):
    gc.collect()  # every sample starts from the same heap, not from the last one's garbage
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def _summary(samples):
    ordered = sorted(samples)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {
        "median_s": statistics.median(ordered),
        "q1_s": quartiles[0],
        "q3_s": quartiles[2],
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "repeats": len(ordered),
    }


def _ratios(samples, targets):
    """chainrule / each baseline: paired per round (headline) and of the medians."""
    mine = samples.get(PRIMARY)
    ratios = {}
    if not mine:
        return ratios
    for label, theirs in samples.items():
        if label == PRIMARY or not theirs:
            continue
        paired = [a / b for a, b in zip(mine, theirs)]
        entry = {
            "median": statistics.median(paired),
            "min": min(paired),
            "max": max(paired),
            "of_medians": statistics.median(mine) / statistics.median(theirs),
            "per_round": paired,
        }
        if label in targets:
            entry["target"] = targets[label]
            entry["met"] = entry["median"] <= targets[label]
        ratios[label] = entry
    return ratios


def _agreement(outputs, rtol):
    """Largest relative difference between chainrule's output and each baseline's (a benchmark of different
    computations would be worthless)."""
    mine = outputs.get(PRIMARY)
    if mine is None:
        return {}
    mine = [np.asarray(m, dtype=np.float64) for m in _as_list(mine)]
    agreement = {}
    for label, theirs in outputs.items():
        if label == PRIMARY or theirs is None:
            continue
        theirs = [np.asarray(t, dtype=np.float64) for t in _as_list(theirs)]
        if len(theirs) != len(mine) or any(m.shape != t.shape for m, t in zip(mine, theirs)):
            agreement[label] = {"max_rel_diff": None, "ok": False, "note": "outputs differ in number or shape"}
            continue
        worst = max(
            (
                float(np.max(np.abs(m - t)) / max(float(np.max(np.abs(m))), float(np.max(np.abs(t))), 1e-30))
                if t.size
                else 0.0
            )
            for m, t in zip(mine, theirs)
        )
        agreement[label] = {"max_rel_diff": worst, "ok": bool(worst <= rtol), "rtol": rtol}
    return agreement


def _as_list(output):
    return list(output) if isinstance(output, (list, tuple)) else [output]


# ----- memory ------------------------------------------------------------------------
def measure_memory_in_child(workload, label, quick, tune=True):
    """Peak memory of one ``run()`` of ``label``, measured in a fresh Python process (see memory_probe.py)."""
    command = [sys.executable, "-m", "benchmarks.memory_probe", workload.name, label]
    if quick:
        command.append("--quick")
    if not tune:
        command.append("--no-tune")
    try:
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        return {"status": "timed out after 3600 s"}
    if finished.returncode != 0:
        how = (
            f"killed by signal {-finished.returncode}"
            if finished.returncode < 0
            else f"exit status {finished.returncode}"
        )
        last = (finished.stderr.strip().splitlines() or [""])[-1]
        return {"status": f"crashed ({how}): {last}"}
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    report["bytes_per_unit"] = report["extra_bytes"] / workload.count
    return report


def current_and_peak_rss():
    """(current RSS, peak RSS) of this process in bytes."""
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return None, peak


def reset_peak_rss():
    """Make the peak RSS restart from the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


# ----- formatting --------------------------------------------------------------------
def format_seconds(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for limit, scale, unit in ((1e-6, 1e9, "ns"), (1e-3, 1e6, "µs"), (1.0, 1e3, "ms")):
        if seconds < limit:
            return f"{seconds * scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def format_bytes(size):
    if size is None:
        return "-"
    for unit in ("B", "KiB", "MiB"):
        if abs(size) < 1024:
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} GiB"
