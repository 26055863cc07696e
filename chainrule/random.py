"""The one source of randomness: a NumPy Generator that ``manual_seed`` seeds.

Weight initialisation, dropout masks, shuffling and every other random draw that is not handed a
``generator=`` of its own take their numbers from here, so ``chainrule.manual_seed(0)`` makes a
whole run repeat. Like PyTorch's, the generator starts from a fixed seed, so a fresh process draws
the same numbers every time until you call ``manual_seed``. (The numbers are NumPy's, not PyTorch's:
the same seed gives other values than ``torch.manual_seed`` would.)

Threads: ``manual_seed`` in the main thread reseeds the process's generator, which every
thread that has not seeded draws from (as in PyTorch). In any other thread it gives that
thread a generator of its own, so two threads that each seed and train a model get the
numbers they would get one after the other, whatever the interleaving.
"""

import threading
from typing import Any, cast

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

    def spawn(self, n_children: int) -> list[xp.random.Generator]:
        """Independent child streams from the seed (as NumPy's ``spawn`` of ``default_rng(seed)``), as NumPy
        Generators."""
        return [xp.random.Generator(xp.random.PCG64(child)) for child in self._seed_sequence.spawn(n_children)]

    def get_state(self) -> dict[str, Any]:
        """The stream's position (a dict of NumPy's bit-generator state), for ``set_state``."""
        return cast(dict[str, Any], self.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> "Generator":
        """Put the stream back where ``get_state`` found it; returns the generator."""
        self.bit_generator.state = state
        return self


_generator = Generator()  # the process's: threads that never seeded draw from it
_thread = threading.local()  # .generator: a thread's own, once it has seeded (threads other than the main one)


def manual_seed(seed: int | xp.integer[Any]) -> Generator:
    """Reseed the generator behind every random draw that gets no ``generator=`` (the process's from the
    main thread, the calling thread's own from any other); returns it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, xp.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
    if threading.current_thread() is threading.main_thread():
        return _generator.manual_seed(int(seed))
    own = _thread.generator = Generator(seed=int(seed))
    return own


def initial_seed() -> int:
    """The seed of the default generator (the last ``manual_seed``, or the fixed default)."""
    return default_generator().initial_seed()


def default_generator() -> Generator:
    """The Generator that random draws use when no ``generator=`` is given (see the module docstring)."""
    own: Generator | None = getattr(_thread, "generator", None)
    return _generator if own is None else own


def generator_or_default(generator: object, where: str) -> xp.random.Generator:
    """``generator`` if it is a ``numpy.random.Generator``, the default one if it is None, else a clear error."""
    if generator is None:
        return default_generator()
    if not isinstance(generator, xp.random.Generator):
        raise TypeError(
            f"{where}: generator must be a chainrule.Generator, a numpy.random.Generator or None, "
            f"got {type(generator).__name__}"
        )
    return generator
