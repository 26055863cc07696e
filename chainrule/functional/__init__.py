"""The functional interface for neural networks, with PyTorch's names and signatures.

``import chainrule.nn.functional as F`` (or ``chainrule.functional``) and write what you
would write with ``torch.nn.functional``: ``F.conv2d(x, w, b, padding=1)``,
``F.cross_entropy(logits, labels)``. Inputs are Tensors, NumPy arrays or numbers; the
results are Tensors on the graph. Arrays are NCHW, as in PyTorch.

Differences from PyTorch, all deliberate:
- ``axis=`` is accepted wherever PyTorch says ``dim=`` (both work) and softmax's default
  dim is -1;
- the losses take ``reduction=`` (and the other options after ``weight``) by keyword,
  since PyTorch's positional order still holds its deprecated size_average/reduce;
- ``dropout`` also takes ``generator=`` (a ``numpy.random.Generator``) for a mask of its own;
- class weights, ``pos_weight`` and running statistics are constants (no gradient).

Each function checks its arguments (through ``chainrule.checks``) and says which function,
which shapes and what it expected when they do not fit. The module is split by what it
holds: ``layers``, ``pooling``, ``resampling`` (padding, interpolation, pixel shuffle),
``activations`` and ``losses``.
"""

from ..gates.indexing import one_hot
from .activations import (
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from .attention import scaled_dot_product_attention
from .layers import (
    batch_norm,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    cosine_similarity,
    dropout,
    embedding,
    flatten,
    group_norm,
    instance_norm,
    layer_norm,
    linear,
    normalize,
    pairwise_distance,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
)
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from .resampling import interpolate, pad, pixel_shuffle, pixel_unshuffle

__all__ = [
    "linear",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "dropout",
    "embedding",
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "elu",
    "softplus",
    "silu",
    "hardtanh",
    "relu6",
    "hardsigmoid",
    "hardswish",
    "mish",
    "selu",
    "celu",
    "softsign",
    "logsigmoid",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multi_margin_loss",
    "flatten",
    "pad",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "one_hot",
    "scaled_dot_product_attention",
]
