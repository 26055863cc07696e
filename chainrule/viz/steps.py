"""What every told backward pass shares: a list of numbered steps that reads as text and prints."""

import builtins
import html


class NumberedSteps:
    """``self.steps`` as a sequence (``len``, iteration, indexing); ``str()`` is the text, ``print()`` prints it."""

    steps = ()

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, index):
        return self.steps[index]

    def __repr__(self):
        return f"<{type(self).__name__}: {len(self.steps)} steps>"

    def print(self, file=None):
        builtins.print(str(self), file=file)

    def _repr_html_(self):
        """Jupyter shows the text as it prints, in a fixed-width block."""
        return f"<pre>{html.escape(str(self))}</pre>"
