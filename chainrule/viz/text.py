"""Numbers and arrays as short text, the same way in pictures, explanations and the stepper page."""

import math
from collections.abc import Callable, Iterable
from typing import SupportsFloat

import numpy.typing as npt

from ..backend import xp
from ..types import Array


def number(value: SupportsFloat, digits: int = 2) -> str:
    """A number at ``digits`` decimals; tiny or huge non-zero values in e-notation so they never read as 0."""
    value = float(value)
    if value == 0:
        value = 0.0  # no "-0.00"
    elif math.isfinite(value) and (abs(value) < 0.5 * 10**-digits or abs(value) >= 1e6):
        return f"{value:.{max(digits, 1)}e}"
    return f"{value:.{digits}f}"


def shown_equation(
    operands: Iterable[npt.ArrayLike],
    result: npt.ArrayLike,
    digits: int = 2,
    combine: Callable[[list[float]], float] = sum,
    most: int = 6,
) -> tuple[list[str], str]:
    """The operands and the result of a sum or product as text that checks out by hand.

    Rounded to 2 decimals, 2 * 0.1966 = 0.3932 reads "2.00 * 0.20 = 0.39", which a
    reader who multiplies finds wrong. So the operands get up to ``most`` more decimals
    (trailing zeros trimmed) until ``combine`` of the numbers shown rounds to the result
    shown: "2.00 * 0.197 = 0.39". Returns ``(operand texts, result text)``.
    """
    numbers = [float(xp.asarray(value).reshape(())) for value in operands]
    shown = number(xp.asarray(result).reshape(()), digits)
    for decimals in range(digits, digits + most + 1):
        texts = [_trimmed(value, digits, decimals) for value in numbers]
        if number(combine([float(text) for text in texts]), digits) == shown:
            break
    return texts, shown


def product(values: Iterable[float]) -> float:
    """The product of ``values`` (a ``combine`` for ``shown_equation``)."""
    return math.prod(values)


def _trimmed(value: float, digits: int, decimals: int) -> str:
    """``value`` at ``decimals`` decimals, with trailing zeros beyond ``digits`` dropped (2.000 -> 2.00)."""
    text = number(value, decimals)
    if "e" in text or "." not in text:
        return text
    whole, fraction = text.split(".")
    fraction = fraction.rstrip("0").ljust(digits, "0")
    return f"{whole}.{fraction}" if fraction else whole


def shape_text(array: Array) -> str:
    return "(" + ", ".join(str(n) for n in array.shape) + (",)" if array.ndim == 1 else ")")


def value_text(array: npt.ArrayLike, digits: int = 2) -> str:
    """One number for a one-element array; otherwise shape, dtype and range."""
    array = xp.asarray(array)
    if array.size == 1:
        return number(array.reshape(()), digits)
    if array.size == 0:
        return f"{shape_text(array)} {array.dtype} (empty)"
    return f"{shape_text(array)} {array.dtype} in [{number(array.min(), digits)}, {number(array.max(), digits)}]"


def gradient_text(array: npt.ArrayLike, digits: int = 2) -> str:
    """One number for a one-element gradient; otherwise its shape and norm."""
    array = xp.asarray(array)
    if array.size == 1:
        return number(array.reshape(()), digits)
    return f"{shape_text(array)} norm {number(xp.linalg.norm(array.reshape(-1).astype(xp.float64)), digits)}"


def wire_lines(array: npt.ArrayLike, digits: int = 2) -> list[str]:
    """A value as one or two short lines for a picture: the number, or shape/dtype over the range."""
    array = xp.asarray(array)
    if array.size == 1:
        return [number(array.reshape(()), digits)]
    if array.size == 0:
        return [f"{shape_text(array)} {array.dtype}", "(empty)"]
    return [f"{shape_text(array)} {array.dtype}", f"[{number(array.min(), digits)}, {number(array.max(), digits)}]"]


def gradient_lines(array: npt.ArrayLike, digits: int = 2) -> list[str]:
    array = xp.asarray(array)
    if array.size == 1:
        return [number(array.reshape(()), digits)]
    return [f"norm {number(xp.linalg.norm(array.reshape(-1).astype(xp.float64)), digits)}"]
