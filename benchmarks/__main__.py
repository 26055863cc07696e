"""``python -m benchmarks``: run the suite (see run_all.py)."""

from benchmarks.run_all import main

main()
