"""The MLP step's matrix products alone: NumPy's BLAS against PyTorch's, shape by shape.

    python -m benchmarks.matmul_products [--batch 128] [--repeats 15]

The 784-512-256-10 MLP step makes eight products (the first layer's input gradient is
not needed): a forward product, a weight gradient and an input gradient per layer. This
times each in NumPy, with the weight laid out as nn.Linear stores it, and in PyTorch,
on one thread and on all cores, taking turns in one process, and prints the medians and
the ratio NumPy/PyTorch. It shows how much of the step the BLAS decides before any
framework work. Writes benchmarks/results/matmul_products.txt.
"""

import argparse
import os
import statistics
import time

import numpy as np

from .harness import import_torch, write_text_result

LAYERS = [(784, 512), (512, 256), (256, 10)]


def products(batch, rng):
    """(name, NumPy call, PyTorch call) for every product of one MLP step at ``batch``."""
    torch = import_torch()
    made = []
    for index, (fan_in, fan_out) in enumerate(LAYERS):
        x = rng.standard_normal((batch, fan_in), dtype=np.float32)
        stored = rng.standard_normal((fan_in, fan_out), dtype=np.float32)  # nn.Linear's memory: (in, out)
        g = rng.standard_normal((batch, fan_out), dtype=np.float32)
        w = stored.T  # (out, in), seen transposed
        tx, tw, tg = torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(g)
        shape = f"{fan_in}x{fan_out}"
        made.append((f"forward {shape}", lambda x=x, s=stored: x @ s, lambda tx=tx, tw=tw: tx @ tw.t()))
        made.append((f"weight gradient {shape}", lambda x=x, g=g: (x.T @ g).T, lambda tx=tx, tg=tg: tg.t() @ tx))
        if index > 0:
            made.append((f"input gradient {shape}", lambda g=g, w=w: g @ w, lambda tg=tg, tw=tw: tg @ tw))
    return made


def median_us(function, repeats, number=20):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times) * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    torch = import_torch()
    cores = os.cpu_count()
    made = products(args.batch, np.random.default_rng(0))
    lines = [f"MLP 784-512-256-10 products at batch {args.batch}: median µs, NumPy (OpenBLAS) / PyTorch", ""]
    for threads in sorted({1, cores}):
        torch.set_num_threads(threads)
        totals = [0.0, 0.0]
        lines.append(f"{threads} thread(s)" + " " * 24 + "NumPy   PyTorch   ratio")
        with threadpool_limits(threads):
            for name, numpy_call, torch_call in made:
                numpy_us, torch_us = median_us(numpy_call, args.repeats), median_us(torch_call, args.repeats)
                totals[0] += numpy_us
                totals[1] += torch_us
                lines.append(f"  {name:30s} {numpy_us:7.1f} {torch_us:9.1f} {numpy_us / torch_us:7.2f}")
        lines.append(f"  {'all products':30s} {totals[0]:7.1f} {totals[1]:9.1f} {totals[0] / totals[1]:7.2f}")
        lines.append("")
    write_text_result("matmul_products.txt", "\n".join(lines))


if __name__ == "__main__":
    main()
