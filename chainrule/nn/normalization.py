"""Normalisation layers: BatchNorm (per channel, over the batch), LayerNorm (per example), GroupNorm
(per example and group of channels) and InstanceNorm (per example and channel).

BatchNorm keeps running estimates of each channel's mean and variance as buffers
(NumPy arrays, saved in the state_dict): in training mode it normalises with the
batch's statistics and updates the running ones; in evaluation mode it uses the
running ones, so one example's output does not depend on the rest of its batch.
"""

import numbers
import warnings

from .. import checks
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from ..types import Array, DType, Shape, TensorLike
from .module import Module, Parameter


class _NormBase(Module):
    """What batch and instance normalisation share (PyTorch's _NormBase): ``num_features`` channels, eps,
    momentum, an optional per-channel weight (ones) and bias (zeros), and optional running statistics
    kept as buffers (running_mean, running_var, num_batches_tracked), the same names as PyTorch's."""

    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Array | None
    running_var: Array | None
    num_batches_tracked: Array | None

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        affine: bool,
        track_running_stats: bool,
        dtype: DType,
        bias: bool = True,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        self.num_features = checks.size(layer, "num_features", num_features)
        self.eps = checks.positive(layer, "eps", eps)
        if momentum is not None and (not checks.is_real(momentum) or not 0 <= momentum <= 1):
            raise ValueError(
                f"{layer}: momentum must be a number in [0, 1] or None (cumulative average), got {momentum!r}"
            )
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = checks.float_dtype(layer, dtype)
        _affine_parameters(self, self.num_features, self.affine, self.affine and bias, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", xp.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.array(0, dtype=xp.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            # registered as arrays when track_running_stats is set
            assert self.running_mean is not None and self.running_var is not None
            assert self.num_batches_tracked is not None
            self.running_mean.fill(0)
            self.running_var.fill(1)
            self.num_batches_tracked.fill(0)


def _affine_parameters(module: Module, size: int, weight: bool, bias: bool, dtype: DType) -> None:
    """A normalisation's optional weight (ones) and bias (zeros) of shape (size,), or None in their place."""
    if weight:
        module.weight = Parameter(xp.ones(size, dtype=dtype))
    else:
        module.register_parameter("weight", None)
    if bias:
        module.bias = Parameter(xp.zeros(size, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class _BatchNorm(_NormBase):
    #: which input ranks the layer accepts, and how to say it
    ranks: tuple[int, ...] = ()
    layout: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DType = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        shape = x.shape
        if len(shape) not in self.ranks:
            raise ValueError(
                f"{self._describe()}: expected {self.layout}, got a {len(shape)}-d input of shape {tuple(shape)}"
            )
        if shape[1] != self.num_features:
            raise ValueError(
                f"{self._describe()}: input has {shape[1]} channels (shape {tuple(shape)}), "
                f"expected {self.num_features}"
            )
        if self.training and x.numel() == shape[1]:
            raise ValueError(
                f"{self._describe()}: expected more than 1 value per channel when training, got "
                f"input of shape {tuple(shape)}; use a bigger batch or eval()"
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            assert self.num_batches_tracked is not None  # registered as an array when track_running_stats is set
            self.num_batches_tracked += 1
            if momentum is None:  # a plain average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked)
        # Batch statistics while training, or always when no running statistics are kept.
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            0.0 if momentum is None else momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per channel C:
    ``(x - mean) / sqrt(var + eps) * weight + bias``."""

    ranks = (2, 3)
    layout = "a 2-d (batch, features) or 3-d (batch, channels, length) input"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C:
    ``(x - mean) / sqrt(var + eps) * weight + bias``."""

    ranks = (4,)
    layout = "a 4-d input (batch, channels, height, width)"


class LayerNorm(Module):
    """Normalise each example over its last ``len(normalized_shape)`` axes, then scale by
    ``weight`` (ones) and shift by ``bias`` (zeros), both of shape ``normalized_shape``."""

    normalized_shape: tuple[int, ...]
    eps: float
    elementwise_affine: bool
    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        normalized_shape: int | Shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DType = None,
    ) -> None:
        super().__init__()
        sizes: object = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        if not isinstance(sizes, (tuple, list)) or not sizes:
            raise ValueError(
                f"LayerNorm: normalized_shape must be an integer or a non-empty tuple of integers, got {sizes!r}"
            )
        self.normalized_shape = tuple(checks.size("LayerNorm", "normalized_shape", n) for n in sizes)
        self.eps = checks.positive("LayerNorm", "eps", eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = checks.float_dtype("LayerNorm", dtype)
        if self.elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and bias:
            self.bias = Parameter(xp.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        shape, k = tuple(x.shape), len(self.normalized_shape)
        if shape[len(shape) - k :] != self.normalized_shape or len(shape) < k:
            raise ValueError(
                f"{self._describe()}: input shape {shape} does not end with the normalized "
                f"shape {self.normalized_shape}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation of (N, C, ...) inputs: the C channels split into ``num_groups`` groups, each
    example's group normalised over its channels and positions together, then scaled by ``weight`` (ones)
    and shifted by ``bias`` (zeros), one per channel. Independent of the batch, so it behaves the same
    in training and evaluation."""

    num_groups: int
    num_channels: int
    eps: float
    affine: bool
    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: DType = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_groups = checks.size("GroupNorm", "num_groups", num_groups)
        self.num_channels = checks.size("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({self.num_channels}) must be divisible by num_groups ({self.num_groups})"
            )
        self.eps = checks.positive("GroupNorm", "eps", eps)
        self.affine = bool(affine)
        dtype = checks.float_dtype("GroupNorm", dtype)
        _affine_parameters(self, self.num_channels, self.affine, self.affine and bias, dtype)

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        shape = tuple(x.shape)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(
                f"{self._describe()}: expected an input (batch, {self.num_channels} channels, ...), got shape {shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _InstanceNorm(_NormBase):
    dims: int = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        dtype: DType = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def forward(self, x: TensorLike) -> Tensor:
        x = checks.layer_input(self, x)
        shape, dims = tuple(x.shape), self.dims
        checks.layer_input_shape(self._describe(), shape, dims)
        channels = shape[-dims - 1]
        if channels != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(
                    f"{self._describe()}: input has {channels} channels (shape {shape}), expected {self.num_features}"
                )
            warnings.warn(
                f"{type(self).__name__}: input has {channels} channels, not num_features "
                f"({self.num_features}); without affine parameters or running statistics that number is "
                "not used",
                stacklevel=2,
            )
        single = len(shape) == dims + 1
        out = F.instance_norm(
            x.reshape((1,) + shape) if single else x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.reshape(shape) if single else out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) sequences (or one (C, L)): each example's channel normalised over
    its length; see InstanceNorm2d."""

    dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) images (or one (C, H, W)): each image's channel normalised over
    its pixels (style transfer's normalisation). PyTorch's defaults: no affine parameters
    (``affine=True`` adds a per-channel weight and bias) and no running statistics
    (``track_running_stats=True`` keeps them, updated in training and used in eval())."""

    dims = 2
