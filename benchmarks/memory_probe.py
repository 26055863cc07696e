"""Child process: the peak memory of one forward+backward of one implementation.

    python -m benchmarks.memory_probe WORKLOAD IMPLEMENTATION [--quick] [--no-tune]

Run by the harness, one fresh process per implementation, so that nothing another
implementation allocated (or an allocator kept after it) is counted. It sets up,
collects garbage, resets the kernel's peak-RSS counter to the current RSS, runs once
and prints one JSON line: the RSS before the run, the peak during it, and the
difference ("extra_bytes"), which is what the run itself needed.

Without /proc/self/clear_refs (not Linux, or not allowed) the peak is the process's
lifetime peak (ru_maxrss); if imports or setup peaked higher than the run, the
difference understates the run, and "method" says so.
"""

import argparse
import gc
import json
import time

from . import registry
from .harness import current_and_peak_rss, reset_peak_rss, tune_process


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("implementation")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-tune", action="store_true", help="without chainrule.tune_process_for_training()")
    args = parser.parse_args()
    tune_process(not args.no_tune)
    workload = registry.find(args.workload, args.quick)
    run = workload.implementations[args.implementation]()
    gc.collect()
    before, process_peak = current_and_peak_rss()
    method = "clear_refs" if reset_peak_rss() else "ru_maxrss (lifetime peak)"
    start = time.perf_counter()
    output = run()
    seconds = time.perf_counter() - start
    _, peak = current_and_peak_rss()
    del output
    print(
        json.dumps(
            {
                "rss_before_bytes": before,
                "peak_bytes": peak,
                "extra_bytes": peak - before if before is not None else None,
                "process_peak_bytes": max(peak, process_peak),
                "cold_run_s": seconds,
                "method": method,
                "status": "ok",
            }
        )
    )


if __name__ == "__main__":
    main()
