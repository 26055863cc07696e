"""Which modules are running right now, so that each gate can say which layer made it.

``Module.__call__`` pushes the module while its forward runs; a gate recorded meanwhile
keeps the stack as ``gate.module_path`` (outermost first). Pictures use it to draw a
network as boxes of layers. Each thread has its own stack; an empty one (plain tensor
code) costs one check.
"""

import threading


class _Running(threading.local):
    def __init__(self):
        self.modules = []


running = _Running()
