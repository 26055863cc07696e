"""Running MPI jobs from pytest: pytest starts ``mpiexec`` as a subprocess with a timeout and ends it
with SIGTERM (then SIGKILL) if it overruns; pytest itself never runs under mpiexec and never
initialises MPI. Without mpi4py, an MPI library or mpiexec, these tests are skipped with the reason."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mpi_worker.py"


@functools.lru_cache(maxsize=1)
def missing_mpi():
    """Why MPI jobs cannot run here (a sentence), or None when they can."""
    from chainrule.distributed import launch

    try:
        launch.find_mpiexec()
    except FileNotFoundError as error:
        return f"no MPI job can start here: {error}"
    probe = subprocess.run([sys.executable, "-c", "from mpi4py import MPI"], capture_output=True, text=True, timeout=60)
    if probe.returncode:
        return f"mpi4py cannot load MPI (pip install 'chainrule[distributed]'): {probe.stderr.strip()[-300:]}"
    return None


@pytest.fixture
def mpi():
    reason = missing_mpi()
    if reason:
        pytest.skip(reason)
    return run_job


class Job:
    def __init__(self, status, output, seconds):
        self.status, self.output, self.seconds = status, output, seconds

    def __repr__(self):
        return f"Job(status {self.status}, {self.seconds:.1f} s)\n{self.output}"


def rank_environment(extra=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(HERE.parents[1]))
    env.update(extra or {})
    return env


def run_job(command, timeout=90, env=None, cwd=None):
    """Run ``command`` (a list: mpiexec ..., or chainrule train --nproc ...) in its own session; a
    ``Job`` with its status, combined output and duration. Fails the test if it outlives ``timeout``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(part) for part in command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=rank_environment(env),
        cwd=cwd,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end_session(process)
        output, _ = process.communicate()
        pytest.fail(
            f"{command[:6]} did not end within {timeout} s; ended with SIGTERM:\n"
            f"{output.decode(errors='replace')[-3000:]}"
        )
    return Job(process.returncode, output.decode(errors="replace"), time.perf_counter() - start)


def end_session(process):
    """SIGTERM to the job's whole process group, SIGKILL if it is still there 5 s later."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def worker_command(nproc, script, *arguments):
    """The mpiexec command that runs the Python file ``script`` with ``arguments`` on ``nproc`` ranks."""
    from chainrule.distributed import launch

    return [launch.find_mpiexec(), "-n", nproc, sys.executable, "-m", "mpi4py", script, *arguments]


def worker(nproc, *arguments):
    """The mpiexec command that runs ``mpi_worker.py`` with ``arguments`` on ``nproc`` ranks."""
    return worker_command(nproc, WORKER, *arguments)
