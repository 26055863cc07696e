"""Where the network training steps' time goes, layer kind by layer kind: chainrule beside PyTorch.

    python -m benchmarks.step_breakdown [--steps 20]

Runs the suite's MLP steps (batch 128 and 1024) and CNN steps (LeNet-style and wide),
with the same models, weights and batches as mlp_step_*, lenet_step and wide_cnn_step,
and splits each step's time into convolution, max-pool, ReLU, linear, loss, optimizer
and the rest (engine, modules, Python):

* chainrule: a timer around every gate's forward and backward, and around the
  optimizer's step and zero_grad, inside the real step;
* PyTorch: torch.profiler's self CPU time per operator, grouped the same way (the
  profiler adds its own overhead to every operator: read the small rows with care).

Both columns also give the step without any timer or profiler (median). Under the layer
kind that dominates, the matrix products alone, timed apart on the same shapes: the MLP's
with NumPy's BLAS and PyTorch's (see matmul_products.py), the convolutions' as chainrule's
batch-last im2col shapes them, with NumPy's BLAS (PyTorch's convolution has no separate
product to time). Writes benchmarks/results/step_breakdown.txt.
"""

import argparse
import collections
import statistics
import time

import numpy as np

from . import matmul_products
from .harness import import_torch, tune_process, write_text_result
from .machine import describe, summary_line
from .workloads import networks

# (title, layer spec, batch, input shape): the suite's four network steps.
NETWORKS = [
    ("MLP 784-512-256-10 step, batch 128", networks.mlp_spec(), 128, (784,)),
    ("MLP 784-512-256-10 step, batch 1024", networks.mlp_spec(), 1024, (784,)),
    ("LeNet-style CNN step, 1x28x28, batch 64", networks.cnn_spec(1, 16, 32, 28), 64, (1, 28, 28)),
    ("wide CNN step, 3x32x32, batch 32", networks.cnn_spec(3, 64, 128, 32), 32, (3, 32, 32)),
]

# (kind, chainrule gate classes, substrings of PyTorch operator names), in the order printed.
KINDS = [
    ("convolution", ("Conv2d",), ("convolution",)),
    ("max-pool", ("MaxPool2d",), ("max_pool2d",)),
    ("ReLU", ("Relu",), ("relu", "clamp_min", "threshold_backward")),
    ("linear", ("Linear",), ("addmm", "aten::mm")),
    ("loss", ("CrossEntropy",), ("log_softmax", "nll_loss")),
    ("optimizer", ("Optimizer",), ("Optimizer.", "_foreach", "aten::add_")),
]


def median_step_ms(run, steps):
    for _ in range(3):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def chainrule_split(spec, x, y, steps):
    """{kind: ms per step} from timers around each gate call and the optimizer's step and zero_grad, and the
    step's median."""
    from chainrule import autograd, optim

    run = networks.chainrule_step(spec, x, y)
    plain = median_step_ms(run, steps)
    spent = collections.defaultdict(float)
    kind_of = {name: kind for kind, names, _ in KINDS for name in names}
    classes = {cls.__name__: cls for cls in _subclasses(autograd.Gate)} | {"Optimizer": optim.Optimizer}
    originals = []
    for name, kind in kind_of.items():
        cls = classes[name]
        for method in ("forward", "backward", "backward_in_place", "step", "zero_grad"):
            function = cls.__dict__.get(method)
            if function is not None:
                originals.append((cls, method, function))
                setattr(cls, method, _timed(function, spent, kind))
    try:
        run()
        spent.clear()
        start = time.perf_counter()
        for _ in range(steps):
            run()
        total = (time.perf_counter() - start) / steps * 1e3
    finally:
        for cls, method, function in originals:
            setattr(cls, method, function)
    split = {kind: spent[kind] / steps * 1e3 for kind, _, _ in KINDS}
    split["the rest"] = total - sum(split.values())
    return split, plain


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _timed(function, spent, kind):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[kind] += time.perf_counter() - start

    return timed


def pytorch_split(spec, x, y, steps):
    """{kind: ms per step} of the operators' self CPU time under torch.profiler, and the step's median."""
    import_torch()
    from torch.profiler import ProfilerActivity, profile

    run = networks.torch_step(spec, x, y)
    plain = median_step_ms(run, steps)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            run()
    split = collections.defaultdict(float)
    for event in profiler.key_averages():
        kind = next((kind for kind, _, keys in KINDS if any(key in event.key for key in keys)), "the rest")
        split[kind] += event.self_cpu_time_total / steps / 1e3
    return {kind: split[kind] for kind, _, _ in KINDS + [("the rest", (), ())]}, plain


def products_alone(spec, batch, input_shape, repeats=15):
    """(layer kind, ms in NumPy, ms in PyTorch or None): the step's products of its dominant layer kind,
    each timed apart (median) and summed. An MLP's are the eight of matmul_products; a CNN's are each
    convolution's forward, weight-gradient and (past the first layer) input-gradient products, in the
    shapes chainrule's batch-last im2col gives them, the bias riding as a weight column."""
    rng = np.random.default_rng(0)
    if spec == networks.mlp_spec():
        made = matmul_products.products(batch, rng)
        return (
            "linear",
            sum(matmul_products.median_us(numpy_call, repeats) for _, numpy_call, _ in made) / 1e3,
            sum(matmul_products.median_us(torch_call, repeats) for _, _, torch_call in made) / 1e3,
        )
    from chainrule.gates.conv import weight_gradient

    total, side = 0.0, input_shape[-1]
    for position, layer in enumerate(spec):
        if layer[0] == "pool":
            side //= 2
        if layer[0] != "conv":
            continue
        fan_in, fan_out = layer[1:]
        weights = rng.standard_normal((fan_out, fan_in * 9 + 1), dtype=np.float32)
        cols = rng.standard_normal((fan_in * 9 + 1, side * side * batch), dtype=np.float32)
        grad = rng.standard_normal((fan_out, side * side * batch), dtype=np.float32)
        calls = [lambda: weights @ cols, lambda: weight_gradient(grad, cols)]
        if position > 0:
            calls.append(lambda: weights[:, :-1].T @ grad)
        total += sum(matmul_products.median_us(call, repeats) for call in calls) / 1e3
    return "convolution", total, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per measurement (default 30)")
    args = parser.parse_args(argv)
    tune_process()  # the settings the command line trains under
    import_torch()
    lines = [summary_line(describe("python -m benchmarks.step_breakdown", [])), ""]
    for title, spec, batch, input_shape in NETWORKS:
        x, y = networks.random_batch(batch, input_shape)
        ours, our_step = chainrule_split(spec, x, y, args.steps)
        theirs, their_step = pytorch_split(spec, x, y, args.steps)
        product_kind, numpy_ms, torch_ms = products_alone(spec, batch, input_shape)
        lines.append(f"{title + ': ms per step':54s}{'chainrule':>9}{'PyTorch':>10}")
        for kind in ours:
            if ours[kind] or theirs[kind]:
                lines.append(f"  {kind:52s}{ours[kind]:9.2f}{theirs[kind]:10.2f}")
            if kind == product_kind:
                label = "of which matrix products alone, timed apart"
                lines.append(f"    {label:50s}{numpy_ms:9.2f}" + (f"{torch_ms:10.2f}" if torch_ms else ""))
        lines.append(f"  {'sum (timers / profiler on)':52s}{sum(ours.values()):9.2f}{sum(theirs.values()):10.2f}")
        lines.append(f"  {'step, median, nothing on':52s}{our_step:9.2f}{their_step:10.2f}")
        lines.append(f"  {'ratio chainrule/PyTorch':52s}{our_step / their_step:9.2f}")
        lines.append("")
    write_text_result("step_breakdown.txt", "\n".join(lines))


if __name__ == "__main__":
    main()
