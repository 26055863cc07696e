"""One module per family of workloads; each workload is a function ``name(quick) -> Workload`` listed in
benchmarks/registry.py."""
