"""Data-parallel speed: Allreduce times, the MLP and CNN training steps at 1, 2 and 4 ranks (one BLAS
thread each), the scaling efficiency, and a ring-allreduce model fitted to the measurements that
predicts 8, 64 and 512 ranks on 10 and 100 Gb/s networks.

    python -m benchmarks.distributed            # writes benchmarks/results/DISTRIBUTED.md and distributed.json
    python -m benchmarks.distributed --quick    # fewer repeats

Every measurement is its own MPI job (``mpiexec -n N python -m mpi4py -m benchmarks.distributed
--worker ...``); rank 0 prints one JSON line that this process reads. A time is the median over
repeats of the slowest rank's time (a collective, or a data-parallel step, lasts as long as its
slowest rank). With more ranks than cores (4 ranks on a 2-core machine) the figures measure
time-sharing, not scaling: the table says so.

The model (written out in DISTRIBUTED.md): a ring allreduce of ``n`` bytes over ``N`` ranks takes
``2(N-1) alpha + 2(N-1)/N n beta`` (``alpha`` per step of the ring, ``beta`` seconds per byte).
``alpha`` and ``beta`` are fitted to the loopback times; for a network, ``beta`` becomes the
link's and ``alpha`` the fitted software cost plus the wire's latency. A step is then
``compute(b) + allreduce`` with ``compute(b) = c0 + c1 b`` fitted to one rank's steps at
several batch sizes ``b``.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

from .harness import RESULTS_DIR, ROOT
from .machine import describe

ALLREDUCE_SIZES = (1, 1_000, 8_000, 62_000, 535_000, 5_000_000)  # float32 elements
HEADLINE_SIZES = (62_000, 535_000, 5_000_000)
MODELS = {  # name -> (layers, input shape, parameters)
    "mlp": ("784-512-256-10 ReLU MLP", (784,), 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10),
    "cnn": (
        "LeNet-style CNN (conv 1-16, conv 16-32, linear 1568-10)",
        (1, 28, 28),
        16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 10 + 10,
    ),
}
STEPS = (("mlp", 128), ("mlp", 1024), ("cnn", 64))  # (model, global batch) measured at each job size
COMPUTE_BATCHES = {"mlp": (16, 32, 64, 128, 256, 512), "cnn": (8, 16, 32, 64, 128)}
NETWORKS = {"10 Gb/s Ethernet (TCP)": (10e9, 25e-6), "100 Gb/s (RDMA)": (100e9, 2e-6)}  # bits/s, wire latency
PREDICT_RANKS = (8, 64, 512)


# ----- what each rank runs ------------------------------------------------------------------------------
def _slowest(comm, values):
    """Element-wise maximum over the ranks of a list of times."""
    from mpi4py import MPI

    values = np.asarray(values, dtype=np.float64)
    comm.Allreduce(MPI.IN_PLACE, values, MPI.MAX)
    return values


def worker_allreduce(quick):
    """Median slowest-rank time of an in-place float32 Allreduce(SUM) per size; and chainrule's
    all_reduce (with its header check) for one element."""
    from mpi4py import MPI

    from chainrule import distributed as dist

    dist.init()
    comm = MPI.COMM_WORLD
    result = {}
    for size in ALLREDUCE_SIZES:
        buffer = np.random.default_rng(0).standard_normal(size).astype(np.float32)
        repeats = 10 if quick else (100 if size <= 62_000 else 30)
        times = []
        for _ in range(3 + repeats):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, MPI.SUM)
            times.append(time.perf_counter() - start)
        result[str(size)] = float(np.median(_slowest(comm, times[3:])))
    times = []
    one = np.zeros(1, dtype=np.float32)
    for _ in range(3 + (10 if quick else 100)):
        comm.Barrier()
        start = time.perf_counter()
        dist.all_reduce(one)
        times.append(time.perf_counter() - start)
    return {"allreduce": result, "checked_all_reduce_1": float(np.median(_slowest(comm, times[3:])))}


def build(name):
    from chainrule import nn

    nn.init.manual_seed(0)
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1568, 10),
    )


def worker_step(name, batch, quick):
    """A data-parallel SGD step of ``name`` on ``batch`` samples per rank: the median slowest-rank time of
    the whole step, of its computation (forward, backward, update) and of the gradient reduction."""
    from mpi4py import MPI

    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule import nn, optim

    dist.init()
    comm = MPI.COMM_WORLD
    model = dist.DistributedDataParallel(build(name))
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(comm.rank)
    x = cr.Tensor(rng.standard_normal((batch, *MODELS[name][1])).astype(np.float32))
    y = cr.Tensor(rng.integers(0, 10, batch))
    steps, compute, compute_cpu, reduce = [], [], [], []
    repeats = 8 if quick else 30
    comm.Barrier()
    for _ in range(3 + repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        backward_done, backward_cpu = time.perf_counter(), time.thread_time()
        model.reduce_gradients()
        reduced, reduced_cpu = time.perf_counter(), time.thread_time()
        optimizer.step()
        end, end_cpu = time.perf_counter(), time.thread_time()
        steps.append(end - start)
        compute.append((backward_done - start) + (end - reduced))
        compute_cpu.append((backward_cpu - start_cpu) + (end_cpu - reduced_cpu))
        reduce.append(reduced - backward_done)
    return {
        key: float(np.median(_slowest(comm, values[3:])))
        for key, values in (("step", steps), ("compute", compute), ("compute_cpu", compute_cpu), ("reduce", reduce))
    }


def worker(arguments):
    what = arguments[0]
    quick = "--quick" in arguments
    if what == "allreduce":
        result = worker_allreduce(quick)
    else:
        result = worker_step(what, int(arguments[1]), quick)
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


# ----- the parent: jobs, fits, predictions, the report -------------------------------------------------
def job(nproc, *arguments, quick=False):
    from chainrule.distributed import launch

    command = [
        launch.find_mpiexec(),
        "-n",
        str(nproc),
        sys.executable,
        "-m",
        "mpi4py",
        "-m",
        "benchmarks.distributed",
        "--worker",
        *map(str, arguments),
        *(["--quick"] if quick else []),
    ]
    env = launch.environment(os.environ)  # one BLAS thread per rank, as chainrule train --nproc gives
    env["PYTHONPATH"] = ROOT
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1][len("RESULT ") :])


def fit_line(xs, ys):
    """Intercept and slope of y = a + b x, least squares on the relative errors (so that the microseconds of
    a small message weigh as much as the milliseconds of a large one)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    (intercept, slope), *_ = np.linalg.lstsq(np.stack([1 / ys, xs / ys], axis=1), np.ones_like(ys), rcond=None)
    return float(intercept), float(slope)


def ring_time(ranks, nbytes, alpha, beta):
    """The ring allreduce: 2(N-1) steps, each a latency alpha, moving 2(N-1)/N of the bytes in all."""
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes * beta


def measure(ranks, quick):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    results = {"ranks": list(ranks), "cores": cores, "allreduce": {}, "steps": {}, "compute": {}}
    for n in ranks:
        if n > 1:
            print(f"allreduce, {n} ranks ...", file=sys.stderr, flush=True)
            results["allreduce"][str(n)] = job(n, "allreduce", quick=quick)
    for name, batch in STEPS:
        for n in ranks:
            if batch % n == 0:
                print(f"{name} step, global batch {batch}, {n} rank(s) ...", file=sys.stderr, flush=True)
                results["steps"][f"{name} {batch} {n}"] = job(n, name, batch // n, quick=quick)
    for name, batches in COMPUTE_BATCHES.items():
        for batch in batches:
            print(f"{name} compute, batch {batch}, one rank ...", file=sys.stderr, flush=True)
            results["compute"][f"{name} {batch}"] = job(1, name, batch, quick=quick)["compute_cpu"]
    return results


def model_fit(results):
    """alpha and beta per job size, and c0, c1 per network."""
    fits = {}
    for n, measured in results["allreduce"].items():
        times = measured["allreduce"]
        intercept, slope = fit_line([4 * int(size) for size in times], list(times.values()))
        n = int(n)
        fits[n] = {"alpha": intercept / (2 * (n - 1)), "beta": slope / (2 * (n - 1) / n)}
    compute = {}
    for name, batches in COMPUTE_BATCHES.items():
        compute[name] = fit_line(batches, [results["compute"][f"{name} {b}"] for b in batches])
    return fits, compute


def report(results, machine):
    fits, compute = model_fit(results)
    ranks, cores = results["ranks"], results["cores"]
    lines = [
        "# Data-parallel training: measured and predicted",
        "",
        f"`python -m benchmarks.distributed` on {machine['cpu']} ({cores} usable cores), "
        f"{machine['date']}, load average at start {machine['load_average_at_start']}. MPICH "
        "(the `mpich` wheel) over shared memory; one BLAS thread per rank. Each time is the median over "
        "repeats of the slowest rank's time."
        + (
            f" **{max(ranks)} ranks on {cores} cores time-share the cores: those rows measure oversubscription, "
            f"not scaling.**"
            if max(ranks) > cores
            else ""
        ),
        "",
    ]

    lines += [
        "## Allreduce (float32, in place, SUM)",
        "",
        "| elements | MB | " + " | ".join(f"{n} ranks" for n in ranks if n > 1) + " |",
        "|---:|---:|" + "---:|" * (len(ranks) - 1),
    ]
    for size in ALLREDUCE_SIZES:
        row = [f"{results['allreduce'][str(n)]['allreduce'][str(size)] * 1e3:.3f} ms" for n in ranks if n > 1]
        mark = "**" if size in HEADLINE_SIZES else ""
        lines.append(f"| {mark}{size:,}{mark} | {4 * size / 1e6:.3f} | " + " | ".join(row) + " |")
    checked = [f"{n} ranks {results['allreduce'][str(n)]['checked_all_reduce_1'] * 1e6:.0f} us" for n in ranks if n > 1]
    lines += [
        "",
        "chainrule's own `all_reduce` of one element (a header exchange, then the Allreduce): "
        + ", ".join(checked)
        + ".",
        "",
    ]

    lines += [
        "## Training steps (SGD, float32), strong scaling at a fixed global batch",
        "",
        "| model | global batch | ranks | per-rank batch | step | compute | compute, CPU time | gradient "
        "reduction | samples/s | efficiency |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, batch in STEPS:
        one = results["steps"].get(f"{name} {batch} 1")
        for n in ranks:
            measured = results["steps"].get(f"{name} {batch} {n}")
            if measured is None:
                continue
            efficiency = one["step"] / (n * measured["step"]) if one else math.nan
            lines.append(
                f"| {name} | {batch} | {n}{' (oversubscribed)' if n > cores else ''} | {batch // n} | "
                f"{measured['step'] * 1e3:.2f} ms | {measured['compute'] * 1e3:.2f} ms | "
                f"{measured['compute_cpu'] * 1e3:.2f} ms | {measured['reduce'] * 1e3:.2f} ms | "
                f"{batch / measured['step']:,.0f} | {efficiency:.0%} |"
            )
    lines += [
        "",
        "Efficiency = one rank's step / (ranks x the step at that many ranks): 100% means the step "
        "shrank in proportion to the ranks. Compute is forward, backward and the update (wall clock, and the "
        "rank's own CPU time, which other processes on the machine do not inflate); the gradient reduction "
        "includes waiting for the slowest rank.",
        "",
    ]

    lines += [
        "## The model",
        "",
        "A ring allreduce of n bytes over N ranks runs 2(N-1) steps (N-1 to reduce-scatter, N-1 to "
        "all-gather), each moving n/N bytes:",
        "",
        "    T_allreduce(N, n) = 2(N-1) alpha + 2(N-1)/N * n * beta",
        "",
        "with alpha the cost of one step that does not depend on its size (latency and software) and beta "
        "the seconds per byte (1 / bandwidth). Fitted to the loopback times above (a straight line through "
        "the times against the bytes, per job size):",
        "",
    ]
    for n, fit in sorted(fits.items()):
        lines.append(
            f"- {n} ranks: alpha = {fit['alpha'] * 1e6:.1f} us, beta = {fit['beta'] * 1e9:.3f} ns/byte "
            f"({1 / fit['beta'] / 1e9:.1f} GB/s)"
        )
    alpha = fits[min(fits)]["alpha"]
    lines += [
        "",
        f"The prediction uses the {min(fits)}-rank alpha ({alpha * 1e6:.1f} us, MPI's and mpi4py's own "
        "cost per step) plus the wire's latency, and the network's bandwidth for beta: "
        + "; ".join(
            f"{label}: {bits / 1e9:.0f} Gb/s, {latency * 1e6:.0f} us assumed per message"
            for label, (bits, latency) in NETWORKS.items()
        )
        + ". "
        "A step is compute(b) + T_allreduce (chainrule reduces after backward, without overlap), with "
        "compute(b) = c0 + c1 b fitted to one rank's steps at several per-rank batches b (CPU time: "
        "what a core of its own would take):",
        "",
    ]
    for name, (c0, c1) in compute.items():
        lines.append(
            f"- {name} ({MODELS[name][0]}, {MODELS[name][2]:,} parameters = "
            f"{4 * MODELS[name][2] / 1e6:.2f} MB of float32 gradients): c0 = {c0 * 1e3:.3f} ms, "
            f"c1 = {c1 * 1e6:.1f} us per sample"
        )
    lines += [
        "",
        "| model | network | ranks | T_allreduce | per-rank batch where compute = allreduce "
        "(global batch) | per-rank batch for 90% efficiency (global) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    predictions = {}
    for name, (c0, c1) in compute.items():
        nbytes = 4 * MODELS[name][2]
        for label, (bits, latency) in NETWORKS.items():
            for n in PREDICT_RANKS:
                t = ring_time(n, nbytes, alpha + latency, 8 / bits)
                equal = max(1, math.ceil((t - c0) / c1))
                ninety = max(1, math.ceil((9 * t - c0) / c1))  # communication a tenth of the step
                predictions[f"{name} {label} {n}"] = {"allreduce": t, "batch_equal": equal, "batch_90": ninety}
                lines.append(
                    f"| {name} | {label} | {n} | {t * 1e3:.2f} ms | {equal:,} ({n * equal:,}) | "
                    f"{ninety:,} ({n * ninety:,}) |"
                )
    lines += [
        "",
        "Reading it: below the first batch, communication takes longer than computing; overlapping "
        "the two (reducing early buckets while backward still runs) could at best hide it once compute "
        "exceeds it. The ring's latency term grows with N (2(N-1) alpha: "
        f"{2 * 511 * (alpha + NETWORKS['10 Gb/s Ethernet (TCP)'][1]) * 1e3:.1f} ms at 512 ranks on "
        "10 Gb/s): MPI libraries switch to recursive doubling or Rabenseifner's algorithm (2 log2 N "
        "latencies) for such jobs, so for small models at 512 ranks the table is pessimistic; the bandwidth "
        "term 2(N-1)/N n beta, which approaches 2 n beta, is what no algorithm avoids.",
        "",
    ]
    return "\n".join(lines), {
        "fits": {str(k): v for k, v in fits.items()},
        "compute": compute,
        "predictions": predictions,
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--ranks", default="1,2,4", help="job sizes to measure (default 1,2,4)")
    args = parser.parse_args(argv)
    ranks = sorted({int(n) for n in args.ranks.split(",")} | {1})
    machine = describe("python -m benchmarks.distributed " + " ".join(argv), [])
    results = measure(ranks, args.quick)
    text, model = report(results, machine)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "DISTRIBUTED.md"), "w") as file:
        file.write(text + "\n")
    with open(os.path.join(RESULTS_DIR, "distributed.json"), "w") as file:
        json.dump({"machine": machine, "results": results, "model": model}, file, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
