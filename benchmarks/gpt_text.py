"""The character-level GPT of ``chainrule train --model gpt``, trained in chainrule and in PyTorch side by side.

    python -m benchmarks.gpt_text                     # 1 epoch (about 200 steps) on Python's pydoc topics
    python -m benchmarks.gpt_text --epochs 3 --threads 1

chainrule trains through ``chainrule.training.fit`` exactly as the command line does (the
default GPT: 4 pre-norm blocks, width 128, 4 heads, block 64; AdamW 3e-3 with weight decay 0.1
on matrices only, clipping to norm 1, 100 warm-up steps then a cosine; batch 32; seed 0). A
callback records every batch and every step's learning rate; PyTorch then trains its twin of
the model (the same submodules, loaded with the same initial weights) on exactly those batches
with exactly those learning rates, AdamW with the same groups and the same clipping. Both are
measured on the same validation windows at the end: loss in nats and bits per character.
The two runs take turns on the same machine (chainrule first), each with ``--threads`` threads
(NumPy's OpenBLAS for chainrule, ``torch.set_num_threads`` for PyTorch).

Figures go to benchmarks/results/gpt_text.txt (and .json).
"""

import argparse
import json
import math
import os
import platform
import time

import numpy as np

from .harness import RESULTS_DIR, write_text_result


def train_chainrule(config):
    """fit() as chainrule train runs it; returns (result, batches, learning rates, initial state, vocabulary)."""
    import chainrule as cr
    from chainrule.training import Callback, fit, load_text_splits, model_for

    batches, rates = [], []

    class Record(Callback):
        def on_batch_end(self, run):  # after the step: the rate WarmupCosine set for it (in before_step)
            batches.append((run.inputs.data.copy(), run.targets.data.copy()))
            rates.append([group["lr"] for group in run.optimizer.param_groups])

    splits = load_text_splits(config.text, config.block_size)
    cr.manual_seed(config.seed)
    initial = {key: value.copy() for key, value in model_for(config, splits.vocabulary).state_dict().items()}
    result = fit(config, callbacks=[Record()])
    return result, batches, rates, initial, splits


def train_torch(torch, config, batches, rates, initial, splits):
    from .workloads.sequences import torch_gpt

    model = torch_gpt(torch)(
        len(splits.vocabulary), config.block_size, config.layers or 4, config.width or 128, config.heads
    )
    model.load_state_dict({key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in initial.items()})
    decay = [p for p in model.parameters() if p.ndim >= 2]
    plain = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay}, {"params": plain, "weight_decay": 0.0}], lr=config.lr, weight_decay=config.weight_decay
    )
    vocabulary = len(splits.vocabulary)
    model.train()
    start = time.perf_counter()
    for (tokens, targets), lrs in zip(batches, rates):
        for group, lr in zip(optimizer.param_groups, lrs):
            group["lr"] = lr
        logits = model(torch.from_numpy(tokens))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocabulary), torch.from_numpy(targets).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        total, count = 0.0, 0
        for begin in range(0, len(splits.X_val), 256):
            x = torch.from_numpy(splits.X_val[begin : begin + 256])
            y = torch.from_numpy(splits.y_val[begin : begin + 256])
            logits = model(x).double()
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, vocabulary), y.reshape(-1), reduction="sum"
            ).item()
            count += y.numel()
    return total / count, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpt_text", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the text (default 1, about 200 steps)")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="threads of each library (default: the cores)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from chainrule.blas import _ROUTINES

    if "threads" in _ROUTINES:
        _ROUTINES["threads"][1](args.threads)
    import torch

    torch.set_num_threads(args.threads)
    from chainrule.training import TrainConfig

    config = TrainConfig.for_model("gpt", epochs=args.epochs, seed=args.seed, out=None, plot=False)
    load = [round(x, 2) for x in os.getloadavg()]
    result, batches, rates, initial, splits = train_chainrule(config)
    ours_val = result.history["val_loss"][-1]
    theirs_val, theirs_seconds = train_torch(torch, config, batches, rates, initial, splits)
    figures = {
        "steps": len(batches),
        "epochs": args.epochs,
        "threads": args.threads,
        "seed": args.seed,
        "characters_per_step": config.batch_size * config.block_size,
        "parameters": result.model.num_parameters(),
        "chainrule": {"val_loss": ours_val, "val_bits_per_char": ours_val / math.log(2), "seconds": result.seconds},
        "pytorch": {"val_loss": theirs_val, "val_bits_per_char": theirs_val / math.log(2), "seconds": theirs_seconds},
        "load_average_at_start": load,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "corpus_characters": int(splits.X_train.size + splits.X_val.size + splits.X_test.size),
    }
    lines = [
        f"Character-level GPT ({figures['parameters']:,} parameters) on Python {figures['python']}'s pydoc topics, "
        f"{figures['steps']} steps of {figures['characters_per_step']:,} characters ({args.epochs} epoch(s)), seed "
        f"{args.seed}, {args.threads} thread(s) each, {figures['cores']} cores "
        f"(load average {load[0]} at start, {figures['load_average_at_end'][0]} at end)",
        "",
        "| library | validation loss (nats/char) | bits per character | training time |",
        "|---|---:|---:|---:|",
    ]
    for name in ("chainrule", "pytorch"):
        entry = figures[name]
        lines.append(
            f"| {name} | {entry['val_loss']:.4f} | {entry['val_bits_per_char']:.3f} | "
            f"{entry['seconds'] / 60:.1f} min ({entry['seconds'] / figures['steps'] * 1e3:.0f} ms/step) |"
        )
    difference = figures["chainrule"]["val_bits_per_char"] - figures["pytorch"]["val_bits_per_char"]
    lines += ["", f"difference (chainrule - PyTorch): {difference:+.4f} bits per character"]
    write_text_result("gpt_text.txt", "\n".join(lines))
    with open(os.path.join(RESULTS_DIR, "gpt_text.json"), "w") as out:
        json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
