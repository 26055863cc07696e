"""One place per operation: the declarations, the Tensor class, the exports and the type stub agree."""

import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, stubs
from chainrule.gates.common import OPERATIONS
from chainrule.tensor import Tensor

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_committed_stub_is_what_the_declarations_render():
    assert stubs.STUB.read_text() == stubs.render(), "chainrule/tensor.pyi is stale: run `python -m chainrule.stubs`"


def test_every_export_is_listed_once():
    assert len(cr.__all__) == len(set(cr.__all__))
    assert all(hasattr(cr, name) for name in cr.__all__)


def test_every_declared_method_operator_and_export_is_the_declared_function():
    assert len(OPERATIONS) > 50
    for op in OPERATIONS.values():
        for name in op.methods:
            assert getattr(Tensor, name) is op.function, name
        for name in op.reflected + op.properties:
            assert name in vars(Tensor), name
        if op.exported:
            for name in (op.name,) + op.aliases:
                assert getattr(cr, name) is op.function and name in cr.__all__, f"chainrule.{name}"
        if op.functional:
            assert getattr(nn.functional, op.name) is op.function, f"nn.functional.{op.name}"


def test_pytorch_and_numpy_spellings_of_one_argument():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(dim=1).data, x.sum(axis=1).data)
    np.testing.assert_array_equal(x.mean(1, keepdim=True).data, x.mean(axis=1, keepdims=True).data)
    np.testing.assert_array_equal(cr.cat([x, x], dim=1).data, cr.concatenate([x, x], axis=1).data)
    with pytest.raises(ValueError, match="sum: got dim=0 and axis=1; axis is NumPy's name for dim, give one"):
        x.sum(dim=0, axis=1)


def test_an_unknown_keyword_names_the_operation():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"sum\(\) got an unexpected keyword argument 'dims'"):
        x.sum(dims=0)
    with pytest.raises(TypeError, match=r"softmax\(\) got an unexpected keyword argument 'dimension'"):
        cr.softmax(x, dimension=0)


def test_stub_check_command_reports_a_stale_stub(tmp_path, monkeypatch):
    stale = tmp_path / "tensor.pyi"
    stale.write_text("# old\n")
    monkeypatch.setattr(stubs, "STUB", stale)
    assert stubs.main(["--check"]) == 1
    assert stubs.main([]) == 0 and stubs.main(["--check"]) == 0


@pytest.mark.skipif(
    shutil.which("mypy", path=str(pathlib.Path(sys.executable).parent)) is None,
    reason="mypy is not installed (pip install -e '.[test]')",
)
def test_mypy_sees_tensor_methods_and_operators(tmp_path):
    script = tmp_path / "user.py"
    script.write_text(
        textwrap.dedent("""
        import numpy as np
        import chainrule as cr
        from chainrule import nn

        x = cr.tensor(np.ones((3, 4)), requires_grad=True)
        w = cr.tensor([[1.0], [2.0], [3.0], [4.0]], requires_grad=True)
        y = (x @ w * 2 + 1).relu().sum(dim=0, keepdim=True)
        z = 3.0 * x.T.exp().mean() - x.transpose(0, 1).sum() / 2 + x.mT.softmax(-1).max()
        loss: cr.Tensor = (y.sum() + z) ** 2 - abs(-x).log().sum()
        loss.backward()
        print(f"{loss.item():.3f}", x.grad, x.shape[0] + 1, x.reshape(-1, 2).split(1, dim=0)[0])
        out = nn.Linear(4, 2)(x)
        values, indices = x.max(1)
        top: cr.Tensor = x.max(dim=0).values + x.sort(1).indices + x.amax((0, 1)) + x.median() + x.cummax(0)[0]
        mixed: cr.Tensor = cr.einsum("ij,jk->ik", x, w).gather(1, indices.unsqueeze(1)) % 2 + x.floor() + values
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        optimizer = cr.optim.Adam(model.parameters(), lr=1e-3)
        loader = cr.data.DataLoader(cr.data.TensorDataset(np.ones((6, 4)), np.zeros(6)), batch_size=2)
        for inputs, targets in loader:
            step: cr.Tensor = nn.functional.cross_entropy(model(inputs), targets.long())
            optimizer.zero_grad()
            step.backward()
            optimizer.step()
        entries: int = len(model.state_dict())
    """)
    )
    bad = tmp_path / "bad.py"
    bad.write_text("import chainrule as cr\ns: str = cr.tensor([1.0]).exp()\ncr.optim.SGD([], lr='fast')\n")
    mypy = pathlib.Path(sys.executable).parent / "mypy"
    env = {"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    command = [str(mypy), "--strict", "--follow-imports=silent", "--no-incremental"]
    # From tmp_path, so that mypy reads no configuration of the project's (a user's own settings, not ours).
    good = subprocess.run(command + [str(script)], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    wrong = subprocess.run(command + [str(bad)], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert 'expression has type "Tensor", variable has type "str"' in wrong.stdout
    assert 'Argument "lr" to "SGD" has incompatible type "str"' in wrong.stdout


def test_the_readme_lists_the_pytorch_names_the_declarations_give():
    text = (ROOT / "README.md").read_text()
    start, end = text.index(stubs.NAMES_START), text.index(stubs.NAMES_END) + len(stubs.NAMES_END)
    assert text[start:end] == stubs.render_names(), (
        "README.md's list of PyTorch names is stale: run `python -m chainrule.stubs --readme README.md`"
    )
    for op in OPERATIONS.values():  # every declared method and export is in the list
        for name in op.methods:
            if not name.startswith("_"):
                assert f"`{name}`" in text[start:end], name
        if op.exported:
            assert f"`{op.name}`" in text[start:end], op.name


def test_readme_rewrite_puts_the_names_between_the_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(stubs, "STUB", tmp_path / "tensor.pyi")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{stubs.NAMES_START}\nold\n{stubs.NAMES_END}\noutro\n")
    assert stubs.main(["--readme", str(readme)]) == 0
    assert readme.read_text() == f"intro\n{stubs.render_names()}\noutro\n"
