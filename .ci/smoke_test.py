"""Run by .ci/run with an installed wheel, from outside the repository (python -I): is the package whole?

A file left out of the package data (the bundled digits, the stepping page's template) or a
module that only works from the source tree fails here, not on a user's machine.
"""

import importlib.metadata
import importlib.resources
import shutil
import sys
import tempfile
from pathlib import Path

import chainrule as cr

installed = Path(cr.__file__).resolve()
assert "site-packages" in installed.parts, f"chainrule was imported from {installed}, not from the installed wheel"
assert cr.__version__ == importlib.metadata.version("chainrule"), (
    cr.__version__,
    importlib.metadata.version("chainrule"),
)

# The package data (pyproject.toml's [tool.setuptools.package-data]), each file opened as the library opens it.
for package, name in [
    ("chainrule.viz", "stepper.html"),
    ("chainrule.viz", "practice.html"),
    ("chainrule.data", "digits.npz"),
    ("chainrule", "py.typed"),
    ("chainrule", "tensor.pyi"),
]:
    assert importlib.resources.files(package).joinpath(name).is_file(), f"{package}: {name} is missing from the wheel"
template = importlib.resources.files("chainrule.viz").joinpath("stepper.html").read_text(encoding="utf-8")
assert "{{DATA}}" in template and "{{SVG}}" in template

X, y = cr.data.load_digits()
assert X.shape == (1797, 64) and set(y.tolist()) == set(range(10))

w = cr.tensor(2.0, requires_grad=True, name="w")
x = cr.tensor(-1.0, requires_grad=True, name="x")
f = 1 / (1 + (-(w * x)).exp())
assert "sends" in str(cr.explain(f))
with tempfile.TemporaryDirectory() as directory:
    if shutil.which("dot"):  # the stepping page, from the packaged template
        page = cr.viz.write_html(f, Path(directory) / "page.html")
        assert "stepper-data" in Path(page).read_text(encoding="utf-8")
    f.backward()
    assert abs(w.grad - x.data * f.data * (1 - f.data)) < 1e-6
    cr.save({"w": w}, Path(directory) / "w.safetensors")
    assert cr.load(Path(directory) / "w.safetensors")["w"] == w.data

print(f"smoke test: chainrule {cr.__version__} from {installed.parent} works (Python {sys.version.split()[0]})")
