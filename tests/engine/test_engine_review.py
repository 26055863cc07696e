"""The engine review's findings as regression tests: in-place changes through shared memory,
grad-mode switches that call themselves, NumPy's copy semantics, optimizers after a
create_graph backward, reproducible randomness, integer promotion, gate constants, gradient
ownership, gates with several outputs, once-differentiable gates and post-accumulate hooks."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Gate, nn, optim
from chainrule.autograd import GradMode


def leaf(values, dtype=np.float64):
    return cr.tensor(np.array(values, dtype=dtype), requires_grad=True)


# ----- in-place changes through shared memory ------------------------------------------------------
@pytest.mark.parametrize(
    "write",
    [
        lambda x: x.detach().__setitem__(0, 100.0),
        lambda x: cr.Tensor(x).fill_(3.0),
        lambda x: x.detach().reshape(3, 1).__setitem__(0, 100.0),
    ],
)
def test_a_write_through_a_detached_copy_or_view_is_seen_by_backward(write):
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    write(x)
    with pytest.raises(
        RuntimeError,
        match=r"the 'mul' gate needs input 0 \(shape \(3,\)\) as it was in forward, but its "
        r"memory was modified in place",
    ):
        y.backward()


def test_a_write_through_a_view_made_under_no_grad_is_seen_by_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * x).sum()
    with cr.no_grad():
        view = x[0:2]
        view += 100.0
    with pytest.raises(RuntimeError, match="'mul' gate needs input 0"):
        y.backward()


def test_a_write_to_a_gates_saved_output_is_seen_by_backward():
    x = leaf([0.5, 1.0])
    e = x.exp()
    e.detach().fill_(0.0)  # Exp's backward reads its output (a consumer of e would already refuse as its input)
    with pytest.raises(RuntimeError, match=r"the 'exp' gate needs its output \(shape \(2,\)\)"):
        e.backward(gradient=np.ones(2))


def test_writes_to_other_memory_and_before_recording_are_fine():
    x = leaf([1.0, 2.0, 3.0])
    other = x.detach() * 1.0  # a new array
    other.fill_(7.0)
    x.detach()[0] = 5.0  # before the gate below is recorded
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [10.0, 4.0, 6.0])


def test_the_version_belongs_to_the_memory():
    x = leaf([1.0, 2.0])
    before = x._version
    x.detach().fill_(0.0)
    assert x._version > before and x.detach()._version == x._version


# ----- grad-mode switches ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "switch, flag", [(cr.no_grad, "enabled"), (cr.enable_grad, "enabled"), (cr.detect_anomaly, "anomaly")]
)
def test_a_decorated_function_that_calls_itself_restores_the_mode(switch, flag):
    @switch()
    def countdown(n):
        return 0 if n == 0 else countdown(n - 1) + 1

    before = getattr(GradMode, flag)
    assert countdown(3) == 3
    assert getattr(GradMode, flag) == before
    with cr.no_grad():
        countdown(2)
        assert GradMode.enabled is False
    assert GradMode.enabled is True


def test_one_switch_object_nested_in_itself_restores_each_level():
    switch = cr.no_grad()
    with switch:
        with cr.enable_grad():
            with switch:
                assert not cr.is_grad_enabled()
            assert cr.is_grad_enabled()
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


# ----- NumPy's copy semantics ---------------------------------------------------------------------------
def test_np_array_is_a_snapshot_and_np_asarray_a_view():
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    snapshot, view = np.array(w), np.asarray(w)
    (w * 3.0).sum().backward()
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(snapshot, [1.0, 2.0])
    np.testing.assert_array_equal(view, [-0.5, 0.5])
    assert np.shares_memory(w.numpy(), w.data)  # .numpy() shares, as in PyTorch
    with pytest.raises(ValueError, match="converting a float64 tensor to float32 needs a copy, but copy=False"):
        w.__array__(np.float32, copy=False)
    assert np.asarray(w, dtype=np.float32).dtype == np.float32


# ----- optimizers after backward(create_graph=True) ---------------------------------------------------
@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.1)])
def test_optimizers_step_after_a_create_graph_backward(make):
    w = leaf([1.0, -2.0])
    (w**3).sum().backward(create_graph=True)
    assert isinstance(w.grad, cr.Tensor)
    expected = leaf([1.0, -2.0])
    expected.grad = 3 * expected.data**2
    make([w]).step()
    make([expected]).step()
    np.testing.assert_allclose(w.data, expected.data)


# ----- randomness ---------------------------------------------------------------------------------------------
def test_dropout_layers_repeat_after_manual_seed():
    x = cr.tensor(np.ones((8, 16), dtype=np.float32))
    runs = []
    for _ in range(2):
        cr.manual_seed(3)
        layer = nn.Dropout(0.5)
        runs.append([layer(x).data, nn.functional.dropout(x, 0.5).data])
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


# ----- integer promotion -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["erf", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "softplus", "gelu"])
def test_floating_functions_promote_integers_to_float32(name):
    x = cr.tensor(np.array([1, 2, 3]))
    out = getattr(x, name)()
    assert out.dtype == np.float32
    expected = {"erf": [0.8427, 0.9953, 1.0]}.get(name)
    if expected is not None:
        np.testing.assert_allclose(out.data, expected, atol=1e-4)


# ----- gate constants ----------------------------------------------------------------------------------------
class Shift(Gate):
    def forward(self, x):
        return x + self.amount

    def backward(self, grad, out, x):
        return grad


@pytest.mark.parametrize("field", ["inputs", "name", "sequence", "backward"])
def test_a_constant_may_not_replace_an_engine_field(field):
    with pytest.raises(TypeError, match=rf"Shift.apply: the constant {field}= would replace the engine's own field"):
        Shift.apply(leaf([1.0]), **{field: 1.0})


def test_constants_are_the_gates_attributes():
    out = Shift.apply(leaf([1.0]), amount=2.0)
    assert out.gate.amount == 2.0 and out.gate.name == "shift"


# ----- gradient ownership ----------------------------------------------------------------------------------
def _gate_classes():
    seen, stack = [], [Gate]
    while stack:
        for sub in stack.pop().__subclasses__():
            seen.append(sub)
            stack.append(sub)
    return seen


def _workload():
    """Every gate that claims fresh gradients, run forward and backward."""
    cr.manual_seed(0)
    x = leaf(np.random.default_rng(0).normal(size=(2, 3, 6, 6)))
    conv = nn.Conv2d(3, 4, 3, dtype=np.float64)
    h = nn.functional.max_pool2d(conv(x).relu(), 2)
    h = nn.functional.avg_pool2d(h.leaky_relu(0.1).elu(), 2, stride=1)
    flat = h.flatten(1)
    bn = nn.BatchNorm1d(flat.shape[1], dtype=np.float64)
    ln = nn.LayerNorm(flat.shape[1], dtype=np.float64)
    lin = nn.Linear(flat.shape[1], 5, dtype=np.float64)
    logits = lin(nn.functional.dropout(ln(bn(flat)), 0.2))
    y = np.array([1, 3])
    total = nn.functional.cross_entropy(logits, y) + logits.log_softmax(1).sum() + logits.softmax(1).max()
    total = total + logits.logsumexp(1).sum() + (logits[:, 0] ** 3 / (logits[:, 1].abs() + 1)).sum()
    p = logits.sigmoid()
    total = (
        total
        + nn.functional.binary_cross_entropy(p, np.ones_like(p.data))
        + nn.functional.binary_cross_entropy_with_logits(logits, np.zeros(logits.shape))
    )
    s = logits.sin() + logits.cos() + logits.abs() + logits.exp() * logits.sigmoid()
    s = s + (logits * logits + 1).sqrt() + logits.erf() + logits.softplus() + logits.clip(-1, 1) + logits.tanh()
    s = s + cr.maximum(logits, 0.5) + cr.minimum(logits, 0.5) + cr.where(logits.data > 0, logits, -logits)
    s = s + (logits ** cr.tensor(np.full(logits.shape, 2.0))) + (-logits) * 2 + 1 / (logits * logits + 1)
    s = s + logits.astype(np.float32).astype(np.float64) + logits.prod(1, keepdim=True) + logits[[0, 1, 1]].sum(0)
    s = s + logits.tile((1, 1)) + logits.repeat_interleave(1, dim=1) + logits @ np.eye(5) + logits.std(1, keepdim=True)
    kept = logits.relu()
    kept.retain_grad()  # its gradient is kept, so ReLU's backward (not the in-place one) runs
    s = s + kept + (logits.abs() + 1).log()
    emb = nn.Embedding(4, 5, dtype=np.float64)
    s = s + emb(np.array([0, 2]))
    sequence = logits[:, :4].reshape(2, 1, 4)  # (L, N, E): attention heads, and each recurrence
    s = s + nn.MultiheadAttention(4, 2, dtype=np.float64)(sequence, sequence, sequence)[0].sum()
    for layer in (nn.LSTM(4, 3, dtype=np.float64), nn.GRU(4, 3, dtype=np.float64), nn.RNN(4, 3, dtype=np.float64)):
        s = s + layer(sequence)[0].sum()
    # The window and resampling gates: transposed conv, copy padding, interpolation, pooling with indices.
    up = nn.functional.conv_transpose2d(x, np.random.default_rng(1).normal(size=(3, 2, 3, 3)), stride=2)
    up = nn.functional.interpolate(
        nn.functional.pad(up, (1, 1, 1, 1), mode="reflect"), scale_factor=1.5, mode="bilinear"
    )
    pooled, indices = nn.functional.max_pool2d(up, 2, return_indices=True)
    up = nn.functional.adaptive_max_pool2d(nn.functional.max_unpool2d(pooled, indices, 2), 5)
    return total + s.sum() + up.sum() + _more_elementwise(logits) + _indexing_and_scans(logits)


def _more_elementwise(x):
    F = nn.functional
    inside, positive = x.tanh() * 0.9, x * x + 1.5
    s = inside.asin() + inside.acos() + inside.atanh() + x.atan() + cr.atan2(x, x + 2) + x.sinh() + x.cosh()
    s = s + x.asinh() + positive.acosh() + inside.tan() + positive.rsqrt() + positive.log2() + positive.log10()
    s = s + x.exp2() + x.expm1() + positive.log1p() + cr.logaddexp(x, -x)
    s = s + x.floor() + x.ceil() + x.round() + x.trunc() + x.sign() + x % 0.7 + x.fmod(0.7) + x // 0.7
    s = s + F.hardtanh(x) + F.relu6(x) + F.hardsigmoid(x) + F.hardswish(x) + F.logsigmoid(x) + F.selu(x)
    return (s + x.clamp(min=cr.tensor(np.full(5, -0.5)))).sum()


def _indexing_and_scans(x):
    order = np.argsort(x.data, axis=1)
    s = x.cumsum(1) + x.cumprod(1) + x.logcumsumexp(1) + x.cummax(1).values + x.sort(1).values
    s = s + x.gather(1, order) + x.scatter(1, order[:, :2], x[:, :2] * 2) + x.scatter_add(1, order, x)
    for reduce in ("sum", "prod", "mean", "amax"):
        s = s + x.scatter_reduce(1, order % 2, x, reduce)
    return (s + x.max(1).values[:, None]).sum()


def test_every_gate_that_claims_fresh_gradients_returns_memory_nothing_else_holds(monkeypatch):
    checked = set()

    def checking(cls, backward):
        def run(self, grad, out, *inputs):
            grads = backward(self, grad, out, *inputs)
            results = grads if isinstance(grads, tuple) else (grads,)
            arrays = [g for g in results if isinstance(g, np.ndarray)]
            # A gate with several outputs gets a tuple of upstream gradients and one of outputs.
            upstream = [
                a
                for a in (grad if isinstance(grad, tuple) else (grad,)) + (out if isinstance(out, tuple) else (out,))
                if isinstance(a, np.ndarray)
            ]
            held = upstream + list(inputs) + [v for v in vars(self).values() if isinstance(v, np.ndarray)]
            for i, g in enumerate(arrays):
                assert not any(np.shares_memory(g, h) for h in held), f"{cls.__name__} returned held memory"
                assert not any(np.shares_memory(g, other) for other in arrays[i + 1 :]), cls.__name__
            checked.add(cls)
            return grads

        return run

    claiming = [cls for cls in _gate_classes() if cls.fresh_gradients]
    for cls in claiming:
        if "backward" in vars(cls):
            monkeypatch.setattr(cls, "backward", checking(cls, vars(cls)["backward"]))
    _workload().backward()
    unchecked = {cls.__name__ for cls in claiming if "backward" in vars(cls)} - {cls.__name__ for cls in checked}
    # All but Im2Col run only under create_graph (ScatterAddAlong is gather's gradient as a gate).
    assert unchecked <= {"Im2Col", "Col2Im", "AvgPool2dSpread", "CopyPadFold", "ScatterAddAlong"}, unchecked


def test_relu_still_writes_in_place_after_a_product():
    from chainrule.gates.elementwise import Relu

    calls = []
    original = Relu.backward_in_place
    Relu.backward_in_place = lambda self, g, out, x: calls.append(1) or original(self, g, out, x)
    try:
        x, w1, w2 = leaf(np.ones((4, 3))), leaf(np.ones((3, 5))), leaf(np.ones((5, 2)))
        ((x @ w1).relu() @ w2).sum().backward()
    finally:
        Relu.backward_in_place = original
    assert calls == [1]


# ----- gates with several outputs --------------------------------------------------------------------------
class SortRows(Gate):
    """Values sorted along the last axis, and the indices that sort them."""

    def forward(self, x):
        self.order = np.argsort(x, axis=-1, kind="stable")
        return np.take_along_axis(x, self.order, -1), self.order

    def backward(self, grads, outs, x):
        g = grads[0]
        if g is None:
            return None
        if isinstance(g, cr.Tensor):
            return cr.tensor(np.zeros(x.shape)) + g[np.arange(x.shape[0])[:, None], np.argsort(self.order, -1)]
        result = np.zeros(x.shape, dtype=g.dtype)
        np.put_along_axis(result, self.order, g, -1)
        return result


def test_a_gate_with_several_outputs():
    x = leaf([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    values, indices = SortRows.apply(x)
    assert values.gate is not None and values.requires_grad
    assert indices.requires_grad is False and indices.gate is None and indices.dtype.kind == "i"
    weights = np.array([1.0, 10.0, 100.0])
    (values * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, [[100.0, 1.0, 10.0], [10.0, 100.0, 1.0]])
    assert cr.gradcheck(lambda t: SortRows.apply(t)[0] * weights, [leaf([[0.3, -0.1, 0.7]])])
    assert cr.gradgradcheck(lambda t: SortRows.apply(t)[0] ** 2, [leaf([[0.3, -0.1, 0.7]])])


class SplitHalves(Gate):
    """Two float outputs: the first and second half of a 1-d input."""

    def forward(self, x):
        n = len(x) // 2
        return x[:n] * 1.0, x[n:] * 1.0

    def backward(self, grads, outs, x):
        n = len(x) // 2
        parts = [g if g is not None else np.zeros(n) for g in grads]
        return np.concatenate(parts)


def test_each_output_has_its_own_gradient_and_unused_ones_get_none():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    first, second = SplitHalves.apply(x)
    second.retain_grad()
    (first * 2.0 + second * 3.0 + first * second).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0 + 3.0, 2.0 + 4.0, 3.0 + 1.0, 3.0 + 2.0])
    np.testing.assert_array_equal(second.grad, [4.0, 5.0])
    y = leaf([1.0, 2.0, 3.0, 4.0])
    only_second = SplitHalves.apply(y)[1]  # the first output is dropped at once
    (only_second * 7.0).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 7.0, 7.0])


# ----- once-differentiable gates ------------------------------------------------------------------------
class CubeOnArrays(Gate):
    once_differentiable = True

    def forward(self, x):
        return x**3

    def backward(self, grad, out, x):
        return grad * 3 * np.asarray(x) ** 2  # arrays only


def test_a_once_differentiable_gate_gives_first_derivatives_and_refuses_second():
    x = leaf([1.0, 2.0])
    (g,) = cr.grad(CubeOnArrays.apply(x).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    with pytest.raises(RuntimeError, match=r"the 'cubeonarrays' gate is once differentiable.*second derivatives"):
        g.sum().backward()


# ----- post-accumulate grad hooks -------------------------------------------------------------------------
def test_post_accumulate_hooks_run_once_when_the_leaf_is_final_while_backward_goes_on():
    events = []
    x = leaf(np.ones((2, 3)))
    w1, w2 = leaf(np.full((3, 4), 0.5)), leaf(np.full((4, 1), 2.0))
    w2.register_post_accumulate_grad_hook(lambda t: events.append(("w2", t.grad.copy())))
    w1.register_post_accumulate_grad_hook(lambda t: events.append(("w1", t.grad.copy())))
    h = x @ w1
    h.register_hook(lambda g: events.append(("h", None)))
    (h @ w2 + h.sum() * 0.0).sum().backward()  # h fans out: its gradient is complete only after both uses
    names = [name for name, _ in events]
    assert names == ["w2", "h", "w1"]  # w2 finished before the walk reached h
    np.testing.assert_array_equal(events[0][1], w2.grad)
    np.testing.assert_array_equal(events[2][1], w1.grad)


def test_post_accumulate_hook_sees_all_uses_of_a_leaf_and_can_be_removed():
    seen = []
    w = leaf([1.0, 2.0])
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    (w * w + w * 3.0).sum().backward()
    np.testing.assert_array_equal(seen[-1], 2 * w.data + 3)
    handle.remove()
    (w * 1.0).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="register_post_accumulate_grad_hook: only a leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda t: None)
