"""Does overlapping the gradient reduction with backward pay? An experiment, kept out of the library.

    python -m benchmarks.ddp_overlap          # writes benchmarks/results/ddp_overlap.txt

``OverlappingDDP`` starts each bucket's non-blocking Allreduce (``Iallreduce``) from the
post-accumulate-grad hooks as soon as the bucket's last gradient is final, while backward
goes on through the earlier layers, and waits for them all in ``reduce_gradients``. It is
timed against the library's ``DistributedDataParallel`` (every bucket reduced after
backward), with one bucket and with the same small buckets, on the 784-512-256-10 MLP at
2 ranks, one BLAS thread each.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

from .harness import ROOT, write_text_result

CAP_MB = 0.6  # splits the MLP's 2.1 MB of gradients into 3 buckets: the last layers' finish first


def overlapping_ddp_class():
    from chainrule.distributed import comm
    from chainrule.distributed.ddp import DistributedDataParallel

    class OverlappingDDP(DistributedDataParallel):
        def __init__(self, module, bucket_cap_mb):
            super().__init__(module, bucket_cap_mb)
            self.bucket_of = {id(p): i for i, bucket in enumerate(self.buckets) for p in bucket.params}
            self.ready = [0] * len(self.buckets)
            self.requests = []
            for param in self.params:
                param.register_post_accumulate_grad_hook(self._final)

        def _start_ready_buckets(self, force=False):
            """Start, in bucket order (the same on every rank), every bucket whose gradients are all final."""
            MPI = self.world.MPI
            while len(self.requests) < len(self.buckets):
                index = len(self.requests)
                bucket = self.buckets[index]
                if not force and self.ready[index] < len(bucket.params):
                    break
                if index == 0:
                    comm.agree(
                        "gradients",
                        sum(b.buffer.size for b in self.buckets),
                        bucket.buffer.dtype,
                        len(self.buckets),
                        self.forwards,
                    )
                bucket.pack()
                self.requests.append(self.world.comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, MPI.SUM))

        def _final(self, param):
            self.ready[self.bucket_of[id(param)]] += 1
            self._start_ready_buckets()
            for request in self.requests:
                request.Test()  # let MPI move the started reductions along

        def reduce_gradients(self):
            self._start_ready_buckets(force=True)
            self.world.MPI.Request.Waitall(self.requests)
            for bucket in self.buckets:
                np.divide(bucket.buffer, self.world.size, out=bucket.buffer)
                bucket.unpack()
            self.ready = [0] * len(self.buckets)
            self.requests = []

    return OverlappingDDP


def worker(variant, batch, repeats):
    from mpi4py import MPI

    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule import nn, optim
    from chainrule.distributed.ddp import DistributedDataParallel

    from .distributed import build

    dist.init()
    world = MPI.COMM_WORLD
    module = build("mlp")
    if variant == "overlap":
        model = overlapping_ddp_class()(module, CAP_MB)
    else:
        model = DistributedDataParallel(module, CAP_MB if variant == "buckets" else 4.0)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(world.rank)
    x = cr.Tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = cr.Tensor(rng.integers(0, 10, batch))
    times = []
    world.Barrier()
    for _ in range(5 + repeats):
        start = time.perf_counter()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        model.reduce_gradients()
        optimizer.step()
        times.append(time.perf_counter() - start)
    slowest = np.asarray(times[5:])
    world.Allreduce(MPI.IN_PLACE, slowest, MPI.MAX)
    if world.rank == 0:
        print("RESULT " + json.dumps({"buckets": len(model.buckets), "step": float(np.median(slowest))}), flush=True)


def main():
    if sys.argv[1:2] == ["--worker"]:
        return worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    from chainrule.distributed import launch

    env = dict(launch.environment(os.environ), PYTHONPATH=ROOT)
    rows = []
    for batch in (64, 512):
        results = {}
        for _round in range(3):  # the variants take turns, so a burst of load hits them alike
            for variant in ("one bucket", "buckets", "overlap"):
                command = [
                    launch.find_mpiexec(),
                    "-n",
                    "2",
                    sys.executable,
                    "-m",
                    "mpi4py",
                    "-m",
                    "benchmarks.ddp_overlap",
                    "--worker",
                    variant.split()[-1] if variant != "one bucket" else "one",
                    str(batch),
                    "40",
                ]
                done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
                line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
                if not line:
                    raise RuntimeError(done.stdout + done.stderr)
                result = json.loads(line[0][7:])
                results.setdefault(variant, []).append(result)
        for variant, runs in results.items():
            step = float(np.median([r["step"] for r in runs]))
            rows.append(
                f"  per-rank batch {batch:>4}  {variant:<11} {runs[0]['buckets']} bucket(s)  "
                f"{step * 1e3:7.2f} ms a step"
            )
    from .machine import describe

    machine = describe("python -m benchmarks.ddp_overlap", [])
    text = "\n".join(
        [
            f"DDP overlap experiment: MLP 784-512-256-10, 2 ranks, one BLAS thread each, median of 3 jobs "
            f"x 40 steps (slowest rank); {machine['cpu']}, {machine['cores']} cores, load "
            f"{machine['load_average_at_start']}, {machine['date']}",
            *rows,
        ]
    )
    write_text_result("ddp_overlap.txt", text)


if __name__ == "__main__":
    main()
