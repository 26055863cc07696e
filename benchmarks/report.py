"""Results on disk: raw numbers (results.json), a Markdown report (RESULTS.md), a chart of the ratios (ratios.png).

A full run replaces results.json; a run with --only replaces just the workloads it ran
and keeps the others (each workload records the run it came from).
"""

import json
import os

from .harness import PRIMARY, RESULTS_DIR, format_bytes, format_seconds

BASELINE_ORDER = ["pytorch", "numpy", "micrograd"]
BASELINE_NAMES = {"pytorch": "PyTorch", "numpy": "NumPy", "micrograd": "micrograd"}


def save(machine, workload_results, run_info, merge):
    """Write the three files; returns the merged results."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, "results.json")
    results = {"machine": machine, "workloads": {}}
    if merge and os.path.exists(path):
        with open(path) as previous:
            results["workloads"] = json.load(previous).get("workloads", {})
    for name, result in workload_results.items():
        results["workloads"][name] = {**result, "run": run_info}
    with open(path, "w") as out:
        json.dump(results, out, indent=1)
    with open(os.path.join(RESULTS_DIR, "RESULTS.md"), "w") as out:
        out.write(markdown(results))
    write_chart(results, os.path.join(RESULTS_DIR, "ratios.png"))
    return results


def _baselines(results):
    labels = {label for w in results["workloads"].values() for label in w["implementations"] if label != PRIMARY}
    return [b for b in BASELINE_ORDER if b in labels] + sorted(labels - set(BASELINE_ORDER))


def _ratio_text(ratio):
    if ratio is None:
        return "-"
    text = f"{ratio['median']:.2f}"
    if "target" in ratio:
        text += f" ({'meets' if ratio['met'] else 'misses'} ≤ {ratio['target']:g})"
    return text


def markdown(results):
    machine = results["machine"]
    baselines = _baselines(results)
    lines = [
        "# chainrule benchmarks",
        "",
        f"Last run: `{machine['command']}` on {machine['date']}. Times are medians per unit (op, gate, pass...) of "
        "forward+backward; a ratio is chainrule's time divided by the baseline's, median over rounds in which the "
        "implementations took turns (below 1: chainrule is faster).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {machine['cpu']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable), {machine['memory_gib']} GiB memory |",
        f"| load average at start | {machine['load_average_at_start']} (other processes share the machine: "
        "high load means noisy numbers) |",
        f"| Python | {machine['python']} ({machine['platform']}) |",
        f"| NumPy | {machine['numpy']}; BLAS {_blas_text(machine['blas'])} |",
        f"| thread pools | {_threadpool_text(machine['threadpools'])} |",
        f"| PyTorch | {machine['torch']} (CPU), {machine['torch_threads']} threads |",
        f"| micrograd | {machine['micrograd']} |",
        f"| chainrule | {machine['chainrule']}, git {machine['git']} |",
        f"| environment | {_environment_text(machine['removed_environment'])} |",
        "",
        "## Summary",
        "",
        "| workload | chainrule | " + " | ".join(f"vs {BASELINE_NAMES.get(b, b)}" for b in baselines) + " |",
        "|---|---:|" + "---:|" * len(baselines),
    ]
    for name, w in results["workloads"].items():
        mine = w["implementations"].get(PRIMARY, {})
        cells = [f"{format_seconds(mine['median_s'])}/{w['unit']}" if "median_s" in mine else mine.get("status", "-")]
        cells += [_ratio_text(w["ratios"].get(b)) if b in w["implementations"] else "" for b in baselines]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += _memory_scaling(results)
    for name, w in results["workloads"].items():
        lines += _workload_section(name, w)
    return "\n".join(lines) + "\n"


def _workload_section(name, w):
    run = w["run"]
    lines = [
        "",
        f"## {name}: {w['title']}",
        "",
        w["description"],
        "",
        f"Measured by `{run['command']}` on {run['date']}"
        + (" (quick: few repeats, noisier)" if run["quick"] else "")
        + f"; load average when it started: {w.get('load_average_at_start')}.",
        "",
    ]
    with_memory = any("memory" in entry for entry in w["implementations"].values())
    rate = w.get("rate")  # (name, amount per unit) or None
    header = f"| implementation | median per {w['unit']} |" + (f" {rate[0]} |" if rate else "")
    header += " quartiles | min | rounds × calls | status |"
    rule = "|---|---:|" + ("---:|" if rate else "") + "---:|---:|---:|---|"
    if with_memory:
        header += " peak extra memory | bytes per " + w["unit"] + " | cold run |"
        rule += "---:|---:|---:|"
    lines += [header, rule]
    for label, entry in w["implementations"].items():
        if "median_s" in entry:
            row = (
                f"| {label} | {format_seconds(entry['median_s'])} |"
                + (f" {_rate_text(rate[1] / entry['median_s'])} |" if rate else "")
                + f" {format_seconds(entry['q1_s'])} – {format_seconds(entry['q3_s'])} | "
                f"{format_seconds(entry['min_s'])} | {entry['repeats']} × {entry['number']} | {entry['status']} |"
            )
        else:
            row = f"| {label} | - |" + (" - |" if rate else "") + f" - | - | - | {entry['status']} |"
        if with_memory:
            memory = entry.get("memory", {})
            if memory.get("status") == "ok":
                row += (
                    f" {format_bytes(memory['extra_bytes'])} | {memory['bytes_per_unit']:,.0f} | "
                    f"{format_seconds(memory['cold_run_s'])} |"
                )
            else:
                row += f" {memory.get('status', '-')} | - | - |"
        lines.append(row)
    if w["ratios"]:
        lines += [
            "",
            "| chainrule / | median ratio | range over rounds | ratio of medians | target | outputs agree |",
            "|---|---:|---:|---:|---|---|",
        ]
        for label, ratio in w["ratios"].items():
            target = f"≤ {ratio['target']:g}: {'met' if ratio['met'] else 'missed'}" if "target" in ratio else ""
            agree = w["agreement"].get(label, {})
            agree_text = (
                "-"
                if not agree
                else f"{'yes' if agree['ok'] else 'NO'} (max rel diff {agree['max_rel_diff']:.1e})"
                if agree.get("max_rel_diff") is not None
                else f"NO ({agree.get('note')})"
            )
            lines.append(
                f"| {label} | {ratio['median']:.3f} | {ratio['min']:.3f} – {ratio['max']:.3f} | "
                f"{ratio['of_medians']:.3f} | {target} | {agree_text} |"
            )
    return lines


def _rate_text(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _memory_scaling(results):
    """Bytes per unit of each implementation across the sizes of a family (linear memory: equal numbers)."""
    families = {}
    for name, w in results["workloads"].items():
        if w.get("family") and any("memory" in e for e in w["implementations"].values()):
            families.setdefault(w["family"], []).append((name, w))
    lines = []
    for family, members in families.items():
        labels = list(members[0][1]["implementations"])
        lines += [
            "",
            f"### Memory per {members[0][1]['unit']}: {family}",
            "",
            "| implementation | " + " | ".join(name for name, _ in members) + " |",
            "|---|" + "---:|" * len(members),
        ]
        for label in labels:
            cells = []
            for _, w in members:
                memory = w["implementations"].get(label, {}).get("memory", {})
                cells.append(
                    f"{memory['bytes_per_unit']:,.0f} B ({format_bytes(memory['extra_bytes'])})"
                    if memory.get("status") == "ok"
                    else memory.get("status", "-")
                )
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _blas_text(blas):
    text = f"{blas.get('name')} {blas.get('version') or ''}".strip()
    if blas.get("openblas configuration"):
        text += f" ({blas['openblas configuration']})"
    return text


def _threadpool_text(pools):
    if not isinstance(pools, list):
        return str(pools)
    return "; ".join(
        f"{p['prefix']} {p.get('version') or ''} ({p['internal_api']}"
        + (f", kernel {p['architecture']}" if p.get("architecture") else "")
        + f", {p['num_threads']} threads)"
        for p in pools
    )


def _environment_text(removed):
    if not removed:
        return "no OpenBLAS overrides were set"
    return "removed for this run (they slow NumPy's BLAS): " + ", ".join(f"`{k}={v}`" for k, v in removed.items())


def write_chart(results, path):
    """Horizontal bars of chainrule/baseline per workload, log scale; ticks mark the targets."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("benchmarks: matplotlib is not installed, so no chart (pip install matplotlib)")
        return
    baselines = _baselines(results)
    names = [n for n, w in results["workloads"].items() if w["ratios"]]
    if not names:
        return
    height = 0.8 / len(baselines)
    figure, axes = plt.subplots(figsize=(9, 1.1 + 0.9 * len(names)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, baseline in enumerate(baselines):
        for j, name in enumerate(names):
            ratio = results["workloads"][name]["ratios"].get(baseline)
            if ratio is None:
                continue
            y = j + (i - (len(baselines) - 1) / 2) * height
            axes.barh(
                y,
                ratio["median"],
                height=height * 0.9,
                color=colors[i % len(colors)],
                label=f"chainrule / {BASELINE_NAMES.get(baseline, baseline)}",
            )
            axes.text(ratio["median"] * 1.03, y, f"{ratio['median']:.2f}", va="center", fontsize=8)
            if "target" in ratio:
                axes.plot([ratio["target"]] * 2, [y - height / 2, y + height / 2], color="black", linewidth=2)
    axes.axvline(1.0, color="gray", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    axes.set_yticks(range(len(names)), names)
    axes.invert_yaxis()
    axes.set_xlabel("time ratio (log scale; < 1: chainrule faster; black ticks: targets)")
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    low = min(r["median"] for n in names for r in results["workloads"][n]["ratios"].values())
    high = max(r["median"] for n in names for r in results["workloads"][n]["ratios"].values())
    axes.set_xlim(min(low, 0.5) / 1.5, max(high, 2) * 1.6)
    axes.set_title(
        f"chainrule vs baselines ({results['machine']['date'][:10]}, {results['machine']['cpu']})", fontsize=9
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def console_line(name, result):
    """One workload's figures for the terminal."""
    parts = []
    for label, entry in result["implementations"].items():
        if "median_s" in entry:
            parts.append(f"{label} {format_seconds(entry['median_s'])}/{result['unit']}")
        else:
            parts.append(f"{label} {entry['status']}")
        memory = entry.get("memory")
        if memory:
            parts[-1] += (
                f" [{memory['bytes_per_unit']:,.0f} B/{result['unit']}]"
                if memory.get("status") == "ok"
                else f" [memory: {memory['status']}]"
            )
    ratios = [f"/{label} {_ratio_text(r)}" for label, r in result["ratios"].items()]
    problems = [
        f"{label} outputs differ (max rel diff {a['max_rel_diff']})"
        for label, a in result["agreement"].items()
        if not a["ok"]
    ]
    return (
        f"  {name}: "
        + ", ".join(parts)
        + "\n    chainrule"
        + "; chainrule".join(ratios)
        + ("\n    WARNING: " + "; ".join(problems) if problems else "")
    )
