"""Where the LSTM layer's time goes: chainrule beside PyTorch, and the NumPy kernels that decide the gap.

    python -m benchmarks.lstm_breakdown [--passes 40]

The lstm_layer workload (``nn.LSTM(64, 128, batch_first=True)``, a (64, 32, 64) float32 batch, forward
and backward), both libraries on one thread. It prints:

* the pass split into forward and backward in both libraries, and chainrule's recurrence gate inside
  them (a timer around the gate's forward, backward and its after-the-loop products);
* the elementwise kernels one step of the recurrence runs, per element, on a step's (512, 64) block:
  NumPy's float32 tanh (which activates every gate of a step at once) beside NumPy's multiply and
  PyTorch's sigmoid and tanh;
* the layout change between PyTorch's (T, N, H) and the gate's (T, H, N) columns, as NumPy copies it,
  beside a plain copy of the same bytes.

Medians over ``--passes`` repetitions. One thread is set as the suite's ``--threads 1`` sets it, in the
environment before NumPy loads its BLAS. Writes benchmarks/results/lstm_breakdown.txt.
"""

import argparse
import os
import statistics
import time

BATCH, STEPS, INPUTS, HIDDEN = 64, 32, 64, 128


def median_ms(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def chainrule_split(x_np, weights_np, passes):
    """{part: ms per pass} for chainrule: the pass's forward and backward, and the gate's parts in them."""
    import chainrule as cr
    from chainrule import nn
    from chainrule.gates.recurrent import LSTMRecurrence

    cr.manual_seed(0)
    lstm = nn.LSTM(INPUTS, HIDDEN, batch_first=True)
    x, weights = cr.tensor(x_np, requires_grad=True), cr.tensor(weights_np)
    parts = {"forward": [], "backward": []}
    timed = {
        "gate forward": "forward",
        "gate backward": "backward",
        "gate backward: products after the loop": "_gradients",
    }
    originals = {name: getattr(LSTMRecurrence, method) for name, method in timed.items()}
    totals = dict.fromkeys(timed, 0.0)

    def timer(name, method):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - start

        return run

    for name, method in timed.items():
        setattr(LSTMRecurrence, method, timer(name, originals[name]))
    try:
        for round_ in range(passes + 5):  # 5 to warm up
            lstm.zero_grad()
            x.grad = None
            start = time.perf_counter()
            out, (h, c) = lstm(x)
            loss = (out * weights).sum() + h.sum() + c.sum()
            middle = time.perf_counter()
            loss.backward()
            end = time.perf_counter()
            if round_ == 4:
                totals.update(dict.fromkeys(timed, 0.0))
            if round_ >= 5:
                parts["forward"].append(middle - start)
                parts["backward"].append(end - middle)
    finally:
        for name, method in timed.items():
            setattr(LSTMRecurrence, method, originals[name])
    split = {part: statistics.median(times) * 1e3 for part, times in parts.items()}
    split.update({name: total / passes * 1e3 for name, total in totals.items()})
    return split


def pytorch_split(torch, x_np, weights_np, passes):
    lstm = torch.nn.LSTM(INPUTS, HIDDEN, batch_first=True)
    x, weights = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(weights_np)
    parts = {"forward": [], "backward": []}
    for round_ in range(passes + 5):
        lstm.zero_grad()
        x.grad = None
        start = time.perf_counter()
        out, (h, c) = lstm(x)
        loss = (out * weights).sum() + h.sum() + c.sum()
        middle = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
        if round_ >= 5:
            parts["forward"].append(middle - start)
            parts["backward"].append(end - middle)
    return {part: statistics.median(times) * 1e3 for part, times in parts.items()}


def kernels(torch, repeats):
    """[(what, ns per element)] for the elementwise work of one step and for the layout change."""
    import numpy as np

    rng = np.random.default_rng(0)
    block = rng.standard_normal((4 * HIDDEN, BATCH), dtype=np.float32)
    out = np.empty_like(block)
    block_t = torch.from_numpy(block.copy())
    per_block = block.size / 1e6  # ms -> ns per element
    grads = rng.standard_normal((BATCH, STEPS, HIDDEN), dtype=np.float32).transpose(1, 0, 2)  # (T, N, H) view
    per_grads = grads.size / 1e6
    return [
        ("NumPy tanh, float32", median_ms(lambda: np.tanh(block, out=out), repeats * 10) / per_block),
        ("NumPy multiply, float32", median_ms(lambda: np.multiply(block, block, out=out), repeats * 10) / per_block),
        ("PyTorch sigmoid, float32", median_ms(lambda: torch.sigmoid(block_t), repeats * 10) / per_block),
        ("PyTorch tanh, float32", median_ms(lambda: torch.tanh(block_t), repeats * 10) / per_block),
        (
            "NumPy copy (T, N, H) -> (T, H, N) columns",
            median_ms(lambda: grads.transpose(0, 2, 1).copy(), repeats) / per_grads,
        ),
        ("NumPy copy of the same bytes, no transpose", median_ms(lambda: grads.copy(), repeats) / per_grads),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=40, help="forward+backward passes per library (default 40)")
    args = parser.parse_args(argv)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CHAINRULE_BENCHMARK_THREADS"):
        os.environ[name] = "1"  # before NumPy loads its BLAS (harness.import_torch reads the last one)
    import numpy as np

    from .harness import import_torch, tune_process, write_text_result
    from .machine import describe, summary_line

    tune_process()  # the settings the command line trains under
    torch = import_torch()
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((BATCH, STEPS, INPUTS), dtype=np.float32)
    weights_np = rng.standard_normal((BATCH, STEPS, HIDDEN), dtype=np.float32)
    ours = chainrule_split(x_np, weights_np, args.passes)
    theirs = pytorch_split(torch, x_np, weights_np, args.passes)
    lines = [summary_line(describe("python -m benchmarks.lstm_breakdown", [])), ""]
    lines.append(f"LSTM(64, 128) on (64, 32, 64) float32, one thread each: ms per pass{'chainrule':>13}{'PyTorch':>10}")
    for part in ("forward", "backward"):
        lines.append(f"  {part:66s}{ours[part]:9.2f}{theirs[part]:10.2f}{ours[part] / theirs[part]:8.2f}x")
        for name in ours:
            if name.startswith(f"gate {part}"):
                lines.append(f"    {'of which ' + name:64s}{ours[name]:9.2f}")
    total_ours, total_theirs = ours["forward"] + ours["backward"], theirs["forward"] + theirs["backward"]
    lines.append(f"  {'forward + backward':66s}{total_ours:9.2f}{total_theirs:10.2f}{total_ours / total_theirs:8.2f}x")
    lines += ["", "Kernels, ns per element (a step's (512, 64) block; the layout change on a (32, 64, 128) gradient)"]
    for what, ns in kernels(torch, args.passes):
        lines.append(f"  {what:66s}{ns:9.2f}")
    write_text_result("lstm_breakdown.txt", "\n".join(lines))


if __name__ == "__main__":
    main()
