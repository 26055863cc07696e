"""Where chainrule's time goes on the engine workloads, per op.

    python -m benchmarks.profile_engine [--quick] [--top N] [--only NAME]

For each engine workload (small ops, the perceptron, a 100,000-gate scalar chain) it
prints, and writes to benchmarks/results/profile_engine.txt:

1. a split measured without a profiler (medians of several repeats): the NumPy ufuncs
   alone, the forward under no_grad (ufunc + Tensor wrapping), the forward recording
   the graph, the backward; the same for PyTorch; and the whole pass with the cyclic
   garbage collector off, to show what it costs;
2. cProfile's view of one pass, by function (self time), as a share of the profiled
   time, calls per op, and that share applied to the unprofiled time per op (cProfile
   slows every Python call, so read shares, not its raw times);
3. reference costs of the building blocks (a ufunc on a 10-element and a 0-d array,
   creating a Tensor, a Gate object, a dict insert...).
"""

import argparse
import contextlib
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
import timeit

import numpy as np

from .harness import RESULTS_DIR, ROOT, import_torch, tune_process
from .workloads import engine


def _median_time(function, repeats, batch=1, setup=None):
    """Median seconds per call of ``function(prepared)`` (``prepared = setup()``, not timed), each sample timing
    ``batch`` calls back to back; results are freed after the clock stops (freeing a graph is timed separately)."""
    times = []
    for _ in range(repeats):
        prepared = [setup() if setup else None for _ in range(batch)]
        gc.collect()
        results = []
        start = time.perf_counter()
        for item in prepared:
            results.append(function(item))
        times.append((time.perf_counter() - start) / batch)
        del prepared, results
    return statistics.median(times)


@contextlib.contextmanager
def _gc_disabled():
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def numpy_forward(x, a, b, n_ops):
    """The ufuncs the chain calls, and nothing else: the floor under any NumPy engine."""
    y = x
    for _ in range(n_ops // engine.OPS_PER_CYCLE):
        y = y * a
        y = y + b
        y = np.tanh(y)
        y = np.exp(y)
        y = y - 1
    return y


class Case:
    """One workload's chainrule and PyTorch forward and backward, separately callable."""

    def __init__(self, name, ops, make_leaves, forward, numpy_floor=None, repeats=7, batch=1):
        self.name, self.ops, self.make_leaves, self.forward = name, ops, make_leaves, forward
        self.numpy_floor, self.repeats, self.batch = numpy_floor, repeats, batch

    def root(self, leaves):
        out = self.forward(*leaves)
        return out.sum() if out.ndim else out


def cases(quick):
    chain_leaves = engine._leaves  # the same start values as the benchmark
    return [
        Case(
            "small_ops (1,000 ops on 10-element float32)",
            1000,
            lambda lib: _leaves(lib, chain_leaves((10,), np.float32)),
            lambda x, a, b: engine.op_chain(x, a, b, 1000),
            numpy_floor=lambda: numpy_forward(*chain_leaves((10,), np.float32), 1000),
            repeats=9 if quick else 31,
            batch=5,
        ),
        Case(
            "perceptron (8 gates on 0-d float32)",
            8,
            lambda lib: _leaves(
                lib, [np.float32(v) for v in (engine._W0, engine._X0, engine._W1, engine._X1, engine._W2)]
            ),
            engine.perceptron_expression,
            repeats=9 if quick else 31,
            batch=500,
        ),
        Case(
            "deep_chain_100k (100,000 gates on 0-d float64)",
            100_000,
            lambda lib: _leaves(lib, chain_leaves((), np.float64)),
            lambda x, a, b: engine.op_chain(x, a, b, 100_000),
            numpy_floor=lambda: numpy_forward(*chain_leaves((), np.float64), 100_000),
            repeats=3 if quick else 7,
        ),
    ]


def _leaves(lib, arrays):
    if lib == "chainrule":
        import chainrule

        return [chainrule.tensor(np.asarray(v), requires_grad=True) for v in arrays]
    torch = import_torch()
    return [torch.tensor(np.asarray(v), requires_grad=True) for v in arrays]


def split(case, write):
    """Forward (no_grad / recording) and backward, per op, without a profiler; and with the cyclic GC off."""
    import chainrule

    torch = import_torch()
    rows = []
    timing = {"repeats": case.repeats, "batch": case.batch}
    if case.numpy_floor:
        rows.append(("numpy ufuncs only (no engine)", _median_time(lambda _: case.numpy_floor(), **timing)))
    for lib, no_grad in (("chainrule", chainrule.no_grad), ("pytorch", torch.no_grad)):
        leaves = case.make_leaves(lib)

        def forward_no_grad(_):
            with no_grad():
                return case.root(leaves)

        def forward(_):
            return case.root(leaves)

        def backward(root):
            root.backward()

        def forward_backward(_):
            case.root(leaves).backward()

        def build_graph():
            return case.root(leaves)

        rows.append((f"{lib} forward, no_grad", _median_time(forward_no_grad, **timing)))
        rows.append((f"{lib} forward, recording", _median_time(forward, **timing)))
        rows.append((f"{lib} backward", _median_time(backward, setup=build_graph, **timing)))
        rows.append((f"{lib} forward+backward", _median_time(forward_backward, **timing)))
        if lib == "chainrule":
            with _gc_disabled():
                rows.append(("chainrule forward, recording, gc off", _median_time(forward, **timing)))
                rows.append(("chainrule backward, gc off", _median_time(backward, setup=build_graph, **timing)))
                rows.append(("chainrule forward+backward, gc off", _median_time(forward_backward, **timing)))
    write(f"  {'':44} {'µs/op':>8} {'µs/call':>10}")
    for label, seconds in rows:
        write(f"  {label:44} {seconds / case.ops * 1e6:8.3f} {seconds * 1e6:10.1f}")
    return dict(rows)


def tracked_objects_per_gate(write):
    """Objects the cyclic garbage collector must track per recorded gate (it rescans them as the graph grows)."""
    import chainrule

    leaves = [chainrule.tensor(v, requires_grad=True) for v in engine._leaves((), np.float64)]
    gc.collect()
    before = len(gc.get_objects())
    root = engine.op_chain(*leaves, 10_000)
    gc.collect()
    per_gate = (len(gc.get_objects()) - before) / 10_000
    gate = root.gate
    kinds = ", ".join(
        f"{name}: {type(value).__name__}"
        for name, value in (
            ("tensor", root),
            ("gate", gate),
            ("gate.inputs", getattr(gate, "inputs", None)),
            ("gate.versions", getattr(gate, "versions", None)),
            ("tensor.data", root.data),
        )
        if value is not None and gc.is_tracked(value)
    )
    write(
        f"  GC-tracked objects per recorded gate: {per_gate:.2f} (tracked: {kinds}); gc thresholds {gc.get_threshold()}"
    )


def profile(case, unprofiled_seconds, top, write):
    """cProfile's self time by function over several passes, shown per op."""
    leaves = case.make_leaves("chainrule")
    passes = max(1, 20_000 // case.ops)
    for _ in range(3):
        case.root(leaves).backward()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(passes):
        case.root(leaves).backward()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt
    entries = sorted(stats.stats.items(), key=lambda item: -item[1][2])
    per_op = unprofiled_seconds / case.ops * 1e6
    write(f"  cProfile, {passes} passes; self time share; calls per op; share x unprofiled {per_op:.2f} µs/op")
    write(f"  {'function':62} {'share':>6} {'calls/op':>8} {'≈µs/op':>7}")
    for (filename, line, function), (_, calls, tottime, _, _) in entries[:top]:
        where = _short(filename, line, function)
        share = tottime / total
        write(f"  {where:62} {share:6.1%} {calls / passes / case.ops:8.2f} {share * per_op:7.3f}")


def _short(filename, line, function):
    if filename == "~":
        return function[:62]
    path = os.path.relpath(filename, ROOT) if filename.startswith(ROOT) else os.path.basename(filename)
    return f"{path}:{line} {function}"[-62:]


def reference_costs(write):
    """What the building blocks cost on this machine (µs per call), to size what an op could cost."""
    import chainrule
    from chainrule import Tensor
    from chainrule.gates.arithmetic import Mul

    ten = np.linspace(-1, 1, 10, dtype=np.float32)
    zero_d = np.asarray(np.float32(0.5))
    t = chainrule.tensor(ten, requires_grad=True)
    pending = {}
    blocks = [
        ("ufunc on 10-element float32 (a * b)", lambda: ten * ten),
        ("ufunc on 0-d float32 array (a * b, returns a scalar)", lambda: zero_d * zero_d),
        ("np.asarray(scalar) (0-d result back to an array)", lambda: np.asarray(np.float32(0.5))),
        ("np.tanh on 10-element float32", lambda: np.tanh(ten)),
        ("object.__new__(Tensor) (no attributes set)", lambda: Tensor.__new__(Tensor)),
        ("chainrule.Tensor(array) (public constructor)", lambda: Tensor(ten)),
        ("object.__new__(Mul) (a gate object)", lambda: object.__new__(Mul)),
        ("isinstance(x, Tensor)", lambda: isinstance(t, Tensor)),
        ("dict set + pop keyed by id()", lambda: pending.pop(id(t), pending.__setitem__(id(t), 1))),
        ("Python function call, 2 arguments", lambda: _two(1, 2)),
        ("chainrule t * t (recorded)", lambda: t * t),
    ]
    write(f"  {'building block':56} {'µs':>7}")
    for label, block in blocks:
        timer = timeit.Timer(block)
        number, _ = timer.autorange()
        best = min(timer.repeat(repeat=5, number=number)) / number
        write(f"  {label:56} {best * 1e6:7.3f}")


def _two(a, b):
    return a


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=22, help="functions to list per workload")
    parser.add_argument("--only", default="", help="only the workloads whose name starts with this")
    args = parser.parse_args()
    tune_process()  # the settings the command line trains under
    lines = []

    def write(text=""):
        print(text, flush=True)
        lines.append(text)

    import chainrule

    write(
        f"chainrule {chainrule.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
        f"load {os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    write()
    tracked_objects_per_gate(write)
    for case in cases(args.quick):
        if not case.name.startswith(args.only):
            continue
        write()
        write(f"== {case.name}")
        times = split(case, write)
        write()
        profile(case, times["chainrule forward+backward"], args.top, write)
    write()
    write("== reference costs")
    reference_costs(write)
    path = os.path.join(RESULTS_DIR, "profile_engine.txt")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    print(f"\nwrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
