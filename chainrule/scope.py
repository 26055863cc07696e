"""Which modules are running right now, so that each gate can say which layer made it.

``Module.__call__`` pushes the module while its forward runs; a gate recorded meanwhile
keeps the stack as ``gate.module_path`` (outermost first). Pictures use it to draw a
network as boxes of layers. An empty stack (plain tensor code) costs one check.
"""

module_stack = []
