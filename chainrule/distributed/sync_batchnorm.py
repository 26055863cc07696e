"""``SyncBatchNorm``: BatchNorm whose training statistics are the global batch's, not each rank's.

A plain BatchNorm layer normalises each rank's micro-batch with that micro-batch's mean and
variance: with small per-rank batches these are noisy, and the model trains differently from
one process on the global batch. ``SyncBatchNorm`` sums each channel's count, sum and sum of
squares over the ranks in forward (one small ``all_reduce`` per layer) and, through the same
gate's backward, the gradient's sums in backward (one more), so every rank normalises with,
and differentiates through, the statistics of the whole global batch. The sums are taken in
float64. In evaluation mode, or in a job of one, it is a plain BatchNorm.

    model = SyncBatchNorm.convert_sync_batchnorm(model)   # before DistributedDataParallel(model)
"""

from __future__ import annotations

import numpy as np

from .. import checks, nn
from ..autograd import Gate
from ..gates import concatenate
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from ..types import Array, TensorLike
from . import comm


class AllReduceSum(Gate):
    """y = the sum of x over the ranks (every rank gets it). Each rank's loss depends on y, so the gradient of
    the total loss with respect to x is the sum over the ranks of the gradients with respect to y."""

    derivative = "d/dx_r sum_r x_r = 1, summed over the ranks' losses"
    once_differentiable = True

    def forward(self, x: Array) -> Array:
        return comm.all_reduce(x.copy(), "sum")

    def backward(self, grad: Array, out: Array, x: Array) -> Array:
        return comm.all_reduce(np.array(grad, copy=True), "sum")


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the global batch of a data-parallel job: (N, C), (N, C, L) or (N, C, H, W)
    inputs, per channel C, ``(x - mean) / sqrt(var + eps) * weight + bias`` with the mean and variance of
    every rank's samples together. Needs ``chainrule.distributed.init()`` when training with several ranks."""

    ranks = (2, 3, 4)
    layout = "a 2-d, 3-d or 4-d input (batch, channels, ...)"

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        if not self.training or not comm.is_initialized() or comm.world_size() == 1:
            return super().forward(x)
        shape = x.shape
        if len(shape) not in self.ranks or shape[1] != self.num_features:
            return super().forward(x)  # the plain layer's checks say what is wrong
        channels, dtype = shape[1], x.dtype
        axes = (0,) + tuple(range(2, len(shape)))
        wide = x.astype(np.float64)
        count = np.array([x.numel() // channels], dtype=np.float64)
        sums = AllReduceSum.apply(concatenate([wide.sum(axis=axes), (wide * wide).sum(axis=axes), Tensor(count)]))
        total = float(sums.data[-1])
        if total <= 1:
            raise ValueError(
                f"{self._describe()}: expected more than 1 value per channel over all ranks when "
                f"training, got {int(total)}"
            )
        mean = sums[:channels] / total
        var = sums[channels : 2 * channels] / total - mean * mean
        param_shape = (1, channels) + (1,) * (len(shape) - 2)
        invstd = ((var + self.eps) ** -0.5).astype(dtype).reshape(param_shape)
        y = (x - mean.astype(dtype).reshape(param_shape)) * invstd
        if self.affine:
            assert self.weight is not None and self.bias is not None  # an affine layer has both
            y = y * self.weight.reshape(param_shape) + self.bias.reshape(param_shape)
        if self.track_running_stats:
            self._update_running(mean.data, var.data, total)
        return y

    def _update_running(self, mean: Array, var: Array, total: float) -> None:
        # Called with track_running_stats only: then the layer holds all three.
        assert self.num_batches_tracked is not None
        assert self.running_mean is not None and self.running_var is not None
        self.num_batches_tracked += 1
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1 - momentum
        self.running_mean += (momentum * mean).astype(self.running_mean.dtype)
        self.running_var *= 1 - momentum
        self.running_var += (momentum * var * total / (total - 1)).astype(self.running_var.dtype)

    @classmethod
    def convert_sync_batchnorm(cls, module: nn.Module) -> nn.Module:
        """``module`` with every BatchNorm1d/BatchNorm2d (itself included) replaced by a SyncBatchNorm holding the
        same parameters and running statistics; returns the (possibly new) top module."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                dtype=module.running_mean.dtype if module.running_mean is not None else np.float32,
            )
            converted.load_state_dict(module.state_dict())
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias  # the same Parameters
            converted.train(module.training)
            return converted
        for name, child in list(module.named_children()):
            replaced = cls.convert_sync_batchnorm(child)
            if replaced is not child:
                setattr(module, name, replaced)
        return module
