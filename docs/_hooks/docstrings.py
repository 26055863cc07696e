"""Which public objects of the API reference have no docstring.

The reference pages (docs/api/*.md) name modules with ``::: module`` (or a class with
``::: module.Class``); their public names
(``__all__``, or what the module defines) and the public methods and properties of their
classes are what the reference shows, so each needs a docstring. A method that overrides a
documented one (a layer's ``forward``) inherits its docstring, as ``inspect.getdoc`` does.
Used by the site's build hook and by tests/test_docs.py.
"""

import importlib
import inspect
import re
from pathlib import Path


def api_modules(api_dir):
    """The modules (and objects) the reference pages in ``api_dir`` document, in page order."""
    names = []
    for page in sorted(Path(api_dir).glob("*.md")):
        names += re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), flags=re.M)
    return names


def undocumented(identifiers):
    """Dotted names of the public objects (and their public members) without a docstring.

    An identifier is a module (its public names are checked) or an object in one (``chainrule.Tensor``).
    """
    missing, seen = [], set()
    for identifier in identifiers:
        found = _resolve(identifier)
        objects = (
            [(f"{identifier}.{name}", getattr(found, name)) for name in _public_names(found)]
            if inspect.ismodule(found)
            else [(identifier, found)]
        )
        for name, value in objects:
            if inspect.ismodule(value) or id(value) in seen:
                continue
            seen.add(id(value))
            if (inspect.isclass(value) or inspect.isroutine(value)) and not inspect.getdoc(value):
                missing.append(name)
            if inspect.isclass(value) and value.__module__.split(".")[0] not in ("numpy", "builtins"):  # finfo is NumPy
                missing += [f"{name}.{member}" for member in _undocumented_members(value)]
    return missing


def _resolve(identifier):
    """The module or object a dotted identifier names."""
    try:
        return importlib.import_module(identifier)
    except ModuleNotFoundError:
        module, _, name = identifier.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _public_names(module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def _undocumented_members(cls):
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isroutine(value):
            if not inspect.getdoc(
                getattr(cls, name) if not isinstance(value, property) else value
            ) and not _inherited_doc(cls, name):
                yield name


def _inherited_doc(cls, name):
    """A property or method that overrides a documented one in a base class."""
    for base in cls.__mro__[1:]:
        member = vars(base).get(name)
        if member is not None and inspect.getdoc(member):
            return True
    return False
