"""Tensor: an array, its gradient, and the gate that made it.

The operations (``x + y``, ``x.sum()``, ``x.relu()``) are declared next to their gates and
attached from there (``gates.common.operation``); ``tensor.pyi``, generated from those
declarations by ``python -m chainrule.stubs``, shows all of them to editors and type checkers.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import autograd, backend, devices
from .backend import xp
from .types import DType, Index, TensorLike

if TYPE_CHECKING:
    from .autograd import Gate


class Tensor:
    """A NumPy array that remembers how it was computed, so gradients can flow back to it.

    ``data`` is the array, ``grad`` the gradient accumulated by ``backward()`` (an array
    of the same shape and dtype, or None), ``gate`` the operation that produced it (None
    for a leaf). ``name`` labels it in pictures and explanations.
    """

    __slots__ = ("data", "grad", "requires_grad", "gate", "name", "_hooks", "_retains_grad", "__weakref__")
    data: Any  # numpy.ndarray
    grad: Any  # numpy.ndarray, a Tensor after backward(create_graph=True), or None
    requires_grad: bool
    gate: Gate | None
    name: str | None
    _hooks: list[Callable[[Any], Any]] | None  # register_hook's hooks, run on the gradient in backward
    _retains_grad: bool  # whether retain_grad() asked for .grad on a non-leaf
    # Let NumPy arrays on the left of an operator hand over to our reflected methods.
    __array_ufunc__ = None
    __hash__ = object.__hash__

    def __init__(
        self, data: TensorLike, requires_grad: bool = False, dtype: DType = None, name: str | None = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        data = backend.as_array(data, dtype)
        if requires_grad and not backend.is_float(data.dtype):
            raise TypeError(
                f"tensor: only floating-point tensors can require grad; got dtype {data.dtype} "
                f"(shape {data.shape}). Pass dtype=float32 or float64."
            )
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.gate = None
        self.name = name
        self._hooks = None
        self._retains_grad = False

    # ----- what it is -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape, a tuple of ints."""
        return self.data.shape

    @property
    def dtype(self) -> Any:
        """The array's NumPy dtype."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape, as PyTorch's ``size()``; ``size(d)`` is the length of dimension ``d`` (an int). For the
        number of elements, use ``numel()``."""
        if dim is None:
            return self.data.shape
        ndim = self.data.ndim
        if isinstance(dim, bool) or not isinstance(dim, int) or not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(
                f"size: dimension {dim!r} is out of range for a tensor of shape {self.shape} "
                f"(valid: {-max(ndim, 1)} to {max(ndim, 1) - 1})"
            )
        return self.data.shape[dim] if ndim else 1

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.data.ndim

    @property
    def device(self) -> devices.device:
        """Where the data lives: always the CPU (``chainrule.device("cpu")``)."""
        return devices.CPU

    @property
    def is_cuda(self) -> bool:
        """False: chainrule runs on the CPU only."""
        return False

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point one."""
        return backend.is_float(self.data.dtype)

    @property
    def is_leaf(self) -> bool:
        """Whether no gate made this tensor (an input or a parameter)."""
        return self.gate is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def item(self) -> Any:
        """The one element as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: the tensor has shape {self.shape} ({self.data.size} elements); item() needs exactly one"
            )
        return self.data.item()

    def numpy(self) -> Any:
        """The array itself, sharing memory with the tensor (as PyTorch's ``.numpy()``)."""
        return self.data

    def __array__(self, dtype: DType = None, copy: bool | None = None) -> Any:
        """NumPy's conversion protocol: ``np.array(t)`` copies, ``np.asarray(t)`` shares memory when it can,
        and ``copy=False`` refuses a conversion that would need a copy."""
        if dtype is None or xp.dtype(dtype) == self.data.dtype:
            return self.data.copy() if copy else self.data
        if copy is False:
            raise ValueError(
                f"__array__: converting a {self.data.dtype} tensor to {xp.dtype(dtype)} needs a copy, "
                "but copy=False was given"
            )
        return self.data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    def tolist(self) -> Any:
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return self.data.tolist()

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value, as PyTorch does."""
        if self.data.size == 1:
            return format(self.data.item(), spec)
        if not spec:
            return str(self)
        raise TypeError(
            f"format: {spec!r} formats a number, but the tensor has shape {self.shape}; format "
            "an element (t[0]) or t.tolist()"
        )

    def __repr__(self) -> str:
        body = xp.array2string(self.data, separator=", ", precision=4, threshold=20, prefix="tensor(")
        extras = []
        if self.data.dtype != backend.default_float():
            extras.append(f"dtype={self.data.dtype}")
        if self.gate is not None:
            extras.append(f"gate={self.gate.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def _repr_html_(self) -> str:
        """Jupyter shows the tensor as it prints, with its gradient beneath once it has one."""
        text = repr(self) if self.grad is None else f"{self!r}\ngrad: {self.grad!r}"
        return f"<pre>{html.escape(text)}</pre>"

    # ----- gradients --------------------------------------------------------------
    def backward(
        self, gradient: TensorLike | None = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Backpropagate from this tensor: every leaf that requires grad gets ``.grad``.

        A one-element output needs no ``gradient``; any other needs dL/dthis as ``gradient=``.
        Gradients add up in ``.grad`` across calls (as in PyTorch), so clear them with
        ``zero_grad()`` between steps. The graph's caches are released afterwards unless
        ``retain_graph=True``. With ``create_graph=True`` the gradients are Tensors with
        a graph of their own (``.grad`` then holds a Tensor) for higher-order derivatives.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _store_grad(self, g: Any, create_graph: bool) -> None:
        if not create_graph:
            if isinstance(g, Tensor):
                g = g.data
            if type(g) is not xp.ndarray or g.dtype != self.data.dtype:
                g = xp.asarray(g, dtype=self.data.dtype)
            if not g.flags.writeable:  # a broadcast view: give .grad an array of its own
                g = g.copy()
        elif not isinstance(g, Tensor):
            g = Tensor(g)
        if self.grad is None:
            self.grad = g
        else:
            previous = self.grad
            if create_graph and not isinstance(previous, Tensor):
                previous = Tensor(previous)
            elif not create_graph and isinstance(previous, Tensor):
                previous = previous.data
            self.grad = previous + g

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad`` becomes None)."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if self.gate is not None:
            self._retains_grad = True

    def register_hook(self, hook: Callable[[Any], Any]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned value replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad, so no gradient will reach it")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """Call ``hook(tensor)`` as soon as this leaf's ``.grad`` holds its final value for the running
        backward, while the rest of the walk goes on (data-parallel training starts reducing here)."""
        if self.gate is not None or not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only a leaf that requires grad accumulates into .grad; "
                f"this tensor (shape {self.shape}) is {'made by a gate' if self.gate is not None else 'a constant'}"
            )
        hooks = autograd.PostAccumulate.add(self, hook)
        return _HookHandle(hooks, hook)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this tensor; returns it."""
        if requires_grad and not backend.is_float(self.data.dtype):
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad; got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # ----- in-place changes: not recorded, but counted on the memory ------------
    @property
    def _version(self) -> int:
        """The clock reading of the latest in-place change to this tensor's memory (0 if none)."""
        return autograd.InPlace.version(self.data)

    def _check_in_place(self, what: str) -> None:
        if self.requires_grad and autograd.GradMode.enabled:
            raise RuntimeError(
                f"{what}: in-place change of a tensor that requires grad (shape {self.shape}) while "
                "recording the graph; do it under chainrule.no_grad(), or use an out-of-place operation."
            )

    def _change_in_place(self, what: str, change: Callable[[Any], Any]) -> Tensor:
        """Run ``change(array)`` on this tensor's memory under the in-place rules (``add_``, ``fill_``, ``t[i] = v``):
        refused on a tensor that requires grad while the graph is recorded, then counted on the memory."""
        self._check_in_place(what)
        change(self.data)
        self._bump_version()
        return self

    def __setitem__(self, index: Index, value: TensorLike) -> None:
        index, value = _plain_index(index), value.data if isinstance(value, Tensor) else value
        self._change_in_place("setitem", lambda array: array.__setitem__(index, value))

    def _in_place(self, other: TensorLike, ufunc: Any, out_of_place: Callable[..., Tensor]) -> Tensor:
        if autograd.GradMode.enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            return out_of_place(self, other)  # like micrograd: `a += b` rebinds a to a new node
        ufunc(self.data, other.data if isinstance(other, Tensor) else other, out=self.data, casting="same_kind")
        self._bump_version()
        return self

    def __iadd__(self, other: TensorLike) -> Tensor:
        return self._in_place(other, xp.add, Tensor.__add__)

    def __isub__(self, other: TensorLike) -> Tensor:
        return self._in_place(other, xp.subtract, Tensor.__sub__)

    def __imul__(self, other: TensorLike) -> Tensor:
        return self._in_place(other, xp.multiply, Tensor.__mul__)

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return self._in_place(other, xp.divide, Tensor.__truediv__)

    def _bump_version(self) -> None:
        """Record an in-place change to this tensor's memory, so gates that cached it, a view of it or a
        detached copy refuse to backpropagate through it."""
        autograd.InPlace.record(self.data)


class _HookHandle:
    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _plain_index(index):
    """Tensors inside an index become their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def tensor(
    data: TensorLike, requires_grad: bool = False, dtype: DType = None, name: str | None = None, *, device: Any = None
) -> Tensor:
    """Make a Tensor (a copy of ``data``, as PyTorch's ``tensor``). Python floats become the default float
    (float32) unless ``dtype`` says otherwise; ``device`` may only be the CPU."""
    devices.check("tensor", device)
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(
        xp.array(data, dtype=dtype, copy=True) if isinstance(data, xp.ndarray) else data,
        requires_grad=requires_grad,
        dtype=dtype,
        name=name,
    )


# The operators and methods (x + y, x.exp(), x.sum(axis=0), ...) are attached by the
# gate modules, each next to the gate it calls.
from . import gates  # noqa: E402,F401
