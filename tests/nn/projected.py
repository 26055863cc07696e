"""A test helper shared by the nn tests: a function's value and input gradients, to compare two versions."""

import numpy as np

import chainrule as cr


def grads(fn, inputs, seed=0):
    """Value and input gradients of fn projected on a fixed random direction."""
    inputs = [cr.tensor(t.data, requires_grad=True) for t in inputs]
    out = fn(*inputs)
    direction = np.random.default_rng(seed).standard_normal(out.shape)
    (out * direction).sum().backward()
    return out.data, [t.grad for t in inputs]
