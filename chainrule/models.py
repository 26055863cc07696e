"""Named models for the bundled data sets: ``build_model("cnn", "mnist")``.

Every model takes images shaped (N, 1, H, W) and returns logits (N, 10), so the same
training code feeds an MLP and a convnet (the MLPs flatten first). Layers keep
PyTorch's default initialisations; call ``chainrule.nn.init.manual_seed(seed)`` before
``build_model`` for reproducible weights.

===========  ===============================================================================
digits mlp   64 -> 128 -> 64 -> 10, ReLU
digits cnn   conv 1->16 3x3, BN, ReLU, pool 2 (4x4); conv 16->32 3x3, BN, ReLU, pool 2 (2x2);
             linear 128 -> 10
mnist mlp    784 -> 256 -> 128 -> 10, ReLU
mnist cnn    LeNet-style: conv 1->16 3x3, BN, ReLU, pool 2 (14x14); conv 16->32 3x3, BN, ReLU,
             pool 2 (7x7); linear 1568 -> 128, ReLU, linear 128 -> 10
===========  ===============================================================================

All convolutions use padding 1, so only the pooling layers shrink the image.
"""

from . import nn

#: Input image shape (channels, height, width) and number of classes of each data set.
DATASETS = {
    "digits": {"image_shape": (1, 8, 8), "classes": 10},
    "mnist": {"image_shape": (1, 28, 28), "classes": 10},
}

MODEL_NAMES = ("mlp", "cnn")


def mlp(in_features, hidden, classes):
    """Flatten, then Linear + ReLU for each width in ``hidden``, then a Linear to the logits."""
    layers = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def conv_block(in_channels, out_channels):
    """3x3 convolution (padding 1, no bias: BatchNorm's shift replaces it), BatchNorm, ReLU, 2x2 max-pool."""
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def digits_cnn():
    """A small convnet for 8x8 digits: two conv blocks (8x8 -> 4x4 -> 2x2), then one linear layer."""
    return nn.Sequential(
        *conv_block(1, 16),
        *conv_block(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def lenet():
    """LeNet-style convnet for 28x28 MNIST: two conv blocks (28 -> 14 -> 7), a hidden layer, the logits."""
    return nn.Sequential(
        *conv_block(1, 16),
        *conv_block(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def build_model(name, dataset):
    """The model ``name`` ('mlp' or 'cnn') sized for ``dataset`` ('digits' or 'mnist')."""
    if dataset not in DATASETS:
        raise ValueError(f"build_model: unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    if name == "mlp":
        if dataset == "digits":
            return mlp(64, (128, 64), 10)
        return mlp(784, (256, 128), 10)
    if name == "cnn":
        return digits_cnn() if dataset == "digits" else lenet()
    raise ValueError(f"build_model: unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
