"""``DataParallel``: data-parallel training inside ``chainrule.training.fit``, as one callback.

    from chainrule import distributed
    from chainrule.training import LogLines, TrainConfig, fit
    fit(TrainConfig(model="cnn", batch_size=64), callbacks=[distributed.DataParallel(), LogLines(print)])

run under ``mpiexec -n 4 python -m mpi4py script.py`` (or ``chainrule train --nproc 4``).
List it first among the callbacks, so that what it reduces is reduced before anything logs,
saves or judges it. In every process it:

- wraps the model in ``DistributedDataParallel`` (the same weights everywhere, rank 0's) and
  averages the gradients after every backward;
- gives each process its shard of every batch: ``config.batch_size`` is the global batch,
  ``batch_size / world_size`` samples per process, the same samples per step as one process
  with the same seed would see (``DistributedSampler``);
- shares the loss guard (every process learns every batch's loss, so all stop together)
  and checks that every process has as many batches, at the start of each epoch;
- measures validation and test on each process's shard (after averaging BatchNorm's
  running statistics) and reduces the figures, and reduces the epoch's training loss and
  accuracy before later callbacks see them, then checks that the weights are still
  bitwise equal everywhere;
- leaves printing, progress, plots and the checkpoint file to rank 0 (callbacks with
  ``main_process_only``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import nn
from ..training import Callback, ConfigError
from ..training.evaluation import evaluate
from ..types import Array
from . import comm
from .ddp import BUCKET_CAP_MB, DistributedDataParallel
from .sampler import DistributedSampler

if TYPE_CHECKING:
    from ..training import Run


class Processes:
    """``run.processes`` of a data-parallel run: this rank, the job's size, and ``gather``."""

    def __init__(self) -> None:
        self.rank, self.size = comm.rank(), comm.world_size()

    def gather(self, values: Sequence[float | np.number[Any]]) -> npt.NDArray[np.float64]:
        return comm.all_gather(np.asarray(values, dtype=np.float64))


class DataParallel(Callback):
    """Train with every process of the MPI job (``chainrule.distributed.init()`` is called if needed);
    see the module's description. ``bucket_cap_mb`` is passed to ``DistributedDataParallel``."""

    def __init__(self, bucket_cap_mb: float = BUCKET_CAP_MB) -> None:
        self.bucket_cap_mb = bucket_cap_mb
        self.ddp: DistributedDataParallel | None = None

    def on_train_begin(self, run: Run) -> None:
        comm.init()
        size, batch_size = comm.world_size(), run.config.batch_size
        if batch_size % size:
            raise ConfigError(
                f"the batch size {batch_size} (--batch-size: the global batch, all processes "
                f"together) must be a multiple of the {size} processes, which share each batch equally"
            )
        run.processes = Processes()
        self.ddp = DistributedDataParallel(run.model, self.bucket_cap_mb)
        run.batch_size = batch_size // size
        run.sampler = DistributedSampler(run.splits.y_train, shuffle=True, seed=run.config.seed)
        run.evaluate = self.evaluate

    def on_epoch_begin(self, run: Run) -> None:
        # Count forward passes from here: rank 0 alone may have run one before (DrawTrainingStep's picture).
        assert self.ddp is not None  # made by on_train_begin
        self.ddp.forwards = 0
        comm.check_same(
            run.batches,
            f"epoch {run.epoch}: the numbers of batches of the ranks",
            "every rank must take as many steps (DistributedSampler pads or drops to make the shards equal)",
        )
        if run.processes.rank > 0:  # Dropout: masks of its own on each rank (rank 0 keeps one process's)
            for index, module in enumerate(run.model.modules()):
                if isinstance(module, nn.Dropout):
                    module.generator = np.random.default_rng([run.config.seed, run.epoch, index, run.processes.rank])

    def after_backward(self, run: Run) -> None:
        assert self.ddp is not None  # made by on_train_begin
        self.ddp.reduce_gradients()

    def on_epoch_end(self, run: Run) -> None:
        meter, metrics = run.meter, run.metrics
        assert meter is not None  # the loop's, for the epoch
        loss_sum, correct, samples, seconds = run.processes.gather(
            [meter.loss_sum, meter.correct, meter.samples, metrics["seconds"]]
        ).T
        metrics["train_loss"] = float(loss_sum.sum() / samples.sum())
        metrics["train_accuracy"] = float(correct.sum() / samples.sum())
        metrics["seconds"] = float(seconds.max())  # the epoch lasts as long as its slowest process
        metrics["samples_per_s"] = float(samples.sum() / seconds.max()) if seconds.max() > 0 else float("inf")
        self.check_weights_agree(run)

    def evaluate(self, model: nn.Module, X: Array, y: Array, batch_size: int = 1000) -> tuple[float, float, Array]:
        """``run.evaluate``: loss and accuracy of ``model`` on ``(X, y)``, each process measuring its
        contiguous share and the figures summed over all; the predictions returned are this shard's."""
        assert self.ddp is not None  # made by on_train_begin
        self.ddp.sync_buffers()
        bounds = np.linspace(0, len(y), comm.world_size() + 1).round().astype(int)
        start, stop = bounds[comm.rank()], bounds[comm.rank() + 1]
        loss, accuracy, predicted = (
            evaluate(model, X[start:stop], y[start:stop], batch_size)
            if stop > start
            else (0.0, 0.0, np.zeros(0, dtype=np.int64))
        )
        n = stop - start
        loss_sum, correct, count = comm.all_gather(np.array([loss * n, round(accuracy * n), n], dtype=np.float64)).sum(
            axis=0
        )
        return float(loss_sum / count), float(correct / count), predicted

    def check_weights_agree(self, run: Run) -> None:
        """DistributedError unless every rank's parameters are bitwise the same (a checksum each)."""
        checksum = 0
        for param in run.model.parameters():
            checksum = zlib.crc32(np.ascontiguousarray(param.data).view(np.uint8).data, checksum)
        comm.check_same(
            checksum,
            f"after epoch {run.epoch}, the checksums (CRC-32) of the ranks' weights",
            "every rank must reduce the gradients at every step and take the same optimizer step",
        )
