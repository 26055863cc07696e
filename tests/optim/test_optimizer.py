"""What every optimizer shares: stepping rules, zero_grad, dtypes, checkpoints and errors."""

import numpy as np
import pytest

from chainrule import optim
from chainrule.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from chainrule.tensor import Tensor

# Every optimizer, with options that switch on all of its state buffers.
EVERY_OPTIMIZER = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01, amsgrad=True)),
    (RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]
ids = [cls.__name__ for cls, _ in EVERY_OPTIMIZER]


def param(shape=(3, 4), dtype=np.float64, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def set_random_grads(params, rng):
    for p in params:
        p.grad = rng.standard_normal(p.data.shape).astype(p.data.dtype)


# ----- stepping -----------------------------------------------------------------------
@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_step_works_in_place_and_bumps_the_version(cls, options):
    p = param()
    array, version = p.data, p._version
    opt = cls([p], **options)
    set_random_grads([p], np.random.default_rng(1))
    before = p.data.copy()
    opt.step()
    assert p.data is array  # views of the weights stay valid
    assert not np.array_equal(p.data, before)
    assert p._version > version


@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_parameters_without_a_gradient_are_left_alone(cls, options):
    a, b = param(seed=1), param(seed=2)
    opt = cls([a, b], **options)
    a.grad = np.ones_like(a.data)
    b_before, b_version = b.data.copy(), b._version
    opt.step()
    np.testing.assert_array_equal(b.data, b_before)
    assert b._version == b_version
    assert b not in opt.state


@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_gradients_are_never_written(cls, options):
    # Two parameters share one gradient array: a step must not change it.
    a, b = param(seed=1), param(seed=2)
    shared = np.random.default_rng(3).standard_normal(a.data.shape)
    a.grad = b.grad = shared
    copy = shared.copy()
    opt = cls([a, b], **options)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared, copy)
    assert a.grad is shared and b.grad is shared


@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_float32_stays_float32(cls, options):
    p = param(dtype=np.float32)
    opt = cls([p], **options)
    rng = np.random.default_rng(1)
    for _ in range(3):
        set_random_grads([p], rng)
        opt.step()
    assert p.data.dtype == np.float32
    for key, value in opt.state[p].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_float32_follows_float64_closely(cls, options):
    p32, p64 = param(dtype=np.float32), param(dtype=np.float64)
    opt32, opt64 = cls([p32], **options), cls([p64], **options)
    rng = np.random.default_rng(1)
    for _ in range(5):
        g = rng.standard_normal(p64.data.shape)
        p32.grad, p64.grad = g.astype(np.float32), g
        opt32.step()
        opt64.step()
    np.testing.assert_allclose(p32.data, p64.data, rtol=1e-4, atol=1e-5)


def test_step_returns_the_closures_loss():
    p = param()
    p.grad = np.ones_like(p.data)
    calls = []
    loss = SGD([p], lr=0.1).step(lambda: calls.append(1) or 42.0)
    assert loss == 42.0 and calls == [1]
    assert SGD([p], lr=0.1).step() is None


def test_zero_grad_sets_gradients_to_none():
    a, b = param(seed=1), param(seed=2)
    opt = SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = np.ones_like(a.data), np.ones_like(b.data)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_without_none_gives_fresh_zeros():
    p = param()
    old = np.ones_like(p.data)
    p.grad = old
    SGD([p], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros_like(p.data))
    assert p.grad is not old and np.all(old == 1)  # the old array may be shared: left alone


def test_params_can_be_any_iterable_and_groups_can_hold_a_single_parameter():
    a, b = param(seed=1), param(seed=2)
    assert SGD((p for p in [a, b]), lr=0.1).param_groups[0]["params"] == [a, b]
    assert SGD([{"params": a}], lr=0.1).param_groups[0]["params"] == [a]


def test_base_class_needs_an_update_rule():
    p = param()
    p.grad = np.ones_like(p.data)
    with pytest.raises(NotImplementedError, match="Optimizer must implement _update"):
        Optimizer([p], {}).step()


def test_repr_lists_the_groups():
    text = repr(SGD([param()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ----- checkpoints ------------------------------------------------------------------------
def train(opt, params, rng, steps):
    for _ in range(steps):
        set_random_grads(params, rng)
        opt.step()


@pytest.mark.parametrize("cls, options", EVERY_OPTIMIZER, ids=ids)
def test_resuming_from_a_state_dict_matches_uninterrupted_training(cls, options):
    make_params = lambda: [param((3, 4), seed=1), param((5,), seed=2), param((2, 2), seed=3)]  # noqa: E731

    # Uninterrupted: 3 steps, then 4 more.
    params = make_params()
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], **options)
    rng = np.random.default_rng(7)
    train(opt, params, rng, 3)
    saved_state = opt.state_dict()
    saved_weights = [p.data.copy() for p in params]
    rng_state = rng.bit_generator.state
    train(opt, params, rng, 4)

    # Interrupted: a fresh model and optimizer, loaded from the snapshot, then the same 4 steps.
    resumed = make_params()
    for p, w in zip(resumed, saved_weights):
        p.data[...] = w
    opt2 = cls([{"params": resumed[:2]}, {"params": resumed[2:], "lr": 0.05}], **options)
    opt2.load_state_dict(saved_state)
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = rng_state
    train(opt2, resumed, rng2, 4)

    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_refers_to_parameters_by_index():
    a, b, c = param(seed=1), param((2,), seed=2), param(seed=3)
    opt = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.grad, c.grad = np.ones_like(a.data), np.ones_like(c.data)  # b has no gradient: no state
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, params=[0, 1]),
        dict(lr=0.5, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, params=[2]),
    ]
    assert sorted(sd["state"]) == [0, 2]
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], np.ones_like(a.data))


def test_a_saved_state_dict_does_not_change_with_later_steps():
    p = param()
    opt = Adam([p])
    p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)
    assert sd["state"][0]["step"] == 1


def test_load_state_dict_restores_group_options():
    p, q = param(), param()
    opt = SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = 0.01
    other = SGD([q], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.01
    assert other.param_groups[0]["params"] == [q]


def test_load_state_dict_casts_state_to_the_parameters_dtype():
    p64, p32 = param(), param(dtype=np.float32)
    opt = Adam([p64])
    p64.grad = np.ones_like(p64.data)
    opt.step()
    opt32 = Adam([p32])
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32]["exp_avg"].dtype == np.float32


def _stepped_adam(*shapes):
    params = [param(shape, seed=i) for i, shape in enumerate(shapes)]
    opt = Adam(params)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    return opt


def test_load_state_dict_checks_the_number_of_groups():
    sd = _stepped_adam((3,)).state_dict()
    a, b = param((3,), seed=1), param((3,), seed=2)
    message = r"Adam: the state dict has 1 parameter group\(s\), but this optimizer has 2"
    with pytest.raises(ValueError, match=message):
        Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)


def test_load_state_dict_checks_group_sizes():
    sd = _stepped_adam((3,), (3,)).state_dict()
    message = r"Adam: parameter group 0 has 2 parameter\(s\) in the state dict, but 1 here"
    with pytest.raises(ValueError, match=message):
        Adam([param((3,))]).load_state_dict(sd)


def test_load_state_dict_checks_shapes_and_changes_nothing_on_error():
    sd = _stepped_adam((3,), (4,)).state_dict()
    a, b = param((3,), seed=1), param((5,), seed=2)
    opt = Adam([a, b], lr=0.5)
    with pytest.raises(
        ValueError,
        match=r"Adam: state 'exp_avg' of parameter 1 has shape \(4,\), "
        r"but the parameter has shape \(5,\)",
    ):
        opt.load_state_dict(sd)
    assert opt.state == {} and opt.param_groups[0]["lr"] == 0.5


def test_load_state_dict_rejects_something_else():
    with pytest.raises(ValueError, match="SGD: expected a dict with 'state' and 'param_groups'"):
        SGD([param()], lr=0.1).load_state_dict({"lr": 0.1})


def test_load_state_dict_rejects_state_for_an_unknown_parameter():
    sd = _stepped_adam((3,)).state_dict()
    sd["state"][5] = sd["state"].pop(0)
    with pytest.raises(ValueError, match="Adam: the state dict has state for parameter 5"):
        Adam([param((3,))]).load_state_dict(sd)


# ----- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD(p, lr=-0.1), "SGD: learning rate must be positive, got -0.1"),
        (lambda p: SGD(p, lr=0), "SGD: learning rate must be positive, got 0"),
        (lambda p: SGD(p, lr="0.1"), "SGD: learning rate must be a number, got '0.1'"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "SGD: momentum must be non-negative, got -0.5"),
        (lambda p: SGD(p, lr=0.1, dampening=-1), "SGD: dampening must be non-negative, got -1"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-0.01), "SGD: weight_decay must be non-negative, got -0.01"),
        (
            lambda p: SGD(p, lr=0.1, nesterov=True),
            "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum=0, dampening=0",
        ),
        (
            lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
        ),
        (lambda p: Adam(p, lr=-1), "Adam: learning rate must be positive, got -1"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\), got -0.1"),
        (lambda p: Adam(p, betas=0.9), r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
        (lambda p: Adam(p, eps=-1e-8), "Adam: eps must be non-negative, got -1e-08"),
        (lambda p: Adam(p, weight_decay=-1), "Adam: weight_decay must be non-negative, got -1"),
        (lambda p: AdamW(p, betas=(0.9, 1.5)), r"AdamW: betas\[1\] must be in \[0, 1\), got 1.5"),
        (lambda p: AdamW(p, weight_decay=-0.01), "AdamW: weight_decay must be non-negative, got -0.01"),
        (lambda p: RMSprop(p, lr=-0.01), "RMSprop: learning rate must be positive, got -0.01"),
        (lambda p: RMSprop(p, alpha=-0.5), "RMSprop: alpha must be non-negative, got -0.5"),
        (lambda p: RMSprop(p, eps=-1.0), "RMSprop: eps must be non-negative, got -1.0"),
        (lambda p: RMSprop(p, momentum=-0.9), "RMSprop: momentum must be non-negative, got -0.9"),
        (lambda p: RMSprop(p, weight_decay=-2), "RMSprop: weight_decay must be non-negative, got -2"),
        (lambda p: Adagrad(p, lr=-0.01), "Adagrad: learning rate must be positive, got -0.01"),
        (lambda p: Adagrad(p, lr_decay=-0.1), "Adagrad: lr_decay must be non-negative, got -0.1"),
        (
            lambda p: Adagrad(p, initial_accumulator_value=-1),
            "Adagrad: initial_accumulator_value must be non-negative, got -1",
        ),
        (lambda p: Adagrad(p, eps=-1e-10), "Adagrad: eps must be non-negative, got -1e-10"),
        (lambda p: Adagrad(p, weight_decay=-1), "Adagrad: weight_decay must be non-negative, got -1"),
        # A group's own options are checked too.
        (lambda p: SGD([{"params": p, "lr": -0.5}], lr=0.1), "SGD: learning rate must be positive, got -0.5"),
        (lambda p: Adam([{"params": p, "betas": (0.9, 2)}]), r"Adam: betas\[1\] must be in \[0, 1\), got 2"),
    ],
)
def test_bad_options_are_named_with_their_value(make, message):
    with pytest.raises(ValueError, match=message):
        make([param()])


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_an_empty_parameter_list_is_an_error(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: got an empty parameter list"):
        cls([], lr=0.1)


def test_a_parameter_listed_twice_is_an_error():
    p = param()
    with pytest.raises(ValueError, match=r"SGD: parameter 1 of group 0 \(shape \(3, 4\)\) appears twice"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: parameter 0 of group 1 \(shape \(3, 4\)\) appears twice"):
        Adam([{"params": [p]}, {"params": [p]}])
    opt = SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="SGD: parameter 0 of group 1 .* appears twice"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


def test_params_must_be_an_ordered_iterable_of_parameters_or_groups():
    p = param()
    with pytest.raises(TypeError, match="SGD: params must be an iterable .* got a single Tensor; wrap it"):
        SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="SGD: params must have a fixed order .* got a set"):
        SGD({p}, lr=0.1)
    with pytest.raises(TypeError, match="SGD: params mixes parameters and dicts"):
        SGD([p, {"params": [param(seed=1)]}], lr=0.1)
    with pytest.raises(TypeError, match=r"SGD: expected parameters \(objects with .data and .grad\), got ndarray"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="SGD: a parameter group needs a 'params' entry"):
        SGD([{"lr": 0.1}], lr=0.1)


def test_only_floating_point_leaf_tensors_can_be_optimized():
    with pytest.raises(TypeError, match=r"Adam: can only optimize floating-point parameters, got dtype int64"):
        Adam([Tensor(np.arange(3))])
    p = param()
    with pytest.raises(ValueError, match="Adam: can't optimize a non-leaf tensor"):
        Adam([p * 2.0])


def test_a_state_dict_survives_a_safe_checkpoint_file(tmp_path):
    pytest.importorskip("safetensors")
    io = pytest.importorskip("chainrule.io")
    p = param(dtype=np.float32)
    opt = Adam([p], amsgrad=True)
    scheduler = optim.CosineAnnealingLR(opt, T_max=10)
    train(opt, [p], np.random.default_rng(0), 2)
    scheduler.step()
    io.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "ckpt")
    loaded = io.load(tmp_path / "ckpt")

    q = param(dtype=np.float32)
    opt2 = Adam([q], amsgrad=True)
    opt2.load_state_dict(loaded["optimizer"])
    scheduler2 = optim.CosineAnnealingLR(opt2, T_max=10)
    scheduler2.load_state_dict(loaded["scheduler"])
    assert opt2.param_groups == [{**opt.param_groups[0], "params": [q]}]
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()
    for key, value in opt.state[p].items():
        np.testing.assert_array_equal(opt2.state[q][key], value)


# ----- writing a new optimizer ------------------------------------------------------------
class SignSGD(Optimizer):
    """A new rule needs only ``_update``: p = p - lr * sign(g + weight_decay * p)."""

    def __init__(self, params, lr, weight_decay=0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def _update(self, p, grad, state, group):
        step = self._buffer(p, "step")
        np.sign(self._with_weight_decay(p, grad, group), out=step)
        step *= group["lr"]
        p.data -= step


def test_a_subclass_gets_groups_checks_and_weight_decay_for_free():
    p = param((2,))
    p.data[...] = [1.0, -2.0]
    opt = SignSGD([p], lr=0.5, weight_decay=10.0)
    p.grad = np.array([-3.0, 4.0])  # + 10 * p = [7, -16]: the decay flips both signs
    opt.step()
    np.testing.assert_array_equal(p.data, [0.5, -1.5])
    with pytest.raises(ValueError, match="SignSGD: learning rate must be positive, got -1"):
        SignSGD([p], lr=-1)
