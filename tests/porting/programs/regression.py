"""A small regression, y = sin(2x) + 0.3 x^2, fitted with nn.MSELoss, Adam and ReduceLROnPlateau; written
for PyTorch.

tests/porting runs this file as it is against PyTorch, and with only its imports changed against
chainrule. Run it alone with ``python regression.py``.
"""

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import ReduceLROnPlateau


def make_data(n=200, dtype=torch.float32):
    x = torch.linspace(-2, 2, n, dtype=dtype).unsqueeze(1)
    y = torch.sin(2 * x) + 0.3 * x**2
    return x, y


def build_model(hidden=32):
    return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def train(model, x, y, steps=300, lr=1e-2, log=print):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=20)
    criterion = nn.MSELoss()
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step(loss.item())
        losses.append(loss.item())
        if step % 50 == 0:
            log(f"step {step}: mse {loss.item():.5f}, lr {optimizer.param_groups[0]['lr']:.4g}")
    with torch.no_grad():
        worst = (model(x) - y).abs().max().item()
    return losses, worst


def main(log=print):
    torch.manual_seed(0)
    x, y = make_data()
    model = build_model()
    losses, worst = train(model, x, y, log=log)
    log(f"final mse {losses[-1]:.5f}, largest error {worst:.4f}")
    return losses, worst


if __name__ == "__main__":
    main()
