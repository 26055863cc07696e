"""Module and Parameter: layers and models that know their weights by name.

A ``Module`` holds three kinds of named things, registered automatically when they
are assigned as attributes in ``__init__``:

* parameters (``Parameter``: tensors the optimizer updates),
* buffers (plain NumPy arrays such as BatchNorm's running statistics: saved in the
  ``state_dict`` but never trained; ``register_buffer``),
* sub-modules (other ``Module`` objects: layers inside a model).

From those three registries come everything else: ``parameters()`` for the optimizer,
dotted names such as ``"fc1.weight"``, ``state_dict()`` / ``load_state_dict()`` for
checkpoints, ``train()`` / ``eval()``, dtype casts and the nested ``repr``.
Registered objects are also stored as ordinary attributes, so ``self.weight`` inside
``forward`` is a plain attribute lookup.
"""

import collections
import collections.abc
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, Self, SupportsIndex, cast, overload

from ..backend import xp
from ..gates.conversion import target_dtype
from ..keywords import CheckedKeywords
from ..scope import Annotations, running
from ..tensor import Tensor
from ..types import Array, DType, TensorLike

#: A forward hook: ``hook(module, inputs, output)``; a value it returns (not None) replaces the output.
ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]


class Parameter(Tensor, CheckedKeywords):
    """A tensor that is a learnable weight of a module (``requires_grad=True`` by default).

    Assigning a Parameter to a Module attribute registers it, so ``model.parameters()``
    finds it. Its ``name`` becomes the attribute name on assignment (``"weight"``) and
    the full dotted name (``"fc1.weight"``) once ``named_parameters()`` is called on
    the model, which labels it in pictures and explanations. Passing a Tensor shares
    its array.
    """

    __slots__ = ()

    def __init__(self, data: TensorLike, requires_grad: bool = True, name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match, as in PyTorch."""


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    hooks: list[ForwardHook]
    hook: ForwardHook

    def __init__(self, hooks: list[ForwardHook], hook: ForwardHook) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


class Module(CheckedKeywords):
    """Base class of every layer and model: subclass it, assign layers and parameters
    in ``__init__`` (after ``super().__init__()``), and write ``forward``::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())

    Call the model (``model(x)``), not ``forward``: the call records which module made
    which part of the graph and runs forward hooks.
    """

    # Set by __init__ (through object.__setattr__): the registries and the mode.
    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Array | None]
    _non_persistent: set[str]
    _modules: dict[str, "Module | None"]
    _forward_hooks: list[ForwardHook]
    _path: str | None

    def __init__(self) -> None:
        set_plain = object.__setattr__
        set_plain(self, "training", True)
        set_plain(self, "_parameters", {})
        set_plain(self, "_buffers", {})
        set_plain(self, "_non_persistent", set())
        set_plain(self, "_modules", {})
        set_plain(self, "_forward_hooks", [])
        set_plain(self, "_path", None)  # dotted name as seen from the root, set by named_modules()

    # ----- registration -------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            if isinstance(value, (Parameter, Module)):
                kind = "parameter" if isinstance(value, Parameter) else "sub-module"
                raise AttributeError(
                    f"{type(self).__name__}: cannot assign {kind} '{name}' before Module.__init__() has run; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)  # a replaced parameter keeps its place
            self._parameters[name] = value
            if value.name is None:
                value.name = name
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter '{name}'; "
                    "expected a Parameter or None (wrap a tensor as nn.Parameter(tensor))"
                )
            self._parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to sub-module "
                    f"'{name}'; expected a Module or None"
                )
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, xp.ndarray):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to buffer "
                    f"'{name}'; expected a NumPy array or None"
                )
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        registry: dict[str, Any]
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent.discard(name)

    def _check_new_name(self, kind: str, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: cannot register {kind} '{name}' before "
                "Module.__init__() has run; call super().__init__() first"
            )
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: a {kind} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(
                f"{type(self).__name__}: invalid {kind} name {name!r}: it must be non-empty and contain no '.'"
            )
        registered = name in self._parameters or name in self._buffers or name in self._modules
        if hasattr(self, name) and not registered:
            raise KeyError(
                f"{type(self).__name__}: cannot register {kind} '{name}': an attribute of that name already exists"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_new_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter: '{name}' must be a Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)
        if param is not None and param.name is None:
            param.name = name

    def register_buffer(self, name: str, array: Array | None, persistent: bool = True) -> None:
        """Register a NumPy array that belongs to the module's state but is not trained
        (running statistics). It goes into ``state_dict()`` unless ``persistent=False``,
        and is cast by ``double()`` / ``float()`` when it holds floats."""
        self._check_new_name("buffer", name)
        if array is not None and not isinstance(array, xp.ndarray):
            raise TypeError(
                f"{type(self).__name__}.register_buffer: '{name}' must be a NumPy array or None, "
                f"got {type(array).__name__}"
            )
        self._forget(name)
        self._buffers[name] = array
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` under ``name`` (what ``self.name = module`` does)."""
        self._check_new_name("sub-module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.add_module: '{name}' must be a Module or None, got {type(module).__name__}"
            )
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ----- running ----------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes from its inputs; subclasses define it, and calling the module runs it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, ...) in the Module subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The stack lets gates recorded during forward note which layers made them.
        running.modules.append(self)
        Annotations.enter()
        try:
            out = self.forward(*args, **kwargs)
        finally:
            Annotations.leave()
            running.modules.pop()
        if self._forward_hooks:
            for hook in list(self._forward_hooks):
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        return out

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a returned value replaces
        the output. Returns a handle whose ``remove()`` unregisters it."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def _describe(self) -> str:
        """The one-line header used in error messages: ``Linear(in_features=784, ...)``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    # ----- walking the tree ---------------------------------------------------------
    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True, _memo: set[int] | None = None
    ) -> Iterator[tuple[str, "Module"]]:
        """``(dotted_name, module)`` for this module (name ``prefix``) and every module below it."""
        if remove_duplicate:
            if _memo is None:
                _memo = set()
            if id(self) in _memo:
                return
            _memo.add(id(self))
        if self._path is None or self._path == "" or prefix.endswith("." + self._path):
            object.__setattr__(self, "_path", prefix)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, remove_duplicate, _memo)

    def modules(self) -> Iterator["Module"]:
        """This module and every module inside it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for each direct submodule, each once."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        """The direct submodules, each once."""
        for _, child in self.named_children():
            yield child

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, parameter)`` pairs, each shared parameter once (under its first name).

        Also names the parameters: a parameter's ``name`` becomes its dotted name unless
        it already has a longer one (from a bigger model) or a name of the user's own."""
        seen: set[int] = set()
        owners: Iterable[tuple[str, Module]] = self.named_modules(prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, param in owner._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                full_name = f"{owner_name}.{name}" if owner_name else name
                if param.name is None or full_name.endswith("." + param.name):
                    param.name = full_name
                yield full_name, param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each shared one once (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Array]]:
        """``(dotted_name, array)`` for each buffer (state that is not trained, such as running means)."""
        seen: set[int] = set()
        owners: Iterable[tuple[str, Module]] = self.named_modules(prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, array in owner._buffers.items():
                if array is not None and id(array) not in seen:
                    seen.add(id(array))
                    yield (f"{owner_name}.{name}" if owner_name else name), array

    def buffers(self, recurse: bool = True) -> Iterator[Array]:
        """Every buffer, each once."""
        for _, array in self.named_buffers(recurse=recurse):
            yield array

    def get_submodule(self, target: str) -> "Module":
        """The module at dotted path ``target`` (``"encoder.0"``); ``""`` is this module."""
        module: Module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(self).__name__}.get_submodule: no sub-module '{part}' in "
                    f"'{target}'; {type(module).__name__} has {list(module._modules)}"
                )
            module = child
        return module

    def apply(self, fn: Callable[["Module"], object]) -> Self:
        """Call ``fn(module)`` on every sub-module and then on this one (custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients -------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Training mode (the default) or, with ``mode=False``, evaluation mode, for this module
        and every module below it: Dropout drops only in training, BatchNorm uses batch
        statistics in training and running statistics in evaluation."""
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Self:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Freeze (``False``) or unfreeze every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None, or to zeros with ``set_to_none=False``)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = xp.zeros_like(param.data)  # a fresh array: gradient arrays may be shared

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----- dtype ------------------------------------------------------------------
    def to(self, *args: Any, dtype: DType = None, device: Any = None, non_blocking: bool = False) -> Self:
        """Cast every parameter (and its gradient) and every floating-point buffer to a dtype, as PyTorch's
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(tensor)`` (its dtype). The only device is
        the CPU, so ``.to(device)`` with ``device`` the CPU changes nothing; another device is an error."""
        dtype = target_dtype(f"{type(self).__name__}.to", args, dtype, device)
        return self if dtype is None else self._cast(dtype)

    def cpu(self) -> Self:
        """The module itself: it is on the CPU already (the only device)."""
        return self

    def cuda(self, device: Any = None) -> NoReturn:
        """An error: chainrule runs on the CPU only (``.to(device)`` with a CPU device works)."""
        raise RuntimeError(
            f"{type(self).__name__}.cuda: chainrule runs on the CPU only (NumPy); use "
            ".to(device) with device = 'cuda' if chainrule.cuda.is_available() else 'cpu'"
        )

    def _cast(self, requested: DType) -> Self:
        try:
            dtype = xp.dtype(requested)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}.to: expected a floating dtype such as numpy.float64, got {requested!r}"
            ) from None
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: parameters must stay floating point; got dtype {dtype}")
        for param in self.parameters():
            if param.data.dtype != dtype:
                param.data = param.data.astype(dtype)
                if isinstance(param.grad, xp.ndarray):
                    param.grad = param.grad.astype(dtype)
                param._bump_version()
        for module in self.modules():
            for name, array in module._buffers.items():
                if array is not None and array.dtype.kind == "f" and array.dtype != dtype:
                    module._buffers[name] = array.astype(dtype)
                    object.__setattr__(module, name, module._buffers[name])
        return self

    def double(self) -> Self:
        """``to(float64)``: every parameter and floating-point buffer as float64; returns the module."""
        return self._cast(xp.float64)

    def float(self) -> Self:
        """``to(float32)``: every parameter and floating-point buffer as float32; returns the module."""
        return self._cast(xp.float32)

    # ----- checkpoints ----------------------------------------------------------------
    def _state_entries(self) -> dict[str, tuple["Module", str, bool]]:
        """name -> (owner, attribute, is_parameter) for everything ``state_dict`` saves.

        Like PyTorch, a module or parameter reachable under two names appears under both."""
        entries: dict[str, tuple[Module, str, bool]] = {}
        for owner_name, owner in self.named_modules(remove_duplicate=False):
            dot = owner_name + "." if owner_name else ""
            for name, param in owner._parameters.items():
                if param is not None:
                    entries[dot + name] = (owner, name, True)
            for name, array in owner._buffers.items():
                if array is not None and name not in owner._non_persistent:
                    entries[dot + name] = (owner, name, False)
        return entries

    def state_dict(self) -> collections.OrderedDict[str, Array]:
        """An ordered dict from dotted name to a copy of each parameter's and persistent buffer's array."""
        state: collections.OrderedDict[str, Array] = collections.OrderedDict()
        for key, (owner, name, is_parameter) in self._state_entries().items():
            state[key] = _state_array(owner, name, is_parameter).copy()
        return state

    def load_state_dict(self, state_dict: Mapping[str, TensorLike], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into this model's parameters and buffers, in place.

        Every key must match and every shape must agree (shapes always; keys only when
        ``strict``); otherwise nothing is copied and the error lists each problem. Returns
        ``(missing_keys, unexpected_keys)``."""
        cls = type(self).__name__
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"{cls}.load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}")
        entries = self._state_entries()
        missing = [key for key in entries if key not in state_dict]
        unexpected = [key for key in state_dict if key not in entries]
        problems: list[str] = []
        sources: dict[str, Array] = {}
        for key, (owner, name, is_parameter) in entries.items():
            if key not in state_dict:
                continue
            target = _state_array(owner, name, is_parameter)
            given = state_dict[key]
            value = xp.asarray(given.data if isinstance(given, Tensor) else given)
            if value.shape != target.shape:
                problems.append(
                    f"shape mismatch for '{key}': the checkpoint has {value.shape}, the model has {target.shape}"
                )
            elif not xp.can_cast(value.dtype, target.dtype, casting="same_kind"):
                problems.append(
                    f"dtype mismatch for '{key}': the checkpoint has {value.dtype}, the model has {target.dtype}"
                )
            else:
                sources[key] = value
        if strict:
            if missing:
                problems.insert(0, f"missing keys (in the model, not in the checkpoint): {missing}")
            if unexpected:
                problems.insert(
                    len(missing) > 0, f"unexpected keys (in the checkpoint, not in the model): {unexpected}"
                )
        if problems:
            raise RuntimeError(f"{cls}.load_state_dict: " + "; ".join(problems) + ". Nothing was loaded.")
        for key, value in sources.items():
            owner, name, is_parameter = entries[key]
            if is_parameter:
                param = owner._parameters[name]
                assert param is not None  # _state_entries lists only the parameters that are not None
                xp.copyto(param.data, value, casting="same_kind")
                param._bump_version()  # a graph built from the old values must not backprop through new ones
            else:
                xp.copyto(_state_array(owner, name, False), value, casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ----- printing ---------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's configuration, shown inside its repr's parentheses (override in layers)."""
        return ""

    def __repr__(self) -> str:
        return self._repr(nested=False)

    def _repr(self, nested: bool) -> str:
        extra = self.extra_repr()
        children = [(name, child) for name, child in self._modules.items() if child is not None]
        if not children:
            count = self.num_parameters()
            line = f"{type(self).__name__}({extra})"
            return line + f"  # {count:,} params" if nested and count else line
        lines = [f"{type(self).__name__}("]
        if extra:
            lines += ["  " + part for part in extra.split("\n")]
        for name, child in children:
            body = child._repr(nested=True).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(f")  # {self.num_parameters():,} params")
        return "\n".join(lines)

    def summary(self) -> str:
        """A table of every parameter: name, shape, count, and whether it is trained; then the totals."""
        rows = [
            (name, str(tuple(p.shape)), f"{p.numel():,}", "yes" if p.requires_grad else "no")
            for name, p in self.named_parameters()
        ]
        header = ("parameter", "shape", "count", "trained")
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths)).rstrip()]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        total, trainable = self.num_parameters(), self.num_parameters(trainable_only=True)
        lines.append(f"total: {total:,} parameters ({trainable:,} trainable)")
        return "\n".join(lines)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(784, 256), ReLU(), Linear(256, 10))``.

    Also accepts one ordered dict of name -> module. Supports ``len``, iteration,
    indexing (a slice gives a Sequential) and ``append``.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.abc.Mapping):
            for name, child in modules[0].items():
                self.add_module(name, child)
        else:
            for index, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {index} must be a Module, got {type(module).__name__}")
                self.add_module(str(index), module)

    def forward(self, x: Any) -> Any:
        for module in cast("Iterable[Module]", self._modules.values()):
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return cast("Iterator[Module]", iter(self._modules.values()))

    @overload
    def __getitem__(self, index: slice) -> "Sequential": ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> Module: ...
    def __getitem__(self, index: SupportsIndex | slice) -> "Module":
        items = cast("list[tuple[str, Module]]", list(self._modules.items()))
        if isinstance(index, slice):
            return Sequential(collections.OrderedDict(items[index]))
        return items[_position(self, index, len(items))][1]

    def __setitem__(self, index: SupportsIndex, module: Module) -> None:
        name = list(self._modules)[_position(self, index, len(self))]
        setattr(self, name, module)

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end; returns the Sequential."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent model registers (a plain Python list
    would hide them from ``parameters()``). It has no forward: iterate over it."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return cast("Iterator[Module]", iter(self._modules.values()))

    @overload
    def __getitem__(self, index: slice) -> "ModuleList": ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> Module: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Module:
        modules = cast("list[Module]", list(self._modules.values()))
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_position(self, index, len(modules))]

    def __setitem__(self, index: SupportsIndex, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: can only hold Modules, got {type(module).__name__}")
        setattr(self, str(_position(self, index, len(self))), module)

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end; returns the list."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        """Add each of ``modules`` at the end; returns the list."""
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your model's forward")


def _state_array(owner: Module, name: str, is_parameter: bool) -> Array:
    """The array of ``owner``'s parameter or buffer ``name``, one that ``_state_entries`` listed (so not None)."""
    array: Array | None
    if is_parameter:
        param = owner._parameters[name]
        assert param is not None  # _state_entries lists only the parameters that are not None
        array = param.data
    else:
        array = owner._buffers[name]
    assert array is not None  # nor the buffers that are None
    return array


def _position(container: Module, index: SupportsIndex, length: int) -> int:
    try:
        position = operator.index(index)
    except TypeError:
        raise TypeError(
            f"{type(container).__name__}: indices must be integers or slices, got {type(index).__name__}"
        ) from None
    if not -length <= position < length:
        raise IndexError(f"{type(container).__name__}: index {position} is out of range for {length} modules")
    return position % length
