"""The one list of workloads. To add one: write a function ``name(quick) -> Workload`` in a module under
``benchmarks/workloads/`` and append it to WORKLOADS."""

from .workloads import engine, layers, networks, operations, sequences

WORKLOADS = [
    engine.small_ops,
    engine.perceptron,
    engine.deep_chain_100k,
    engine.deep_chain_1m,
    networks.mlp_step_128,
    networks.mlp_step_1024,
    networks.lenet_step,
    networks.wide_cnn_step,
    networks.mnist_epoch_mlp,
    networks.mnist_epoch_lenet,
    layers.conv1d,
    layers.conv_transpose2d,
    layers.interpolate_bilinear,
    layers.interpolate_nearest,
    layers.interpolate_bilinear_large,
    operations.einsum_attention,
    operations.einsum_bilinear,
    operations.gather,
    operations.scatter_add,
    operations.cumsum,
    sequences.transformer_block,
    sequences.lstm_layer,
    sequences.gpt_step,
    sequences.gpt_forward,
]


def build(quick):
    """Every workload, described (cheap: nothing is imported or allocated until a setup() runs)."""
    workloads = [make(quick) for make in WORKLOADS]
    names = [w.name for w in workloads]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"benchmarks.registry: workload names must be unique; repeated: {duplicates}")
    return workloads


def find(name, quick):
    for workload in build(quick):
        if workload.name == name:
            return workload
    raise KeyError(f"benchmarks: no workload named {name!r}; known: {[w.name for w in build(quick)]}")


def select(patterns, quick):
    """The workloads whose name equals or starts with one of ``patterns`` (all of them when there are none)."""
    workloads = build(quick)
    if not patterns:
        return workloads
    chosen = [w for w in workloads if any(w.name == p or w.name.startswith(p) for p in patterns)]
    if not chosen:
        raise SystemExit(
            f"benchmarks: --only {' '.join(patterns)} matches no workload; "
            f"known: {', '.join(w.name for w in workloads)}"
        )
    return chosen
