"""Tensors made from nothing, from NumPy or from a random draw, with PyTorch's names and arguments:
``zeros``, ``ones``, ``full``, ``empty``, ``arange``, ``linspace``, ``eye``, ``rand``, ``randn``,
``randint``, ``randperm``, ``multinomial``, the ``*_like`` forms, ``from_numpy`` and ``as_tensor``.

Sizes are given as PyTorch takes them (``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``).
Float results have the default dtype (float32 unless ``set_default_dtype`` changed it); ``dtype=``
chooses another. ``requires_grad=True`` makes a leaf to train. Random draws come from ``generator=``
or else from the one generator ``chainrule.manual_seed`` seeds (NumPy's numbers, not PyTorch's).
``device=`` may only name the CPU.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend, checks, devices, random
from .backend import xp
from .gates.common import data, operation
from .tensor import Tensor
from .types import Array, DType, TensorLike


def _size(where: str, size: Sequence[Any], keyword: Any) -> tuple[int, ...]:
    """The shape from ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` or ``zeros(size=(2, 3))``."""
    if keyword is not None:
        if size:
            raise TypeError(f"{where}: give the size as arguments or as size=, not both")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(not checks.is_integer(n) or n < 0 for n in size):
        raise ValueError(f"{where}: a size must be non-negative ints, got {size!r}")
    return tuple(int(n) for n in size)


def _made(where: str, array: Array, requires_grad: bool, device: object) -> Tensor:
    devices.check(where, device)
    return Tensor(array, requires_grad=requires_grad)


def _float_dtype(dtype: DType) -> np.dtype[Any]:
    return backend.default_float() if dtype is None else xp.dtype(dtype)


# ----- filled ---------------------------------------------------------------------------------
def zeros(*size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros of the given size."""
    return _made("zeros", xp.zeros(_size("zeros", size, None), dtype=_float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones of the given size."""
    return _made("ones", xp.ones(_size("ones", size, None), dtype=_float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of the given size whose values are whatever the memory held (fill it before reading)."""
    return _made("empty", xp.empty(_size("empty", size, None), dtype=_float_dtype(dtype)), requires_grad, device)


def _fill_dtype(fill_value: Any, dtype: DType) -> np.dtype[Any]:
    """PyTorch's dtype for ``full``: a bool fills bools, an int int64, a float the default float."""
    if dtype is not None:
        return xp.dtype(dtype)
    value = data(fill_value)
    if isinstance(value, (bool, xp.bool_)):
        return xp.dtype(bool)
    if isinstance(value, (numbers.Integral, xp.integer)):
        return xp.dtype(xp.int64)
    return backend.default_float()


def full(size: Any, fill_value: Any, *, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of the given size with every element ``fill_value``."""
    shape = _size("full", (size,), None)
    array = xp.full(shape, data(fill_value), dtype=_fill_dtype(fill_value, dtype))
    return _made("full", array, requires_grad, device)


def eye(
    n: int, m: int | None = None, *, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """The n x m (default n x n) identity matrix."""
    rows, columns = _size("eye", (n, n if m is None else m), None)
    return _made("eye", xp.eye(rows, columns, dtype=_float_dtype(dtype)), requires_grad, device)


# ----- ranges ---------------------------------------------------------------------------------
def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: DType = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Numbers from ``start`` (0 when only one argument is given) up to, not including, ``end`` by ``step``;
    int64 when all three are ints, else the default float."""
    if end is None:
        start, end = 0, start
    values = [data(v) for v in (start, end, step)]
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if dtype is None:
        integral = all(isinstance(v, (numbers.Integral, xp.integer)) for v in values)
        dtype = xp.int64 if integral else backend.default_float()
    return _made("arange", xp.arange(*values).astype(dtype, copy=False), requires_grad, device)


def linspace(
    start: float, end: float, steps: int, *, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included."""
    (steps,) = _size("linspace", (steps,), None)
    array = xp.linspace(data(start), data(end), steps).astype(_float_dtype(dtype), copy=False)
    return _made("linspace", array, requires_grad, device)


# ----- like another tensor ------------------------------------------------------------------------
def _like_dtype(input: TensorLike, dtype: DType) -> np.dtype[Any]:
    return xp.asarray(data(input)).dtype if dtype is None else xp.dtype(dtype)


def zeros_like(input: TensorLike, *, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Zeros of ``input``'s shape and (unless ``dtype``) dtype."""
    return _made("zeros_like", xp.zeros(xp.shape(data(input)), _like_dtype(input, dtype)), requires_grad, device)


def ones_like(input: TensorLike, *, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones of ``input``'s shape and (unless ``dtype``) dtype."""
    return _made("ones_like", xp.ones(xp.shape(data(input)), _like_dtype(input, dtype)), requires_grad, device)


def empty_like(input: TensorLike, *, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uninitialised memory of ``input``'s shape and (unless ``dtype``) dtype."""
    return _made("empty_like", xp.empty(xp.shape(data(input)), _like_dtype(input, dtype)), requires_grad, device)


def full_like(
    input: TensorLike, fill_value: Any, *, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """``fill_value`` everywhere, in ``input``'s shape and (unless ``dtype``) dtype."""
    array = xp.full(xp.shape(data(input)), data(fill_value), _like_dtype(input, dtype))
    return _made("full_like", array, requires_grad, device)


# ----- random draws -------------------------------------------------------------------------------
def _random_float_dtype(where: str, dtype: DType) -> np.dtype[Any]:
    dtype = _float_dtype(dtype)
    if dtype not in (xp.float32, xp.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


def rand(
    *size: Any, generator: Any = None, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform draws from [0, 1) of the given size."""
    source = random.generator_or_default(generator, "rand")
    array = source.random(_size("rand", size, None), dtype=_random_float_dtype("rand", dtype))
    return _made("rand", array, requires_grad, device)


def randn(
    *size: Any, generator: Any = None, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Standard normal draws (mean 0, variance 1) of the given size."""
    source = random.generator_or_default(generator, "randn")
    array = source.standard_normal(_size("randn", size, None), dtype=_random_float_dtype("randn", dtype))
    return _made("randn", array, requires_grad, device)


def randint(
    *args: Any,
    size: Any = None,
    generator: Any = None,
    dtype: DType = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``, as
    PyTorch takes them; int64 unless ``dtype`` says otherwise."""
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size, args = args[-1], args[:-1]
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size), size a tuple")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not low < high:
        raise ValueError(f"randint: low ({low}) must be less than high ({high})")
    source = random.generator_or_default(generator, "randint")
    array = source.integers(low, high, _size("randint", (size,), None), dtype=xp.int64)
    return _made("randint", array.astype(xp.int64 if dtype is None else dtype, copy=False), requires_grad, device)


def randperm(
    n: int, *, generator: Any = None, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A random order of 0..n-1 (int64 unless ``dtype`` says otherwise)."""
    (n,) = _size("randperm", (n,), None)
    source = random.generator_or_default(generator, "randperm")
    array = source.permutation(n).astype(xp.int64 if dtype is None else dtype, copy=False)
    return _made("randperm", array, requires_grad, device)


def rand_like(
    input: TensorLike, *, generator: Any = None, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform draws from [0, 1) of ``input``'s shape and (unless ``dtype``) dtype."""
    return rand(
        xp.shape(data(input)),
        generator=generator,
        dtype=_like_dtype(input, dtype),
        requires_grad=requires_grad,
        device=device,
    )


def randn_like(
    input: TensorLike, *, generator: Any = None, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Standard normal draws of ``input``'s shape and (unless ``dtype``) dtype."""
    return randn(
        xp.shape(data(input)),
        generator=generator,
        dtype=_like_dtype(input, dtype),
        requires_grad=requires_grad,
        device=device,
    )


def randint_like(
    input: TensorLike,
    low: int,
    high: int | None = None,
    *,
    generator: Any = None,
    dtype: DType = None,
    device: Any = None,
) -> Tensor:
    """Integers from [low, high) (or [0, low) with one bound) of ``input``'s shape and (unless ``dtype``) dtype."""
    bounds = (low,) if high is None else (low, high)
    return randint(*bounds, xp.shape(data(input)), generator=generator, dtype=_like_dtype(input, dtype), device=device)


@operation("multinomial")
def multinomial(input: TensorLike, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Category indices drawn with probabilities proportional to the non-negative weights ``input`` (one row, or
    one draw of ``num_samples`` per row of a matrix); without ``replacement`` a category is drawn at most once."""
    weights = xp.asarray(data(input), dtype=xp.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-d or 2-d weights, got shape {weights.shape}")
    (num_samples,) = _size("multinomial", (num_samples,), None)
    rows = weights.reshape(-1, weights.shape[-1])
    if not xp.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row of weights needs a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{int((rows > 0).sum(axis=1).min())} categories of nonzero weight"
        )
    source = random.generator_or_default(generator, "multinomial")
    drawn = xp.stack(
        [
            source.choice(rows.shape[1], size=num_samples, replace=replacement, p=row / total)
            for row, total in zip(rows, totals)
        ]
    ).astype(xp.int64)
    return Tensor(drawn.reshape(weights.shape[:-1] + (num_samples,)))


# ----- from NumPy ---------------------------------------------------------------------------------
def from_numpy(ndarray: Any) -> Tensor:
    """A tensor that shares ``ndarray``'s memory: changing one changes the other (PyTorch's ``from_numpy``)."""
    if not isinstance(ndarray, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    return Tensor(ndarray)


def as_tensor(data: Any, dtype: DType = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it is already a tensor or array of that dtype (PyTorch's
    ``as_tensor``); lists and numbers are copied, Python floats into the default float."""
    devices.check("as_tensor", device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    return Tensor(data, dtype=dtype)


# ----- new tensors like an existing one (its dtype unless told otherwise) ------------------------------
@operation("new_zeros", exported=False)
def new_zeros(
    input: Tensor, *size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros of the given size in ``input``'s dtype (unless ``dtype``)."""
    return zeros(*size, dtype=_like_dtype(input, dtype), requires_grad=requires_grad, device=device)


@operation("new_ones", exported=False)
def new_ones(input: Tensor, *size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones of the given size in ``input``'s dtype (unless ``dtype``)."""
    return ones(*size, dtype=_like_dtype(input, dtype), requires_grad=requires_grad, device=device)


@operation("new_full", exported=False)
def new_full(
    input: Tensor, size: Any, fill_value: Any, *, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """``fill_value`` everywhere, of the given size, in ``input``'s dtype (unless ``dtype``)."""
    return full(size, fill_value, dtype=_like_dtype(input, dtype), requires_grad=requires_grad, device=device)


@operation("new_empty", exported=False)
def new_empty(
    input: Tensor, *size: Any, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uninitialised memory of the given size in ``input``'s dtype (unless ``dtype``)."""
    return empty(*size, dtype=_like_dtype(input, dtype), requires_grad=requires_grad, device=device)


@operation("new_tensor", exported=False)
def new_tensor(
    input: Tensor, data: Any, *, dtype: DType = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A copy of ``data`` in ``input``'s dtype (unless ``dtype``)."""
    devices.check("new_tensor", device)
    values = data.data if isinstance(data, Tensor) else data
    return Tensor(xp.array(values, dtype=_like_dtype(input, dtype)), requires_grad=requires_grad)
