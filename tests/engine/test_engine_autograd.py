"""How backward behaves: roots and their gradients, accumulation, graph release, grad modes,
hooks, in-place safety, anomaly detection, custom gates and very deep graphs."""

import gc
import math
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import Gate


def leaf(values, dtype=np.float64):
    return cr.tensor(np.array(values, dtype=dtype), requires_grad=True)


# ----- roots ------------------------------------------------------------------------------------
def test_the_smallest_example():
    a = cr.tensor(2.0, requires_grad=True)
    (a * a + a).backward()
    assert a.grad == 5


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_backward_on_one_element_output_needs_no_gradient(shape):
    x = leaf(np.full(shape, 3.0))
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, np.full(shape, 6.0))


def test_non_scalar_output_without_gradient_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"backward: the output has shape \(2,\), not a single element.*gradient="):
        (x * 2).backward()


def test_gradient_argument_is_the_upstream_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gradient=np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, -6.0])
    x.grad = None
    (x * 3).backward(gradient=cr.tensor(np.ones(3)))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


def test_gradient_with_wrong_shape_raises():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"backward: gradient has shape \(2,\), but the output has shape \(3,\)"):
        (x * 2).backward(gradient=np.ones(2))


def test_backward_does_not_keep_the_callers_gradient_array():
    x = leaf([1.0, 2.0])
    upstream = np.array([1.0, 1.0])
    (x + 0.0).backward(gradient=upstream)
    x.grad += 1
    np.testing.assert_array_equal(upstream, [1.0, 1.0])


# ----- accumulation -------------------------------------------------------------------------
def test_fan_out_adds_the_gradients():
    a = leaf(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = leaf([1.0, 2.0])
    hidden = b * b  # a reused non-leaf: its gradient is the sum over both uses before it flows on
    (hidden * hidden + hidden * 3.0).sum().backward()
    np.testing.assert_allclose(b.grad, (2 * b.data**2 + 3) * 2 * b.data)


@pytest.mark.parametrize("order", ["h*k", "k*h"])
def test_a_tensor_waits_for_its_later_consumers_whichever_input_it_is(order):
    # h feeds z directly and through k, which was recorded after it: h's gate may only run once k's has
    # added its share, whether h comes first or second among z's inputs.
    x = leaf([0.3, -0.7])
    h = x.exp()
    k = h.sin()
    z = h * k if order == "h*k" else k * h
    z.sum().backward()
    e = np.exp(x.data)
    np.testing.assert_allclose(x.grad, (np.sin(e) + e * np.cos(e)) * e)


_COMBINE = [
    lambda a, b: a * b,
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: (a * 0.5).sin() * b,
    lambda a, b: a.tanh() + b * b,
]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, len(_COMBINE) - 1)),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
)
def test_any_graph_of_shared_intermediates_gets_the_numerical_gradient(steps, roots):
    # Each step combines two earlier tensors (leaves or results, any of them, so results fan out to
    # several later gates and paths of different lengths meet); the output sums a few of them. The walk
    # must run every gate after all of its consumers, whichever order the inputs were recorded in.
    def build(x, y):
        nodes = [x, y]
        for first, second, op in steps:
            nodes.append(_COMBINE[op](nodes[first % len(nodes)], nodes[second % len(nodes)]))
        total = nodes[-1].sum()
        for r in roots:
            total = total + nodes[r % len(nodes)].sum()
        return total

    x = leaf([0.3, -0.8])
    y = leaf([1.1, 0.4])
    assert cr.gradcheck(build, [x, y])


def test_shared_gradient_arrays_are_not_aliased():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # Add hands the same upstream array to both inputs
    a.grad += 100
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    c = leaf([1.0, 2.0])
    c.sum().backward()  # a broadcast gradient: .grad must still be a writable array of its own
    c.grad *= 2
    np.testing.assert_array_equal(c.grad, [2.0, 2.0])


# ----- gradients written in place ---------------------------------------------------------------
def test_relu_masks_a_gradient_nobody_else_holds_in_place(monkeypatch):
    from chainrule.gates.elementwise import Relu

    reused = []
    original = Relu.backward_in_place
    monkeypatch.setattr(
        Relu, "backward_in_place", lambda self, g, out, x: reused.append(g) or original(self, g, out, x)
    )
    x, w = leaf([-1.0, 2.0]), leaf([3.0, 4.0])
    (x.relu() * w).sum().backward()  # Mul's fresh gradient reaches the relu held by the walk alone
    assert len(reused) == 1
    np.testing.assert_array_equal(x.grad, [0.0, 4.0])


def test_a_gradient_shared_with_another_input_is_not_written_in_place():
    a, b, w = leaf([-1.0, 2.0]), leaf([5.0, 5.0]), leaf([2.0, 3.0])
    ((a.relu() + b) * w).sum().backward()  # Add hands Mul's fresh array to both inputs; b's share stays unmasked
    np.testing.assert_array_equal(b.grad, [2.0, 3.0])
    np.testing.assert_array_equal(a.grad, [0.0, 3.0])


@pytest.mark.parametrize("holder", ["retain_grad", "hook", "retained further down"])
def test_a_gradient_kept_elsewhere_is_not_written_in_place(holder):
    x, w = leaf([-1.0, 2.0]), leaf([3.0, 4.0])
    r = x.relu()
    s = r + 1.0  # passes its gradient on unchanged: the same array reaches the relu
    seen = []
    if holder == "retain_grad":
        r.retain_grad()
    elif holder == "hook":
        r.register_hook(lambda g: seen.append(g))
    else:
        s.retain_grad()
    (s * w).sum().backward()
    kept = {"retain_grad": lambda: r.grad, "hook": lambda: seen[0], "retained further down": lambda: s.grad}[holder]()
    np.testing.assert_array_equal(kept, [3.0, 4.0])
    np.testing.assert_array_equal(x.grad, [0.0, 4.0])


def test_the_callers_root_gradient_is_left_alone():
    x = leaf([-1.0, 2.0])
    upstream = np.array([7.0, 8.0])
    x.relu().backward(gradient=upstream)
    np.testing.assert_array_equal(upstream, [7.0, 8.0])
    np.testing.assert_array_equal(x.grad, [0.0, 8.0])


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = leaf([1.0, -2.0])
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 3 * 2 * x.data)
    x.zero_grad()
    assert x.grad is None
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])
    x.grad = None
    (x * 7.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_leaves_that_do_not_require_grad_get_none():
    x, c = leaf([1.0, 2.0]), cr.tensor(np.array([3.0, 4.0]))
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


# ----- graph release ------------------------------------------------------------------------
def test_second_backward_without_retain_graph_raises_naming_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"'sum' gate a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.data))


def test_backward_releases_the_graph_and_intermediates_can_be_collected():
    x = leaf(np.ones(5))
    hidden = x.exp()
    gate = hidden.gate
    intermediate = weakref.ref(hidden)
    out = (hidden * 2.0).sum()
    del hidden
    gc.collect()
    assert intermediate() is not None, "before backward the graph holds the intermediate"
    out.backward()
    assert gate.inputs is None and gate.released
    assert out.gate.inputs is None
    gc.collect()
    # Released gates drop their inputs, so the intermediate goes even while the output lives on.
    assert intermediate() is None, "an intermediate tensor is still referenced after backward"
    assert x.grad is not None and out.item() > 0


def test_retained_graph_keeps_its_inputs():
    x = leaf(np.ones(2))
    y = x.tanh().sum()
    y.backward(retain_graph=True)
    assert y.gate.inputs is not None and not y.gate.released


def test_a_chain_of_a_million_gates_needs_no_recursion():
    # Backward walks the graph with an explicit stack: no RecursionError, however deep the graph.
    x = cr.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad == pytest.approx(1.0000001**1_000_000, rel=1e-9)
    del y  # dropping a released million-gate chain must not recurse either


# ----- grad modes -------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.gate is None


def test_no_grad_decorator_records_nothing_and_restores_the_mode():
    @cr.no_grad()
    def double(t):
        return t * 2

    x = leaf([1.0, 2.0])
    y = double(x)
    assert y.gate is None and not y.requires_grad
    assert (x * 2).gate is not None


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        with cr.enable_grad():
            y = x * 2
        z = x * 2
    assert y.gate is not None and z.gate is None

    @cr.enable_grad()
    def record(t):
        return t * 3

    with cr.no_grad():
        assert record(x).gate is not None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with cr.no_grad():
            _ = 1 / 0
    assert cr.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).detach()
    assert y.gate is None and not y.requires_grad
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad, x.data**2)


# ----- grad() ---------------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = cr.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, y.data)
    np.testing.assert_array_equal(gy.data, x.data)
    assert x.grad is None and y.grad is None
    assert isinstance(cr.grad((x * 2).sum(), x), cr.Tensor)  # a single input gives a single gradient


def test_grad_with_unused_input():
    x, unused = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match=r"grad: input 1 .* was not used .*allow_unused=True"):
        cr.grad(x * 2, [x, unused])
    gx, gu = cr.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (g,) = cr.grad(x * x, [x], grad_outputs=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(g.data, [2.0, -4.0])


# ----- hooks and retain_grad ------------------------------------------------------------------
def test_hook_inspects_and_replaces_a_gradient_and_can_be_removed():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(np.array(g)))
    doubling = x.register_hook(lambda g: g * 2)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    doubling.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert len(seen) == 2


def test_hook_on_a_non_leaf_changes_what_flows_on():
    x = leaf([1.0, 2.0])
    hidden = x * 2.0
    hidden.register_hook(lambda g: g * 0.0 + 10.0)
    (hidden * hidden).sum().backward()
    np.testing.assert_array_equal(x.grad, [20.0, 20.0])


def test_retain_grad_on_a_non_leaf():
    x = leaf([1.0, 2.0])
    hidden = x * 2.0
    other = x * 3.0
    hidden.retain_grad()
    (hidden * hidden + other).sum().backward()
    np.testing.assert_array_equal(hidden.grad, 2 * hidden.data)
    assert other.grad is None
    np.testing.assert_array_equal(x.grad, 4 * hidden.data + 3.0)


# ----- in-place safety ----------------------------------------------------------------------
def test_setitem_under_no_grad_on_a_cached_input_makes_backward_raise():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    with cr.no_grad():
        x[0] = 5.0
    with pytest.raises(RuntimeError, match=r"the 'mul' gate needs input 0 .*modified in place"):
        y.backward()


def test_in_place_add_on_a_constant_used_by_a_gate_makes_backward_raise():
    x = leaf([1.0, 2.0, 3.0])
    w = cr.tensor(np.ones(3))
    y = (x * w).sum()
    w += 1
    with pytest.raises(RuntimeError, match=r"the 'mul' gate needs input 1 \(shape \(3,\)\).*modified in place"):
        y.backward()


def test_in_place_change_of_a_tensor_requiring_grad_while_recording_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"setitem: in-place change of a tensor that requires grad"):
        x[0] = 3.0


def test_in_place_change_before_the_gate_was_recorded_is_fine():
    x = leaf([1.0, 2.0])
    w = cr.tensor(np.ones(2))
    w += 1
    (x * w).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_in_place_change_of_an_unused_tensor_is_fine():
    x = leaf([1.0, 2.0])
    spare = cr.tensor(np.zeros(2))
    y = (x * 2.0).sum()
    spare += 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


# ----- anomaly detection ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_gate_and_the_call_site():
    x = leaf([0.0, 1.0])
    with cr.detect_anomaly():
        y = x.sqrt().sum()  # the slope of sqrt at 0 is infinite
        with pytest.raises(FloatingPointError, match=r"(?s)'sqrt' gate.*test_engine_autograd\.py") as info:
            y.backward()
    assert "x.sqrt()" in str(info.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_closes_its_annotation_scope_even_when_backward_raises():
    from chainrule.scope import Annotations

    x = leaf([-1.0])
    with pytest.raises(FloatingPointError), np.errstate(invalid="ignore"), cr.detect_anomaly():
        x.log().sum().backward()
    assert Annotations.open == 0 and (x * 2.0).gate.call_site is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_as_decorator():
    @cr.detect_anomaly()
    def run():
        x = leaf([-1.0, 1.0])
        (cr.log(x) * leaf([1.0, 1.0])).sum().backward()  # log(-1) is NaN; the Mul's gradient picks it up

    with pytest.raises(FloatingPointError, match=r"(?s)detect_anomaly: the 'mul' gate.*test_engine_autograd\.py"):
        run()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_gate_whose_forward_made_the_nan():
    x = leaf([-1.0, 1.0])
    with cr.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"(?s)'log' gate.*test_engine_autograd\.py"):
            y = (cr.log(x) * 2.0).sum()
            y.backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_detect_anomaly_nan_flows_silently():
    x = leaf([0.0, 1.0])
    x.sqrt().sum().backward()
    assert np.isinf(x.grad[0])


# ----- custom gates ---------------------------------------------------------------------------
class Cube(Gate):
    derivative = "d/dx x^3 = 3*x^2"

    def forward(self, x):
        return x**3

    def backward(self, grad, out, x):
        return grad * 3 * x * x


class ScaledHypot(Gate):
    """sqrt(x^2 + y^2) * self.scale: two inputs and a keyword constant."""

    derivative = "d/dx = scale*x/h; d/dy = scale*y/h"

    def forward(self, x, y):
        return self.scale * np.sqrt(x * x + y * y)

    def backward(self, grad, out, x, y):
        factor = grad * self.scale * self.scale / out
        return (factor * x if self.wants(0) else None, factor * y if self.wants(1) else None)


def test_custom_gate_backward_and_checks():
    x = leaf([0.5, -1.0, 2.0])
    y = Cube.apply(x)
    assert y.gate.name == "cube" and y.gate.derivative.startswith("d/dx")
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)
    assert cr.gradcheck(Cube.apply, [x])
    assert cr.gradgradcheck(Cube.apply, [x])
    assert cr.max_relative_error(Cube.apply, [x]) <= 1e-7
    assert cr.max_relative_error(Cube.apply, [x], second_order=True) <= 1e-7


def test_custom_gate_with_two_inputs_and_a_constant():
    x, y = leaf([3.0, 1.0]), leaf([4.0, -2.0])
    out = ScaledHypot.apply(x, y, scale=2.0)
    np.testing.assert_allclose(out.data, [10.0, 2 * math.sqrt(5)])
    assert out.gate.scale == 2.0
    fn = lambda a, b: ScaledHypot.apply(a, b, scale=2.0)  # noqa: E731
    assert cr.gradcheck(fn, [x, y])
    assert cr.gradgradcheck(fn, [x, y])
    only_x = ScaledHypot.apply(x, cr.tensor(np.array([4.0, -2.0])), scale=1.0)  # wants(1) is False
    only_x.sum().backward()
    np.testing.assert_allclose(x.grad, x.data / np.hypot(x.data, [4.0, -2.0]))


def test_gradcheck_reports_a_wrong_backward():
    class WrongSquare(Gate):
        def forward(self, x):
            return x * x

        def backward(self, grad, out, x):
            return grad * x  # should be 2x

    x = leaf([1.0, 2.0])
    with pytest.raises(cr.GradcheckError, match=r"gradcheck: input 0 \(shape \(2,\)\), element \(0,\)"):
        cr.gradcheck(WrongSquare.apply, [x])
    assert cr.gradcheck(WrongSquare.apply, [x], raise_exception=False) is False
    assert cr.max_relative_error(WrongSquare.apply, [x]) > 0.1


def test_gradcheck_does_not_let_nan_gradients_pass():
    class NanGradient(Gate):
        def forward(self, x):
            return x * 2

        def backward(self, grad, out, x):
            return grad * np.nan

    x = leaf([1.0, 2.0])
    assert cr.gradcheck(NanGradient.apply, [x], raise_exception=False) is False
    assert cr.max_relative_error(NanGradient.apply, [x]) == math.inf


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        cr.gradcheck(lambda t: t * 2, [cr.tensor(np.ones(2))])


def test_no_grad_is_per_thread():
    import threading

    inside, outside = threading.Event(), threading.Event()
    recorded = {}

    def infer():
        with cr.no_grad():
            inside.set()
            outside.wait(5)
            recorded["other thread"] = (leaf([1.0]) * 2).requires_grad

    thread = threading.Thread(target=infer)
    thread.start()
    inside.wait(5)
    recorded["this thread"] = (leaf([1.0]) * 2).requires_grad  # the other thread's no_grad must not reach here
    outside.set()
    thread.join(5)
    assert recorded == {"this thread": True, "other thread": False}
