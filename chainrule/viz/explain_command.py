"""``chainrule explain EXPRESSION --at NAME=VALUE ...``: the backward pass of a formula, told and drawn."""

import argparse

from ..models import IMAGE_MODELS
from ..tensor import Tensor
from .arguments import accept_leading_minus, digits, one_line_warnings, values_at, whole_number
from .drawing import GraphvizNotFoundError, draw, save
from .explanation import Explanation, explain
from .expression import compile_expression
from .layers import training_step
from .stepper import write_html
from .text import number, shown_equation

EXAMPLE = 'chainrule explain "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2 x0=-1 w1=-3 x1=-2 w2=-3'


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="explain the backward pass of a formula step by step",
        description="Build the graph of EXPRESSION from elementary gates, run the forward and backward pass at "
        "the given values, and print every step of the backward pass. Operators: + - * / ** and "
        "parentheses; functions: exp log sqrt tanh sigmoid relu abs sin cos max(a,b) min(a,b). "
        "An expression may start with '-' (\"-x*y\") when it comes before --at. With --model, a "
        "network's training step is told layer by layer instead.",
        epilog=f"example: {EXAMPLE}",
    )
    parser.add_argument(
        "expression",
        metavar="EXPRESSION",
        nargs="?",
        help='the formula, e.g. "1/(1+exp(-(w*x+b)))" (leave out with --model)',
    )
    parser.add_argument(
        "--at", nargs="+", default=[], metavar="NAME=VALUE", help="the value of every variable, e.g. --at w=2 x=-1 b=-3"
    )
    parser.add_argument("--digits", type=digits, help="decimals shown (default 2; 4 with --model)")
    parser.add_argument(
        "--model",
        choices=IMAGE_MODELS,
        help="instead of a formula: one training step of this model on the bundled digits, told "
        "layer by layer with its shapes and a few real numbers",
    )
    parser.add_argument(
        "--batch",
        type=whole_number(1, 256),
        default=8,
        metavar="N",
        help="with --model: images in the batch (default 8)",
    )
    parser.add_argument(
        "--seed", type=whole_number(0), default=0, metavar="S", help="with --model: the weights' seed (default 0)"
    )
    parser.add_argument(
        "--svg", metavar="PATH", help="write the picture as SVG (needs Graphviz's dot; with --model one box per layer)"
    )
    parser.add_argument("--png", metavar="PATH", help="write the picture as PNG (needs Graphviz's dot)")
    parser.add_argument("--dot", metavar="PATH", help="write the picture as DOT text (needs nothing)")
    parser.add_argument(
        "--html",
        metavar="PATH",
        help="write a page that steps through the pass (needs Graphviz's dot to make it); with "
        "--model it steps layer by layer",
    )
    parser.set_defaults(run=run, parser=parser)
    return accept_leading_minus(parser)


def run(args: argparse.Namespace) -> int:
    """Print the value, the gradients and the steps; write the pictures. Bad input exits with status 2."""
    if args.model:
        return _run_model(args)
    if args.expression is None:
        args.parser.error(f"give an EXPRESSION with --at, or --model mlp|cnn; e.g. {EXAMPLE}")
    args.expression = args.expression.strip()  # a formula starting with '-' arrives as " -x*y"
    args.digits = 2 if args.digits is None else args.digits
    try:
        values = values_at(args.at)
        output, leaves = compile_expression(args.expression, values)
        with one_line_warnings(args.parser.prog):
            explanation = explain(output, digits=args.digits)
        _print_report(args, output, leaves, explanation)
        _write_pictures(args, output, f"f = {args.expression}")
    except (ValueError, GraphvizNotFoundError, ImportError, OSError) as error:
        args.parser.error(str(error))  # prints usage and the message to stderr, exits with status 2
    return 0


def _run_model(args: argparse.Namespace) -> int:
    """One training step of a digits model, explained layer by layer."""
    if args.expression is not None or args.at:
        args.parser.error("--model explains a network: leave out EXPRESSION and --at")
    loss = training_step(args.model, args.batch, args.seed)
    title = f"One training step of the digits {args.model} on a batch of {args.batch} images (seed {args.seed})"
    print(f"{title}: loss {loss.item():.4f}")
    print()
    print(explain(loss, level="layer", digits=args.digits))
    try:
        _write_pictures(args, loss, title, level="layer")
    except (GraphvizNotFoundError, ImportError, OSError) as error:
        args.parser.error(str(error))
    return 0


def _print_report(
    args: argparse.Namespace, output: Tensor, leaves: dict[str, Tensor], explanation: Explanation
) -> None:
    digits = args.digits
    print(f"f = {args.expression}")
    print("at " + ", ".join(f"{name} = {leaf.item():g}" for name, leaf in leaves.items()))
    print()
    print(f"forward: f = {number(output.item(), digits)}")
    print("gradients:")
    received = {g.name: g for g in explanation.gradients}
    for name in leaves:
        found = received.get(name)
        if found is None:
            print(f"  df/d{name} = 0 (no gradient reaches it)")
        elif len(found.parts) > 1:
            parts, total = shown_equation(found.parts, found.grad, digits)
            print(f"  df/d{name} = {total}  (sum over its {len(found.parts)} uses: {' + '.join(parts)})")
        else:
            print(f"  df/d{name} = {number(found.grad.item(), digits)}")
    print()
    print(explanation.text(gradients=False))


def _write_pictures(args: argparse.Namespace, output: Tensor, title: str, level: str = "gate") -> None:
    """The pictures asked for; a network (``level="layer"``) is drawn one box per layer and stepped layer by layer."""
    wanted = [(path, kind) for path, kind in [(args.dot, "dot"), (args.svg, "svg"), (args.png, "png")] if path]
    graph = draw(output, digits=2 if args.digits is None else args.digits) if wanted else None
    for path, kind in wanted:
        save(graph, path, fmt=kind)
        print(f"wrote {path}")
    if args.html:
        write_html(output, args.html, digits=args.digits, title=title, level=level)
        print(f"wrote {args.html}")
