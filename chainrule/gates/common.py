"""What every gate module shares.

A backward runs on arrays ordinarily and on Tensors when a graph of the gradient is
being built (``create_graph=True``). Operators (``*``, ``+``, ``@``) and the methods
both types have (``sum``, ``reshape``) work on either as they are; the
few NumPy functions a backward needs are wrapped here to pick the right one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeGuard, TypeVar, overload

import numpy as np

from .. import backend
from ..backend import xp
from ..scope import running
from ..tensor import Tensor
from ..types import Array, Dims, Number, Shape, TensorLike

#: A function's type, kept by the decorators that return the function they are given (``operation``).
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class ArrayOrTensorFunction(Protocol):
    """A function of an array or a Tensor (``exp``, ``broadcast_to``) that returns the same kind it gets."""

    @overload
    def __call__(self, x: Tensor, /, *args: Any, **kwargs: Any) -> Tensor: ...
    @overload
    def __call__(self, x: Array, /, *args: Any, **kwargs: Any) -> Array: ...


def either(array_function: Callable[..., Any], tensor_function_name: str) -> ArrayOrTensorFunction:
    """A function that runs ``array_function`` on arrays and the Tensor method of that name on Tensors."""

    def run(x: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(x, Tensor):
            return getattr(x, tensor_function_name)(*args, **kwargs)
        return array_function(x, *args, **kwargs)

    run.__name__ = tensor_function_name
    return run


exp = either(xp.exp, "exp")
log = either(xp.log, "log")
sqrt = either(xp.sqrt, "sqrt")
sin = either(xp.sin, "sin")
cos = either(xp.cos, "cos")
tanh = either(xp.tanh, "tanh")
sinh = either(xp.sinh, "sinh")
cosh = either(xp.cosh, "cosh")
broadcast_to = either(xp.broadcast_to, "broadcast_to")
swap_last_two = either(lambda a: xp.swapaxes(a, -1, -2), "swap_last_two")


@overload
def sigmoid(x: Tensor) -> Tensor: ...
@overload
def sigmoid(x: Array) -> Array: ...
def sigmoid(x: Tensor | Array) -> Tensor | Array:
    if isinstance(x, Tensor):
        return x.sigmoid()
    return stable_sigmoid(x)


@overload
def softplus(x: Tensor) -> Tensor: ...
@overload
def softplus(x: Array) -> Array: ...
def softplus(x: Tensor | Array) -> Tensor | Array:
    """log(1 + e^x) without overflow, on arrays or Tensors."""
    if isinstance(x, Tensor):
        return x.softplus()
    return stable_softplus(x)


def stable_sigmoid(x: Array) -> Array:
    """1/(1+e^-x). Far below 0, e^-x overflows to inf and the result is its limit, 0 (only outputs too small
    for a normal float are lost), so the overflow is expected and silenced. Four passes over memory and no
    branch: choosing between two formulas by sign with xp.where took 3.7 against 0.6 ms at (1024, 512) float32,
    because its data-dependent branches mispredict on mixed signs."""
    e = float_like(x)
    xp.negative(x, out=e)
    with xp.errstate(over="ignore"):
        xp.exp(e, out=e)
    e += 1
    result: Array = xp.reciprocal(e, out=e)
    return result


def stable_softplus(x: Array) -> Array:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which never overflows: six branch-free passes, 1.3 against
    10.5 ms for NumPy's logaddexp(0, x) at (1024, 512) float32."""
    r = float_like(x)
    xp.abs(x, out=r)
    xp.negative(r, out=r)
    xp.exp(r, out=r)
    xp.log1p(r, out=r)
    r += xp.maximum(x, 0)
    return r


def float_like(x: Array) -> Array:
    """An uninitialized array of x's shape and memory layout, in x's dtype if it is a float, else float64.
    (Filled with ``out=``, it stays an array even when x is 0-d, where NumPy would return a scalar.)"""
    result: Array = xp.empty_like(x, dtype=x.dtype if xp.issubdtype(x.dtype, xp.floating) else xp.float64)
    return result


def data(x: Any) -> Any:
    """The array inside (for masks and other constants of a backward)."""
    return x.data if isinstance(x, Tensor) else x


def where(condition: Any, a: Any, b: Any) -> Any:
    """Elementwise choice; differentiable in ``a`` and ``b`` when they are Tensors."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .elementwise import where as tensor_where

        return tensor_where(condition, a, b)
    return xp.where(data(condition), a, b)


@overload
def sum_to(g: Tensor, shape: Shape) -> Tensor: ...
@overload
def sum_to(g: Array, shape: Shape) -> Array: ...
def sum_to(g: Any, shape: Shape) -> Any:
    """Sum a broadcast gradient back down to ``shape`` (the chain rule for broadcasting)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def is_number(x: object) -> TypeGuard[Number]:
    """A plain number (Python or NumPy scalar, not a bool): a gate takes it as a constant."""
    kind = type(x)
    if kind is float or kind is int:  # the common case, decided without isinstance
        return True
    return isinstance(x, (int, float, xp.integer, xp.floating)) and not isinstance(x, (bool, xp.bool_))


def plain_number(x: Number) -> Number:
    """A NumPy scalar as a Python number, which NumPy treats as weakly typed, so float32 data stays float32
    (``float32_array * np.float64(2)`` would be float64)."""
    kind = type(x)
    if kind is float or kind is int:
        return x
    return x.item() if isinstance(x, xp.generic) else x


@overload
def zeros_like(x: Tensor) -> Tensor: ...
@overload
def zeros_like(x: Array) -> Array: ...
def zeros_like(x: Tensor | Array) -> Tensor | Array:
    """Zeros of x's shape and dtype, an array or a constant Tensor like x: the gradient of a piecewise-constant
    gate (floor, sign), which is 0 even where the upstream gradient is inf or NaN (``grad * 0`` would not be)."""
    if isinstance(x, Tensor):
        return Tensor(xp.zeros_like(x.data))
    return xp.zeros_like(x)


def as_tensor(x: TensorLike, like: TensorLike | None = None) -> Tensor:
    """Tensors pass through; numbers and arrays become constant Tensors. A Python number next to ``like`` (a
    Tensor or array) takes its dtype when it fits it, as PyTorch's weakly typed numbers do: 2.0 with a float32
    tensor is float32, 2 with an int32 tensor is int32, but 2.5 with an integer tensor is the default float."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float)) and hasattr(like, "dtype"):
        return Tensor(xp.asarray(x, dtype=number_dtype(x, like.dtype)))
    return Tensor(x)


_KIND_ORDER: dict[str, int] = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def number_dtype(number: bool | int | float, dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype a Python number takes next to a tensor of ``dtype`` (PyTorch's rule: a number never widens a
    tensor of its own kind or a higher one; a float next to integers becomes the default float)."""
    kind = bool if isinstance(number, bool) else int if isinstance(number, int) else float
    number_order = {bool: 0, int: 1, float: 2}[kind]
    if _KIND_ORDER[dtype.kind] >= number_order:
        return dtype
    return backend.default_float() if kind is float else xp.dtype(xp.int64)


def result_dtype(x: Tensor, y: Tensor) -> np.dtype[Any]:
    """The dtype PyTorch gives an operation on Tensors ``x`` and ``y``: the higher kind wins (bool < integer <
    float), and within one kind a tensor with dimensions outranks a 0-d one (an int64 tensor plus a float32 one
    is float32, a float32 one times a 0-d float64 one stays float32); otherwise NumPy's promotion."""
    dx: np.dtype[Any] = x.data.dtype
    dy: np.dtype[Any] = y.data.dtype
    kx, ky = _KIND_ORDER.get(dx.kind, 3), _KIND_ORDER.get(dy.kind, 3)
    if kx != ky:
        return dx if kx > ky else dy
    if (x.data.ndim == 0) != (y.data.ndim == 0):
        return dy if x.data.ndim == 0 else dx
    return xp.promote_types(dx, dy)


def promoted(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Tensors ``x`` and ``y`` in their common dtype (``result_dtype``); a float cast is a differentiable gate."""
    dtype = result_dtype(x, y)
    return to_dtype(x, dtype), to_dtype(y, dtype)


def operands(input: TensorLike, other: TensorLike) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors of one dtype, PyTorch's result dtype (numbers weakly typed, ``result_dtype``)."""
    x = as_tensor(input, like=other if hasattr(other, "dtype") else None)
    y = as_tensor(other, like=x)
    if x.data.dtype is not y.data.dtype:
        x, y = promoted(x, y)
    return x, y


def same_dtype(where: str, x: Tensor, weight: Tensor, names: tuple[str, str] = ("input", "weight")) -> None:
    """Input and weights of one dtype, as PyTorch requires: float64 or integer data meeting float32 weights would
    otherwise compute silently in float64 (or fail deep inside NumPy). The error names the layer running, if any."""
    if x.dtype != weight.dtype:
        layer = f"{running.modules[-1]._describe()}: " if running.modules else ""
        raise TypeError(
            f"{layer}{where}: the {names[0]} is {x.dtype} but the {names[1]} is {weight.dtype}; they must "
            f"match. Convert the {names[0]} (x.float(), x.double()) or the model (model.double(), "
            f"model.float())."
        )


def to_dtype(x: Tensor, dtype: np.dtype[Any]) -> Tensor:
    """Tensor ``x`` in ``dtype``: itself if it is already, a differentiable cast if it requires grad, else a
    plain cast of its values."""
    if x.data.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind == "f":
        from .elementwise import Cast

        return Cast.apply(x, dtype=dtype)
    return Tensor(x.data.astype(dtype))


class Operation:
    """One user-facing operation, declared once, where its gate is defined.

    ``function`` is the operation (``chainrule.<name>`` unless ``exported`` is False, and
    ``nn.functional.<name>`` when ``functional``; ``aliases`` are more names for it); ``methods`` are the Tensor
    methods that call it with the tensor first, ``reflected`` the operators that call it with the tensor second
    (``__rsub__``), ``properties`` the Tensor properties (``T``). The stub ``tensor.pyi`` is
    generated from these declarations (``python -m chainrule.stubs``), and the tests check that
    the stub, the Tensor class and the exports agree with them.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        methods: Sequence[str],
        reflected: Sequence[str],
        properties: Sequence[str],
        exported: bool,
        functional: bool,
        aliases: Sequence[str],
    ) -> None:
        self.name = function.__name__
        self.aliases = aliases
        self.function = function
        self.methods = methods
        self.reflected = reflected
        self.properties = properties
        self.exported = exported
        self.functional = functional


#: Every declared operation, by name, in the order the gate modules declare them.
OPERATIONS: dict[str, Operation] = {}


def operation(
    *methods: str,
    reflected: Sequence[str] = (),
    properties: Sequence[str] = (),
    exported: bool = True,
    functional: bool = False,
    aliases: Sequence[str] = (),
) -> Callable[[F], F]:
    """Declare the decorated function as a user-facing operation; see ``Operation``. ``aliases`` are other
    ``chainrule.*`` names for the same function (NumPy's ``concatenate`` for ``cat``)."""

    def declare(function: F) -> F:
        OPERATIONS[function.__name__] = Operation(
            function, methods, reflected, properties, exported, functional, aliases
        )
        for name in methods:
            setattr(Tensor, name, function)
        for name in reflected:
            setattr(Tensor, name, _reflected(function, name))
        for name in properties:
            setattr(Tensor, name, property(function))
        return function

    return declare


def _reflected(function: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def reflected(self: Any, other: Any) -> Any:
        return function(other, self)

    reflected.__name__ = name
    reflected.__doc__ = f"``other {name}`` this tensor: {function.__name__}(other, self)."
    return reflected


def one_of(value: T, alias: T | None, name: str, alias_name: str, where: str, default: T | None = None) -> T:
    """A PyTorch argument and its NumPy alias (``dim`` and ``axis``): the one given, or a clear error when both
    are given and differ (``value`` at its ``default`` counts as not given)."""
    if alias is None:
        return value
    if value is not None and value != default and value != alias:
        raise ValueError(
            f"{where}: got {name}={value!r} and {alias_name}={alias!r}; {alias_name} is NumPy's "
            f"name for {name}, give one"
        )
    return alias


def floating(x: TensorLike) -> Tensor:
    """``x`` as a floating-point Tensor: integer and boolean input becomes the default float (float32), as
    PyTorch's floating functions (exp, erf, sigmoid, ...) promote it."""
    if isinstance(x, Tensor) and x.data.dtype.kind == "f":  # the common case, decided first
        return x
    x = as_tensor(x)
    if x.data.dtype.kind == "f":
        return x
    return Tensor(x.data.astype(backend.default_float()))


def normalize_axis(axis: Dims | np.integer[Any], ndim: int, where: str) -> tuple[int, ...]:
    """A dimension or tuple of dimensions (negatives allowed) as a sorted tuple of non-negative ints, or a clear
    error (PyTorch's ``dim``)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    bound = max(ndim, 1)  # a 0-d tensor accepts axis 0 and -1, as in PyTorch
    result: set[int] = set()
    for a in axes:
        if not isinstance(a, (int, xp.integer)) or not -bound <= a < bound:
            raise ValueError(
                f"{where}: dimension {a} is out of range for a tensor with {ndim} dimensions "
                f"(valid: {-bound} to {bound - 1})"
            )
        if ndim:
            result.add(int(a) % ndim)
    return tuple(sorted(result))
