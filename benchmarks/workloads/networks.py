"""Network workloads: training steps and epochs of small classifiers, as a user writes them.

* mlp_step_128, mlp_step_1024: one SGD step (lr 0.01) of a 784-512-256-10 ReLU MLP with
  cross-entropy, float32, at batch 128 and 1024. A fourth implementation,
  ``numpy_matmul``, runs only the step's bare matrix products (the same shapes, the same
  8 products): chainrule / numpy_matmul is how far the step is from NumPy's own
  matrix-product rate (its inverse is the fraction of that rate achieved).
* lenet_step: conv 1->16 3x3 pad 1, ReLU, maxpool 2, conv 16->32 3x3 pad 1, ReLU,
  maxpool 2, linear 32*7*7 -> 10, cross-entropy, SGD; 28x28x1 input, batch 64.
* wide_cnn_step: the same shape of network wider: conv 3->64, conv 64->128, linear
  128*8*8 -> 10 on 32x32x3 input, batch 32.
* mnist_epoch_mlp, mnist_epoch_lenet: one shuffled epoch of MNIST training (data loading
  included): chainrule's DataLoader over a TensorDataset, PyTorch's DataLoader over its
  TensorDataset, NumPy slicing a permutation. With --quick, a tenth of the epoch (the
  first 6,000 training images).

Every implementation starts from the same weights (drawn once with NumPy and copied in)
and the same batch. chainrule and PyTorch are written with their public API the way a
user writes them (nn layers, F.cross_entropy, optim.SGD, zero_grad/backward/step); the
NumPy baseline is a hand-written forward and backward with an in-place SGD update.

glibc's allocator settings are left at their defaults: raising M_MMAP_THRESHOLD and
M_TRIM_THRESHOLD (mallopt) measured no difference on these workloads, because glibc's
dynamic mmap threshold already keeps every array under 32 MiB in the heap after warm-up.
"""

import os
from pathlib import Path

import numpy as np

from ..harness import Workload, import_torch

# The real MNIST files beside the checkout on the project's machines (or wherever CHAINRULE_MNIST says).
MNIST_ROOT = os.environ.get(
    "CHAINRULE_MNIST", str(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist")
)
LR = 0.01


# ----- the models, as layer specs shared by every implementation ---------------------
# ("linear", in, out) | ("conv", in, out) (3x3, padding 1) | ("relu",) | ("pool",) | ("flatten",)
def mlp_spec():
    return [("linear", 784, 512), ("relu",), ("linear", 512, 256), ("relu",), ("linear", 256, 10)]


def cnn_spec(channels, c1, c2, size):
    flat = c2 * (size // 4) ** 2
    return [
        ("conv", channels, c1),
        ("relu",),
        ("pool",),
        ("conv", c1, c2),
        ("relu",),
        ("pool",),
        ("flatten",),
        ("linear", flat, 10),
    ]


def initial_weights(spec, seed=0):
    """[(weight, bias), ...] per linear/conv layer, float32, PyTorch's default init ranges."""
    rng = np.random.default_rng(seed)
    weights = []
    for layer in spec:
        if layer[0] == "linear":
            shape, fan_in = (layer[2], layer[1]), layer[1]
        elif layer[0] == "conv":
            shape, fan_in = (layer[2], layer[1], 3, 3), layer[1] * 9
        else:
            continue
        bound = 1 / np.sqrt(fan_in)
        weights.append(
            (
                rng.uniform(-bound, bound, shape).astype(np.float32),
                rng.uniform(-bound, bound, shape[0]).astype(np.float32),
            )
        )
    return weights


def random_batch(batch, input_shape, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + input_shape, dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    return x, y


def build_sequential(nn, spec, weights, load):
    """The spec as ``nn.Sequential`` of the library's own layers (chainrule's and PyTorch's share the
    names), with each linear/conv layer's weights set by ``load(layer, w, b)``."""
    layers, params = [], iter(weights)
    for layer in spec:
        kind = layer[0]
        if kind == "linear":
            layers.append(nn.Linear(layer[1], layer[2]))
        elif kind == "conv":
            layers.append(nn.Conv2d(layer[1], layer[2], 3, padding=1))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "pool":
            layers.append(nn.MaxPool2d(2))
        else:
            layers.append(nn.Flatten())
        if kind in ("linear", "conv"):
            load(layers[-1], *next(params))
    return nn.Sequential(*layers)


def chainrule_model(spec, weights):
    from chainrule import nn

    def load(layer, w, b):
        layer.weight.data[...] = w
        layer.bias.data[...] = b

    return build_sequential(nn, spec, weights, load)


def torch_model(spec, weights):
    torch = import_torch()

    def load(layer, w, b):
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))

    return build_sequential(torch.nn, spec, weights, load)


# ----- one training step -------------------------------------------------------------
def chainrule_step(spec, x_np, y_np):
    import chainrule
    from chainrule import optim
    from chainrule.nn import functional as F

    model = chainrule_model(spec, initial_weights(spec))
    optimizer = optim.SGD(model.parameters(), lr=LR)
    x, y = chainrule.tensor(x_np), chainrule.tensor(y_np)

    def run():
        training_step(model, optimizer, F, x, y)
        return [p.grad for p in model.parameters()]

    return run


def torch_step(spec, x_np, y_np):
    torch = import_torch()
    F = torch.nn.functional
    model = torch_model(spec, initial_weights(spec))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    def run():
        training_step(model, optimizer, F, x, y)
        return [p.grad.numpy() for p in model.parameters()]

    return run


def numpy_step(spec, x_np, y_np):
    network = NumpyNetwork(spec, initial_weights(spec))

    def run():
        network.loss_and_gradients(x_np, y_np)
        network.sgd_step(LR)
        return [g for pair in network.grads for g in pair]

    return run


class NumpyNetwork:
    """Hand-written forward and backward for the layer specs above (float32 throughout)."""

    def __init__(self, spec, weights):
        self.spec = spec
        self.params = [(w.copy(), b.copy()) for w, b in weights]
        self.grads = []

    def loss_and_gradients(self, x, y):
        saved, params = [], iter(self.params)
        for layer in self.spec:
            kind = layer[0]
            if kind == "linear":
                w, b = next(params)
                saved.append(x)
                x = x @ w.T
                x += b
            elif kind == "conv":
                w, b = next(params)
                cols = np_im2col(x)
                saved.append((x.shape, cols))
                x = w.reshape(w.shape[0], -1) @ cols  # (N, O, H*W)
                x += b[:, None]
                n, _, h, wd = saved[-1][0]
                x = x.reshape(n, w.shape[0], h, wd)
            elif kind == "relu":
                mask = x > 0
                saved.append(mask)
                x = x * mask
            elif kind == "pool":
                n, c, h, wd = x.shape
                windows = x.reshape(n, c, h // 2, 2, wd // 2, 2)
                out = windows.max(axis=(3, 5))
                saved.append((x, out))
                x = out
            else:
                saved.append(x.shape)
                x = x.reshape(len(x), -1)
        # softmax cross-entropy, mean over the batch
        n = len(y)
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[np.arange(n), y]))
        g = e / total
        g[np.arange(n), y] -= 1
        g *= 1 / n
        # backward
        grads = []
        params = list(self.params)
        for position in range(len(self.spec) - 1, -1, -1):
            kind = self.spec[position][0]
            cache = saved[position]
            if kind == "linear":
                w, _ = params.pop()
                grads.append((g.T @ cache, g.sum(axis=0)))
                g = g @ w if position > 0 else None
            elif kind == "conv":
                w, _ = params.pop()
                shape, cols = cache
                n, o = g.shape[:2]
                g_flat = g.reshape(n, o, -1)
                dw = np.einsum("nop,nkp->ok", g_flat, cols, optimize=True).reshape(w.shape)
                grads.append((dw, g_flat.sum(axis=(0, 2))))
                g = np_col2im(w.reshape(o, -1).T @ g_flat, shape) if position > 0 else None
            elif kind == "relu":
                g = g * cache
            elif kind == "pool":
                x, out = cache
                n, c, h, wd = x.shape
                windows = x.reshape(n, c, h // 2, 2, wd // 2, 2)
                hit = windows == out[:, :, :, None, :, None]
                # the first maximum of each window gets the gradient (ties are rare with float data)
                g = (hit * g[:, :, :, None, :, None]).reshape(n, c, h, wd)
            else:
                g = g.reshape(cache)
        self.grads = grads[::-1]
        return loss

    def sgd_step(self, lr):
        for (w, b), (dw, db) in zip(self.params, self.grads):
            w -= lr * dw
            b -= lr * db


def np_im2col(x):
    """3x3 windows, padding 1, stride 1: (N, C*9, H*W)."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2, w + 2), dtype=x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    cols = np.empty((n, c, 3, 3, h, w), dtype=x.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = padded[:, :, i : i + h, j : j + w]
    return cols.reshape(n, c * 9, h * w)


def np_col2im(dcols, shape):
    n, c, h, w = shape
    parts = dcols.reshape(n, c, 3, 3, h, w)
    padded = np.zeros((n, c, h + 2, w + 2), dtype=dcols.dtype)
    for i in range(3):
        for j in range(3):
            padded[:, :, i : i + h, j : j + w] += parts[:, :, i, j]
    return padded[:, :, 1:-1, 1:-1]


def mlp_matmuls(batch):
    """The MLP step's matrix products alone: 3 forward, 3 weight gradients, 2 input gradients."""
    rng = np.random.default_rng(2)
    sizes = [784, 512, 256, 10]
    acts = [rng.standard_normal((batch, s), dtype=np.float32) for s in sizes]
    weights = [rng.standard_normal((o, i), dtype=np.float32) for i, o in zip(sizes, sizes[1:])]

    def run():
        for layer, w in enumerate(weights):
            acts[layer] @ w.T
        for layer in range(len(weights) - 1, -1, -1):
            g = acts[layer + 1]
            g.T @ acts[layer]
            if layer > 0:
                g @ weights[layer]
        return None  # nothing to compare: only the time matters

    return run


def mlp_forward_flops(batch):
    return 2 * batch * (784 * 512 + 512 * 256 + 256 * 10)


def mlp_step(batch, target):
    spec = mlp_spec()
    data = lambda: random_batch(batch, (784,))  # noqa: E731
    gflop = 3 * mlp_forward_flops(batch) / 1e9
    return Workload(
        name=f"mlp_step_{batch}",
        title=f"MLP 784-512-256-10 training step, batch {batch} (float32, SGD)",
        unit="step",
        count=1,
        description=(
            f"One step of a 784-512-256-10 ReLU MLP: zero_grad, forward, cross-entropy (mean), backward, "
            f"SGD lr {LR}; batch {batch} of random float32 inputs, same initial weights everywhere. "
            f"numpy_matmul runs only the step's 8 matrix products (3 forward, 3 weight gradients, "
            f"2 input gradients). GFLOP counted as 3 x forward = {gflop:.3f} per step (GFLOP/s = that / "
            f"time); the fraction of NumPy's matrix-product rate is 1 / (chainrule/numpy_matmul)."
        ),
        implementations={
            "chainrule": lambda: chainrule_step(spec, *data()),
            "pytorch": lambda: torch_step(spec, *data()),
            "numpy": lambda: numpy_step(spec, *data()),
            "numpy_matmul": lambda: mlp_matmuls(batch),
        },
        targets={"pytorch": target, **({"numpy_matmul": round(1 / 0.75, 3)} if batch >= 1024 else {})},
        memory=True,
        rtol=1e-3,
        rate=("GFLOP/s", gflop),
    )


def mlp_step_128(quick):
    return mlp_step(128, 0.8)


def mlp_step_1024(quick):
    return mlp_step(1024, 1.1)


def cnn_step(name, title, channels, c1, c2, size, batch, target):
    spec = cnn_spec(channels, c1, c2, size)
    data = lambda: random_batch(batch, (channels, size, size))  # noqa: E731
    return Workload(
        name=name,
        title=title,
        unit="step",
        count=1,
        description=(
            f"One SGD step (lr {LR}) of conv {channels}->{c1} 3x3 pad 1, ReLU, maxpool 2, conv {c1}->{c2} "
            f"3x3 pad 1, ReLU, maxpool 2, linear {c2 * (size // 4) ** 2}->10, cross-entropy (mean), on a "
            f"batch of {batch} random {channels}x{size}x{size} float32 images, same initial weights "
            "everywhere. NumPy: im2col (copies per kernel offset), batched matmul, col2im, pooling by "
            "reshape."
        ),
        implementations={
            "chainrule": lambda: chainrule_step(spec, *data()),
            "pytorch": lambda: torch_step(spec, *data()),
            "numpy": lambda: numpy_step(spec, *data()),
        },
        targets={"pytorch": target},
        memory=True,
        rtol=2e-3,
        rate=("images/s", batch),
    )


def lenet_step(quick):
    return cnn_step("lenet_step", "LeNet-style CNN training step, 1x28x28, batch 64", 1, 16, 32, 28, 64, 1.0)


def wide_cnn_step(quick):
    return cnn_step(
        "wide_cnn_step", "Wider CNN training step (64/128 channels), 3x32x32, batch 32", 3, 64, 128, 32, 32, 1.2
    )


# ----- one MNIST epoch ------------------------------------------------------------------
QUICK_FRACTION = 10


def mnist_arrays(flatten, quick):
    from chainrule.data import MNIST

    X, y = MNIST(MNIST_ROOT).arrays(flatten=flatten)
    if quick:
        X, y = X[: len(X) // QUICK_FRACTION], y[: len(y) // QUICK_FRACTION]
    return np.ascontiguousarray(X), y


def chainrule_epoch(spec, flatten, batch, quick):
    from chainrule import optim
    from chainrule.data import DataLoader, TensorDataset
    from chainrule.nn import functional as F

    X, y = mnist_arrays(flatten, quick)
    model = chainrule_model(spec, initial_weights(spec))
    optimizer = optim.SGD(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True, seed=0)

    return lambda: epoch_with_api(loader, model, optimizer, F)


def epoch_with_api(loader, model, optimizer, F):
    """One epoch written as a user writes it; chainrule and PyTorch share the names, so one loop serves both.
    Returns the mean loss, for comparing the implementations' outputs."""
    total, steps = 0.0, 0
    for xb, yb in loader:
        total += training_step(model, optimizer, F, xb, yb).item()
        steps += 1
    return np.array([total / steps])


def training_step(model, optimizer, F, x, y):
    """One SGD step as a user writes it, in either library (they share the names); returns the loss."""
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def torch_epoch(spec, flatten, batch, quick):
    torch = import_torch()
    F = torch.nn.functional
    X, y = mnist_arrays(flatten, quick)
    model = torch_model(spec, initial_weights(spec))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0)
    )

    return lambda: epoch_with_api(loader, model, optimizer, F)


def numpy_epoch(spec, flatten, batch, quick):
    X, y = mnist_arrays(flatten, quick)
    network = NumpyNetwork(spec, initial_weights(spec))
    rng = np.random.default_rng(0)

    def run():
        order = rng.permutation(len(X))
        total, steps = 0.0, 0
        for start in range(0, len(X), batch):
            indices = order[start : start + batch]
            total += network.loss_and_gradients(X[indices], y[indices])
            network.sgd_step(LR)
            steps += 1
        return np.array([total / steps])

    return run


def mnist_epoch(name, spec, flatten, batch, model_text, quick):
    part = f"1/{QUICK_FRACTION} of an epoch (the first {60000 // QUICK_FRACTION:,} images)" if quick else "one epoch"
    images = 60000 // QUICK_FRACTION if quick else 60000
    return Workload(
        name=name,
        title=f"MNIST training, {model_text}, batch {batch}: {part}, data loading included",
        unit="epoch" if not quick else "tenth-epoch",
        count=1,
        description=(
            f"{part.capitalize()} of MNIST training of the {model_text} (SGD lr {LR}, cross-entropy, "
            f"batch {batch}, shuffled): chainrule DataLoader(TensorDataset) vs torch DataLoader"
            f"(TensorDataset) vs NumPy indexing a permutation; each sums loss.item() per step. Samples/s = "
            f"{images:,} / time. The shuffles differ between libraries "
            "(chainrule and NumPy share one), so only the epoch's mean loss is compared, loosely."
        ),
        implementations={
            "chainrule": lambda: chainrule_epoch(spec, flatten, batch, quick),
            "pytorch": lambda: torch_epoch(spec, flatten, batch, quick),
            "numpy": lambda: numpy_epoch(spec, flatten, batch, quick),
        },
        targets={"pytorch": 1.0},
        memory=True,
        repeats=3,
        rtol=0.03,
        rate=("samples/s", images),
    )


def mnist_epoch_mlp(quick):
    return mnist_epoch("mnist_epoch_mlp", mlp_spec(), True, 128, "MLP 784-512-256-10", quick)


def mnist_epoch_lenet(quick):
    return mnist_epoch("mnist_epoch_lenet", cnn_spec(1, 16, 32, 28), False, 64, "LeNet-style CNN", quick)
