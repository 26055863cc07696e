"""``chainrule.cuda``: there is no GPU here, so ``is_available()`` is False and PyTorch programs that
check it (``"cuda" if torch.cuda.is_available() else "cpu"``) choose the CPU."""


def is_available() -> bool:
    """False: chainrule computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed (no GPU); ``chainrule.manual_seed`` seeds every draw."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed (no GPU); ``chainrule.manual_seed`` seeds every draw."""
