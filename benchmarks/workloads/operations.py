"""Operation workloads: single operations PyTorch programs lean on, forward and backward, at training sizes.

* einsum_attention: attention scores einsum("bhqd,bhkd->bhqk") for batch 32, 8 heads, 64 queries and keys
  of width 64: a batch of matrix products, forward and both gradients.
* einsum_bilinear: a bilinear layer einsum("bi,oij,bj->bo") for batch 256, 64 x 64 inputs, 32 outputs: three
  operands, contracted in the order einsum_path picks.
* gather: x.gather(1, index) picking 64 of 512 columns per row of a (1024, 512) batch; the backward
  scatters the gradient back (adding where an index repeats).
* scatter_add: x.scatter_add(1, index, src) adding a (1024, 64) src into (1024, 512) at random columns.
* cumsum: x.cumsum(1) of a (1024, 512) batch; the backward is a reversed cumulative sum.

Each output is multiplied by a fixed random tensor and summed, so every gradient is a full array. All
float32. chainrule and PyTorch run the same expression through their public API; the NumPy baseline is
the forward and backward written by hand (matmul, take_along_axis and add.at, cumsum).
"""

import numpy as np

from ..harness import Workload, import_torch


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]


def _library_run(library, expression, arrays, constants):
    """run() for chainrule or PyTorch: leaves requiring grad, the expression times a fixed direction, summed,
    backward; returns the gradients as arrays."""
    if library == "torch":
        torch = import_torch()
        leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
        fixed = [torch.tensor(c) for c in constants]

        def grads():
            return [leaf.grad.numpy() for leaf in leaves]
    else:
        import chainrule as torch

        leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
        fixed = [torch.tensor(c) for c in constants]

        def grads():
            return [np.asarray(leaf.grad) for leaf in leaves]

    def run():
        for leaf in leaves:
            leaf.grad = None
        (expression(torch, *leaves, *fixed)).sum().backward()
        return grads()

    return run


def _workload(name, title, description, expression, arrays, constants, numpy_run):
    return Workload(
        name=name,
        title=title,
        unit="pass",
        count=1,
        description=description,
        implementations={
            "chainrule": lambda: _library_run("chainrule", expression, arrays, constants),
            "pytorch": lambda: _library_run("torch", expression, arrays, constants),
            "numpy": lambda: numpy_run,
        },
        targets={"pytorch": 2.0},
        rtol=1e-3,
    )


# ----- einsum ----------------------------------------------------------------------------------
def einsum_attention(quick):
    q, k, direction = _arrays([(32, 8, 64, 64), (32, 8, 64, 64), (32, 8, 64, 64)])

    def numpy_run():
        scores = q @ k.swapaxes(-1, -2)  # forward, then the gradient of sum(scores * direction)
        del scores
        return [direction @ k, direction.swapaxes(-1, -2) @ q]

    return _workload(
        "einsum_attention",
        "einsum bhqd,bhkd->bhqk (32x8x64x64), forward+backward",
        "Attention scores of batch 32, 8 heads, 64 queries and keys of width 64, float32: the einsum, "
        "times a fixed random tensor, summed, backward to both operands.",
        lambda lib, a, b, d: lib.einsum("bhqd,bhkd->bhqk", a, b) * d,
        [q, k],
        [direction],
        numpy_run,
    )


def einsum_bilinear(quick):
    x, w, y, direction = _arrays([(256, 64), (32, 64, 64), (256, 64), (256, 32)])

    def numpy_run():
        xw = np.einsum("bi,oij->boj", x, w, optimize=True)
        out = np.einsum("boj,bj->bo", xw, y, optimize=True)
        del out
        return [
            np.einsum("bo,oij,bj->bi", direction, w, y, optimize=True),
            np.einsum("bo,bi,bj->oij", direction, x, y, optimize=True),
            np.einsum("bo,boj->bj", direction, xw, optimize=True),
        ]

    return _workload(
        "einsum_bilinear",
        "einsum bi,oij,bj->bo (256, 64x64 -> 32), forward+backward",
        "A bilinear layer of batch 256, inputs of 64 and 64, 32 outputs, float32: three operands "
        "contracted pairwise, backward to all three. NumPy: np.einsum with optimize=True.",
        lambda lib, a, b, c, d: lib.einsum("bi,oij,bj->bo", a, b, c) * d,
        [x, w, y],
        [direction],
        numpy_run,
    )


# ----- gather and scatter_add --------------------------------------------------------------------
def _index(seed=1):
    return np.random.default_rng(seed).integers(0, 512, (1024, 64))


def gather(quick):
    x, direction = _arrays([(1024, 512), (1024, 64)])
    index = _index()

    def numpy_run():
        np.take_along_axis(x, index, 1)
        grad = np.zeros_like(x)
        np.add.at(grad, (np.arange(1024)[:, None], index), direction)
        return [grad]

    def expression(lib, a, d):
        return a.gather(1, lib.tensor(index)) * d

    return _workload(
        "gather",
        "gather (1024, 512) -> (1024, 64) along dim 1, forward+backward",
        "x.gather(1, index) picking 64 random columns (repeats allowed) of each row of a (1024, 512) "
        "float32 batch, times a fixed tensor, summed, backward (a scatter-add).",
        expression,
        [x],
        [direction],
        numpy_run,
    )


def scatter_add(quick):
    x, src, direction = _arrays([(1024, 512), (1024, 64), (1024, 512)])
    index = _index()

    def numpy_run():
        out = x.copy()
        np.add.at(out, (np.arange(1024)[:, None], index), src)
        return [direction.copy(), np.take_along_axis(direction, index, 1)]

    def expression(lib, a, s, d):
        return a.scatter_add(1, lib.tensor(index), s) * d

    return _workload(
        "scatter_add",
        "scatter_add (1024, 64) into (1024, 512) along dim 1, forward+backward",
        "x.scatter_add(1, index, src) adding a (1024, 64) float32 src at random columns (repeats add "
        "up), times a fixed tensor, summed, backward to x and src (a gather).",
        expression,
        [x, src],
        [direction],
        numpy_run,
    )


# ----- cumsum ------------------------------------------------------------------------------------
def cumsum(quick):
    x, direction = _arrays([(1024, 512), (1024, 512)])

    def numpy_run():
        np.cumsum(x, 1)
        return [np.flip(np.cumsum(np.flip(direction, 1), 1), 1)]

    return _workload(
        "cumsum",
        "cumsum (1024, 512) along dim 1, forward+backward",
        "x.cumsum(1) of a (1024, 512) float32 batch, times a fixed tensor, summed, backward (a reversed "
        "cumulative sum). NumPy: np.cumsum both ways.",
        lambda lib, a, d: a.cumsum(1) * d,
        [x],
        [direction],
        numpy_run,
    )
