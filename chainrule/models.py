"""Named models for the bundled data sets: ``build_model("cnn", "mnist")``, ``build_model("gpt", "text", ...)``.

The image models take images shaped (N, 1, H, W) and return logits (N, 10), so the same
training code feeds an MLP and a convnet (the MLPs flatten first). ``lstm`` reads each digit
row by row ("digits-rows": sequences (N, 8, 8)) and classifies it from its last state; ``gpt``
is a character-level Transformer language model: tokens (N, T) -> logits (N, T, vocabulary).
Layers keep PyTorch's default initialisations; call ``chainrule.nn.init.manual_seed(seed)``
before ``build_model`` for reproducible weights.

===========  ===============================================================================
digits mlp   64 -> 128 -> 64 -> 10, ReLU
digits cnn   conv 1->16 3x3, BN, ReLU, pool 2 (4x4); conv 16->32 3x3, BN, ReLU, pool 2 (2x2);
             linear 128 -> 10
mnist mlp    784 -> 256 -> 128 -> 10, ReLU
mnist cnn    LeNet-style: conv 1->16 3x3, BN, ReLU, pool 2 (14x14); conv 16->32 3x3, BN, ReLU,
             pool 2 (7x7); linear 1568 -> 128, ReLU, linear 128 -> 10
digits-rows  LSTM over the 8 rows (8 pixels each, 64 hidden units by default), linear from the
lstm         last hidden state to the 10 logits
text gpt     token and position embeddings (width 128), 4 pre-norm Transformer blocks (4 heads,
             causal self-attention, feed-forward 4x wide with ReLU), LayerNorm, linear to the
             vocabulary
===========  ===============================================================================

All convolutions use padding 1, so only the pooling layers shrink the image.
"""

from collections.abc import Iterable
from typing import Any, SupportsInt, cast

import numpy as np
import numpy.typing as npt

from . import nn, random
from .backend import xp
from .functional import cross_entropy
from .tensor import Tensor
from .types import Array

#: What each data set holds: the shape of one input and the number of classes (for text: the vocabulary).
DATASETS: dict[str, dict[str, tuple[int, ...] | int | None]] = {
    "digits": {"image_shape": (1, 8, 8), "classes": 10},
    "mnist": {"image_shape": (1, 28, 28), "classes": 10},
    "digits-rows": {"sequence_shape": (8, 8), "classes": 10},
    "text": {"sequence_shape": None, "classes": None},
}

MODEL_NAMES = ("mlp", "cnn", "lstm", "gpt")
#: The data sets each model reads.
MODEL_DATASETS: dict[str, tuple[str, ...]] = {
    "mlp": ("digits", "mnist"),
    "cnn": ("digits", "mnist"),
    "lstm": ("digits-rows",),
    "gpt": ("text",),
}
#: The models of images (N, 1, H, W), which the digits and MNIST feed.
IMAGE_MODELS = tuple(name for name, datasets in MODEL_DATASETS.items() if "digits" in datasets)


def mlp(in_features: int, hidden: Iterable[int], classes: int) -> nn.Sequential:
    """Flatten, then Linear + ReLU for each width in ``hidden``, then a Linear to the logits."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    """3x3 convolution (padding 1, no bias: BatchNorm's shift replaces it), BatchNorm, ReLU, 2x2 max-pool."""
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def digits_cnn() -> nn.Sequential:
    """A small convnet for 8x8 digits: two conv blocks (8x8 -> 4x4 -> 2x2), then one linear layer."""
    return nn.Sequential(
        *conv_block(1, 16),
        *conv_block(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def lenet() -> nn.Sequential:
    """LeNet-style convnet for 28x28 MNIST: two conv blocks (28 -> 14 -> 7), a hidden layer, the logits."""
    return nn.Sequential(
        *conv_block(1, 16),
        *conv_block(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


class RowLSTM(nn.Module):
    """Read an image row by row: an LSTM over the rows, then a linear layer from its last hidden state."""

    def __init__(self, rows: int = 8, columns: int = 8, hidden: int = 64, layers: int = 1, classes: int = 10) -> None:
        super().__init__()
        self.rows, self.columns = rows, columns
        self.lstm = nn.LSTM(columns, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, images: Tensor) -> Tensor:
        x = images.reshape(images.shape[0], self.rows, self.columns)  # (N, 1, 8, 8) or (N, 8, 8) -> rows
        _, (h, _) = self.lstm(x)
        return cast(Tensor, self.head(h[-1]))


class GPT(nn.Module):
    """A character-level Transformer language model: tokens (N, T) -> next-token logits (N, T, vocabulary).

    Token and position embeddings are added, go through ``layers`` pre-norm blocks (PyTorch's
    ``TransformerEncoderLayer`` with ``norm_first=True``: causal self-attention and a feed-forward
    network, each ``x + block(norm(x))``), a final LayerNorm and a linear layer to the vocabulary.
    ``block_size`` is the longest context the position table covers.
    """

    def __init__(
        self,
        vocabulary_size: int,
        block_size: int = 64,
        layers: int = 4,
        width: int = 128,
        heads: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocabulary_size, width)
        self.position_embedding = nn.Embedding(block_size, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [
                nn.TransformerEncoderLayer(width, heads, 4 * width, dropout, batch_first=True, norm_first=True)
                for _ in range(layers)
            ]
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary_size, bias=False)

    def forward(self, tokens: Tensor | Array) -> Tensor:
        length = tokens.shape[-1]
        if tokens.ndim != 2 or length > self.block_size:
            raise ValueError(
                f"{self._describe()}: tokens have shape {tuple(tokens.shape)}; expected (batch, "
                f"length) with length at most block_size={self.block_size} (the position table)"
            )
        x = self.drop(self.token_embedding(tokens) + self.position_embedding(xp.arange(length)))
        for block in self.blocks:
            x = block(x, is_causal=True)
        return cast(Tensor, self.head(self.norm(x)))

    def extra_repr(self) -> str:
        return f"block_size={self.block_size}"

    def generate(
        self,
        tokens: Iterable[SupportsInt],
        count: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> npt.NDArray[np.int64]:
        """``tokens`` (a 1-d int array) followed by ``count`` sampled tokens: each drawn from the softmax of
        the last logits divided by ``temperature``, among the ``top_k`` likeliest (all when None), with
        ``generator`` (by default the one ``chainrule.manual_seed`` seeds)."""
        from .autograd import no_grad

        rng = random.generator_or_default(generator, "GPT.generate")
        ids = [int(t) for t in tokens]
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(count):
                    context = np.array(ids[-self.block_size :], dtype=np.int64)[None]
                    logits = self(context).data[0, -1].astype(np.float64)
                    ids.append(sample_token(logits, temperature, top_k, rng))
        finally:
            self.train(was_training)
        return np.array(ids, dtype=np.int64)


def sample_token(
    logits: npt.NDArray[np.floating[Any]], temperature: float, top_k: int | None, generator: np.random.Generator
) -> int:
    """One index drawn from softmax(logits / temperature), among the ``top_k`` largest logits (all if None);
    temperature 0 takes the largest."""
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits / temperature
    if top_k is not None and top_k < len(scaled):
        cutoff = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled >= cutoff, scaled, -np.inf)
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    return int(generator.choice(len(probabilities), p=probabilities))


class TokenCrossEntropyLoss(nn.Module):
    """Cross-entropy of logits (..., classes) against integer targets (...): every position counts once."""

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        return cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def loss_for(name: str) -> nn.Module:
    """The training loss of model ``name``: per token for the language model, per sample otherwise."""
    return TokenCrossEntropyLoss() if name == "gpt" else nn.CrossEntropyLoss()


def build_model(
    name: str,
    dataset: str,
    vocabulary_size: int | None = None,
    block_size: int = 64,
    layers: int | None = None,
    width: int | None = None,
    heads: int = 4,
) -> nn.Module:
    """The model ``name`` sized for ``dataset``: 'mlp' or 'cnn' for 'digits' or 'mnist', 'lstm' for
    'digits-rows', 'gpt' for 'text' (which needs ``vocabulary_size``). ``layers`` and ``width``
    (None: the model's default), ``heads`` and ``block_size`` size the sequence models."""
    if dataset not in DATASETS:
        raise ValueError(f"build_model: unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    if name in MODEL_DATASETS and dataset not in MODEL_DATASETS[name]:
        raise ValueError(f"build_model: the {name} model reads {' or '.join(MODEL_DATASETS[name])}, not {dataset}")
    if name == "lstm":
        return RowLSTM(hidden=width or 64, layers=layers or 1)
    if name == "gpt":
        if vocabulary_size is None:
            raise ValueError("build_model: the gpt model needs vocabulary_size (the number of distinct characters)")
        return GPT(vocabulary_size, block_size, layers or 4, width or 128, heads)
    if name == "mlp":
        if dataset == "digits":
            return mlp(64, (128, 64), 10)
        return mlp(784, (256, 128), 10)
    if name == "cnn":
        return digits_cnn() if dataset == "digits" else lenet()
    raise ValueError(f"build_model: unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
