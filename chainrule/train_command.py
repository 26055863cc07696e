"""``chainrule train``: train a named model from the command line (a thin layer over ``training.fit``).

    chainrule train --model cnn --dataset digits --epochs 10 --out runs/digits-cnn
    chainrule train --model cnn --dataset mnist --data-dir data/mnist --download --epochs 3 --out runs/lenet
    chainrule train --resume runs/lenet/checkpoint.safetensors --epochs 5
    chainrule train --model cnn --dataset digits --nproc 4 --out runs/ddp
    chainrule train --model gpt --dataset text --text book.txt --out runs/gpt
    chainrule train --model lstm --dataset digits-rows --out runs/lstm

With ``--resume``, every option not given on the command line is taken from the
checkpoint (model, data set, optimizer, learning rate, seed, output directory, ...),
and ``--epochs`` is the total, counting the epochs already done. The gpt and lstm models
take the settings of ``MODEL_DEFAULTS`` for every option not given (for gpt: AdamW, weight
decay on matrices only, gradient clipping, a warm-up + cosine schedule).

With ``--nproc N`` the command starts ``mpiexec -n N python -m mpi4py -m chainrule train ...``
(``chainrule.distributed.launch``); each of those processes, like any started by a user's own
``mpiexec``, sees that it is one rank of a job and trains data-parallel
(``chainrule.distributed.DataParallel``): ``--batch-size`` is then the global batch.
"""

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from typing import Any

from . import io
from .models import DATASETS, MODEL_NAMES
from .training import (
    MODEL_DEFAULTS,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    LogLines,
    NonFiniteError,
    TrainConfig,
    TrainResult,
    fit,
    load_checkpoint,
    plural,
)
from .tuning import tune_process_for_training

DESCRIPTION = "Train a model on the bundled 8x8 digits, MNIST or a text; writes a checkpoint each epoch and a plot."
EPILOG = (
    "With --resume, every option not given is taken from the checkpoint, and --epochs is the total "
    "(counting the epochs already done). Example: chainrule train --model cnn --dataset mnist "
    "--data-dir data/mnist --epochs 4 --lr 0.002 --schedule cosine --out runs/lenet"
)


def _integer(text: str, minimum: int, kind: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a {kind} integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be a {kind} integer, got {value}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1, "positive")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "non-negative")


def _number(text: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value == value or value in (float("inf"), float("-inf")) or (value <= 0 if positive else value < 0):
        raise argparse.ArgumentTypeError(f"must be a {'positive' if positive else 'non-negative'} number, got {text}")
    return value


def positive_float(text: str) -> float:
    return _number(text, positive=True)


def non_negative_float(text: str) -> float:
    return _number(text, positive=False)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``chainrule train``. Defaults are None so that --resume can tell what was given."""
    defaults = TrainConfig()
    parser.add_argument("--model", choices=MODEL_NAMES, help=f"which network (default {defaults.model})")
    parser.add_argument("--dataset", choices=tuple(DATASETS), help=f"which data (default {defaults.dataset})")
    parser.add_argument("--data-dir", metavar="DIR", help="folder with the four MNIST files (needed for mnist)")
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch the MNIST files missing from --data-dir first (checksums verified)",
    )
    parser.add_argument(
        "--epochs", type=positive_int, metavar="N", help=f"total number of epochs (default {defaults.epochs})"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, metavar="B", help=f"samples per step (default {defaults.batch_size})"
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        metavar="LR",
        help="learning rate (default: 0.05 for sgd, 0.01 for adagrad, 0.001 otherwise)",
    )
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help=f"update rule (default {defaults.optimizer})")
    parser.add_argument(
        "--momentum", type=non_negative_float, metavar="M", help="momentum for sgd and rmsprop (default 0)"
    )
    parser.add_argument(
        "--weight-decay",
        type=non_negative_float,
        metavar="WD",
        help="weight decay (default: the optimizer's, 0 or 0.01 for adamw)",
    )
    parser.add_argument(
        "--schedule", choices=SCHEDULES, help="learning rate over the epochs: constant (default) or cosine down to 0"
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        metavar="S",
        help=f"seed for weights, shuffling and dropout (default {defaults.seed})",
    )
    parser.add_argument(
        "--train-limit",
        type=positive_int,
        metavar="N",
        help="train on only the first N training images (quick experiments)",
    )
    parser.add_argument("--out", metavar="DIR", help=f"output folder (default {defaults.out})")
    parser.add_argument("--resume", metavar="CKPT", help="continue from this checkpoint")
    parser.add_argument(
        "--graph",
        action="store_true",
        help="also draw one training step of the model (graph.svg, or graph.dot without Graphviz)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, only one line per epoch")
    parser.add_argument(
        "--nproc",
        type=positive_int,
        metavar="N",
        help="train data-parallel with N processes under mpiexec (--batch-size is the global batch; "
        "needs chainrule[distributed])",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="with --nproc: end the whole job after S seconds (MPIEXEC_TIMEOUT)",
    )
    sequence = parser.add_argument_group("sequence models (gpt, lstm)")
    sequence.add_argument(
        "--text",
        metavar="FILE",
        help="a UTF-8 text for the gpt (default: Python's own pydoc topics, on every machine with Python)",
    )
    sequence.add_argument(
        "--block-size",
        type=positive_int,
        metavar="T",
        help=f"the gpt's context in characters (default {defaults.block_size})",
    )
    sequence.add_argument("--layers", type=positive_int, metavar="L", help="layers (default: gpt 4, lstm 1)")
    sequence.add_argument(
        "--width",
        type=positive_int,
        metavar="W",
        help="embedding width (gpt, default 128) or hidden units (lstm, default 64)",
    )
    sequence.add_argument(
        "--heads", type=positive_int, metavar="H", help=f"the gpt's attention heads (default {defaults.heads})"
    )
    sequence.add_argument(
        "--clip",
        type=positive_float,
        metavar="NORM",
        help="clip the gradients' joint norm to NORM before each step (gpt default 1.0)",
    )
    sequence.add_argument(
        "--warmup",
        type=non_negative_int,
        metavar="STEPS",
        help=f"warm-up steps of the warmup-cosine schedule (default {defaults.warmup})",
    )
    return parser


# Options that --resume takes from the checkpoint unless given again.
_RESUMABLE = (
    "model",
    "dataset",
    "data_dir",
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "momentum",
    "weight_decay",
    "schedule",
    "seed",
    "val_fraction",
    "train_limit",
    "out",
    "text",
    "block_size",
    "layers",
    "width",
    "heads",
    "clip",
    "warmup",
)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A TrainConfig from parsed arguments: given options, else the checkpoint's (with --resume), else the
    model's defaults (MODEL_DEFAULTS), else TrainConfig's."""
    settings: dict[str, Any] = {}
    if args.resume:
        stored = load_checkpoint(args.resume)["config"]
        settings.update({key: stored[key] for key in _RESUMABLE if key in stored})
    given = {key: value for key, value in vars(args).items() if key in _RESUMABLE and value is not None}
    if not args.resume:
        settings.update(MODEL_DEFAULTS.get(given.get("model", ""), {}))  # "": no model given, no defaults
    settings.update(given)
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{key: value for key, value in settings.items() if key in fields})
    config.resume = args.resume
    config.graph = args.graph
    config.download = args.download
    config.progress = not args.no_progress
    return config


def print_line(line: str) -> None:
    print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule train`` with parsed arguments; returns the exit status: 2 for bad input, 1 when
    training fails (a NaN loss, a full disk)."""
    from .distributed import launch

    if launch.started_by_mpiexec():
        return run_rank(args)
    if args.nproc is not None and args.nproc > 1:
        return launch_ranks(args)
    tune_process_for_training()  # each rank tunes itself; the launcher above only waits
    try:
        config = config_from_args(args)
        result = fit(config, callbacks=[LogLines(print_line)])
    except (ConfigError, io.CheckpointError) as error:
        print(f"chainrule train: error: {error}", file=sys.stderr)
        return 2
    except (NonFiniteError, OSError) as error:
        print(f"chainrule train: error: {error}", file=sys.stderr)
        return 1
    print_summary(result, config)
    return 0


def print_summary(result: TrainResult, config: TrainConfig) -> None:
    """The test figures (in bits per character for a language model), the notes and the files written."""
    if config.dataset == "text":
        print(
            f"test loss: {result.test_loss:.4f} nats, {result.test_loss / math.log(2):.3f} bits per character "
            f"(next-character accuracy {result.test_accuracy:.2%}) after {plural(result.epochs, 'epoch')}, "
            f"{result.seconds:.1f} s of training"
        )
    else:
        print(
            f"test accuracy: {result.test_accuracy:.2%} (loss {result.test_loss:.4f}) after "
            f"{plural(result.epochs, 'epoch')}, {result.seconds:.1f} s of training"
        )
    for note in result.notes:
        print(f"note: {note}")
    if result.paths:
        print("wrote:")
        for what, path in result.paths.items():
            print(f"  {what:<10} {path}")


# ----- several processes ---------------------------------------------------------------------------
def launch_ranks(args: argparse.Namespace) -> int:
    """``--nproc N``: check the settings here (bad input fails before any process starts), then run N ranks
    of this same command under mpiexec; returns mpiexec's exit status."""
    from .distributed import launch

    try:
        config = config_from_args(args).validate()
        if config.batch_size % args.nproc:
            raise ConfigError(
                f"the batch size {config.batch_size} (--batch-size: the global batch, all processes "
                f"together) must be a multiple of --nproc {args.nproc}"
            )
        return launch.run(args.nproc, ["train", *arguments_of(args)], timeout=args.timeout)
    except (ConfigError, io.CheckpointError, FileNotFoundError) as error:
        print(f"chainrule train: error: {error}", file=sys.stderr)
        return 2


def arguments_of(args: argparse.Namespace) -> list[str]:
    """The command line of parsed ``args``, without --nproc and --timeout (what each rank runs)."""
    words: list[str] = []
    for action in add_arguments(argparse.ArgumentParser())._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or action.dest in ("help", "nproc", "timeout") or value in (None, False):
            continue
        words += [action.option_strings[0]] if action.nargs == 0 else [action.option_strings[0], str(value)]
    return words


def run_rank(args: argparse.Namespace) -> int:
    """One rank of an MPI job (started by --nproc or by the user's own mpiexec): train data-parallel with every
    rank; only rank 0 prints. An error raised by every rank alike (NaN loss, a disagreement between ranks) is
    reported once and every rank exits with its status; an error of one rank alone is reported by that rank,
    naming it, and ends the whole job at once (the others would wait for it forever)."""
    from .distributed import DataParallel, comm, launch

    try:
        comm.init()
    except ImportError as missing:
        print(f"chainrule train: error: {missing}", file=sys.stderr)
        return 2
    launch.record_rank(comm.rank())
    tune_process_for_training()
    error: BaseException | None = None
    try:
        config = config_from_args(args)
        result = fit(config, callbacks=[DataParallel(), LogLines(print_line)])
    except (ConfigError, io.CheckpointError) as caught:
        error, status = caught, 2
    except (NonFiniteError, comm.DistributedError, OSError) as caught:
        error, status = caught, 1
    finally:
        launch.record_exit()  # for the launcher: this rank was not killed (also when an error unwinds from here)
    if error is not None:
        return _rank_failed(error, status)
    if comm.rank() == 0:
        print_summary(result, config)
    return 0


def _rank_failed(error: BaseException, status: int) -> int:
    from .distributed import comm

    if getattr(error, "collective", False):  # every rank raised it at the same point: say it once
        if comm.rank() == 0:
            print(f"chainrule train: error: {error}", file=sys.stderr, flush=True)
        comm.end_together()
        return status
    print(f"chainrule train: error on rank {comm.rank()} of {comm.world_size()}: {error}", file=sys.stderr, flush=True)
    comm.abort(status)


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train", help="train a model on the digits, MNIST or a text", description=DESCRIPTION, epilog=EPILOG
    )
    add_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chainrule.train_command``: the subcommand on its own."""
    parser = add_arguments(argparse.ArgumentParser(prog="chainrule train", description=DESCRIPTION, epilog=EPILOG))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
