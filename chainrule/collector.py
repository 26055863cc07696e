"""Let Python's cycle collector run less often than every 700 new objects (part of ``tune_process_for_training``).

Each recorded gate adds three objects that CPython's cyclic garbage collector tracks
(the output Tensor, the gate, the tuple of its inputs), and they live until backward
frees them. The collector runs whenever tracked objects created outnumber those freed
by ``threshold0`` (700 by default) and scans every young object; every tenth run
scans the middle generation too, and a full collection, which scans every object in
the process, follows every tenth of those once the survivors have grown by a quarter.
A graph has no reference cycles (an output refers to its gate, a gate to its inputs,
never back), so reference counting frees it and those scans find nothing in it.
Measured: they took 11% of a forward+backward through 1,000 gates on 10-element
tensors, and over half the forward of a chain of a million scalar gates.

``chainrule.tune_process_for_training()`` raises ``threshold0`` to 10,000, for the whole
process (importing chainrule never does; see chainrule/tuning.py): a graph
of a few thousand gates is then recorded and freed between two collections, and full
collections of a growing heap come every million new objects, not every 70,000.
Cyclic garbage is still found by the next collection; the cost is that up to 10,000
young objects (about a megabyte) can wait for it.

A threshold already above 10,000, or a collector switched off (``gc.disable()`` or a
threshold of 0), is left as it is. ``CHAINRULE_GC_THRESHOLD=0`` makes that call leave the
collector alone; another number chooses threshold0.
"""

import gc
import os
from collections.abc import Mapping

from .memory import setting_from_environment

DEFAULT_THRESHOLD = 10_000


def threshold_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """The threshold0 ``CHAINRULE_GC_THRESHOLD`` asks for (the default when unset; 0: leave it alone)."""
    return setting_from_environment(
        "CHAINRULE_GC_THRESHOLD", DEFAULT_THRESHOLD, "objects (0 to leave the collector alone)", environ
    )


def collect_less_often(threshold: int) -> bool:
    """Raise the collector's threshold0 to ``threshold`` (never lower it); True if it changed."""
    current, *older = gc.get_threshold()
    if threshold <= current or current == 0 or not gc.isenabled():
        return False
    gc.set_threshold(threshold, *older)
    return True
