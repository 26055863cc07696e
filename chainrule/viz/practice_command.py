"""``chainrule practice``: work a formula's forward and backward pass out by hand, checked as you go.

``chainrule practice EXPRESSION --at NAME=VALUE ...`` asks about a formula of your own,
``chainrule practice --random --level 1..3 [--seed S]`` about a generated one. Answers
come from the terminal, or one per line from standard input when it is not a terminal
(``printf '3\\n-12\\n' | chainrule practice ...``), so a session can be scripted.
``--html PATH`` writes the same practice as one page to work through in a browser.
"""

import argparse
import random
import sys

from .arguments import accept_leading_minus, digits, one_line_warnings, values_at, whole_number
from .exercises import LEVELS, random_exercise
from .practice import practice
from .practice_page import write_practice_html

EXAMPLE = 'chainrule practice "(x+y)*z" --at x=-2 y=5 z=-4'


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register the ``practice`` subcommand."""
    parser = subparsers.add_parser(
        "practice",
        help="work out a backward pass by hand, with each answer checked",
        description="Ask for every gate's value, then, walking backward, every local derivative and every "
        "gradient sent to an input, of EXPRESSION at the given values or of a generated formula "
        "(--random). A wrong answer gets the gate's rule, then the rule with the numbers, then the "
        "answer; at the end come the score and the whole backward pass explained. Answers are read "
        "one per line from standard input when it is not a terminal.",
        epilog=f"examples: {EXAMPLE}; chainrule practice --random --level 2 --seed 7",
    )
    parser.add_argument(
        "expression",
        metavar="EXPRESSION",
        nargs="?",
        help="the formula, as for chainrule explain (leave out with --random)",
    )
    parser.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE", help="the value of every variable")
    parser.add_argument(
        "--digits",
        type=digits,
        default=2,
        help="decimals shown; an answer counts within one unit of the last (default 2)",
    )
    parser.add_argument("--random", action="store_true", help="practice on a generated formula")
    parser.add_argument(
        "--level",
        type=_level,
        help="with --random: 1 add and multiply, 2 also exp, 1/x and max, 3 a neuron with a sigmoid (default 1)",
    )
    parser.add_argument("--seed", type=whole_number(0), help="with --random: the seed, to get the same formula again")
    parser.add_argument(
        "--html",
        metavar="PATH",
        help="write the practice as a page to work through in a browser, instead of asking here",
    )
    parser.set_defaults(run=run, parser=parser)
    return accept_leading_minus(parser)


def _level(text: str) -> int:
    if text.strip() not in {str(level) for level in LEVELS}:
        raise argparse.ArgumentTypeError(f"must be 1, 2 or 3, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Ask the questions (or write the page). Bad input exits with status 2 and a one-line message."""
    parser = args.parser
    try:
        formula, values = _formula(args)
        with one_line_warnings(parser.prog):
            session = practice(formula, values, digits=args.digits)
        if args.html:
            write_practice_html(session, args.html)
            print(f"wrote {args.html}")
            return 0
    except (ValueError, OSError) as error:
        parser.error(str(error))  # prints usage and the message to stderr, exits with status 2
    answers = None if sys.stdin.isatty() else sys.stdin
    session.run(answers)
    return 0


def _formula(args: argparse.Namespace) -> tuple[str, dict[str, float]]:
    """The formula and its values, from EXPRESSION --at or from --random; ValueError names what is wrong."""
    if args.random:
        if args.expression is not None or args.at:
            raise ValueError("--random makes its own formula: leave out EXPRESSION and --at")
        seed = random.randrange(10_000) if args.seed is None else args.seed
        formula, values = random_exercise(args.level or 1, seed)
        if args.seed is None:
            print(f"(seed {seed}: --seed {seed} gives this formula again)")
        return formula, values
    if args.level is not None or args.seed is not None:
        raise ValueError("--level and --seed go with --random")
    if args.expression is None:
        raise ValueError(f"give an EXPRESSION with --at, or --random; e.g. {EXAMPLE}")
    return args.expression.strip(), values_at(args.at)
