"""The ``chainrule`` command line: one subcommand per module, each registering itself.

A subcommand is a module with ``add_parser(subparsers)``: it adds its subparser,
its arguments and ``set_defaults(run=<function taking the parsed args, returning the
exit status>)``. To add one, import its module and append it to ``SUBCOMMANDS``.
"""

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from . import __version__, demo, evaluate_command, sample_command, train_command
from .viz import explain_command, practice_command

SUBCOMMANDS = [demo, explain_command, practice_command, train_command, evaluate_command, sample_command]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description="Backpropagation, explained and put to work.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        status: int = args.run(args)
        return status


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    # On the command line a warning is one line for the user, without the source line Python adds.
    print(f"chainrule: warning: {message}", file=file or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
