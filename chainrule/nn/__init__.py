"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init.

    from chainrule import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)

``nn.functional`` holds the same operations as plain functions, ``nn.init`` the weight
initialisations (``nn.init.manual_seed`` makes them reproducible), ``nn.utils`` the
gradient clipping and ``nn.utils.rnn`` the packing of sequences of unequal length.
"""

from . import functional, init, utils
from .attention import MultiheadAttention
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, MultiMarginLoss, NLLLoss
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "functional", "init", "utils",
    "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "Identity", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Embedding",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "SiLU", "GELU", "ELU", "Softplus", "Softmax", "LogSoftmax",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
]
