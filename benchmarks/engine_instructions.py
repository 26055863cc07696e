"""The engine's cost in instructions, not seconds: repeatable on a busy machine.

Wall-clock figures drift with the machine's load (these machines are shared); valgrind's
callgrind counts the instructions a process executes, which is the same from run to run
for the same code and inputs. This script counts three engine workloads (small elementwise
ops forward and backward, a deep chain of scalar gates, a small MLP training step) at two
sizes and reports the difference per unit of work, so start-up and imports cancel out.
``--against REV`` counts the same workloads for another git revision (checked out in a
temporary worktree) and prints the ratio, e.g. to check that an engine change costs nothing:

    python -m benchmarks.engine_instructions --against 3d59ec8

Needs valgrind (``apt-get install valgrind``). Hash randomisation is fixed (PYTHONHASHSEED=0),
address randomisation turned off (``setarch -R``), the cycle collector off and BLAS on one thread,
so dictionary layouts, and with them the counts, repeat.
"""

import argparse
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

WORKLOAD = """
import gc
import sys
import numpy as np
import chainrule as cr
which, repeat = sys.argv[1], int(sys.argv[2])
gc.disable()  # a collection lands at a different moment in each tree; counted alone it is noise
rng = np.random.default_rng(0)
if which == "small ops":
    xs = [cr.tensor(rng.normal(size=10).astype(np.float32), requires_grad=True) for _ in range(4)]
    for _ in range(10 * repeat):
        a, b, c, d = xs
        y = ((a * b + c) * d - a).tanh() * b + (c * d).sigmoid() - a.exp() * 0.5
        y = (y * y + a).relu() + b * 2.0
        y.sum().backward()
elif which == "deep chain":
    x = cr.tensor(np.float32(0.5), requires_grad=True)
    y = x
    for _ in range(1000 * repeat):
        y = y * 1.0001 + 0.0001
    y.backward()
else:
    from chainrule import nn, optim
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = optim.SGD(model.parameters(), lr=0.1)
    X = rng.normal(size=(16, 64)).astype(np.float32)
    Y = rng.integers(0, 10, 16)
    for _ in range(5 * repeat):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(cr.tensor(X)), Y)
        loss.backward()
        opt.step()
"""

WORKLOADS = {
    "small ops": "10 rounds of 16 small float32 ops, forward and backward",
    "deep chain": "1,000 scalar gates, forward and backward",
    "mlp step": "5 steps of a 64-32-10 MLP on 16 samples",
}


def instructions(tree, workload, repeat):
    """Instructions callgrind counts for one run of ``workload`` with ``repeat`` units, in ``tree``."""
    # One BLAS thread: the spinning of idle OpenBLAS threads is counted too, and differs from run to run.
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(tree), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    command = (["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []) + [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-c",
        WORKLOAD,
        workload,
        str(repeat),
    ]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode or not found:
        raise RuntimeError(f"callgrind failed on {workload!r} in {tree}:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def per_unit(tree, workload):
    """Instructions per unit of work: the difference between 10 and 2 units, divided by 8."""
    return (instructions(tree, workload, 10) - instructions(tree, workload, 2)) / 8


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engine_instructions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--against", metavar="REV", help="also count a git revision and print the ratio")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    trees = {"this tree": ROOT}
    with tempfile.TemporaryDirectory() as scratch:
        if args.against:
            other = pathlib.Path(scratch) / "other"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(other), args.against],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            trees[args.against] = other
        try:
            print(
                f"{'workload':12} {'what':55} "
                + " ".join(f"{name:>14}" for name in trees)
                + ("  ratio" if args.against else "")
            )
            for workload, what in WORKLOADS.items():
                counts = [per_unit(tree, workload) for tree in trees.values()]
                ratio = f"  {counts[0] / counts[1]:.3f}" if args.against else ""
                print(f"{workload:12} {what:55} " + " ".join(f"{c / 1e6:12.2f} M" for c in counts) + ratio)
        finally:
            if args.against:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(trees[args.against])], cwd=ROOT, capture_output=True
                )


if __name__ == "__main__":
    main()
