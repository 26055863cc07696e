"""What the numbers were measured on: CPU, cores, library versions, BLAS, load, date, command."""

import datetime
import importlib.metadata
import os
import platform
import subprocess

import numpy as np

from .harness import ROOT


def describe(command, removed_environment):
    torch_version, torch_threads = _torch()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_at_start": _load_average(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": _blas(),
        "threadpools": _threadpools(),
        "torch": torch_version,
        "torch_threads": torch_threads,
        "micrograd": _version("micrograd"),
        "chainrule": _version("chainrule"),
        "git": _git(),
        "removed_environment": removed_environment,
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        return None


def _load_average():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _blas():
    """The BLAS NumPy was built against (name, version, build configuration)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {key: blas.get(key) for key in ("name", "version", "openblas configuration")}
    except Exception as error:  # old NumPy, or a build that does not say
        return {"name": f"unknown ({type(error).__name__})"}


def _threadpools():
    """The native libraries' thread pools as loaded now; for OpenBLAS, "architecture" is the kernel it runs."""
    try:
        import threadpoolctl
    except ImportError:
        return "threadpoolctl not installed"
    return [
        {key: pool.get(key) for key in ("prefix", "internal_api", "version", "num_threads", "architecture")}
        for pool in threadpoolctl.threadpool_info()
    ]


def _torch():
    try:
        from .harness import import_torch

        torch = import_torch()
        return torch.__version__, torch.get_num_threads()
    except ImportError:
        return None, None


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git():
    """The commit measured, and whether chainrule/ had uncommitted changes (read-only git commands)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "chainrule"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}{' + uncommitted changes in chainrule/' if dirty else ''}" if commit else None


def summary_line(machine):
    """One line for the console."""
    kernels = (
        [
            f"{p['internal_api']} {p.get('architecture') or ''} x{p['num_threads']}".replace("  ", " ")
            for p in machine["threadpools"]
        ]
        if isinstance(machine["threadpools"], list)
        else []
    )
    return (
        f"{machine['cpu']}, {machine['cores']} cores, load {machine['load_average_at_start']}; "
        f"numpy {machine['numpy']}, torch {machine['torch']} ({machine['torch_threads']} threads); "
        f"thread pools: {', '.join(kernels) or machine['threadpools']}"
    )
