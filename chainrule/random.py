"""The one source of randomness: a NumPy Generator that ``manual_seed`` seeds.

Weight initialisation, dropout masks and every other random draw that is not handed a
``generator=`` of its own take their numbers from here, so ``chainrule.manual_seed(0)``
makes a whole run repeat. Like PyTorch's, the generator starts from a fixed seed, so a
fresh process draws the same numbers every time until you call ``manual_seed``.
"""

from .backend import xp

DEFAULT_SEED = 67280421310721  # PyTorch's default seed, for the same "fixed until seeded" behaviour

_generator = xp.random.default_rng(DEFAULT_SEED)


def manual_seed(seed):
    """Reseed the generator behind every random draw that gets no ``generator=``; returns it."""
    global _generator
    _generator = xp.random.default_rng(seed)
    return _generator


def default_generator():
    """The Generator that random draws use when no ``generator=`` is given."""
    return _generator


def generator_or_default(generator, where):
    """``generator`` if it is a ``numpy.random.Generator``, the default one if it is None, else a clear error."""
    if generator is None:
        return _generator
    if not isinstance(generator, xp.random.Generator):
        raise TypeError(f"{where}: generator must be a numpy.random.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator
