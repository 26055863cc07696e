"""Graphs the viz tests share: named float64 scalars and the reference text's perceptron."""

import numpy as np

import chainrule as cr
from chainrule.demo import perceptron_example


def scalar(value, name):
    return cr.tensor(value, requires_grad=True, dtype=np.float64, name=name)


def perceptron():
    """f(w, x) = 1/(1+e^-(w0x0+w1x1+w2)) from the text's elementary gates: mul, mul, add, add, *-1, exp, +1, 1/x.

    Returns the output and the leaves (w0, x0, w1, x1, w2)."""
    out, leaves = perceptron_example()
    return out, tuple(leaves.values())
