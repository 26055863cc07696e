"""An MNIST-style convnet trained on the 8x8 handwritten digits, written for PyTorch.

tests/porting runs this file twice: as it is, against PyTorch, and with only its imports changed
(``import chainrule as torch``), against chainrule. Run it alone with ``python digits_convnet.py``.
"""

import pathlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))  # (N, 8, 4, 4)
        x = self.pool(F.relu(self.conv2(x)))  # (N, 16, 2, 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def make_loaders(images, labels, batch_size=64, shuffle=True, dtype=torch.float32, seed=0):
    """Train and test loaders over the first 80% and the rest of the images (N, 8, 8), scaled to [0, 1]."""
    X = torch.from_numpy(images).to(dtype).unsqueeze(1) / 16.0
    y = torch.from_numpy(labels).long()
    n_train = int(0.8 * len(X))
    train_set = TensorDataset(X[:n_train], y[:n_train])
    test_set = TensorDataset(X[n_train:], y[n_train:])
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=shuffle, generator=generator)
    return train_loader, DataLoader(test_set, batch_size=256)


def evaluate(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for images, labels in loader:
            outputs = model(images)
            loss_sum += F.cross_entropy(outputs, labels, reduction="sum").item()
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return loss_sum / total, correct / total


def train(model, train_loader, test_loader, epochs=3, lr=0.05, device="cpu", log=print):
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    history = []
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * images.size(0)
        scheduler.step()
        test_loss, accuracy = evaluate(model, test_loader)
        train_loss = running / len(train_loader.dataset)
        log(f"epoch {epoch + 1}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, accuracy {accuracy:.2%}")
        history.append({"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy})
    return history


def save_and_reload(model, path):
    """The model as a checkpoint file and back."""
    torch.save(model.state_dict(), path)
    restored = Net()
    restored.load_state_dict(torch.load(path))
    restored.eval()
    return restored


def main(images, labels, path="digits_convnet.pt", log=print):
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader = make_loaders(images, labels)
    model = Net().to(device)
    history = train(model, train_loader, test_loader, device=device, log=log)
    restored = save_and_reload(model, path)
    images, _ = next(iter(test_loader))
    with torch.no_grad():
        same = torch.equal(restored(images).argmax(dim=1), model(images).argmax(dim=1))
    log(f"restored from {path}: same predictions {same}")
    return history


if __name__ == "__main__":
    digits = np.load(pathlib.Path(__file__).resolve().parents[3] / "chainrule" / "data" / "digits.npz")
    main(digits["images"], digits["labels"])
