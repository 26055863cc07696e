"""The engine: gates record the graph going forward, and backward walks it in reverse.

A gate's ``forward`` gets plain arrays, computes its output and keeps on ``self``
whatever constants its backward needs (axes, shapes, masks). Its ``backward`` gets
the upstream gradient ``grad``, the output ``out`` and the inputs, and returns one
gradient per input: local derivative times upstream gradient, the chain rule.

Ordinarily ``grad``, ``out`` and the inputs are arrays and backward is plain NumPy.
With ``create_graph=True`` they are Tensors instead, so the very same backward code
records a graph of its own, and gradients of gradients come for free. That is why a
backward computes from ``out`` and the inputs rather than from cached arrays.
"""

from __future__ import annotations

import functools
import gc
import heapq
import itertools
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Self, TypeVar, cast, overload

from . import backend
from .backend import ndarray, xp
from .scope import Annotations, running
from .types import Array, TensorLike

if TYPE_CHECKING:
    from .nn.module import Module

#: A function's type, kept by the switches used as decorators (``@no_grad()``).
F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Switches read on the hot path, one set per thread (as in PyTorch): ``no_grad()`` in one
    thread leaves another thread's training alone. The class attributes are each thread's defaults."""

    enabled: bool = True
    anomaly: bool = False


GradMode = _GradMode()


#: One clock numbers both the gates, in the order they are recorded, and the in-place changes.
#: An output is always recorded after its inputs, so walking gates from the highest number down
#: visits every tensor after all of its consumers.
_clock = itertools.count(1)


def memory_of(array: Any) -> Any:
    """The object that owns ``array``'s memory: the array itself, or the array (or buffer) its views lead to.
    A tensor, its views and its detached copies all share it, so an in-place change through any of them is
    a change to all of them."""
    base = array.base
    while base is not None:
        array = base
        base = getattr(base, "base", None)
    return array


class InPlace:
    """In-place changes, counted per block of memory rather than per tensor (as PyTorch's version counter
    belongs to storage): a change through ``x.detach()``, a view made under ``no_grad`` or ``Tensor(x)``
    is seen by every gate that saved ``x``.

    ``latest`` is the clock reading of the latest change anywhere, so backward looks closer only when a
    change came after the gate was recorded (one comparison with ``gate.sequence`` when nothing changed).
    ``stamps`` maps ``id(memory)`` to (a weak reference to that memory, the clock reading of its latest
    change); the weak reference drops the entry when the memory is freed, so a new array that reuses the
    id starts unchanged."""

    latest: int = 0
    stamps: dict[int, tuple[Callable[[], object], int]] = {}
    lock = threading.Lock()  # two threads stamping at once must not leave ``latest`` at the older reading

    @classmethod
    def record(cls, array: Array) -> int:
        """Note an in-place change to ``array``'s memory now; returns the clock reading."""
        memory = memory_of(array)
        key = id(memory)
        stamp = next(_clock)
        entry = cls.stamps.get(key)
        reference: Callable[[], object]
        if entry is not None and entry[0]() is memory:
            reference = entry[0]
        else:

            def forget(_: object, key: int = key) -> None:
                cls.stamps.pop(key, None)

            try:
                reference = weakref.ref(memory, forget)
            except TypeError:  # a buffer without weak references (bytes): hold it, so its id stays its own
                reference = _Held(memory)
        with cls.lock:
            cls.stamps[key] = (reference, stamp)
            cls.latest = max(cls.latest, stamp)
        return stamp

    @classmethod
    def version(cls, array: Array) -> int:
        """The clock reading of the latest in-place change to ``array``'s memory (0 if none)."""
        memory = memory_of(array)
        entry = cls.stamps.get(id(memory))
        return entry[1] if entry is not None and entry[0]() is memory else 0


class _Held:
    """A strong reference with a weak reference's call syntax."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __call__(self) -> object:
        return self.value


class _Switch:
    """A context manager (and decorator) that sets a per-thread switch and puts it back on exit.

    Each entry keeps its own previous state on a stack, and a decorated function enters a fresh
    switch on every call, so a decorated function that calls itself, or one ``with`` block nested
    in another of the same object, restores exactly what it found."""

    def __init__(self) -> None:
        self._previous: list[Any] = []

    def _set(self) -> Any:
        raise NotImplementedError

    def _restore(self, previous: Any) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._previous.append(self._set())
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore(self._previous.pop())

    def _fresh(self) -> _Switch:
        return type(self)()

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def switched(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return function(*args, **kwargs)

        return cast(F, switched)


class _GradSwitch(_Switch):
    enabled: bool | None = None  # what recording becomes inside (each switch sets it)

    def _set(self) -> bool:
        previous = GradMode.enabled
        GradMode.enabled = cast(bool, self.enabled)
        return previous

    def _restore(self, previous: bool) -> None:
        GradMode.enabled = previous


class no_grad(_GradSwitch):
    """Inside this context (or decorated function) no graph is recorded."""

    enabled = False


class enable_grad(_GradSwitch):
    """Record the graph again inside a ``no_grad`` region."""

    enabled = True


class inference_mode(_GradSwitch):
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (nothing is recorded inside);
    ``inference_mode(False)`` records as usual."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.enabled = not mode

    def _fresh(self) -> inference_mode:
        return type(self)(not self.enabled)


class set_grad_enabled(_GradSwitch):
    """Recording on (``True``) or off (``False``): at once when called as a function, until the end of the block
    when used with ``with`` (or of the call, as a decorator), as PyTorch's ``set_grad_enabled``."""

    _before_call: bool | None

    def __init__(self, mode: bool) -> None:
        super().__init__()
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self.enabled = mode
        self._before_call = self._set()  # a plain call takes effect now; a with block restores this on exit

    def __enter__(self) -> Self:
        if self._before_call is not None:  # entered right after the call that already switched
            self._previous.append(self._before_call)
            self._before_call = None
            return self
        return super().__enter__()

    def __call__(self, function: F) -> F:
        if self._before_call is not None:  # used as a decorator: the switch is for the calls, not for now
            self._restore(self._before_call)
            self._before_call = None
        return super().__call__(function)

    def _fresh(self) -> set_grad_enabled:
        switch = type(self)(cast(bool, self.enabled))
        switch._restore(cast(bool, switch._before_call))
        switch._before_call = None
        return switch


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread (False inside ``no_grad``)."""
    return GradMode.enabled


class detect_anomaly(_Switch):
    """Remember where each gate was called; backward then stops at the first gate whose forward
    output (from finite inputs) or gradient is NaN or Inf, and names it."""

    def _set(self) -> bool:
        previous = GradMode.anomaly
        GradMode.anomaly = True
        Annotations.enter()
        return previous

    def _restore(self, previous: bool) -> None:
        Annotations.leave()
        GradMode.anomaly = previous


class Gate:
    """One operation in the graph: a forward, a backward and its local derivative.

    Subclass it to define your own gate::

        class Cube(Gate):
            derivative = "d/dx x^3 = 3x^2"
            def forward(self, x):
                return x ** 3
            def backward(self, grad, out, x):
                return grad * 3 * x * x

        y = Cube.apply(t)

    Keyword arguments to ``apply`` are the gate's constants (an axis, a slope) and become
    its attributes; a gate needs no ``__init__``. They may not reuse a name of the engine's
    own fields and methods (``ENGINE_FIELDS``: ``inputs``, ``name``, ``sequence``, ...).
    ``backward`` returns one gradient per input (a bare value when there is one input), or
    None for an input that needs none; ``self.wants(i)`` says whether input ``i`` needs a
    gradient at all. ``derivative`` states the local derivative once, per input, separated
    by ``;`` and written with the input names ``x, y, z`` (the explanation feature prints
    and evaluates it).

    **Several outputs.** A forward may return a tuple of arrays (an LSTM's output and
    states, ``sort``'s values and indices); ``apply`` then returns a tuple of Tensors, and
    the backward is ``backward(self, grads, outs, *inputs)`` with one upstream gradient per
    output (None for an output no gradient reached) and the outputs (None for one nothing
    holds any more: a gate that needs an output's value keeps it itself). Outputs that are
    not floating point (indices) never require grad.
    """

    derivative: str = ""
    #: Names of the inputs as the derivative text uses them.
    input_names: tuple[str, ...] = ("x", "y", "z")

    #: Optionally, for a one-input gate: a backward(grad, out, x) that may write its result into grad. The
    #: engine calls it instead of backward when the walk owns grad (see ``fresh_gradients``), which spares
    #: allocating a new array and writing into memory that is not in cache.
    backward_in_place: Callable[..., Any] | None = None
    #: True when backward returns, for each input, an array in new memory that nothing else holds (no two
    #: inputs share one, none is the upstream gradient or a saved value): the walk then owns those arrays, and
    #: a later ``backward_in_place`` may write into them. Checked for every gate that claims it by the tests.
    fresh_gradients: bool = False
    #: True for a one-input gate whose backward returns the upstream gradient or a view of it (reshape,
    #: transpose): the walk owns the result exactly when it owned the upstream gradient.
    forwards_gradient: bool = False
    #: True when backward is written for arrays only (PyTorch's once_differentiable): with create_graph its
    #: gradients are constants whose own backward raises, naming this gate, instead of failing inside NumPy.
    once_differentiable: bool = False

    #: The input Tensors, set when the gate is recorded, cleared when released.
    inputs: tuple[Tensor, ...] | None = None
    #: For a gate with several outputs: weak references to them, in order.
    outputs: tuple[weakref.ref[Tensor], ...] | None = None
    sequence: int = 0  # the clock reading when the gate was recorded
    call_site: str | None = None  # where forward was called, kept in detect_anomaly() mode
    module_path: tuple[Module, ...] | None = None  # the modules (outermost first) whose forward recorded this gate
    made_non_finite: bool = False  # in detect_anomaly() mode: whether forward made NaN or Inf from finite inputs

    @property
    def released(self) -> bool:
        """True once a backward without ``retain_graph`` has freed this gate's cached inputs."""
        return self.inputs is None

    @property
    def name(self) -> str:
        """The gate's name in explanations and errors: its class name in lower case, unless it sets one."""
        return type(self).__name__.lower()

    def forward(self, *arrays: Any) -> Any:
        """Compute the output from the input arrays (override this); keyword constants of ``apply`` are attributes."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, grad: Any, out: Any, *inputs: Any) -> Any:
        """Return dL/d(input) for each input, given dL/d(out), the output and the inputs (override this)."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    def wants(self, index: int) -> bool:
        """Whether input ``index`` needs a gradient (saves work in expensive backwards)."""
        assert self.inputs is not None  # backward runs before the gate is released
        return self.inputs[index].requires_grad

    @classmethod
    def apply(cls, *given: TensorLike, **constants: Any) -> Tensor:
        """Run the forward on tensors (or array-likes) and record the gate if any input requires grad.

        A gate whose forward returns several arrays returns a tuple of Tensors instead (type checkers see a
        Tensor, which unpacks into Tensors as the tuple does)."""
        inputs: tuple[Any, ...] = given
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
                break
        gate = object.__new__(cls)
        if constants:
            for name, value in constants.items():  # not __dict__.update, which would give every gate a dict object
                if name in ENGINE_FIELDS:
                    _reserved(cls, name)
                setattr(gate, name, value)
        try:
            if len(inputs) == 1:
                data = gate.forward(inputs[0].data)
            elif len(inputs) == 2:
                data = gate.forward(inputs[0].data, inputs[1].data)
            else:
                data = gate.forward(*[x.data for x in inputs])
        except ValueError as error:
            if "broadcast" in str(error):
                _explain_broadcast_failure(gate, inputs)
            raise
        if type(data) is tuple:
            return cast(Tensor, _record_several(gate, data, inputs))
        if type(data) is not ndarray:
            data = xp.asarray(data)  # NumPy returns scalars from 0-d operations
        out = Tensor.__new__(Tensor)  # _plain_tensor, inlined: this is the engine's hottest line
        out.data = data
        out.grad = None
        out.name = None
        out._hooks = None
        out._retains_grad = False
        if GradMode.enabled:
            for x in inputs:
                if x.requires_grad:
                    gate.inputs = inputs
                    gate.sequence = next(_clock)
                    if Annotations.open:  # a module's forward or detect_anomaly() is open in some thread
                        _annotate(gate, (data,), inputs)
                    out.requires_grad = True
                    out.gate = gate
                    return out
        out.requires_grad = False
        out.gate = None
        return out

    def describe_inputs(self) -> str:
        """The shapes and dtypes of the gate's inputs, for error messages: "(2, 3) float32, (3,) float32"."""
        assert self.inputs is not None  # described while the gate still holds its inputs
        return ", ".join(f"{tuple(x.shape)} {x.dtype}" for x in self.inputs)


#: The names a gate's constants may not take: the engine's own fields and methods.
ENGINE_FIELDS: frozenset[str] = frozenset(name for name in dir(Gate) if not name.startswith("__"))


def _reserved(cls: type[Gate], name: str) -> NoReturn:
    raise TypeError(
        f"{cls.__name__}.apply: the constant {name}= would replace the engine's own field '{name}'; a gate's "
        f"constants may not use the names {', '.join(sorted(ENGINE_FIELDS))}. Rename it."
    )


def _plain_tensor(data: Array) -> Tensor:
    """A Tensor holding ``data`` with no gate, made without __init__'s checks (the hot path)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out._hooks = None
    out._retains_grad = False
    out.requires_grad = False
    out.gate = None
    return out


def _record_several(gate: Gate, arrays: tuple[Any, ...], inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """The outputs of a gate whose forward returned several arrays; the gate is recorded once for all."""
    outs = tuple(_plain_tensor(a if type(a) is ndarray else xp.asarray(a)) for a in arrays)
    if GradMode.enabled and any(x.requires_grad for x in inputs):
        gate.inputs = inputs
        gate.sequence = next(_clock)
        gate.outputs = tuple(weakref.ref(out) for out in outs)
        if Annotations.open:
            _annotate(gate, arrays, inputs)
        for out in outs:
            if backend.is_float(out.data.dtype):
                out.requires_grad = True
                out.gate = gate
    return outs


def _annotate(gate: Gate, outputs: Sequence[Array], inputs: Sequence[Tensor]) -> None:
    """What a gate notes besides its inputs: the modules running it and, in anomaly mode, its call site."""
    if running.modules:
        gate.module_path = tuple(running.modules)
    if GradMode.anomaly:
        gate.call_site = "".join(traceback.format_stack()[:-3][-4:])
        gate.made_non_finite = not all(_finite(out) for out in outputs) and all(_finite(x.data) for x in inputs)


def _explain_broadcast_failure(gate: Gate, inputs: Sequence[Tensor]) -> None:
    """When a forward failed because its inputs' shapes cannot broadcast, say so in the gate's name."""
    shapes = [x.data.shape for x in inputs]
    try:
        xp.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{gate.name}: shapes {' and '.join(map(str, shapes))} cannot broadcast together; aligned from "
            "the right, each pair of dimensions must be equal or one of them 1"
        ) from None


def _check_unchanged(gate: Gate, node: Tensor) -> None:
    assert gate.inputs is not None  # the walk checked that the gate is not released
    for position, x in enumerate(gate.inputs):
        if InPlace.version(x.data) > gate.sequence:
            raise RuntimeError(
                f"the '{gate.name}' gate needs input {position} (shape {tuple(x.shape)}) as it was in "
                "forward, but its memory was modified in place afterwards (through it, a view of it or a "
                "detached copy); backward would give a wrong gradient. Use an out-of-place operation instead."
            )
    for out in _outputs(gate, node):
        if out is not None and InPlace.version(out.data) > gate.sequence:
            raise RuntimeError(
                f"the '{gate.name}' gate needs its output (shape {tuple(out.shape)}) as it was in forward, but "
                "its memory was modified in place afterwards; backward would give a wrong gradient. Use an "
                "out-of-place operation instead."
            )


def _outputs(gate: Gate, node: Tensor) -> tuple[Tensor | None, ...]:
    """The gate's outputs that are still alive (one output: the tensor being walked)."""
    if gate.outputs is None:
        return (node,)
    return tuple(ref() for ref in gate.outputs)


def _finite(array: Array) -> bool:
    return not backend.is_float(array.dtype) or bool(xp.isfinite(array).all())


def _check_forward(gate: Gate) -> None:
    if getattr(gate, "made_non_finite", False):
        raise FloatingPointError(
            f"detect_anomaly: the '{gate.name}' gate produced NaN or Inf in its forward output from finite "
            f"inputs [{gate.describe_inputs()}]. The gate was called at:\n{gate.call_site}"
        )


def _check_finite(gate: Gate, grads: tuple[Any, ...]) -> None:
    for position, g in enumerate(grads):
        if g is None:
            continue
        values = g.data if isinstance(g, Tensor) else g
        if not xp.all(xp.isfinite(values)):
            site = gate.call_site or "(call site not recorded)\n"
            raise FloatingPointError(
                f"detect_anomaly: the '{gate.name}' gate produced NaN or Inf in the gradient of input "
                f"{position}; its inputs were [{gate.describe_inputs()}]. The gate was called at:\n{site}"
            )


@overload
def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: None = None,
) -> None: ...
@overload
def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    *,
    capture: Sequence[Tensor],
) -> list[Any]: ...
def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> list[Any] | None:
    """Propagate ``root_grads`` from ``roots`` down the graph.

    Gates are taken latest-recorded first (a heap keyed by ``gate.sequence``), so a
    tensor's gradient is complete, every consumer's share added, before its gate runs;
    no separate topological sort, and no recursion. Leaves' gradients accumulate into
    ``.grad`` once they are final, unless ``capture`` (a list of tensors) is given: then
    their gradients are returned instead and no ``.grad`` changes.

    The walk knows which gradient arrays it owns: the root gradients, sums it made, and
    what a gate that declares ``fresh_gradients`` returned (or a ``forwards_gradient``
    gate passed on from an owned one). A one-input gate with a ``backward_in_place`` may
    write into an owned gradient that no hook, ``retain_grad``, capture or ``.grad`` saw.
    """
    pending: dict[Tensor, Any] = {}  # tensor -> the sum of the gradients that reached it so far
    owned: dict[
        Tensor, bool
    ] = {}  # tensor -> True when its pending gradient is an array the walk allocated and handed to nobody
    ready: list[
        tuple[int, int, Tensor]
    ] = []  # heap of (-gate.sequence, id(tensor), tensor) for tensors with a gate and a pending gradient
    leaves: list[Tensor] = []  # tensors without a gate that have a pending gradient, in the order they got one
    for root, g in zip(roots, root_grads):
        if root in pending:
            pending[root] = pending[root] + g
        else:
            pending[root] = g
            _enqueue(root, ready, leaves)
    if not create_graph:
        owned = dict.fromkeys(pending, True)  # _root_gradient made each of them
    captured: dict[Tensor, Any] | None = dict.fromkeys(capture) if capture is not None else None
    uses = _hooked_uses(roots) if PostAccumulate.hooks and captured is None else None
    stored: set[int] = set()
    previous_mode = GradMode.enabled
    GradMode.enabled = create_graph
    collecting = gc.isenabled()
    gc.disable()  # the walk frees the graph by reference counting; cyclic collections would only rescan it
    anomaly = GradMode.anomaly
    heappop, heappush, heappushpop = heapq.heappop, heapq.heappush, heapq.heappushpop
    try:
        node: Tensor | None = heappop(ready)[2] if ready else None
        node_sequence = 0  # node's gate's sequence, once node is an input that got its first gradient
        while node is not None:
            g = pending.pop(node, None)
            if g is None:  # an output of a several-output gate that has already run
                node = heappop(ready)[2] if ready else None
                continue
            lone = owned.pop(node, False)
            if node._hooks:
                g = _run_hooks(node, g)
                lone = False
            if node._retains_grad or captured is not None:
                _deliver(node, g, captured, stored, create_graph)
                lone = False
            gate = node.gate
            assert gate is not None  # only tensors with a gate wait in ready
            inputs = gate.inputs
            if inputs is None:
                _released(gate)
            if InPlace.latest > gate.sequence:
                _check_unchanged(gate, node)
            if anomaly:
                _check_forward(gate)
            if gate.outputs is not None:
                grads = _backward_of_several(gate, node, g, pending, owned, captured, stored, create_graph)
            elif create_graph:
                if gate.once_differentiable:
                    grads = _once_differentiated(
                        gate, gate.backward(g.data, node.data, *[x.data for x in inputs]), (g,), inputs
                    )
                else:
                    grads = gate.backward(g, node, *inputs)
            elif len(inputs) == 1:
                if lone and gate.backward_in_place is not None and g.flags.writeable:
                    grads = gate.backward_in_place(g, node.data, inputs[0].data)
                else:
                    grads = gate.backward(g, node.data, inputs[0].data)
            elif len(inputs) == 2:
                grads = gate.backward(g, node.data, inputs[0].data, inputs[1].data)
            else:
                grads = gate.backward(g, node.data, *[x.data for x in inputs])
            if type(grads) is not tuple:
                grads = (grads,)
            if anomaly:
                _check_finite(gate, grads)
            fresh = gate.fresh_gradients or (lone and gate.forwards_gradient)
            node = None  # the next tensor to run: an input that got its first gradient, if it is the only one waiting
            for x, gx in zip(inputs, grads):
                if gx is not None and x.requires_grad:
                    if gx.shape != x.data.shape:
                        _wrong_shape(gate, x, gx)
                    if gx.dtype is not x.data.dtype and gx.dtype != x.data.dtype:
                        gx = gx.astype(x.data.dtype)  # a gradient has its input's dtype, as PyTorch's engine casts
                    previous = pending.get(x)
                    if previous is None:
                        pending[x] = gx
                        if fresh:
                            owned[x] = True
                        if x.gate is None:
                            leaves.append(x)
                        else:
                            if node is not None:
                                heappush(ready, (-node_sequence, id(node), node))
                            node = x
                            node_sequence = x.gate.sequence
                    else:
                        # Out of place on purpose: a gate may hand the same array to several inputs.
                        pending[x] = previous + gx
                        owned[x] = True
                if uses is not None and x in uses:
                    uses[x] -= 1
                    if not uses[x] and x in pending:  # every gate that uses this leaf has run: its gradient is final
                        owned.pop(x, None)
                        _finish_leaf(x, pending.pop(x), captured, stored, create_graph)
            grads = gx = None
            if not retain_graph:
                gate.inputs = None  # releases the cached tensors (and marks the gate released)
            if ready:
                node = (heappop(ready) if node is None else heappushpop(ready, (-node_sequence, id(node), node)))[2]
        for leaf in leaves:
            g = pending.pop(leaf, None)
            if g is not None:
                _finish_leaf(leaf, g, captured, stored, create_graph)
    finally:
        GradMode.enabled = previous_mode
        if collecting:
            gc.enable()
    if captured is not None and capture is not None:
        return [captured[t] for t in capture]
    return None


def _enqueue(tensor: Tensor, ready: list[tuple[int, int, Tensor]], leaves: list[Tensor]) -> None:
    """Where a tensor with a new pending gradient waits (the walk inlines this for speed)."""
    if tensor.gate is None:
        leaves.append(tensor)
    else:
        heapq.heappush(ready, (-tensor.gate.sequence, id(tensor), tensor))


def _backward_of_several(
    gate: Gate,
    node: Tensor,
    g: Any,
    pending: dict[Tensor, Any],
    owned: dict[Tensor, bool],
    captured: dict[Tensor, Any] | None,
    stored: set[int],
    create_graph: bool,
) -> Any:
    """Run a several-output gate once, with the gradient of each of its outputs (None where none came)."""
    grads: list[Any] = []
    outs: list[Any] = []
    assert gate.outputs is not None and gate.inputs is not None  # the walk checked both
    for ref in gate.outputs:
        out = ref()
        if out is node:
            gradient = g
        elif out is None:
            gradient = None
        else:
            gradient = pending.pop(out, None)
            if gradient is not None:
                owned.pop(out, None)
                if out._hooks:
                    gradient = _run_hooks(out, gradient)
                if out._retains_grad or captured is not None:
                    _deliver(out, gradient, captured, stored, create_graph)
        grads.append(gradient)
        outs.append(out if out is None or create_graph else out.data)
    inputs = gate.inputs
    if not create_graph:
        return gate.backward(tuple(grads), tuple(outs), *[x.data for x in inputs])
    if not gate.once_differentiable:
        return gate.backward(tuple(grads), tuple(outs), *inputs)
    arrays = gate.backward(
        tuple(None if t is None else t.data for t in grads),
        tuple(None if t is None else t.data for t in outs),
        *[x.data for x in inputs],
    )
    return _once_differentiated(gate, arrays, [t for t in grads if t is not None], inputs)


def _once_differentiated(
    gate: Gate, grads: Any, upstream: Sequence[Any], inputs: Sequence[Tensor]
) -> tuple[Tensor | None, ...]:
    """A once-differentiable gate's gradients under create_graph: its array results, recorded as depending on
    the upstream gradients and the inputs through a gate whose backward raises, naming the gate."""
    if type(grads) is not tuple:
        grads = (grads,)
    return tuple(
        None if gx is None else OnceDifferentiated.apply(*upstream, *inputs, value=gx, of=gate.name) for gx in grads
    )


class OnceDifferentiated(Gate):
    """The gradient of a once-differentiable gate, computed on arrays: it has no derivative of its own."""

    value: Array  # the gradient, computed already
    of: str  # the once-differentiable gate's name

    def forward(self, *arrays: Any) -> Any:
        return self.value

    def backward(self, grad: Any, out: Any, *inputs: Any) -> Any:
        raise RuntimeError(
            f"the '{self.of}' gate is once differentiable: its backward is written for arrays, so its gradient "
            "has no derivative of its own; second derivatives through it are not available."
        )


class PostAccumulate:
    """The hooks of ``Tensor.register_post_accumulate_grad_hook``: ``hooks`` maps id(leaf) to (a weak reference
    to the leaf, its hooks). While any exist, backward first counts how many gates use each hooked leaf, so it
    can finish a leaf's gradient, and call its hooks, as soon as the last of them has run."""

    hooks: dict[int, tuple[weakref.ref[Tensor], list[Callable[[Tensor], None]]]] = {}

    @classmethod
    def add(cls, tensor: Tensor, hook: Callable[[Tensor], None]) -> list[Callable[[Tensor], None]]:
        key = id(tensor)
        entry = cls.hooks.get(key)
        if entry is None or entry[0]() is not tensor:

            def forget(_: object, key: int = key) -> None:
                cls.hooks.pop(key, None)

            entry = cls.hooks[key] = (weakref.ref(tensor, forget), [])
        entry[1].append(hook)
        return entry[1]

    @classmethod
    def of(cls, tensor: Tensor) -> Sequence[Callable[[Tensor], None]]:
        entry = cls.hooks.get(id(tensor))
        return entry[1] if entry is not None and entry[0]() is tensor else ()


def _hooked_uses(roots: Sequence[Tensor]) -> dict[Tensor, int]:
    """For each leaf with post-accumulate hooks below ``roots``: how many gate inputs it is."""
    uses: dict[Tensor, int] = {}
    seen: set[int] = set()
    stack = [root.gate for root in roots if root.gate is not None]
    while stack:
        gate = stack.pop()
        if id(gate) in seen or gate.inputs is None:
            continue
        seen.add(id(gate))
        for x in gate.inputs:
            if x.requires_grad:
                if x.gate is not None:
                    stack.append(x.gate)
                elif PostAccumulate.of(x):
                    uses[x] = uses.get(x, 0) + 1
    return uses


def _finish_leaf(
    leaf: Tensor, g: Any, captured: dict[Tensor, Any] | None, stored: set[int], create_graph: bool
) -> None:
    """A leaf's gradient for this backward is final: its hooks, then ``.grad`` (or the capture), then the
    post-accumulate hooks."""
    if leaf._hooks:
        g = _run_hooks(leaf, g)
    _deliver(leaf, g, captured, stored, create_graph)
    if captured is None:
        for hook in PostAccumulate.of(leaf):
            hook(leaf)


def _released(gate: Gate) -> NoReturn:
    raise RuntimeError(
        f"backward through the '{gate.name}' gate a second time: its cached values were "
        "released after the first backward. Pass retain_graph=True to the first backward "
        "if you need to go through the graph again."
    )


def _run_hooks(node: Tensor, g: Any) -> Any:
    assert node._hooks is not None  # called only for a tensor with hooks
    for hook in node._hooks:
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


def _deliver(node: Tensor, g: Any, captured: dict[Tensor, Any] | None, stored: set[int], create_graph: bool) -> None:
    """Hand a finished gradient to whoever asked for it: ``grad()``'s capture, or ``.grad``."""
    if captured is not None:
        if node in captured:
            captured[node] = g
        return
    if not create_graph and id(g) in stored:
        g = g.copy()  # a gate may hand one array to several inputs; each .grad owns its own
    stored.add(id(g))
    node._store_grad(g, create_graph)


def _wrong_shape(gate: Gate, tensor: Tensor, g: Any) -> NoReturn:
    raise RuntimeError(
        f"the '{gate.name}' gate's backward returned a gradient of shape {tuple(g.shape)} for an input of "
        f"shape {tuple(tensor.shape)}; a backward must return one gradient per input, shaped like that input"
    )


def backward(
    tensor: Tensor, gradient: TensorLike | None = None, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Backpropagate from ``tensor``; see :meth:`Tensor.backward`."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {tuple(tensor.shape)}) does not require grad and has no "
            "gate behind it; create its inputs with requires_grad=True, outside no_grad()."
        )
    root = _root_gradient(tensor, gradient, "backward", create_graph)
    run_backward([tensor], [root], retain_graph or create_graph, create_graph)


def _root_gradient(tensor: Tensor, gradient: TensorLike | None, where: str, create_graph: bool) -> Any:
    """The gradient a backward starts from at ``tensor``: an array of its own, or a Tensor with ``create_graph``."""
    array: Array
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {tuple(tensor.shape)}, not a single element; pass "
                "gradient= (an array of that shape, dL/doutput) to say what to backpropagate."
            )
        array = xp.ones_like(tensor.data)
    else:
        array = gradient.data if isinstance(gradient, Tensor) else backend.as_array(gradient, tensor.dtype)
        array = array.copy()  # the caller keeps their array; .grad gets its own
        if array.shape != tensor.shape:
            raise ValueError(
                f"{where}: gradient has shape {tuple(array.shape)}, but the output has shape "
                f"{tuple(tensor.shape)}; they must match."
            )
    return Tensor(array) if create_graph else array


if TYPE_CHECKING:
    from typing import TypeAlias

    #: What ``grad`` takes as ``grad_outputs``: one gradient (for one output) or one per output (None: ones).
    GradOutputs: TypeAlias = "Tensor | Array | Sequence[TensorLike | None] | None"


@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor,
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: Literal[False] = False,
) -> Tensor: ...
@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor,
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    *,
    allow_unused: bool,
) -> Tensor | None: ...
@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Sequence[Tensor],
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: Literal[False] = False,
) -> tuple[Tensor, ...]: ...
@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Sequence[Tensor],
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    *,
    allow_unused: bool,
) -> tuple[Tensor | None, ...]: ...
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> Tensor | None | tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned as Tensors (``.grad`` untouched).

    With ``create_graph=True`` the returned gradients carry a graph, so they can be
    differentiated again (Hessian-vector products, second derivatives).
    """
    single_input = isinstance(inputs, Tensor)
    output_list = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    input_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    given: Sequence[TensorLike | None]
    if grad_outputs is None:
        given = [None] * len(output_list)
    elif isinstance(grad_outputs, (Tensor, xp.ndarray)):
        given = [grad_outputs]
    else:
        given = grad_outputs
    if len(given) != len(output_list):
        raise ValueError(f"grad: {len(output_list)} outputs but {len(given)} grad_outputs")
    for position, out in enumerate(output_list):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {position} (shape {tuple(out.shape)}) does not require grad")
    for position, x in enumerate(input_list):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {position} (shape {tuple(x.shape)}) does not require grad")
    roots = [_root_gradient(o, g, "grad", create_graph) for o, g in zip(output_list, given)]
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(output_list, roots, retain_graph, create_graph, capture=input_list)
    results: list[Tensor | None] = []
    for position, (x, g) in enumerate(zip(input_list, found)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} (shape {tuple(x.shape)}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it."
            )
        results.append(g if g is None or isinstance(g, Tensor) else Tensor(g))
    return results[0] if single_input else tuple(results)


from .tensor import Tensor  # noqa: E402  (the tensor module needs Gate defined first)
