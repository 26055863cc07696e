"""A griffe extension: the Tensor methods that operations attach at import get their docstrings.

The API reference reads the source without running it. It sees Tensor's operations
(``x.sum()``, ``x.exp()``) through the generated stub ``tensor.pyi``, which has their
signatures but not their docstrings: those are on the functions in the gate modules
that declare the operations. This extension copies each one from the live class.
"""

import importlib

import griffe


class TensorDocstrings(griffe.Extension):
    """Give each Tensor member without a docstring the docstring of the live attribute, if it has one."""

    def on_package(self, *, pkg, loader, **kwargs):
        if pkg.path != "chainrule":
            return
        live = importlib.import_module("chainrule").Tensor
        for name, member in pkg["tensor"]["Tensor"].members.items():
            if member.docstring is None:
                value = live.__dict__.get(name)
                value = value.fget if isinstance(value, property) else value
                text = getattr(value, "__doc__", None) if value is not None else None
                if text:
                    member.docstring = griffe.Docstring(text, parent=member)
