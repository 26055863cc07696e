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

import contextlib
import gc
import heapq
import itertools
import sys
import threading
import traceback

from . import backend
from .backend import ndarray, xp
from .scope import Annotations, running


class _GradMode(threading.local):
    """Switches read on the hot path, one set per thread (as in PyTorch): ``no_grad()`` in one
    thread leaves another thread's training alone. The class attributes are each thread's defaults."""

    enabled = True
    anomaly = False


GradMode = _GradMode()


#: One clock numbers both the gates, in the order they are recorded, and the in-place changes.
#: An output is always recorded after its inputs, so walking gates from the highest number down
#: visits every tensor after all of its consumers.
_clock = itertools.count(1)


def _holders(array):
    """How many references sys.getrefcount finds to ``array`` and to the array whose memory it views (None
    when it owns its memory), or None for a view of a view or of foreign memory (never reused)."""
    base = array.base
    if base is not None and (type(base) is not ndarray or base.base is not None):
        return None
    return sys.getrefcount(array), None if base is None else sys.getrefcount(base)


def _lone_holders():
    """_holders of an array that one local variable alone holds, and of such a variable's view of an array
    nothing else holds (a batch-last image seen as NCHW is one). CPython with its GIL only: elsewhere
    reference counts do not say who holds what, and None turns reuse off."""
    if sys.implementation.name != "cpython" or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    owner = xp.empty((1, 1))
    view = xp.empty((1, 1)).T
    return _holders(owner), _holders(view)


#: A gradient whose _holders, taken from the walk's own variable, are one of these is held by nothing else:
#: no other tensor's pending gradient, no .grad, no hook, no other view of its memory. A gate may write into it.
_LONE = _lone_holders()


class InPlace:
    """The clock reading of the latest in-place change to any tensor, in any thread. A changed tensor
    takes it as its ``_version``; backward checks a gate's inputs only if a change came after the gate
    was recorded (one comparison with ``gate.sequence`` when nothing changed)."""

    latest = 0

    @classmethod
    def stamp(cls):
        """A new clock reading for an in-place change, now the latest; the changed tensor keeps it."""
        cls.latest = next(_clock)
        return cls.latest


class no_grad(contextlib.ContextDecorator):
    """Inside this context (or decorated function) no graph is recorded."""

    def __enter__(self):
        self.previous = GradMode.enabled
        GradMode.enabled = False

    def __exit__(self, *exc):
        GradMode.enabled = self.previous


class enable_grad(contextlib.ContextDecorator):
    """Record the graph again inside a ``no_grad`` region."""

    def __enter__(self):
        self.previous = GradMode.enabled
        GradMode.enabled = True

    def __exit__(self, *exc):
        GradMode.enabled = self.previous


def is_grad_enabled():
    return GradMode.enabled


class detect_anomaly(contextlib.ContextDecorator):
    """Remember where each gate was called; backward then stops at the first gate whose forward
    output (from finite inputs) or gradient is NaN or Inf, and names it."""

    def __enter__(self):
        self.previous = GradMode.anomaly
        GradMode.anomaly = True
        Annotations.enter()

    def __exit__(self, *exc):
        Annotations.leave()
        GradMode.anomaly = self.previous


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

    Keyword arguments to ``apply`` become attributes of the gate (constants such as
    an axis); a gate needs no ``__init__``. ``backward`` returns one gradient per input
    (a bare value when there is one input), or None for an input that needs none;
    ``self.wants(i)`` says whether input ``i`` needs a gradient at all. ``derivative`` states the local derivative
    once, per input, separated by ``;`` and written with the input names ``x, y, z``
    (the explanation feature prints and evaluates it).
    """

    derivative = ""
    #: Names of the inputs as the derivative text uses them.
    input_names = ("x", "y", "z")

    #: Optionally, for a one-input gate: a backward(grad, out, x) that may write its result into grad. The
    #: engine calls it instead of backward when nothing but the walk holds grad (a reference count), which
    #: spares allocating a new array and writing into memory that is not in cache.
    backward_in_place = None

    inputs = None  # the input Tensors, set when the gate is recorded, cleared when released
    call_site = None  # where forward was called, kept in detect_anomaly() mode
    module_path = None  # the modules (outermost first) whose forward recorded this gate

    @property
    def released(self):
        """True once a backward without ``retain_graph`` has freed this gate's cached inputs."""
        return self.inputs is None

    @property
    def name(self):
        return type(self).__name__.lower()

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, grad, out, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    def wants(self, index):
        """Whether input ``index`` needs a gradient (saves work in expensive backwards)."""
        return self.inputs[index].requires_grad

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the forward on tensors (or array-likes) and record the gate if any input requires grad."""
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
                break
        gate = object.__new__(cls)
        if params:
            for name, value in params.items():  # not __dict__.update, which would give every gate a dict object
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
        if type(data) is not ndarray:
            data = xp.asarray(data)  # NumPy returns scalars from 0-d operations
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.name = None
        out._version = 0
        out._hooks = None
        out._retains_grad = False
        if GradMode.enabled:
            for x in inputs:
                if x.requires_grad:
                    gate.inputs = inputs
                    gate.sequence = next(_clock)
                    if Annotations.open:  # a module's forward or detect_anomaly() is open in some thread
                        _annotate(gate, data, inputs)
                    out.requires_grad = True
                    out.gate = gate
                    return out
        out.requires_grad = False
        out.gate = None
        return out

    def describe_inputs(self):
        return ", ".join(f"{tuple(x.shape)} {x.dtype}" for x in self.inputs)


def _annotate(gate, data, inputs):
    """What a gate notes besides its inputs: the modules running it and, in anomaly mode, its call site."""
    if running.modules:
        gate.module_path = tuple(running.modules)
    if GradMode.anomaly:
        gate.call_site = "".join(traceback.format_stack()[:-3][-4:])
        gate.made_non_finite = not _finite(data) and all(_finite(x.data) for x in inputs)


def _explain_broadcast_failure(gate, inputs):
    """When a forward failed because its inputs' shapes cannot broadcast, say so in the gate's name."""
    shapes = [x.data.shape for x in inputs]
    try:
        xp.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{gate.name}: shapes {' and '.join(map(str, shapes))} cannot broadcast together; aligned from "
            "the right, each pair of dimensions must be equal or one of them 1"
        ) from None


def _check_unchanged(gate):
    for position, x in enumerate(gate.inputs):
        if x._version > gate.sequence:
            raise RuntimeError(
                f"the '{gate.name}' gate needs input {position} (shape {tuple(x.shape)}) as it was in "
                "forward, but it was modified in place afterwards; backward would give a wrong gradient. "
                "Use an out-of-place operation instead."
            )


def _finite(array):
    return not backend.is_float(array.dtype) or bool(xp.isfinite(array).all())


def _check_forward(gate):
    if getattr(gate, "made_non_finite", False):
        raise FloatingPointError(
            f"detect_anomaly: the '{gate.name}' gate produced NaN or Inf in its forward output from finite "
            f"inputs [{gate.describe_inputs()}]. The gate was called at:\n{gate.call_site}"
        )


def _check_finite(gate, grads):
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


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """Propagate ``root_grads`` from ``roots`` down the graph.

    Gates are taken latest-recorded first (a heap keyed by ``gate.sequence``), so a
    tensor's gradient is complete, every consumer's share added, before its gate runs;
    no separate topological sort, and no recursion. Leaves' gradients accumulate into
    ``.grad`` once the walk is over, unless ``capture`` (a list of tensors) is given:
    then their gradients are returned instead and no ``.grad`` changes. A one-input gate
    with a ``backward_in_place`` gets its gradient to write into when the walk alone holds it.
    """
    pending = {}  # tensor -> the sum of the gradients that reached it so far
    ready = []  # heap of (-gate.sequence, tensor) for tensors with a gate and a pending gradient
    leaves = []  # tensors without a gate that have a pending gradient, in the order they got one
    for root, g in zip(roots, root_grads):
        if root in pending:
            pending[root] = pending[root] + g
        else:
            pending[root] = g
            _enqueue(root, ready, leaves)
    captured = dict.fromkeys(capture) if capture is not None else None
    stored = set()
    previous_mode = GradMode.enabled
    GradMode.enabled = create_graph
    collecting = gc.isenabled()
    gc.disable()  # the walk frees the graph by reference counting; cyclic collections would only rescan it
    anomaly = GradMode.anomaly
    heappop, heappush, heappushpop = heapq.heappop, heapq.heappush, heapq.heappushpop
    try:
        node = heappop(ready)[1] if ready else None
        while node is not None:
            g = pending.pop(node)
            if node._hooks:
                g = _run_hooks(node, g)
            if node._retains_grad or captured is not None:
                _deliver(node, g, captured, stored, create_graph)
            gate = node.gate
            inputs = gate.inputs
            if inputs is None:
                _released(gate)
            if InPlace.latest > gate.sequence:
                _check_unchanged(gate)
            if anomaly:
                _check_forward(gate)
            if create_graph:
                grads = gate.backward(g, node, *inputs)
            elif len(inputs) == 1:
                if (gate.backward_in_place is not None and _LONE is not None and type(g) is ndarray
                        and g.flags.writeable and _holders(g) in _LONE):
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
            node = None  # the next tensor to run: an input that got its first gradient, if it is the only one waiting
            for x, gx in zip(inputs, grads):
                if gx is not None and x.requires_grad:
                    if gx.shape != x.data.shape:
                        _wrong_shape(gate, x, gx)
                    previous = pending.get(x)
                    if previous is None:
                        pending[x] = gx
                        if x.gate is None:
                            leaves.append(x)
                        else:
                            if node is not None:
                                heappush(ready, (-node.gate.sequence, node))
                            node = x
                    else:
                        # Out of place on purpose: a gate may hand the same array to several inputs.
                        pending[x] = previous + gx
            grads = gx = None  # the walk's own references only in pending, so a lone gradient counts as lone
            if not retain_graph:
                gate.inputs = None  # releases the cached tensors (and marks the gate released)
            if ready:
                node = heappop(ready)[1] if node is None else heappushpop(ready, (-node.gate.sequence, node))[1]
        for leaf in leaves:
            g = pending.pop(leaf)
            if leaf._hooks:
                g = _run_hooks(leaf, g)
            _deliver(leaf, g, captured, stored, create_graph)
    finally:
        GradMode.enabled = previous_mode
        if collecting:
            gc.enable()
    if captured is not None:
        return [captured[t] for t in capture]
    return None


def _enqueue(tensor, ready, leaves):
    """Where a tensor with a new pending gradient waits (the walk inlines this for speed)."""
    if tensor.gate is None:
        leaves.append(tensor)
    else:
        heapq.heappush(ready, (-tensor.gate.sequence, tensor))


def _released(gate):
    raise RuntimeError(
        f"backward through the '{gate.name}' gate a second time: its cached values were "
        "released after the first backward. Pass retain_graph=True to the first backward "
        "if you need to go through the graph again."
    )


def _run_hooks(node, g):
    for hook in node._hooks:
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


def _deliver(node, g, captured, stored, create_graph):
    """Hand a finished gradient to whoever asked for it: ``grad()``'s capture, or ``.grad``."""
    if captured is not None:
        if node in captured:
            captured[node] = g
        return
    if not create_graph and id(g) in stored:
        g = g.copy()  # a gate may hand one array to several inputs; each .grad owns its own
    stored.add(id(g))
    node._store_grad(g, create_graph)


def _wrong_shape(gate, tensor, g):
    raise RuntimeError(
        f"the '{gate.name}' gate's backward returned a gradient of shape {tuple(g.shape)} for an input of "
        f"shape {tuple(tensor.shape)}; a backward must return one gradient per input, shaped like that input"
    )


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """Backpropagate from ``tensor``; see :meth:`Tensor.backward`."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {tuple(tensor.shape)}) does not require grad and has no "
            "gate behind it; create its inputs with requires_grad=True, outside no_grad()."
        )
    gradient = _root_gradient(tensor, gradient, "backward", create_graph)
    run_backward([tensor], [gradient], retain_graph or create_graph, create_graph)


def _root_gradient(tensor, gradient, where, create_graph):
    if gradient is None:
        if tensor.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {tuple(tensor.shape)}, not a single element; pass "
                "gradient= (an array of that shape, dL/doutput) to say what to backpropagate."
            )
        gradient = xp.ones_like(tensor.data)
    else:
        gradient = gradient.data if isinstance(gradient, Tensor) else backend.as_array(gradient, tensor.dtype)
        gradient = gradient.copy()  # the caller keeps their array; .grad gets its own
        if gradient.shape != tensor.shape:
            raise ValueError(
                f"{where}: gradient has shape {tuple(gradient.shape)}, but the output has shape "
                f"{tuple(tensor.shape)}; they must match."
            )
    return Tensor(gradient) if create_graph else gradient


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as Tensors (``.grad`` untouched).

    With ``create_graph=True`` the returned gradients carry a graph, so they can be
    differentiated again (Hessian-vector products, second derivatives).
    """
    single_input = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, xp.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for position, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {position} (shape {tuple(out.shape)}) does not require grad")
    for position, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {position} (shape {tuple(x.shape)}) does not require grad")
    roots = [_root_gradient(o, g, "grad", create_graph) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(outputs, roots, retain_graph, create_graph, capture=inputs)
    results = []
    for position, (x, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} (shape {tuple(x.shape)}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it."
            )
        results.append(g if g is None or isinstance(g, Tensor) else Tensor(g))
    return results[0] if single_input else tuple(results)


from .tensor import Tensor  # noqa: E402  (the tensor module needs Gate defined first)
