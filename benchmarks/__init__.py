"""chainrule's benchmark suite: chainrule against PyTorch (CPU) and hand-written NumPy, workload by workload.

Run it with ``python -m benchmarks`` (see benchmarks/README.md). Not part of the package, never run by tests or CI.
This module imports nothing: OpenBLAS settings must be fixed before NumPy loads (see run_all.py).
"""
