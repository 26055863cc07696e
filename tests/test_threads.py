"""Two threads training two models at once get what they get one after the other."""

import threading

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset, load_digits
from chainrule.nn import functional as F

STEPS = 25


def train(seed, X, y, wait=lambda: None):
    """A few Adam steps of a small MLP (batch norm and dropout included), all seeded by ``seed``; the losses and
    the final weights. ``wait`` is called after seeding and again before training, where the threads meet."""
    cr.manual_seed(seed)
    wait()  # both threads have seeded before either builds its model
    model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=seed)
    wait()
    losses = []
    while len(losses) < STEPS:
        for images, labels in loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == STEPS:
                break
    return losses, {name: value.copy() for name, value in model.state_dict().items()}


def test_two_threads_train_as_if_one_after_the_other():
    X, y = load_digits()
    X = (X / 16).astype(np.float32)
    alone = [train(seed, X, y) for seed in (1, 2)]

    meeting = threading.Barrier(2)
    together, errors = [None, None], []

    def run(index, seed):
        try:
            together[index] = train(seed, X, y, wait=lambda: meeting.wait(timeout=60))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
            meeting.abort()

    threads = [threading.Thread(target=run, args=(index, seed)) for index, seed in enumerate((1, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for (losses, weights), (losses_alone, weights_alone) in zip(together, alone):
        assert losses == losses_alone
        assert weights.keys() == weights_alone.keys()
        assert all(np.array_equal(weights[name], weights_alone[name]) for name in weights)
    assert alone[0][0] != alone[1][0]  # the seeds matter, so a mix-up would show
