"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's arguments, gate order,
parameter names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l1``, ...) and initialisation.

Each layer and direction runs as one gate (``chainrule.gates.recurrent``): it projects the inputs
of every time step with one product (x_t W_ih^T + b_ih for all t at once), then loops over time
in NumPy forward and backward. A 1,000-step sequence is one gate per layer and direction, not tens
of thousands.

Layouts are PyTorch's: input (T, N, input_size), or (N, T, input_size) with ``batch_first``, or
(T, input_size) unbatched, or a ``PackedSequence`` (``nn.utils.rnn``) for sequences of unequal
length; initial and final states (num_layers * num_directions, N, hidden_size), never batch first.
"""

import math
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import checks
from .. import functional as F
from ..backend import xp
from ..gates.common import as_tensor
from ..gates.recurrent import RECURRENCES
from ..gates.shape import cat, stack
from ..tensor import Tensor
from ..types import Array, DType, TensorLike
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence, lengths_from_batch_sizes, packed_positions

#: A recurrent layer's initial state: h_0, or (h_0, c_0) for an LSTM.
HiddenState = TensorLike | tuple[TensorLike, TensorLike]

#: Gates per hidden unit (PyTorch's order: LSTM i, f, g, o; GRU r, z, n).
GATES: dict[str, int] = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _mode(name: str, nonlinearity: str) -> str:
    if name != "RNN":
        return name
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _recur(
    mode: str,
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    h0: Tensor,
    c0: Tensor | None = None,
    reverse: bool = False,
    lengths: Array | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One recurrence gate over x (T, N, I); returns (output (T, N, H), h_n, c_n or None). Missing biases
    are zeros (constants)."""
    if b_ih is None:
        b_ih = b_hh = Tensor(xp.zeros(w_hh.shape[0], dtype=w_hh.dtype))
    inputs = (x, w_ih, w_hh, b_ih, b_hh, h0) if c0 is None else (x, w_ih, w_hh, b_ih, b_hh, h0, c0)
    outs: Any  # the gate's outputs, a tuple of Tensors (Gate.apply is typed as returning one Tensor)
    outs = RECURRENCES[mode].apply(
        *inputs, reverse=reverse, lengths=lengths, nonlinearity="relu" if mode == "RNN_RELU" else "tanh"
    )
    return outs if mode == "LSTM" else (*outs, None)


class RNNBase(Module):
    """What RNN, LSTM and GRU share; ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'."""

    if TYPE_CHECKING:
        mode: str  # every instance sets it in __init__
    else:
        mode = None
    nonlinearity: str
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    batch_first: bool
    bidirectional: bool
    dropout: float
    proj_size: int
    _weights: list[list[str]]
    generator: np.random.Generator

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        nonlinearity: str = "tanh",
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__()
        where = type(self).__name__
        self.mode = _mode(where if where in ("LSTM", "GRU") else "RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        self.input_size = checks.size(where, "input_size", input_size)
        self.hidden_size = checks.size(where, "hidden_size", hidden_size)
        self.num_layers = checks.size(where, "num_layers", num_layers)
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = checks.probability(where, "dropout", dropout)
        if proj_size:
            raise ValueError(f"{where}: proj_size is not supported (got {proj_size!r})")
        self.proj_size = 0
        dtype = checks.float_dtype(where, dtype)
        directions = 2 if self.bidirectional else 1
        gates = GATES[self.mode] * self.hidden_size
        self._weights = []  # per (layer, direction): the names of w_ih, w_hh, b_ih, b_hh
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                setattr(self, names[0], Parameter(xp.empty((gates, width), dtype=dtype)))
                setattr(self, names[1], Parameter(xp.empty((gates, self.hidden_size), dtype=dtype)))
                if self.bias:
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    for name in names[2:]:
                        setattr(self, name, Parameter(xp.empty(gates, dtype=dtype)))
                self._weights.append(names)
        self.generator = init.default_generator().spawn(1)[0]  # the dropout between layers
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, ``[[w_ih, w_hh, b_ih, b_hh], ...]``, as in PyTorch."""
        return [[getattr(self, name) for name in names] for names in self._weights]

    # ----- forward ----------------------------------------------------------------------------
    @overload
    def forward(
        self, input: PackedSequence, hx: HiddenState | None = None
    ) -> tuple[PackedSequence, Tensor | tuple[Tensor, Tensor]]: ...
    @overload
    def forward(
        self, input: TensorLike, hx: HiddenState | None = None
    ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]: ...
    def forward(self, input: Any, hx: HiddenState | None = None) -> tuple[Any, Tensor | tuple[Tensor, Tensor | None]]:
        """``output, h_n`` (LSTM: ``output, (h_n, c_n)``) for the whole sequence."""
        lengths: Array | None
        packed = isinstance(input, PackedSequence)
        if packed:
            x, lengths = self._unpack(input)
            unbatched = False
        else:
            x = as_tensor(input)
            unbatched = self._check_input(x)
            if unbatched:
                x = x.reshape((x.shape[0], 1, x.shape[1]))
            elif self.batch_first:
                x = x.transpose(0, 1)
            lengths = None
        output: Tensor | PackedSequence
        steps, n = x.shape[:2]
        h0, c0 = self._initial_states(hx, n, x.dtype, unbatched, input if packed else None)
        directions = 2 if self.bidirectional else 1
        h_finals: list[Tensor]
        c_finals: list[Any]  # Tensors for an LSTM, Nones otherwise
        h_finals, c_finals = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, generator=self.generator)
            outputs: list[Tensor] = []
            for direction in range(directions):
                index = layer * directions + direction
                params = [getattr(self, name) for name in self._weights[index]]
                w_ih, w_hh = params[:2]
                b_ih, b_hh = params[2:] if self.bias else (None, None)
                out, h_n, c_n = _recur(
                    self.mode,
                    x,
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    h0[index],
                    None if c0 is None else c0[index],
                    reverse=bool(direction),
                    lengths=lengths,
                )
                outputs.append(out)
                h_finals.append(h_n)
                c_finals.append(c_n)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
        h_n = stack(h_finals, 0)
        c_n = stack(c_finals, 0) if self.mode == "LSTM" else None
        if packed:
            output = self._pack(x, input)
            if input.unsorted_indices is not None:
                h_n = h_n[:, input.unsorted_indices]
                c_n = c_n[:, input.unsorted_indices] if c_n is not None else None
        elif unbatched:
            output = x.reshape((steps, x.shape[2]))
            h_n = h_n.reshape((h_n.shape[0], h_n.shape[2]))
            c_n = c_n.reshape((c_n.shape[0], c_n.shape[2])) if c_n is not None else None
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _check_input(self, x: Tensor) -> bool:
        """Whether the input is unbatched; a clear error when its shape does not fit."""
        layout = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._describe()}: input has shape {tuple(x.shape)}; expected {layout} (or "
                f"(T, input_size) unbatched) with input_size={self.input_size}"
            )
        if x.shape[0 if x.ndim == 2 or not self.batch_first else 1] == 0:
            raise ValueError(f"{self._describe()}: input has no time steps (shape {tuple(x.shape)})")
        return x.ndim == 2

    def _initial_states(
        self, hx: Any, n: int, dtype: np.dtype[Any], unbatched: bool, packed: PackedSequence | None
    ) -> tuple[Tensor, Tensor | None]:
        """h0 (and c0 for the LSTM) as (num_layers * directions, N, H) tensors: zeros unless given."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        shape = (count, self.hidden_size) if unbatched else (count, n, self.hidden_size)
        if hx is None:
            zeros = Tensor(xp.zeros((count, n, self.hidden_size), dtype=dtype))
            return zeros, (zeros if self.mode == "LSTM" else None)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(
                    f"{self._describe()}: hx must be a tuple (h_0, c_0) for an LSTM, got {type(hx).__name__}"
                )
            states = [as_tensor(s) for s in hx]
        else:
            states = [as_tensor(hx)]
        checked: list[Tensor] = []
        for name, state in zip(("h_0", "c_0"), states):
            if tuple(state.shape) != shape:
                raise ValueError(
                    f"{self._describe()}: {name} has shape {tuple(state.shape)}, expected {shape} "
                    f"(num_layers * num_directions, {'' if unbatched else 'batch, '}hidden_size)"
                )
            if unbatched:
                state = state.reshape((count, 1, self.hidden_size))
            elif packed is not None and packed.sorted_indices is not None:
                state = state[:, packed.sorted_indices]
            checked.append(state)
        return checked[0], (checked[1] if self.mode == "LSTM" else None)

    def _unpack(self, sequence: PackedSequence) -> tuple[Tensor, Array]:
        """A PackedSequence as a padded (T, N, input_size) tensor, longest first, and its lengths."""
        data = as_tensor(sequence.data)
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(
                f"{self._describe()}: the packed data has shape {tuple(data.shape)}; expected "
                f"(total steps, input_size={self.input_size})"
            )
        batch_sizes = xp.asarray(sequence.batch_sizes)
        steps, batch = len(batch_sizes), int(batch_sizes[0])
        index = xp.full((steps, batch), len(data.data))  # the padding row, where a sequence has ended
        steps_index, positions = packed_positions(batch_sizes)
        index[steps_index, positions] = xp.arange(len(steps_index))
        padding = Tensor(xp.zeros((1, self.input_size), dtype=data.dtype))
        return cat([data, padding])[index], lengths_from_batch_sizes(batch_sizes)

    def _pack(self, padded: Tensor, sequence: PackedSequence) -> PackedSequence:
        steps_index, positions = packed_positions(xp.asarray(sequence.batch_sizes))
        return PackedSequence(
            padded[steps_index, positions], sequence.batch_sizes, sequence.sorted_indices, sequence.unsorted_indices
        )


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu, ``nonlinearity="relu"``).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    if TYPE_CHECKING:  # the final state is h_n

        @overload
        def forward(self, input: PackedSequence, hx: HiddenState | None = None) -> tuple[PackedSequence, Tensor]: ...
        @overload
        def forward(self, input: TensorLike, hx: HiddenState | None = None) -> tuple[Tensor, Tensor]: ...
        def forward(self, input: Any, hx: HiddenState | None = None) -> tuple[Any, Tensor]: ...

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            nonlinearity=nonlinearity,
            dtype=dtype,
        )


class LSTM(RNNBase):
    """Long short-term memory: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of x_t W_ih^T + b_ih + h_{t-1}
    W_hh^T + b_hh (weights stacked in that order); c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``; ``forward(input, (h_0, c_0)=None)`` returns ``(output, (h_n, c_n))``."""

    if TYPE_CHECKING:  # the final state is (h_n, c_n)

        @overload
        def forward(
            self, input: PackedSequence, hx: HiddenState | None = None
        ) -> tuple[PackedSequence, tuple[Tensor, Tensor]]: ...
        @overload
        def forward(self, input: TensorLike, hx: HiddenState | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]: ...
        def forward(self, input: Any, hx: HiddenState | None = None) -> tuple[Any, tuple[Tensor, Tensor]]: ...

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size, dtype=dtype
        )


class GRU(RNNBase):
    """Gated recurrent unit: r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z}),
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``; ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    if TYPE_CHECKING:  # the final state is h_n

        @overload
        def forward(self, input: PackedSequence, hx: HiddenState | None = None) -> tuple[PackedSequence, Tensor]: ...
        @overload
        def forward(self, input: TensorLike, hx: HiddenState | None = None) -> tuple[Tensor, Tensor]: ...
        def forward(self, input: Any, hx: HiddenState | None = None) -> tuple[Any, Tensor]: ...

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype)


# ----- cells: one time step ----------------------------------------------------------------------
class RNNCellBase(Module):
    """One time step of a recurrent layer: parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``,
    and the same two gates as the layers (a one-step recurrence)."""

    mode: str
    input_size: int
    hidden_size: int
    bias: bool
    weight_ih: Parameter
    weight_hh: Parameter
    bias_ih: Parameter | None
    bias_hh: Parameter | None

    def __init__(self, input_size: int, hidden_size: int, bias: bool, mode: str, dtype: DType) -> None:
        super().__init__()
        where = type(self).__name__
        self.mode = mode
        self.input_size = checks.size(where, "input_size", input_size)
        self.hidden_size = checks.size(where, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = checks.float_dtype(where, dtype)
        gates = GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(xp.empty((gates, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(xp.empty((gates, self.hidden_size), dtype=dtype))
        if self.bias:
            self.bias_ih = Parameter(xp.empty(gates, dtype=dtype))
            self.bias_hh = Parameter(xp.empty(gates, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text + (", nonlinearity='relu'" if self.mode == "RNN_RELU" else "")

    def _step(self, input: TensorLike, states: list[tuple[str, TensorLike | None]]) -> tuple[Tensor, Tensor | None]:
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._describe()}: input has shape {tuple(x.shape)}; expected (N, input_size) or "
                f"(input_size,) with input_size={self.input_size}"
            )
        unbatched = x.ndim == 1
        n = 1 if unbatched else x.shape[0]
        shape = (self.hidden_size,) if unbatched else (n, self.hidden_size)
        checked: list[Any] = []  # h (and c) as Tensors, passed on as _recur's h0 (and c0)
        for name, state in states:
            if state is None:
                state = Tensor(xp.zeros((n, self.hidden_size), dtype=x.dtype))
            else:
                state = as_tensor(state)
                if tuple(state.shape) != shape:
                    raise ValueError(
                        f"{self._describe()}: {name} has shape {tuple(state.shape)}, expected {shape} "
                        f"for input of shape {tuple(x.shape)}"
                    )
                state = state.reshape((n, self.hidden_size))
            checked.append(state)
        _, h, c = _recur(
            self.mode,
            x.reshape((1, n, self.input_size)),
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            *checked,
        )
        if unbatched:
            h = h.reshape(shape)
            c = c.reshape(shape) if c is not None else None
        return h, c


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); ``forward(input, hx=None)`` returns h'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: DType = xp.float32,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, _mode("RNN", nonlinearity), dtype)

    def forward(self, input: TensorLike, hx: TensorLike | None = None) -> Tensor:
        return self._step(input, [("hx", hx)])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; ``forward(input, (h, c)=None)`` returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: DType = xp.float32) -> None:
        super().__init__(input_size, hidden_size, bias, "LSTM", dtype)

    if TYPE_CHECKING:  # an LSTM step has a cell state

        def _step(self, input: TensorLike, states: list[tuple[str, TensorLike | None]]) -> tuple[Tensor, Tensor]: ...

    def forward(self, input: TensorLike, hx: tuple[TensorLike, TensorLike] | None = None) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        return self._step(input, [("h", h), ("c", c)])


class GRUCell(RNNCellBase):
    """One GRU step; ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: DType = xp.float32) -> None:
        super().__init__(input_size, hidden_size, bias, "GRU", dtype)

    def forward(self, input: TensorLike, hx: TensorLike | None = None) -> Tensor:
        return self._step(input, [("hx", hx)])[0]


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
