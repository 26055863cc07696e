"""The import change a PyTorch user makes, done on a program's source text, and the programs loaded as modules.

``port(source)`` turns ``import torch`` into ``import chainrule as torch`` and ``torch`` into ``chainrule`` in
the other import lines (``import torch.nn as nn``, ``from torch.utils.data import DataLoader``); nothing
else in the program changes.
"""

import pathlib
import re
import types

PROGRAMS = pathlib.Path(__file__).with_name("programs")


def port(source):
    """``source`` with its imports changed from torch to chainrule, and nothing else."""
    lines = []
    for line in source.splitlines(keepends=True):
        statement = line.strip()
        if statement == "import torch":
            line = line.replace("import torch", "import chainrule as torch")
        elif re.match(r"(import|from) torch\b", statement):
            line = re.sub(r"\btorch\b", "chainrule", line)
        lines.append(line)
    return "".join(lines)


def load(name, framework):
    """The program ``programs/<name>.py`` as a module, run against ``framework``: "torch" as written, or
    "chainrule" through ``port``."""
    path = PROGRAMS / f"{name}.py"
    source = path.read_text()
    if framework == "chainrule":
        source = port(source)
    module = types.ModuleType(f"porting_{name}_{framework}")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module
