"""einsum: products and sums of tensors named by subscripts ("bij,bjk->bik"), as PyTorch and NumPy read them.

One gate per call. Its forward contracts the operands two at a time, in the order NumPy's
``einsum_path`` chooses, and runs each contraction as one matrix product (BLAS): letters shared
and still needed become batch dimensions, shared letters needed no more are the product's inner
dimension, and the rest are its rows and columns. Its backward is one einsum per input: the
upstream gradient contracted with the other operands. That einsum is the same gate when the
gradient is being differentiated again, so every order of derivative comes from this one rule.

Two things need care in the backward. A letter repeated in one operand ("ii->i", a diagonal) gets
its gradient on the diagonal only: the repeat is renamed and a constant identity matrix ties the
two names. A letter summed within one operand and found nowhere else ("ij->i") gets the gradient
spread along it: a constant vector of ones carries it.

The user-facing ``einsum`` first brings an equation to the gate's canonical form: letters only
(the dimensions under "..." get letters of their own), the output written out, and a letter that
has size 1 in one operand and more in another (broadcasting) squeezed out of the size-1 operand.
"""

from __future__ import annotations

import collections
import functools
import string
from collections.abc import Sequence
from typing import Any, cast

from ..autograd import Gate
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, TensorLike
from .common import as_tensor, data, operation

LETTERS = string.ascii_letters


class Einsum(Gate):
    """An einsum in canonical form (``equation`` like "ij,jk->ik": letters only, one size per letter, the
    output explicit)."""

    derivative = "d/dx_i einsum(x_1..x_n) = the upstream gradient contracted with the other operands"
    input_names = tuple(f"x{i}" for i in range(1, 27))
    equation: str

    def forward(self, *arrays: Array) -> Array:
        return contract(self.equation, arrays)

    def backward(self, grad: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        shapes = tuple(x.shape for x in inputs)
        dtype = data(grad).dtype
        grads: list[Any] = []
        for i in range(len(inputs)):
            if not self.wants(i):
                grads.append(None)
                continue
            equation, constants = gradient_equation(self.equation, i, shapes)
            operands = [grad] + [x for j, x in enumerate(inputs) if j != i]
            operands += [xp.ones(n, dtype) if kind == "ones" else xp.eye(n, dtype=dtype) for kind, n in constants]
            grads.append(_einsum_of(equation, operands))
        return tuple(grads)


def _einsum_of(equation: str, operands: Sequence[Any]) -> Any:
    """A canonical einsum of arrays (plain NumPy), or of Tensors (the gate, recorded)."""
    if any(isinstance(o, Tensor) for o in operands):
        return Einsum.apply(*[as_tensor(o) for o in operands], equation=equation)
    return contract(equation, operands)


def _split(equation: str) -> tuple[list[str], str]:
    inputs, output = equation.split("->")
    return inputs.split(","), output


@functools.lru_cache(maxsize=512)
def gradient_equation(
    equation: str, position: int, shapes: tuple[tuple[int, ...], ...]
) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The canonical einsum that gives the gradient of operand ``position``, and the constants it needs after
    the upstream gradient and the other operands: ("eye", n) or ("ones", n), in order."""
    inputs, output = _split(equation)
    sizes = {c: n for subscripts, shape in zip(inputs, shapes) for c, n in zip(subscripts, shape)}
    fresh = iter(c for c in LETTERS if c not in equation)
    target, terms, constants, seen = [], [output] + [s for j, s in enumerate(inputs) if j != position], [], set()
    for c in inputs[position]:
        if c in seen:  # a repeat: a diagonal, tied to its first occurrence by an identity matrix
            renamed = next(fresh, None)
            if renamed is None:
                raise ValueError(f"einsum: too many subscripts in {equation!r} to form its gradient")
            target.append(renamed)
            terms.append(c + renamed)
            constants.append(("eye", sizes[c]))
        else:
            seen.add(c)
            target.append(c)
    present = set("".join(terms))
    for c in dict.fromkeys(inputs[position]):
        if c not in present:  # summed within this operand alone: the gradient is the same all along it
            terms.append(c)
            constants.append(("ones", sizes[c]))
    return ",".join(terms) + "->" + "".join(target), tuple(constants)


# ----- the contraction --------------------------------------------------------------------
_Pair = collections.namedtuple(
    "_Pair", "first second first_order second_order first_shape second_shape kind letters result_shape"
)


@functools.lru_cache(maxsize=512)
def _plan(
    equation: str, shapes: tuple[tuple[int, ...], ...]
) -> tuple[list[tuple[str | None, tuple[int, ...]]], list[_Pair], tuple[int, ...], bool]:
    """How to contract arrays of ``shapes``: per operand a diagonal and a sum to take first, then the pairwise
    products, then the final transposition."""
    inputs, output = _split(equation)
    sizes = {c: n for subscripts, shape in zip(inputs, shapes) for c, n in zip(subscripts, shape)}
    prepare, letters = [], []
    for k, subscripts in enumerate(inputs):
        unique = "".join(dict.fromkeys(subscripts))
        diagonal = f"{subscripts}->{unique}" if unique != subscripts else None
        needed = set(output).union(*[s for j, s in enumerate(inputs) if j != k])
        summed = tuple(i for i, c in enumerate(unique) if c not in needed)
        prepare.append((diagonal, summed))
        letters.append("".join(c for c in unique if c in needed))
    pairs = []
    if len(letters) > 2:
        dummies = [xp.broadcast_to(xp.zeros(()), tuple(sizes[c] for c in s)) for s in letters]
        order = xp.einsum_path(",".join(letters) + "->" + output, *dummies, optimize="greedy")[0][1:]
    else:
        order = [(0, 1)] if len(letters) == 2 else []
    for step in order:  # each step contracts the operands at its positions; the result goes to the end
        step = list(step)
        if len(step) == 1:  # one operand alone (nothing left to sum after the preparation): it moves to the end
            letters.append(letters.pop(step[0]))
            pairs.append(_Pair(step[0], None, None, None, None, None, "move", letters[-1], None))
        while len(step) > 1:
            a, b = step[0], step[1]
            pairs.append(_pair(letters, a, b, output, sizes))
            letters = [s for j, s in enumerate(letters) if j not in (a, b)] + [pairs[-1].letters]
            step = [p - (a < p) - (b < p) for p in step[2:]] + [len(letters) - 1]
    final = letters[0]
    transpose = tuple(final.index(c) for c in output)
    fresh = bool(pairs) or any(summed for _, summed in prepare)
    return prepare, pairs, transpose, fresh


def _pair(letters: list[str], a: int, b: int, output: str, sizes: dict[str, int]) -> _Pair:
    """One pairwise contraction of operands a and b as a (batch of) matrix product(s)."""
    first, second = letters[a], letters[b]
    needed = set(output).union(*[s for j, s in enumerate(letters) if j not in (a, b)])
    batch = [c for c in first if c in second and c in needed]
    inner = [c for c in first if c in second and c not in needed]
    rows = [c for c in first if c not in second]
    columns = [c for c in second if c not in first]

    def size(group: list[str]) -> int:
        n = 1
        for c in group:
            n *= sizes[c]
        return n

    nb, m, k, n = size(batch), size(rows), size(inner), size(columns)
    first_order = tuple(first.index(c) for c in batch + rows + inner)
    second_order = tuple(second.index(c) for c in batch + inner + columns)
    if not inner:
        kind = "outer"  # no shared letter to sum: a broadcast product, not a matrix product
    elif m == 1 and n == 1:
        kind = "dot"  # a row of inner products: one pass, where a batch of 1x1 products would loop
    else:
        kind = "matmul"
    result = "".join(batch + rows + columns)
    return _Pair(a, b, first_order, second_order, (nb, m, k), (nb, k, n), kind, result, tuple(sizes[c] for c in result))


def contract(equation: str, arrays: Sequence[Array]) -> Array:
    """The canonical einsum of ``arrays``, as matrix products."""
    prepare, pairs, transpose, fresh = _plan(equation, tuple(a.shape for a in arrays))
    operands = []
    for array, (diagonal, summed) in zip(arrays, prepare):
        if diagonal is not None:
            array = xp.einsum(diagonal, array)
        if summed:
            array = array.sum(axis=summed)
        operands.append(array)
    for pair in pairs:
        if pair.kind == "move":
            operands.append(operands.pop(pair.first))
            continue
        first = operands[pair.first].transpose(pair.first_order).reshape(pair.first_shape)
        second = operands[pair.second].transpose(pair.second_order).reshape(pair.second_shape)
        if pair.kind == "outer":
            product = first * second  # (batch, rows, 1) * (batch, 1, columns)
        elif pair.kind == "dot":
            product = xp.einsum("bik,bkj->bij", first, second)
        elif pair.first_shape[0] == 1:
            product = first[0] @ second[0]  # one plain matrix product: BLAS gemm directly
        else:
            product = first @ second
        operands = [o for j, o in enumerate(operands) if j not in (pair.first, pair.second)]
        operands.append(product.reshape(pair.result_shape))
    result = operands[0].transpose(transpose)
    return result if fresh else result.copy()


# ----- the user-facing function ------------------------------------------------------------
def _canonical(equation: str, shapes: tuple[tuple[int, ...], ...]) -> tuple[str, list[tuple[int, ...] | None]]:
    """``equation`` for operands of ``shapes`` in canonical form, and for each operand the shape it is
    reshaped to first (dimensions of size 1 that broadcast squeezed out), or None."""
    if not isinstance(equation, str):
        raise TypeError(
            f"einsum: the equation must be a string such as 'ij,jk->ik', got {equation!r} (the "
            "sublist form is not supported)"
        )
    text = equation.replace(" ", "")
    if text.count("->") > 1 or any(c not in LETTERS + ".,->" for c in text):
        raise ValueError(f"einsum: {equation!r} is not an equation of letters, ',', '...' and one '->'")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {equation!r} names {len(terms)} operands but {len(shapes)} were given")
    spare = [c for c in LETTERS if c not in text]
    ranks = [_ellipsis_rank(term, shape, k, equation) for k, (term, shape) in enumerate(zip(terms, shapes))]
    ellipsis = "".join(spare[: max([r for r in ranks if r is not None], default=0)])
    named = [
        term.replace("...", ellipsis[len(ellipsis) - r :]) if r is not None else term for term, r in zip(terms, ranks)
    ]
    if arrow:
        if "." in output.replace("...", "") or output.count("...") > 1:
            raise ValueError(f"einsum: the output of {equation!r} may hold one '...' and letters")
        output = output.replace("...", ellipsis)
        if len(set(output)) != len(output) or not set(output) <= set("".join(named)):
            raise ValueError(
                f"einsum: the output subscripts of {equation!r} must be distinct letters that appear among the inputs"
            )
    else:
        counts = collections.Counter("".join(named))
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))
    sizes: dict[str, int] = {}
    for k, (subscripts, shape) in enumerate(zip(named, shapes)):
        for c in set(subscripts):
            if len({n for d, n in zip(subscripts, shape) if d == c}) > 1:
                raise ValueError(
                    f"einsum: subscript {c!r} repeats in operand {k} of {equation!r} over "
                    f"dimensions of different sizes (shape {shape})"
                )
        for c, n in zip(subscripts, shape):
            if c in sizes and n != sizes[c] and 1 not in (n, sizes[c]):
                raise ValueError(
                    f"einsum: subscript {c!r} has size {n} in operand {k} (shape {shape}) but "
                    f"{sizes[c]} elsewhere in {equation!r}; sizes must match or be 1"
                )
            sizes[c] = max(n, sizes.get(c, n))
    canonical, reshapes = [], []
    for subscripts, shape in zip(named, shapes):
        kept = [(c, n) for c, n in zip(subscripts, shape) if not (n == 1 and sizes[c] > 1)]
        canonical.append("".join(c for c, _ in kept))
        reshapes.append(tuple(n for _, n in kept) if len(kept) < len(shape) else None)
    return ",".join(canonical) + "->" + output, reshapes


def _ellipsis_rank(term: str, shape: tuple[int, ...], k: int, equation: str) -> int | None:
    """How many dimensions the '...' of ``term`` covers (None without one), or a clear error."""
    letters = term.replace("...", "")
    if "." in letters or term.count("...") > 1:
        raise ValueError(f"einsum: operand {k}'s subscripts {term!r} in {equation!r} may hold one '...' and letters")
    if "..." not in term:
        if len(term) != len(shape):
            raise ValueError(
                f"einsum: operand {k} has shape {shape} ({len(shape)} dimensions) but its "
                f"subscripts {term!r} in {equation!r} name {len(term)}"
            )
        return None
    if len(letters) > len(shape):
        raise ValueError(
            f"einsum: operand {k} has shape {shape} but its subscripts {term!r} in {equation!r} "
            f"name {len(letters)} dimensions besides '...'"
        )
    return len(shape) - len(letters)


@operation()
def einsum(equation: str, *operands: TensorLike | Sequence[TensorLike]) -> Tensor:
    """Einstein summation: ``einsum("bij,bjk->bik", a, b)`` multiplies and sums as the subscripts say, as in
    PyTorch (and NumPy): a letter repeated across operands multiplies along it; a letter missing from the
    output (after "->") is summed; a letter repeated in one operand takes its diagonal; "..." stands for the
    dimensions not named (they broadcast). Without "->", the output is the letters that appear once, in
    alphabetical order, after "...". Operands may also come as one list. Runs as matrix products."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(o) for o in cast("tuple[TensorLike, ...]", operands)]  # a list given is unpacked
    canonical, reshapes = _canonical(equation, tuple(t.shape for t in tensors))
    tensors = [t if shape is None else t.reshape(shape) for t, shape in zip(tensors, reshapes)]
    return Einsum.apply(*tensors, equation=canonical)
