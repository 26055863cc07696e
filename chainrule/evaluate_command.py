"""``chainrule evaluate CKPT``: test accuracy and confusion matrix of a checkpoint written by ``chainrule train``.

The model is rebuilt from the model and data set names stored in the checkpoint and the
test images are standardised with the stored pixel statistics.
"""

import argparse
import math
import sys
from collections.abc import Sequence

from .training import ConfigError, evaluate_checkpoint, format_confusion_matrix, plural
from .tuning import tune_process_for_training

DESCRIPTION = "Measure a training checkpoint on the test set: accuracy and confusion matrix."


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("checkpoint", metavar="CKPT", help="a checkpoint.safetensors written by chainrule train")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder with the MNIST files (default: the one stored in the checkpoint)"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the MNIST files missing from the data folder first (checksums verified)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule evaluate``; returns the exit status (2 for a bad checkpoint or missing data)."""
    tune_process_for_training()
    try:
        report = evaluate_checkpoint(args.checkpoint, args.data_dir, args.download)
    except ConfigError as error:
        print(f"chainrule evaluate: error: {error}", file=sys.stderr)
        return 2
    print(f"{report['dataset']} {report['model']} after {plural(report['epoch'], 'epoch')} ({args.checkpoint})")
    if report["confusion"] is None:  # a language model
        print(
            f"test loss: {report['loss']:.4f} nats, {report['loss'] / math.log(2):.3f} bits per character over "
            f"{report['samples']:,} characters (next-character accuracy {report['accuracy']:.2%})"
        )
        return 0
    print(
        f"test accuracy: {report['accuracy']:.2%} ({round(report['accuracy'] * report['samples'])} of "
        f"{report['samples']}), test loss {report['loss']:.4f}"
    )
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(format_confusion_matrix(report["confusion"]))
    return 0


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a checkpoint", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chainrule.evaluate_command``: the subcommand on its own."""
    parser = add_arguments(argparse.ArgumentParser(prog="chainrule evaluate", description=DESCRIPTION))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
