"""Optimizers and learning-rate schedules, with PyTorch's names, defaults and update rules."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LinearWarmup, StepLR
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
    "lr_scheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup",
]
