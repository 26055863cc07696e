"""PyTorch programs the project wrote (tests/porting/programs) run on chainrule with only their imports
changed, and reach PyTorch's results.

Each program is run twice: through the import change against chainrule (always), and as written against
torch (when torch is installed). For the comparison both start from the same weights (torch's, copied
across with load_state_dict), see the batches in the same order (no shuffling) and compute in float64, so
their metrics agree to a relative 1e-6 or better, each step and epoch (the tolerance is stated where it is
used); a float32 run of each program on chainrule alone checks that it learns.
"""

import numpy as np
import pytest
from porting import PROGRAMS, load, port

from chainrule.data import load_digits

NAMES = ["digits_convnet", "micrograd_mlp", "regression"]


def quiet(*args, **kwargs):
    pass


def torch_or_skip():
    return pytest.importorskip("torch")


def copy_weights(torch_model, chainrule_model):
    """torch's initial weights into the chainrule model: the state dict's names match."""
    chainrule_model.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})


def digits():
    images, labels = load_digits(as_images=True)
    return images.reshape(-1, 8, 8), labels


@pytest.mark.parametrize("name", NAMES)
def test_only_import_lines_change(name):
    source = (PROGRAMS / f"{name}.py").read_text()
    ported = port(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines()) if a != b]
    assert changed and all(a.lstrip().startswith(("import torch", "from torch")) for a, _ in changed)
    assert "import chainrule as torch" in ported and "torch." not in "".join(b for _, b in changed)


# ----- on chainrule, float32, as a user would run them ------------------------------------------------------
def test_digits_convnet_trains_saves_and_reloads_on_chainrule(tmp_path):
    program = load("digits_convnet", "chainrule")
    lines = []
    history = program.main(*digits(), path=str(tmp_path / "model.pt"), log=lines.append)
    assert [h["accuracy"] for h in history][-1] > 0.8 and history[-1]["train_loss"] < history[0]["train_loss"]
    assert lines[-1].endswith("same predictions True") and lines[0].startswith("epoch 1: train loss ")


def test_micrograd_mlp_separates_the_moons_on_chainrule():
    history = load("micrograd_mlp", "chainrule").main(log=quiet)
    loss, accuracy = history[-1]  # measured before the last step's update
    assert loss < 0.1 and accuracy >= 0.98


def test_regression_fits_on_chainrule():
    losses, worst = load("regression", "chainrule").main(log=quiet)
    assert losses[-1] < 2e-3 and worst < 0.2


# ----- against torch: same weights, same order, float64 -------------------------------------------------------
def test_digits_convnet_matches_torch():
    torch_or_skip()
    theirs, ours = load("digits_convnet", "torch"), load("digits_convnet", "chainrule")
    images, labels = digits()
    theirs.torch.manual_seed(0)
    their_model, our_model = theirs.Net().double(), ours.Net().double()
    copy_weights(their_model, our_model)
    their_history = theirs.train(
        their_model, *theirs.make_loaders(images, labels, shuffle=False, dtype=theirs.torch.float64), log=quiet
    )
    our_history = ours.train(
        our_model, *ours.make_loaders(images, labels, shuffle=False, dtype=ours.torch.float64), log=quiet
    )
    for mine, their in zip(our_history, their_history):
        assert mine["train_loss"] == pytest.approx(their["train_loss"], rel=1e-6)
        assert mine["test_loss"] == pytest.approx(their["test_loss"], rel=1e-6)
        assert mine["accuracy"] == their["accuracy"]
    for key, value in their_model.state_dict().items():  # the trained weights and running statistics
        np.testing.assert_allclose(our_model.state_dict()[key], value.numpy(), rtol=1e-6, atol=1e-9, err_msg=key)


def test_micrograd_mlp_matches_torch():
    torch_or_skip()
    theirs, ours = load("micrograd_mlp", "torch"), load("micrograd_mlp", "chainrule")
    X, y = theirs.make_moons()
    theirs.torch.manual_seed(1337)
    their_model, our_model = theirs.MLP().double(), ours.MLP().double()
    copy_weights(their_model, our_model)
    their_history = theirs.train(their_model, X, y, dtype=theirs.torch.float64, log=quiet)
    our_history = ours.train(our_model, X, y, dtype=ours.torch.float64, log=quiet)
    np.testing.assert_allclose(np.array(our_history), np.array(their_history), rtol=1e-7, atol=1e-12)


def test_regression_matches_torch():
    torch_or_skip()
    theirs, ours = load("regression", "torch"), load("regression", "chainrule")
    theirs.torch.manual_seed(0)
    their_model, our_model = theirs.build_model().double(), ours.build_model().double()
    copy_weights(their_model, our_model)
    their_losses, their_worst = theirs.train(their_model, *theirs.make_data(dtype=theirs.torch.float64), log=quiet)
    our_losses, our_worst = ours.train(our_model, *ours.make_data(dtype=ours.torch.float64), log=quiet)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-6)
    assert our_worst == pytest.approx(their_worst, rel=1e-6)


def test_float32_runs_agree_in_what_they_learn():
    """As written (float32, each framework's own initial weights and shuffles): the same quality, not the same
    numbers."""
    torch_or_skip()
    ours = load("micrograd_mlp", "chainrule").main(log=quiet)
    theirs = load("micrograd_mlp", "torch").main(log=quiet)
    assert ours[-1][1] >= 0.98 and theirs[-1][1] >= 0.98
    our_losses, _ = load("regression", "chainrule").main(log=quiet)
    their_losses, _ = load("regression", "torch").main(log=quiet)
    assert our_losses[-1] < 3 * their_losses[-1] + 1e-4
