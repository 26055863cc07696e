"""What every told backward pass shares: a list of numbered steps that reads as text and prints."""

import builtins
import html
from collections.abc import Iterator, Sequence
from typing import IO, Generic, TypeVar, overload

_Step = TypeVar("_Step")


class NumberedSteps(Generic[_Step]):
    """``self.steps`` as a sequence (``len``, iteration, indexing); ``str()`` is the text, ``print()`` prints it."""

    steps: Sequence[_Step] = ()

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[_Step]:
        return iter(self.steps)

    @overload
    def __getitem__(self, index: int) -> _Step: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[_Step]: ...
    def __getitem__(self, index: int | slice) -> _Step | Sequence[_Step]:
        return self.steps[index]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self.steps)} steps>"

    def print(self, file: IO[str] | None = None) -> None:
        builtins.print(str(self), file=file)

    def _repr_html_(self) -> str:
        """Jupyter shows the text as it prints, in a fixed-width block."""
        return f"<pre>{html.escape(str(self))}</pre>"
