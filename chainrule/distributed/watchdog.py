"""Waiting for the other ranks without hanging: a watched wait on a non-blocking MPI request.

A rank that waits longer than ``warning`` seconds asks every other rank where it is (a
tiny message on the watchdog's own communicator). Ranks that are waiting too answer from
their own wait loop with the collective they wait in; a rank that is still computing, stuck,
or waiting outside chainrule cannot answer, and is named as not arrived. The warning names
what is being waited for (the step and its buckets) and those ranks. After ``timeout``
seconds the waiting rank aborts the whole job (``COMM_WORLD.Abort``), with a message naming
them again: a job never hangs for good.

The normal path costs nothing extra: a request that completes at once is never polled, and
the questions are only asked once a wait is already long. While it waits, a rank gives its
core away (``sched_yield``, then short sleeps), which matters when ranks outnumber cores.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mpi4py import MPI

logger = logging.getLogger("chainrule")


def ranks_text(ranks: Sequence[int]) -> str:
    """'rank 2' or 'ranks 1, 3'."""
    return f"rank{'s' * (len(ranks) > 1)} {', '.join(map(str, ranks))}"


ASK, ANSWER = 101, 102  # message tags on the watchdog's communicator
SPIN_S = 50e-6  # poll without pause this long: most waits end within it
YIELD_S = 5e-3  # then give the core away between polls, and after this sleep a little
SLEEP_S = 5e-4
ANSWER_GRACE_S = 0.5  # how long answers may take before the warning is written without them


class Watchdog:
    """Watched waits for one rank: ``wait(request, sequence, what)``."""

    def __init__(
        self,
        comm: MPI.Comm,
        rank: int,
        size: int,
        warning: float,
        timeout: float | None,
        abort: Callable[[int], object],
    ) -> None:
        self.comm, self.rank, self.size = comm, rank, size
        self.warning, self.timeout, self.abort = warning, timeout, abort
        self.waiting_at = 0  # the collective this rank waits in now (0: none)
        self.asked = 0  # the collective this rank last asked about
        self.answers: dict[int, int] = {}  # rank -> the collective it waits in, for the current question
        self.sends: list[MPI.Request] = []  # requests of messages sent, completed later
        self.message = np.zeros(2, dtype=np.int64)
        from mpi4py import MPI  # imported already: the communicator is one of its objects

        self.status = MPI.Status()

    def wait(self, request: MPI.Request, sequence: int, what: str) -> None:
        """Wait until ``request`` completes; ``sequence`` and ``what`` say which collective it is."""
        if request.Test():
            return
        start = time.perf_counter()
        self.waiting_at = sequence
        asked_at: float | None = None
        warned: bool | None = None
        try:
            while not request.Test():
                elapsed = time.perf_counter() - start
                if elapsed < SPIN_S:
                    continue
                self._answer_questions()
                if elapsed > self.warning and asked_at is None:
                    self._ask(sequence)
                    asked_at = elapsed
                if (
                    asked_at is not None
                    and not warned
                    and (len(self.answers) == self.size - 1 or elapsed - asked_at > ANSWER_GRACE_S)
                ):
                    logger.warning(
                        "chainrule.distributed: rank %d has waited %.0f s in %s (collective #%d): %s",
                        self.rank,
                        elapsed,
                        what,
                        sequence,
                        self._missing(sequence),
                    )
                    warned = True
                if self.timeout is not None and elapsed > self.timeout:
                    logger.critical(
                        "chainrule.distributed: rank %d aborts the job after waiting %.0f s in %s "
                        "(collective #%d, stall timeout %.0f s): %s",
                        self.rank,
                        elapsed,
                        what,
                        sequence,
                        self.timeout,
                        self._missing(sequence) if asked_at is not None else "the other ranks did not arrive",
                    )
                    self.abort(1)
                if elapsed < YIELD_S:
                    os.sched_yield()
                else:
                    time.sleep(SLEEP_S)
        finally:
            self.waiting_at = 0

    def _ask(self, sequence: int) -> None:
        """Ask every other rank which collective it waits in."""
        self.asked, self.answers = sequence, {}
        for other in range(self.size):
            if other != self.rank:
                self.sends.append(self.comm.Isend(np.array([sequence, 0], dtype=np.int64), dest=other, tag=ASK))

    def _answer_questions(self) -> None:
        """Answer the questions that reached this rank, and collect the answers to its own."""
        status = self.status
        while self.comm.Iprobe(tag=ASK, status=status):
            self.comm.Recv(self.message, source=status.Get_source(), tag=ASK)
            reply = np.array([self.message[0], self.waiting_at], dtype=np.int64)
            self.sends.append(self.comm.Isend(reply, dest=status.Get_source(), tag=ANSWER))
        while self.comm.Iprobe(tag=ANSWER, status=status):
            self.comm.Recv(self.message, source=status.Get_source(), tag=ANSWER)
            if self.message[0] == self.asked:  # answers to an older question are dropped
                self.answers[status.Get_source()] = int(self.message[1])
        self.sends = [send for send in self.sends if not send.Test()]

    def _missing(self, sequence: int) -> str:
        """Which ranks have not arrived, from the answers."""
        silent = [r for r in range(self.size) if r != self.rank and r not in self.answers]
        elsewhere = {r: at for r, at in self.answers.items() if at != sequence}
        parts = []
        if silent:
            parts.append(
                f"{ranks_text(silent)} {'have' if len(silent) > 1 else 'has'} not arrived (no answer: still "
                f"computing, stuck, or waiting outside chainrule.distributed)"
            )
        for r, at in sorted(elsewhere.items()):
            parts.append(f"rank {r} waits in collective #{at} instead")
        return "; ".join(parts) if parts else "every rank has arrived; the transfer itself is slow"
