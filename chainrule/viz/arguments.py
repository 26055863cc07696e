"""What the formula subcommands (``explain``, ``practice``) share on the command line.

Whole-number options (``--digits``, ``--seed``, ...) are read the same way by both; an expression that starts
with a minus ("-x*y") is taken as the expression, not as an unknown option; and warnings come out
as one line each ("chainrule explain: warning: ..."), without Python's source line.
"""

import argparse
import contextlib
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from .expression import parse_assignments

_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (no limit above when None)."""

    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            wanted = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {value}")
        return value

    return read


digits = whole_number(0, 15)  # the --digits type: decimals shown


def values_at(items: Iterable[str]) -> dict[str, float]:
    """The ``--at NAME=VALUE ...`` items as a dict; a ValueError that names the option otherwise."""
    try:
        return parse_assignments(items)
    except ValueError as error:
        raise ValueError(f"argument --at: {error}") from None


def accept_leading_minus(parser: _Parser) -> _Parser:
    """Let ``parser`` take "-x*y" as a positional argument rather than an unknown option.

    argparse reads any word starting with '-' as an option. These subcommands have only
    long options and -h, so a word with one leading '-' that is not -h must be a formula;
    argparse treats a word starting with a space as a positional, and the expression
    parser skips the space.
    """
    parse_known_args = parser.parse_known_args

    def parse_protecting_formulas(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = sys.argv[1:] if args is None else list(args)
        protected = [" " + arg if _looks_like_formula(arg) else arg for arg in words]
        return parse_known_args(protected, namespace)

    # Patched on this one parser object (made by add_subparsers, so it cannot be a subclass):
    parser.parse_known_args = parse_protecting_formulas  # type: ignore[method-assign,assignment]
    return parser


def _looks_like_formula(arg: str) -> bool:
    return arg.startswith("-") and not arg.startswith("--") and arg != "-h" and len(arg) > 1


@contextlib.contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """Print each warning raised inside as ``PROG: warning: MESSAGE`` on standard error, once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for message in dict.fromkeys(str(w.message) for w in caught):
                print(f"{prog}: warning: {message}", file=sys.stderr)
