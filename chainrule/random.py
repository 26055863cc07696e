"""The one source of randomness: a NumPy Generator that ``manual_seed`` seeds.

Weight initialisation, dropout masks and every other random draw that is not handed a
``generator=`` of its own take their numbers from here, so ``chainrule.manual_seed(0)``
makes a whole run repeat. Like PyTorch's, the generator starts from a fixed seed, so a
fresh process draws the same numbers every time until you call ``manual_seed``.

Threads: ``manual_seed`` in the main thread reseeds the process's generator, which every
thread that has not seeded draws from (as in PyTorch). In any other thread it gives that
thread a generator of its own, so two threads that each seed and train a model get the
numbers they would get one after the other, whatever the interleaving.
"""

import threading

from .backend import xp

DEFAULT_SEED = 67280421310721  # PyTorch's default seed, for the same "fixed until seeded" behaviour

_generator = xp.random.default_rng(DEFAULT_SEED)  # the process's: threads that never seeded draw from it
_thread = threading.local()  # .generator: a thread's own, once it has seeded (threads other than the main one)


def manual_seed(seed):
    """Reseed the generator behind every random draw that gets no ``generator=`` (the process's from the
    main thread, the calling thread's own from any other); returns it."""
    global _generator
    generator = xp.random.default_rng(seed)
    if threading.current_thread() is threading.main_thread():
        _generator = generator
    else:
        _thread.generator = generator
    return generator


def default_generator():
    """The Generator that random draws use when no ``generator=`` is given (see the module docstring)."""
    own = getattr(_thread, "generator", None)
    return _generator if own is None else own


def generator_or_default(generator, where):
    """``generator`` if it is a ``numpy.random.Generator``, the default one if it is None, else a clear error."""
    if generator is None:
        return default_generator()
    if not isinstance(generator, xp.random.Generator):
        raise TypeError(f"{where}: generator must be a numpy.random.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator
