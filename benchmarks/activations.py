"""Activation functions, forward and backward, chainrule beside PyTorch and hand-written NumPy.

    python -m benchmarks.activations [--shape 1024 512] [--repeats 15]

Each activation runs forward and backward on a float32 array (by default (1024, 512), an
MLP layer's output at batch 1024): chainrule and PyTorch through their autograd, NumPy as
the textbook formula and its derivative written out. Medians in milliseconds, with the
ratios chainrule/PyTorch and chainrule/NumPy. chainrule's ``backward(gradient=...)``
copies the gradient it is given (the caller's array is never written), a pass over the
array that the other two skip. Writes benchmarks/results/activations.txt.
"""

import argparse
import math

import numpy as np

from .harness import import_torch, tune_process, write_text_result
from .machine import describe, summary_line
from .matmul_products import median_us

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def numpy_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def numpy_gelu_tanh(x, g):
    inner = np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    local = 0.5 * (1 + inner) + 0.5 * x * (1 - inner * inner) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    return 0.5 * x * (1 + inner), g * local


def activations(F):
    """name: (chainrule on a Tensor, PyTorch on a tensor (F is torch.nn.functional), NumPy (x, upstream) ->
    (output, gradient))."""
    return {
        "relu": (lambda t: t.relu(), F.relu, lambda x, g: (np.maximum(x, 0), g * (x > 0))),
        "tanh": (lambda t: t.tanh(), F.tanh, lambda x, g: (np.tanh(x), g * (1 - np.tanh(x) ** 2))),
        "sigmoid": (
            lambda t: t.sigmoid(),
            F.sigmoid,
            lambda x, g: (numpy_sigmoid(x), g * numpy_sigmoid(x) * (1 - numpy_sigmoid(x))),
        ),
        "leaky_relu 0.01": (
            lambda t: t.leaky_relu(0.01),
            lambda t: F.leaky_relu(t, 0.01),
            lambda x, g: (np.where(x > 0, x, 0.01 * x), g * np.where(x > 0, 1, 0.01)),
        ),
        "elu": (
            lambda t: t.elu(),
            F.elu,
            lambda x, g: (np.where(x > 0, x, np.expm1(x)), g * np.where(x > 0, 1, np.exp(x))),
        ),
        "softplus": (lambda t: t.softplus(), F.softplus, lambda x, g: (np.logaddexp(0, x), g * numpy_sigmoid(x))),
        "gelu (tanh form)": (
            lambda t: t.gelu(approximate="tanh"),
            lambda t: F.gelu(t, approximate="tanh"),
            numpy_gelu_tanh,
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[1024, 512])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    tune_process()  # the settings the command line trains under
    import chainrule

    torch = import_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(args.shape, dtype=np.float32) * 3
    upstream = rng.standard_normal(args.shape, dtype=np.float32)
    ours = chainrule.tensor(x, requires_grad=True)
    theirs = torch.from_numpy(x.copy()).requires_grad_()
    torch_upstream = torch.from_numpy(upstream)
    lines = [
        summary_line(describe("python -m benchmarks.activations", [])),
        "",
        f"forward+backward on a {tuple(args.shape)} float32 array: median ms",
        f"{'':18s}{'chainrule':>10}{'PyTorch':>10}{'NumPy':>10}{'vs PyTorch':>12}{'vs NumPy':>10}",
    ]
    for name, (chainrule_call, torch_call, numpy_call) in activations(torch.nn.functional).items():

        def run_chainrule():
            ours.grad = None
            chainrule_call(ours).backward(gradient=upstream)

        def run_torch():
            theirs.grad = None
            torch_call(theirs).backward(torch_upstream)

        times = [
            median_us(run, args.repeats, number=5) / 1e3
            for run in (run_chainrule, run_torch, lambda: numpy_call(x, upstream))
        ]
        lines.append(
            f"{name:18s}{times[0]:10.2f}{times[1]:10.2f}{times[2]:10.2f}"
            f"{times[0] / times[1]:12.2f}{times[0] / times[2]:10.2f}"
        )
    write_text_result("activations.txt", "\n".join(lines))


if __name__ == "__main__":
    main()
