"""The main job: the reference text's two worked examples, a convnet trained on real digits, and a tiny
character-level GPT trained for a few seconds on Python's own documentation, which then writes a few lines."""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

import chainrule as cr

if TYPE_CHECKING:
    from .data import Vocabulary
    from .models import GPT
    from .tensor import Tensor
    from .training import TrainResult


def simple_example() -> "tuple[Tensor, dict[str, Tensor]]":
    """f(x, y, z) = (x + y) * z at x=-2, y=5, z=-4."""
    x = cr.tensor(-2.0, requires_grad=True, name="x")
    y = cr.tensor(5.0, requires_grad=True, name="y")
    z = cr.tensor(-4.0, requires_grad=True, name="z")
    f = (x + y) * z
    f.backward()
    return f, {"x": x, "y": y, "z": z}


def perceptron_example() -> "tuple[Tensor, dict[str, Tensor]]":
    """1/(1+exp(-(w0*x0 + w1*x1 + w2))) built from the text's elementary gates."""
    values = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    t = {name: cr.tensor(v, requires_grad=True, dtype="float64", name=name) for name, v in values.items()}
    s = t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"]
    out = 1 / ((-1 * s).exp() + 1)
    return out, t


def print_gradients(title: str, out: "Tensor", leaves: "Mapping[str, Tensor]") -> None:
    print(title)
    print(f"  forward value: {out.item():.4f}")
    for name, leaf in leaves.items():
        print(f"  d out / d {name:<3} = {leaf.grad.item(): .4f}")


# ----- the training part --------------------------------------------------------------------------
DEMO_EPOCHS = 8  # about 98% test accuracy on the digits in a few seconds


def explain_perceptron() -> bool:
    """The perceptron's backward pass told gate by gate, if chainrule.viz.explain is available."""
    try:
        from .viz import explain
    except ImportError:
        return False
    out, _ = perceptron_example()
    print(explain(out))
    return True


def train_digits(out_dir: str, epochs: int = DEMO_EPOCHS, seed: int = 0, progress: bool = False) -> "TrainResult":
    """Train the digits convnet; returns the TrainResult (test accuracy, paths written)."""
    from .training import LogLines, TrainConfig, fit

    config = TrainConfig(
        model="cnn",
        dataset="digits",
        epochs=epochs,
        batch_size=32,
        optimizer="adam",
        lr=3e-3,
        schedule="cosine",
        seed=seed,
        out=out_dir,
        progress=progress,
    )
    return fit(config, callbacks=[LogLines(lambda line: print("  " + line, flush=True))])


GPT_STEPS = 50  # a few seconds: enough to learn letters, spaces and short words, not sentences
GPT_PROMPTS = ("The ", "If the ", "A class ")


def train_tiny_gpt(out_dir: str, seed: int = 0, steps: int = GPT_STEPS) -> "tuple[TrainResult, Vocabulary]":
    """A 2-layer, 64-wide GPT trained for ``steps`` steps of 32 windows of 32 characters on the default corpus
    (Python's pydoc topics); returns the TrainResult and the vocabulary."""
    from .data import Vocabulary, default_corpus
    from .training import LogLines, TrainConfig, fit

    config = TrainConfig.for_model(
        "gpt",
        layers=2,
        width=64,
        heads=4,
        block_size=32,
        batch_size=32,
        epochs=1,
        train_limit=32 * steps,
        warmup=10,
        lr=1e-2,
        seed=seed,
        out=out_dir,
        plot=False,
    )
    result = fit(config, callbacks=[LogLines(lambda line: print("  " + line, flush=True))])
    return result, Vocabulary(default_corpus())  # the characters the run's vocabulary was made of


def print_samples(model: "GPT", vocabulary: "Vocabulary", seed: int = 0, length: int = 60) -> None:
    generator = np.random.default_rng(seed)
    for prompt in GPT_PROMPTS:
        ids = model.generate(vocabulary.encode(prompt), length, temperature=0.8, top_k=10, generator=generator)
        print("  | " + vocabulary.decode(ids).replace("\n", " "))


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--out", default="runs/demo", metavar="DIR", help="where to write (default runs/demo)")
    parser.add_argument(
        "--epochs", type=int, default=DEMO_EPOCHS, metavar="N", help=f"training epochs (default {DEMO_EPOCHS})"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar while training")
    return parser


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register ``chainrule demo`` (the cli.py pattern: append this module to SUBCOMMANDS)."""
    parser = subparsers.add_parser(
        "demo", help="the worked examples, a convnet on digits, a tiny GPT on text", description=main.__doc__
    )
    add_arguments(parser)
    parser.set_defaults(run=run, parser=parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """The demo with parsed arguments; returns the exit status."""
    cr.tune_process_for_training()
    if args.epochs < 1:
        args.parser.error(f"--epochs must be a positive integer, got {args.epochs}")  # exits with status 2
    f, leaves = simple_example()
    print_gradients("1. f(x, y, z) = (x + y) * z at x=-2, y=5, z=-4", f, leaves)
    print()
    out, leaves = perceptron_example()
    out.backward()
    print_gradients("2. the perceptron 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", out, leaves)
    print()
    if explain_perceptron():  # the same pass, told gate by gate
        print()
    print(f"3. a convnet trained on the bundled 8x8 digits ({args.epochs} epoch{'' if args.epochs == 1 else 's'}):")
    from .training import ConfigError

    try:
        result = train_digits(args.out, args.epochs, args.seed, args.progress)
    except ConfigError as error:  # an --out that is a file or cannot be written
        print(f"chainrule demo: error: {error}", file=sys.stderr)
        return 2
    print(f"test accuracy: {result.test_accuracy:.2%} after {result.seconds:.1f} s of training")
    paths: dict[str, str | None] = dict(result.paths)
    notes = list(result.notes)
    print()
    print(f"4. a tiny GPT trained for {GPT_STEPS} steps on Python's own documentation, then writing:")
    gpt, vocabulary = train_tiny_gpt(os.path.join(args.out, "gpt"), args.seed)
    print(
        f"  test loss {gpt.test_loss / np.log(2):.2f} bits per character after {gpt.seconds:.1f} s "
        f"(uniform guessing: {np.log2(len(vocabulary)):.2f})"
    )
    from .models import GPT

    assert isinstance(gpt.model, GPT)  # the model "gpt" of train_tiny_gpt's configuration
    print_samples(gpt.model, vocabulary, args.seed)
    paths["gpt"] = gpt.paths.get("checkpoint")
    print("wrote:")
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    for note in notes + gpt.notes:
        print(f"note: {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``chainrule demo``: the worked examples (values, gradients, the perceptron explained), a convnet trained
    on the bundled digits (its test accuracy), and a tiny GPT trained for a few seconds that writes a few lines;
    then the files written."""
    parser = argparse.ArgumentParser(prog="chainrule demo", description=main.__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.parser = parser
    return run(args)
