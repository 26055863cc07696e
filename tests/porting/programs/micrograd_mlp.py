"""micrograd's demo (a two-moons classifier trained with a max-margin loss and L2 regularisation, the
learning rate decaying linearly), vectorised and written for PyTorch with LambdaLR.

tests/porting runs this file as it is against PyTorch, and with only its imports changed against
chainrule. Run it alone with ``python micrograd_mlp.py``.
"""

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR


class MLP(nn.Module):
    def __init__(self, sizes=(2, 16, 16, 1)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x).squeeze(-1)


def make_moons(n=100, noise=0.1, seed=1):
    """Two interleaving half circles (as scikit-learn's make_moons), labels -1 and 1."""
    rng = np.random.default_rng(seed)
    outer = np.linspace(0, np.pi, n // 2)
    inner = np.linspace(0, np.pi, n - n // 2)
    X = np.concatenate(
        [np.stack([np.cos(outer), np.sin(outer)], 1), np.stack([1 - np.cos(inner), 1 - np.sin(inner) - 0.5], 1)]
    )
    y = np.concatenate([-np.ones(n // 2), np.ones(n - n // 2)])
    return X + rng.normal(scale=noise, size=X.shape), y


def train(model, X, y, steps=100, alpha=1e-4, dtype=torch.float32, log=print):
    X = torch.as_tensor(X, dtype=dtype)
    y = torch.as_tensor(y, dtype=dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    schedule = LambdaLR(optimizer, lambda k: 1.0 - 0.9 * k / steps)
    history = []
    for k in range(steps):
        scores = model(X)
        data_loss = (1 + -y * scores).relu().mean()  # the max-margin (SVM) loss
        reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
        loss = data_loss + reg_loss
        accuracy = ((scores > 0) == (y > 0)).float().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history.append((loss.item(), accuracy.item()))
        if k % 10 == 0:
            log(f"step {k} loss {loss.item():.4f}, accuracy {accuracy.item() * 100:.1f}%")
    return history


def main(log=print):
    torch.manual_seed(1337)
    X, y = make_moons()
    model = MLP()
    log(f"number of parameters {sum(p.numel() for p in model.parameters())}")
    return train(model, X, y, log=log)


if __name__ == "__main__":
    main()
