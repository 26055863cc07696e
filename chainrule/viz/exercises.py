"""Random formulas to practice on, of growing size, from a seed (the same seed gives the same formula).

* level 1: sums and products of three or four variables with small whole values, like
  the reference text's ``(x+y)*z`` at x=-2, y=5, z=-4;
* level 2: the text's other blocks too, ``exp``, ``1/x`` and ``max``, with values of one decimal;
* level 3: a neuron with two inputs and a sigmoid built from those blocks, as the
  text's perceptron ``1/(1+exp(-(w0*x0+w1*x1+w2)))``.

A formula is drawn as a tree, written with the fewest parentheses, and redrawn (from
the same random stream) when a value along the way would be awkward to work out by
hand: a division by almost zero, or a number past 100.
"""

import random
from collections.abc import Callable
from typing import TypeAlias

from ..tensor import Tensor
from .expression import compile_expression

#: A formula as a tree: a name, ``(op, child)`` or ``(op, left, right)``.
_Tree: TypeAlias = "str | tuple[str, _Tree] | tuple[str, _Tree, _Tree]"
#: A formula and the value of each of its variables.
_Exercise = tuple[str, dict[str, float]]

LEVELS = (1, 2, 3)
MOST_TRIES = 1000


def random_exercise(level: int, seed: int) -> _Exercise:
    """``(formula, values)`` for ``level`` 1, 2 or 3, drawn from ``seed``."""
    if level not in LEVELS:
        raise ValueError(f"the level must be 1, 2 or 3, got {level!r}")
    rng = random.Random(seed)
    for _ in range(MOST_TRIES):
        formula, values = _DRAW[level](rng)
        if _easy_by_hand(formula, values):
            return formula, values
    raise RuntimeError(f"no exercise found for level {level} and seed {seed}")  # never seen: a safety net


def _level_1(rng: random.Random) -> _Exercise:
    names = ["x", "y", "z", "w"][: rng.choice((3, 4))]
    tree = _combine(rng, names, unary=(), binary=("+", "*"))
    return _write(tree), {name: float(rng.choice([v for v in range(-5, 6) if v])) for name in names}


def _level_2(rng: random.Random) -> _Exercise:
    names = ["a", "b", "c"]
    tree = _combine(rng, names, unary=("exp", "1/"), binary=("+", "*", "max"), extra=rng.choice((1, 2)))
    return _write(tree), {name: _one_decimal(rng, 2) for name in names}


def _level_3(rng: random.Random) -> _Exercise:
    formula = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    return formula, {name: _one_decimal(rng, 3) for name in ("w0", "x0", "w1", "x1", "w2")}


_DRAW: dict[int, Callable[[random.Random], _Exercise]] = {1: _level_1, 2: _level_2, 3: _level_3}


def _one_decimal(rng: random.Random, bound: int) -> float:
    return float(rng.choice([v for v in range(-10 * bound, 10 * bound + 1) if v])) / 10


def _combine(
    rng: random.Random, names: list[str], unary: tuple[str, ...], binary: tuple[str, ...], extra: int = 0
) -> _Tree:
    """A random tree over ``names``: binary operations join them into one, ``extra`` unary ones wrap parts.

    A tree is a name, ``(op, child)`` or ``(op, left, right)``.
    """
    parts: list[_Tree] = list(names)
    rng.shuffle(parts)
    operations = len(names) - 1 + extra
    wraps = set(rng.sample(range(operations), extra))
    for step in range(operations):
        if step in wraps:
            i = rng.randrange(len(parts))
            parts[i] = (rng.choice(unary), parts[i])
        else:
            i = rng.randrange(len(parts) - 1)
            parts[i : i + 2] = [(rng.choice(binary), parts[i], parts[i + 1])]
    return parts[0]


_PRECEDENCE = {"+": 1, "*": 2}


def _write(tree: _Tree, around: int = 0) -> str:
    """The tree as text, with parentheses only where precedence needs them."""
    if isinstance(tree, str):
        return tree
    if len(tree) == 2:
        op, child = tree
        if op == "exp":
            return f"exp({_write(child)})"
        text = f"1/{_write(child, 3)}"  # a 1/x gate; "b*1/a" would be read as (b*1)/a, a division
        return f"({text})" if around > 2 else text
    op, left, right = tree
    if op == "max":
        return f"max({_write(left)}, {_write(right)})"
    text = f"{_write(left, _PRECEDENCE[op])}{op}{_write(right, _PRECEDENCE[op] + 1)}"
    return f"({text})" if _PRECEDENCE[op] < around else text


def _easy_by_hand(formula: str, values: dict[str, float]) -> bool:
    output, _ = compile_expression(formula, values)
    tensors: list[Tensor] = [output]
    seen: set[int] = set()
    while tensors:  # every value in the graph, and what each 1/x divides by
        tensor = tensors.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if not abs(tensor.item()) <= 100:
            return False
        gate = tensor.gate
        if gate is not None:
            assert gate.inputs is not None  # a graph just built is not released
            if type(gate).__name__ == "Reciprocal" and abs(gate.inputs[0].item()) < 0.2:
                return False
            tensors.extend(gate.inputs)
    return True
