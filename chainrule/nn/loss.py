"""Loss layers: the functional losses with their options fixed at construction.

``loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)`` then ``loss = loss_fn(logits, target)``.
``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'`` (one loss per example).
Class weights are kept as buffers (NumPy arrays), so they travel with the state_dict.
"""

from .. import checks
from .. import functional as F
from ..tensor import Tensor
from ..types import Array, Number, TensorLike
from .module import Module


class _Loss(Module):
    reduction: str

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = checks.reduction(type(self).__name__, reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy between logits (N, C) and class indices (N,) (or class probabilities
    (N, C)); ``weight`` weighs each class, targets equal to ``ignore_index`` are skipped, and
    ``label_smoothing`` mixes the targets with the uniform distribution."""

    weight: Array | None
    ignore_index: int
    label_smoothing: float

    def __init__(
        self,
        weight: TensorLike | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: Number = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", checks.optional_array(weight))
        self.ignore_index = ignore_index
        if not checks.is_real(label_smoothing) or not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] + ([f"label_smoothing={self.label_smoothing}"] if self.label_smoothing else [])
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    """Negative log-likelihood of the target classes, given log-probabilities (N, C)
    (from LogSoftmax); options as in CrossEntropyLoss."""

    weight: Array | None
    ignore_index: int

    def __init__(self, weight: TensorLike | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", checks.optional_array(weight))
        self.ignore_index = ignore_index

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (input - target)^2."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy between probabilities in (0, 1) and targets in [0, 1];
    ``weight`` rescales each element's loss."""

    weight: Array | None

    def __init__(self, weight: TensorLike | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", checks.optional_array(weight))

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step, on logits;
    ``pos_weight`` (one per class) weighs the positive examples."""

    weight: Array | None
    pos_weight: Array | None

    def __init__(
        self, weight: TensorLike | None = None, reduction: str = "mean", pos_weight: TensorLike | None = None
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", checks.optional_array(weight))
        self.register_buffer("pos_weight", checks.optional_array(pos_weight))

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class MultiMarginLoss(_Loss):
    """Multi-class hinge (SVM) loss: per example, the sum over wrong classes j of
    max(0, margin - x[y] + x[j]) ** p, divided by the number of classes (``p`` is 1 or 2;
    ``weight`` weighs each example by its class)."""

    p: int
    margin: float
    weight: Array | None

    def __init__(
        self, p: int = 1, margin: Number = 1.0, weight: TensorLike | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        if not checks.is_real(margin):
            raise ValueError(f"MultiMarginLoss: margin must be a number, got {margin!r}")
        self.p, self.margin = int(p), float(margin)
        self.register_buffer("weight", checks.optional_array(weight))

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        parts = [
            f"p={self.p}" if self.p != 1 else "",
            f"margin={self.margin}" if self.margin != 1 else "",
            super().extra_repr(),
        ]
        return ", ".join(p for p in parts if p)
