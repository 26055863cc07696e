"""``import chainrule.nn.functional as F``: the functional interface, where PyTorch keeps it.

Everything lives in :mod:`chainrule.functional`; this module re-exports it.
"""

from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
