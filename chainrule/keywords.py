"""Unknown keyword arguments to chainrule's classes: a TypeError that names the class and lists the valid ones.

Python's own error names the keyword but not what would have been right, and a constructor
taking ``**kwargs`` would swallow a typo (``Linear(4, 2, bais=False)``) and build the wrong
layer silently. Public classes (nn modules, optimizers, schedules, data sets, loaders,
scalers) derive from :class:`CheckedKeywords`, which wraps each subclass's ``__init__``
once, when the class is defined: a call checks its keywords against the signature (cheap,
and only when there are keywords) and then runs the constructor unchanged.
"""

import difflib
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

_CHECKED = "_chainrule_checks_keywords"


class CheckedKeywords:
    """Base class: an unknown keyword to the constructor of any subclass is a TypeError listing the valid ones."""

    __slots__ = ()  # adds nothing to instances (Parameter, a Tensor, has slots only)

    def __init__(self) -> None:  # what a subclass without a constructor of its own takes: nothing
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, _CHECKED, False):
            cls.__init__ = _checked(init)  # type: ignore[method-assign]  # wrapping it is the point


def _checked(init: Callable[..., None]) -> Callable[..., None]:
    parameters = list(inspect.signature(init).parameters.values())[1:]  # after self
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return init
    valid = tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))

    @functools.wraps(init)
    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        for key in kwargs:
            if key not in valid:
                raise TypeError(unknown_keyword(type(self).__name__, key, valid))
        init(self, *args, **kwargs)

    setattr(__init__, _CHECKED, True)
    return __init__


CheckedKeywords.__init__ = _checked(CheckedKeywords.__init__)  # type: ignore[method-assign]  # as for subclasses


def unknown_keyword(owner: str, key: str, valid: Sequence[str]) -> str:
    """The message for keyword ``key`` that ``owner`` does not take, ``valid`` being those it does."""
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{owner}: unexpected keyword argument {key!r}{hint}; valid keywords: {', '.join(valid) or 'none'}"
