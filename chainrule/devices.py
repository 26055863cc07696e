"""Devices, as PyTorch names them: chainrule computes on the CPU only, so there is one, ``device("cpu")``.

PyTorch programs choose a device (``torch.device("cuda" if torch.cuda.is_available() else "cpu")``)
and move tensors and models to it (``.to(device)``); with this module those lines run unchanged and
land on the CPU. Asking for any other device is an error that says so.
"""

from __future__ import annotations


class device:
    """A place for tensors: only ``device("cpu")`` (or ``device("cpu", 0)``) exists here."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            index = type.index
            type = type.type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        kind, _, number = type.partition(":")
        if kind != "cpu":
            raise RuntimeError(
                f"device: chainrule runs on the CPU only (NumPy), so device {type!r} is not "
                "available; use 'cpu' (chainrule.cuda.is_available() is False)"
            )
        self.type = "cpu"
        self.index = int(number) if number else index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


CPU = device("cpu")


def check(where: str, value: object) -> None:
    """Accept None, "cpu" or a cpu ``device`` for a ``device=`` argument; anything else is a clear error."""
    if value is None or isinstance(value, device):
        return
    if isinstance(value, str):
        device(value)  # raises for anything but "cpu"
        return
    raise TypeError(f"{where}: device must be a string such as 'cpu' or a chainrule.device, got {value!r}")
