"""The one source of randomness: a NumPy Generator that ``manual_seed`` seeds.

Weight initialisation, dropout masks, shuffling and every other random draw that is not handed a
``generator=`` of its own take their numbers from here, so ``chainrule.manual_seed(0)`` makes a
whole run repeat. Like PyTorch's, the generator starts from a fixed seed, so a fresh process draws
the same numbers every time until you call ``manual_seed``. (The numbers are NumPy's, not PyTorch's:
the same seed gives other values than ``torch.manual_seed`` would.)
"""

from .backend import xp

DEFAULT_SEED = 67280421310721  # PyTorch's default seed, for the same "fixed until seeded" behaviour


class Generator(xp.random.Generator):
    """A NumPy ``Generator`` with PyTorch's ``torch.Generator`` methods: ``Generator().manual_seed(0)`` is a
    source of its own for any ``generator=`` argument (NumPy Generators are accepted there too)."""

    def __init__(self, device: object = "cpu", seed: int = DEFAULT_SEED) -> None:
        from . import devices
        devices.check("Generator", device)
        self._seed_sequence = xp.random.SeedSequence(seed)
        super().__init__(xp.random.PCG64(self._seed_sequence))
        self._seed = seed

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``; returns the generator, as PyTorch's does."""
        self._seed_sequence = xp.random.SeedSequence(seed)
        self.bit_generator.state = xp.random.PCG64(self._seed_sequence).state
        self._seed = seed
        return self

    def initial_seed(self) -> int:
        """The seed this stream started from."""
        return self._seed

    def spawn(self, n_children: int) -> list:
        """Independent child streams from the seed (as NumPy's ``spawn`` of ``default_rng(seed)``), as NumPy
        Generators."""
        return [xp.random.Generator(xp.random.PCG64(child)) for child in self._seed_sequence.spawn(n_children)]

    def get_state(self) -> dict:
        """The stream's position (a dict of NumPy's bit-generator state), for ``set_state``."""
        return self.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self.bit_generator.state = state
        return self


_generator = Generator()


def manual_seed(seed):
    """Reseed the generator behind every random draw that gets no ``generator=``; returns it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, xp.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
    return _generator.manual_seed(int(seed))


def initial_seed():
    """The seed of the default generator (the last ``manual_seed``, or the fixed default)."""
    return _generator.initial_seed()


def default_generator():
    """The Generator that random draws use when no ``generator=`` is given."""
    return _generator


def generator_or_default(generator, where):
    """``generator`` if it is a ``numpy.random.Generator``, the default one if it is None, else a clear error."""
    if generator is None:
        return _generator
    if not isinstance(generator, xp.random.Generator):
        raise TypeError(f"{where}: generator must be a chainrule.Generator, a numpy.random.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator
