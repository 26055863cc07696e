"""Module mechanics: registration, names, state_dict, modes, casting, containers, repr."""

import copy
import pickle

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.scope import Annotations, running


class MLP(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Normed(nn.Module):
    """Parameters, buffers, dropout and batch norm, nested in a Sequential."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(6, 2)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def batch(n=5, features=4, seed=0):
    return chainrule.tensor(np.random.default_rng(seed).standard_normal((n, features)).astype(np.float32))


# ----- registration and names ---------------------------------------------------------------
def test_parameters_modules_and_buffers_are_registered_by_assignment():
    model = Normed()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert [name for name, _ in model.named_buffers()] == [
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
    ]
    assert [name for name, _ in model.named_children()] == ["body", "head"]
    assert [name for name, _ in model.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "body.3", "head"]
    assert len(list(model.modules())) == 7
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert not any(isinstance(b, chainrule.Tensor) for b in model.buffers())


def test_parameter_is_a_tensor_that_says_parameter():
    p = nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    assert isinstance(p, chainrule.Tensor) and p.requires_grad
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert type(p * 2) is chainrule.Tensor  # operations give ordinary tensors


def test_parameter_names_become_dotted_names_seen_from_the_root():
    model = MLP()
    assert model.fc1.weight.name == "weight"  # the local name, on assignment
    dict(model.named_parameters())
    assert model.fc1.weight.name == "fc1.weight" and model.fc2.bias.name == "fc2.bias"
    dict(model.fc1.named_parameters())  # asking a sub-module does not shorten them
    assert model.fc1.weight.name == "fc1.weight"
    custom = nn.Parameter(np.ones(3, dtype=np.float32), name="W")
    model.extra = custom
    dict(model.named_parameters())
    assert custom.name == "W"  # a name of the user's own is kept
    assert model.fc1._path == "fc1" and model._path == ""


def test_shared_parameters_and_modules_appear_once_in_parameters():
    model = MLP()
    model.tied = model.fc1  # the same layer under two names
    model.fc2.weight = nn.Parameter(np.zeros((3, 8), dtype=np.float32))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert model.num_parameters() == 4 * 8 + 8 + 8 * 3 + 3
    assert "tied.weight" in model.state_dict()  # like PyTorch, the state_dict has both names


def test_reassigning_and_deleting_update_the_registries():
    model = MLP()
    model.fc2 = nn.Identity()
    assert [n for n, _ in model.named_parameters()] == ["fc1.weight", "fc1.bias"]
    model.fc1.bias = None
    assert "fc1.bias" not in model.state_dict() and model.fc1.bias is None
    del model.fc1
    assert list(model.state_dict()) == []
    model.note = "plain attributes stay plain"
    assert "note" not in model._parameters and model.note == "plain attributes stay plain"


def test_register_buffer_and_parameter_checks():
    module = nn.Module()
    module.register_buffer("stats", np.zeros(3))
    module.register_buffer("scratch", np.zeros(3), persistent=False)
    assert list(module.state_dict()) == ["stats"]
    assert [n for n, _ in module.named_buffers()] == ["stats", "scratch"]
    module.stats = np.ones(3)  # reassigning keeps it registered
    assert module.state_dict()["stats"].tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="buffer 'stats'; expected a NumPy array"):
        module.stats = chainrule.tensor([1.0])
    with pytest.raises(TypeError, match="register_parameter: 'w' must be a Parameter or None, got Tensor"):
        module.register_parameter("w", chainrule.tensor([1.0], requires_grad=True))
    with pytest.raises(KeyError, match="contain no '.'"):
        module.register_buffer("a.b", np.zeros(1))
    with pytest.raises(KeyError, match="an attribute of that name already exists"):
        module.register_buffer("training", np.zeros(1))


def test_assigning_a_tensor_to_a_parameter_slot_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"Linear: cannot assign a Tensor to parameter 'weight'.*nn.Parameter"):
        layer.weight = chainrule.tensor(np.zeros((2, 2)))


def test_forgetting_super_init_gives_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Broken: cannot assign sub-module 'fc' before Module.__init__"):
        Broken()


# ----- calling ------------------------------------------------------------------------------
def test_call_runs_forward_and_pushes_the_module_stack():
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append(list(running.modules))
            return x

    outer = nn.Sequential(Spy())
    outer(1.0)
    assert seen == [[outer, outer[0]]]
    assert running.modules == []


def test_module_stack_is_popped_when_forward_raises():
    with pytest.raises(ValueError):
        nn.Linear(3, 2)(batch(features=5))
    assert running.modules == [] and Annotations.open == 0
    assert (batch().requires_grad_() * 2.0).gate.module_path is None  # plain tensor code after it: no module


def test_a_module_running_in_one_thread_annotates_only_that_threads_gates():
    import threading

    inside, done = threading.Event(), threading.Event()

    class Waits(nn.Module):
        def forward(self, x):
            inside.set()
            done.wait(5)
            return x * 2.0

    thread = threading.Thread(target=lambda: Waits()(batch()))
    thread.start()
    inside.wait(5)
    plain = batch().requires_grad_() * 2.0  # recorded here while the other thread is inside a module's forward
    done.set()
    thread.join(5)
    assert plain.gate.module_path is None and Annotations.open == 0


def test_gates_recorded_in_a_module_know_it():
    model = MLP()
    out = model(batch())
    assert out.gate.module_path[0] is model
    assert out.gate.module_path[-1] is model.fc2


def test_forward_hooks_see_inputs_and_outputs_and_can_be_removed():
    model, seen = MLP(), []
    handle = model.fc1.register_forward_hook(lambda module, args, out: seen.append((module, out.shape)))
    model(batch())
    handle.remove()
    model(batch())
    assert seen == [(model.fc1, (5, 8))]


def test_missing_forward_names_the_class():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward has no forward"):
        NoForward()(1)


# ----- state_dict -----------------------------------------------------------------------------
def test_state_dict_round_trip_gives_identical_outputs():
    source, target = Normed(), Normed()
    source(batch(8))  # moves the running statistics away from their initial values
    source.eval()
    target.eval()
    x = batch(4, seed=1)
    assert not np.allclose(source(x).data, target(x).data)
    state = source.state_dict()
    assert list(state) == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.1.weight",
        "body.1.bias",
        "body.1.running_mean",
        "body.1.running_var",
        "body.1.num_batches_tracked",
        "head.weight",
        "head.bias",
    ]
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(source(x).data, target(x).data)
    assert int(target.body[1].num_batches_tracked) == 1


def test_state_dict_holds_copies_and_loading_copies_in_place():
    model = MLP()
    state = model.state_dict()
    state["fc1.weight"][...] = 7
    assert not np.any(model.fc1.weight.data == 7)
    weight_array, version = model.fc1.weight.data, model.fc1.weight._version
    model.load_state_dict(state)
    assert model.fc1.weight.data is weight_array and np.all(weight_array == 7)
    assert model.fc1.weight._version > version


def test_loading_accepts_tensors_and_casts_to_the_model_dtype():
    model = MLP()
    state = {k: chainrule.tensor(v.astype(np.float64)) for k, v in MLP().state_dict().items()}
    model.load_state_dict(state)
    assert model.fc1.weight.dtype == np.float32
    np.testing.assert_allclose(model.fc1.weight.data, state["fc1.weight"].data.astype(np.float32))


def test_strict_loading_lists_missing_and_unexpected_keys_and_loads_nothing():
    model = MLP()
    before = model.fc1.weight.data.copy()
    state = model.state_dict()
    state["fc1.weight"] = state["fc1.weight"] + 1
    del state["fc2.bias"]
    state["fc3.weight"] = np.zeros(2)
    with pytest.raises(
        RuntimeError,
        match=r"MLP.load_state_dict: missing keys .*\['fc2.bias'\]; "
        r"unexpected keys .*\['fc3.weight'\].*Nothing was loaded",
    ):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.fc1.weight.data, before)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["fc2.bias"] and unexpected == ["fc3.weight"]
    np.testing.assert_array_equal(model.fc1.weight.data, before + 1)


def test_loading_wrong_shapes_fails_even_when_not_strict():
    model = MLP()
    state = MLP(hidden=5).state_dict()
    with pytest.raises(
        RuntimeError,
        match=r"shape mismatch for 'fc1.weight': the checkpoint has \(5, 4\), "
        r"the model has \(8, 4\)",
    ):
        model.load_state_dict(state, strict=False)
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        model.load_state_dict([1, 2])


def test_non_persistent_buffers_are_not_saved():
    module = nn.Module()
    module.register_buffer("cache", np.zeros(2), persistent=False)
    assert module.state_dict() == {}
    module.load_state_dict({})


# ----- modes, gradients, dtypes ---------------------------------------------------------------
def test_train_and_eval_switch_every_module_and_change_behaviour():
    model = Normed()
    x = batch(16)
    assert model.training and model.body[3].training
    model.eval()
    assert not any(m.training for m in model.modules())
    np.testing.assert_array_equal(model(x).data, model(x).data)  # deterministic in eval
    running = model.body[1].running_mean.copy()
    model(x)
    np.testing.assert_array_equal(model.body[1].running_mean, running)  # eval does not update statistics
    assert model.train() is model and all(m.training for m in model.modules())
    assert not np.array_equal(model(x).data, model(x).data)  # dropout draws new masks
    assert not np.array_equal(model.body[1].running_mean, running)
    with pytest.raises(TypeError, match="mode must be True or False"):
        model.train("no")


def test_zero_grad_clears_every_gradient():
    model = MLP()
    model(batch()).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_parameters():
    model = MLP()
    model.fc1.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 8 * 3 + 3
    model(batch()).sum().backward()
    assert model.fc1.weight.grad is None and model.fc2.weight.grad is not None


def test_double_and_float_cast_parameters_gradients_and_float_buffers():
    model = Normed()
    model(batch(8)).sum().backward()
    assert model.double() is model
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert model.body[1].running_var.dtype == np.float64
    assert model.body[1].num_batches_tracked.dtype == np.int64  # integer buffers stay integers
    assert model(batch(8).astype(np.float64)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.to("cpu") is model
    with pytest.raises(TypeError, match="parameters must stay floating point"):
        model.to(np.int32)


def test_apply_visits_every_module_children_first():
    model, order = MLP(), []
    model.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "ReLU", "Linear", "MLP"]

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(init_weights)
    assert np.all(model.fc1.weight.data == 0)


def test_deepcopy_and_pickle_keep_the_model_working():
    model = MLP()
    x = batch()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(clone(x).data, model(x).data)
        assert clone.fc1.weight is not model.fc1.weight
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


def test_get_submodule():
    model = Normed()
    assert model.get_submodule("body.1") is model.body[1]
    assert model.get_submodule("") is model
    with pytest.raises(AttributeError, match="no sub-module 'x'"):
        model.get_submodule("body.x")


# ----- containers -----------------------------------------------------------------------------
def test_sequential_indexing_slicing_appending():
    seq = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[0].out_features == 5
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and head[0] is seq[0]
    assert head(batch()).shape == (5, 5)
    seq.append(nn.Sigmoid())
    assert seq(batch()).shape == (5, 2) and np.all(seq(batch()).data > 0)
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError, match="Sequential: index 9 is out of range for 4 modules"):
        seq[9]
    with pytest.raises(TypeError, match="argument 1 must be a Module, got int"):
        nn.Sequential(nn.ReLU(), 3)


def test_sequential_from_an_ordered_dict_keeps_the_names():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(4, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]


def test_module_list_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
            self.layers.append(nn.Linear(4, 1))
            self.layers.extend([nn.Sigmoid()])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Stack()
    assert len(model.layers) == 4 and isinstance(model.layers[-1], nn.Sigmoid)
    assert len(list(model.parameters())) == 6
    assert "layers.2.bias" in model.state_dict()
    assert model(batch()).shape == (5, 1)
    assert isinstance(model.layers[1:], nn.ModuleList) and len(model.layers[1:]) == 3
    with pytest.raises(TypeError, match="ModuleList.append: expected a Module, got list"):
        model.layers.append([])
    with pytest.raises(NotImplementedError, match="iterate over it"):
        model.layers(batch())


# ----- printing -------------------------------------------------------------------------------
def test_repr_is_pytorch_like_with_parameter_counts():
    assert repr(nn.Linear(784, 256)) == "Linear(in_features=784, out_features=256, bias=True)"
    text = repr(nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10, bias=False)))
    assert text == (
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=784, out_features=256, bias=True)  # 200,960 params\n"
        "  (2): ReLU()\n"
        "  (3): Linear(in_features=256, out_features=10, bias=False)  # 2,560 params\n"
        ")  # 203,520 params"
    )
    nested = repr(Normed())
    assert "  (body): Sequential(\n    (0): Linear(in_features=4, out_features=6, bias=True)  # 30 params" in nested
    assert "    (1): BatchNorm1d(6, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)" in nested
    assert "    (3): Dropout(p=0.5, inplace=False)\n  )  # 42 params\n" in nested
    assert nested.endswith(")  # 57 params")


def test_summary_lists_parameters_and_totals():
    model = MLP()
    model.fc1.requires_grad_(False)
    text = model.summary()
    lines = text.splitlines()
    assert lines[0].split() == ["parameter", "shape", "count", "trained"]
    assert lines[1].split() == ["fc1.weight", "(8,", "4)", "32", "no"]
    assert lines[-1] == "total: 67 parameters (27 trainable)"


def test_to_takes_a_device_a_dtype_or_both_as_pytorch():
    import chainrule as cr

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    assert model.to(device) is model and model.cpu() is model and model.to("cpu").to(device=device) is model
    assert model[0].weight.dtype == np.float32
    model.to(device, cr.float64)
    assert model[0].weight.dtype == np.float64 and model[1].running_mean.dtype == np.float64
    model.to(dtype=cr.float32)
    assert model[0].weight.dtype == np.float32
    model.to(cr.zeros(1, dtype=cr.float64))
    assert model[0].bias.dtype == np.float64
    with pytest.raises(RuntimeError, match="device: chainrule runs on the CPU only"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="Sequential.cuda: chainrule runs on the CPU only"):
        model.cuda()
    with pytest.raises(TypeError, match="Sequential.to: parameters must stay floating point"):
        model.to(cr.int64)
