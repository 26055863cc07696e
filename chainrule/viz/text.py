"""Numbers and arrays as short text, the same way in pictures, explanations and the stepper page."""

import math

from ..backend import xp


def number(value, digits=2):
    """A number at ``digits`` decimals; tiny or huge non-zero values in e-notation so they never read as 0."""
    value = float(value)
    if value == 0:
        value = 0.0  # no "-0.00"
    elif math.isfinite(value) and (abs(value) < 0.5 * 10 ** -digits or abs(value) >= 1e6):
        return f"{value:.{max(digits, 1)}e}"
    return f"{value:.{digits}f}"


def shape_text(array):
    return "(" + ", ".join(str(n) for n in array.shape) + (",)" if array.ndim == 1 else ")")


def value_text(array, digits=2):
    """One number for a one-element array; otherwise shape, dtype and range."""
    array = xp.asarray(array)
    if array.size == 1:
        return number(array.reshape(()), digits)
    if array.size == 0:
        return f"{shape_text(array)} {array.dtype} (empty)"
    return (f"{shape_text(array)} {array.dtype} in [{number(array.min(), digits)}, "
            f"{number(array.max(), digits)}]")


def gradient_text(array, digits=2):
    """One number for a one-element gradient; otherwise its shape and norm."""
    array = xp.asarray(array)
    if array.size == 1:
        return number(array.reshape(()), digits)
    return f"{shape_text(array)} norm {number(xp.linalg.norm(array.reshape(-1).astype(xp.float64)), digits)}"


def wire_lines(array, digits=2):
    """A value as one or two short lines for a picture: the number, or shape/dtype over the range."""
    array = xp.asarray(array)
    if array.size == 1:
        return [number(array.reshape(()), digits)]
    if array.size == 0:
        return [f"{shape_text(array)} {array.dtype}", "(empty)"]
    return [f"{shape_text(array)} {array.dtype}",
            f"[{number(array.min(), digits)}, {number(array.max(), digits)}]"]


def gradient_lines(array, digits=2):
    array = xp.asarray(array)
    if array.size == 1:
        return [number(array.reshape(()), digits)]
    return [f"norm {number(xp.linalg.norm(array.reshape(-1).astype(xp.float64)), digits)}"]
