"""Engine workloads: what recording and backpropagating one small gate costs.

* small_ops: 1,000 elementwise ops on 10-element float32 tensors, forward+backward.
* perceptron: the reference text's 1/(1+exp(-(w0*x0+w1*x1+w2))) on scalars, one pass.
* deep_chain_100k / deep_chain_1m: the same sequence on 0-d (float64) tensors, 100,000
  and 1,000,000 gates long: time per gate, peak memory, and that nothing crashes.

Every implementation computes the same thing in the same order (chainrule, PyTorch and
micrograd run literally the same Python expression). The op cycle is

    y = y * a;  y = y + b;  y = tanh(y);  y = exp(y);  y = y - 1

with leaves x (start), a and b, all requiring gradients (so gradients also accumulate
into leaves used many times over). With a = 1, b = 0 and x < 0 the values drift slowly
towards 0 and the gradients neither vanish nor blow up, even after a million ops: no
denormals, and the implementations' gradients can be compared.
"""

import math

import numpy as np

from ..harness import Workload, import_torch

OPS_PER_CYCLE = 5


def _leaves(shape, dtype):
    """x, a, b as arrays of ``shape`` (() for scalars)."""
    size = int(np.prod(shape))
    x = np.linspace(-0.8, -0.1, size, dtype=dtype).reshape(shape) if size > 1 else np.full(shape, -0.5, dtype)
    return x, np.ones(shape, dtype), np.zeros(shape, dtype)


# ----- the op chain in each implementation --------------------------------------------
def op_chain(x, a, b, n_ops):
    """The chain, written once for every engine with Tensor operators (chainrule and PyTorch alike)."""
    y = x
    for _ in range(n_ops // OPS_PER_CYCLE):
        y = y * a
        y = y + b
        y = y.tanh()
        y = y.exp()
        y = y - 1
    return y


def chainrule_chain(shape, n_ops, dtype=np.float32):
    import chainrule

    leaves = [chainrule.tensor(v, requires_grad=True) for v in _leaves(shape, dtype)]

    def run():
        for leaf in leaves:
            leaf.grad = None
        y = op_chain(*leaves, n_ops)
        (y.sum() if shape else y).backward()
        return [leaf.grad for leaf in leaves]

    return run


def pytorch_chain(shape, n_ops, dtype=np.float32):
    torch = import_torch()
    leaves = [torch.tensor(v, requires_grad=True) for v in _leaves(shape, dtype)]

    def run():
        for leaf in leaves:
            leaf.grad = None
        y = op_chain(*leaves, n_ops)
        (y.sum() if shape else y).backward()
        return [leaf.grad.numpy() for leaf in leaves]

    return run


def numpy_chain(shape, n_ops, dtype=np.float32):
    """The floor for a NumPy engine: forward appends one backward closure per op to a tape, backward
    calls them in reverse. No graph objects, no checks, nothing general."""
    x, a, b = _leaves(shape, dtype)

    def run():
        grad_a, grad_b = np.zeros_like(a), np.zeros_like(b)
        tape = []
        y = x
        for _ in range(n_ops // OPS_PER_CYCLE):
            y = _np_mul(y, a, grad_a, tape)
            y = _np_add(y, b, grad_b, tape)
            y = _np_tanh(y, tape)
            y = _np_exp(y, tape)
            y = _np_sub_one(y, tape)
        g = np.ones_like(y)
        for backward in reversed(tape):
            g = backward(g)
        return [g, grad_a, grad_b]

    return run


def _np_mul(y, a, grad_a, tape):
    def backward(g):
        np.add(grad_a, g * y, out=grad_a)
        return g * a

    tape.append(backward)
    return y * a


def _np_add(y, b, grad_b, tape):
    def backward(g):
        np.add(grad_b, g, out=grad_b)
        return g

    tape.append(backward)
    return y + b


def _np_tanh(y, tape):
    out = np.tanh(y)
    tape.append(lambda g: g * (1 - out * out))
    return out


def _np_exp(y, tape):
    out = np.exp(y)
    tape.append(lambda g: g * out)
    return out


def _np_sub_one(y, tape):
    tape.append(lambda g: g)
    return y - 1


_CYCLE_TEXT = "y*a, y+b, tanh(y), exp(y), y-1 (x, a, b leaves requiring grad; a=1, b=0, x<0)"


def small_ops(quick):
    n_ops = 1000
    return Workload(
        name="small_ops",
        title="1,000 small elementwise ops (10 float32), forward+backward",
        unit="op",
        count=n_ops,
        description=(
            f"A chain of {n_ops:,} ops on 10-element float32 tensors, cycling {_CYCLE_TEXT}, "
            "then sum() and backward: the per-op overhead of recording and backpropagating a gate. "
            "The NumPy baseline is a minimal tape of backward closures (the floor for a NumPy engine)."
        ),
        implementations={
            "chainrule": lambda: chainrule_chain((10,), n_ops),
            "pytorch": lambda: pytorch_chain((10,), n_ops),
            "numpy": lambda: numpy_chain((10,), n_ops),
        },
        targets={"pytorch": 0.6},
    )


def _deep_chain(n_gates, quick, repeats):
    return Workload(
        name=f"deep_chain_{n_gates // 1000}k" if n_gates < 1_000_000 else f"deep_chain_{n_gates // 1_000_000}m",
        title=f"deep chain of {n_gates:,} scalar gates, forward+backward",
        unit="gate",
        count=n_gates,
        description=(
            f"{n_gates:,} ops on 0-d float64 tensors cycling {_CYCLE_TEXT}, then backward: time per gate "
            "and peak memory of the whole graph (fresh process per implementation); it must not crash "
            "(no recursion in the graph walk or in freeing the graph). float64, because near 0 the "
            "cycle is neutral and float32 rounding differences between PyTorch's and NumPy's exp grow "
            "along a million ops until the gradients cannot be compared; a 0-d op costs the same in "
            "either dtype."
        ),
        implementations={
            "chainrule": lambda: chainrule_chain((), n_gates, np.float64),
            "pytorch": lambda: pytorch_chain((), n_gates, np.float64),
            "numpy": lambda: numpy_chain((), n_gates, np.float64),
        },
        targets={"pytorch": 0.5},
        memory=True,
        repeats=repeats,
        rtol=1e-6,
        family="deep_chain",
    )


def deep_chain_100k(quick):
    return _deep_chain(100_000, quick, repeats=5 if quick else 9)


def deep_chain_1m(quick):
    return _deep_chain(1_000_000, quick, repeats=1 if quick else 3)


# ----- the perceptron ------------------------------------------------------------------
# The reference text's example: w = (2, -3, -3), x = (-1, -2), every input gets a gradient.
_W0, _X0, _W1, _X1, _W2 = 2.0, -1.0, -3.0, -2.0, -3.0


def perceptron_expression(w0, x0, w1, x1, w2):
    """Written once, with operators, for every engine (chainrule, PyTorch, micrograd)."""
    return 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())


def chainrule_perceptron():
    import chainrule

    leaves = [chainrule.tensor(v, requires_grad=True) for v in (_W0, _X0, _W1, _X1, _W2)]

    def run():
        for leaf in leaves:
            leaf.grad = None
        perceptron_expression(*leaves).backward()
        return [leaf.grad for leaf in leaves]

    return run


def pytorch_perceptron():
    torch = import_torch()
    leaves = [torch.tensor(v, requires_grad=True) for v in (_W0, _X0, _W1, _X1, _W2)]

    def run():
        for leaf in leaves:
            leaf.grad = None
        perceptron_expression(*leaves).backward()
        return [leaf.grad.numpy() for leaf in leaves]

    return run


def micrograd_perceptron():
    from micrograd.engine import Value

    if not hasattr(Value, "exp"):
        Value.exp = _micrograd_exp
    leaves = [Value(v) for v in (_W0, _X0, _W1, _X1, _W2)]

    def run():
        for leaf in leaves:
            leaf.grad = 0
        perceptron_expression(*leaves).backward()
        return [leaf.grad for leaf in leaves]

    return run


def _micrograd_exp(self):
    """micrograd's Value has no exp; this one is written the way its own ops are (as in its author's lecture)."""
    from micrograd.engine import Value

    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def floats_perceptron():
    """Hand-written with Python floats: the staged forward and backward of the reference text."""

    def run():
        dot = _W0 * _X0 + _W1 * _X1 + _W2
        f = 1.0 / (1.0 + math.exp(-dot))
        ddot = (1.0 - f) * f  # the sigmoid's local derivative times df = 1
        return [_X0 * ddot, _W0 * ddot, _X1 * ddot, _W1 * ddot, ddot]

    return run


def perceptron(quick):
    return Workload(
        name="perceptron",
        title="perceptron 1/(1+exp(-(w0*x0+w1*x1+w2))), one forward+backward",
        unit="pass",
        count=1,
        description=(
            "The reference text's two-input sigmoid neuron on scalars (w=(2,-3,-3), x=(-1,-2), all five "
            "need gradients), written with operators exactly as in the text (8 gates: 2 mul, 2 add, neg, "
            "exp, +1, 1/x): chainrule and PyTorch 0-d tensors, micrograd Values (with an exp written in "
            "micrograd's style, since its Value has none) and, as the floor, a hand-written forward and "
            "backward with Python floats (labelled numpy)."
        ),
        implementations={
            "chainrule": chainrule_perceptron,
            "pytorch": pytorch_perceptron,
            "micrograd": micrograd_perceptron,
            "numpy": floats_perceptron,
        },
        targets={"micrograd": 1.0, "pytorch": 1.0},
    )
