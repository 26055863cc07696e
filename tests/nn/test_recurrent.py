"""RNN, LSTM, GRU, their cells and nn.utils.rnn: one gate per layer and direction, float64 gradients against
central differences, unequal lengths, long sequences, names and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.gates.recurrent import RECURRENCES
from chainrule.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence

rng = np.random.default_rng(7)
MODES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def leaf(*shape, dtype=np.float64):
    return cr.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def weighted_sum(outputs):
    """A loss that weighs every output element differently, so that no gradient cancels."""
    return sum((o * np.cos(np.arange(o.numel())).reshape(o.shape)).sum() for o in outputs)


# ----- the recurrence gates ----------------------------------------------------------------------------------
@settings(max_examples=30)
@given(
    mode=st.sampled_from(sorted(MODES)),
    steps=st.integers(1, 4),
    batch=st.integers(1, 3),
    features=st.integers(1, 3),
    hidden=st.integers(1, 3),
    reverse=st.booleans(),
    ragged=st.booleans(),
    batch_first=st.booleans(),
)
def test_recurrence_gradients_match_central_differences(
    mode, steps, batch, features, hidden, reverse, ragged, batch_first
):
    g = MODES[mode] * hidden
    x = leaf(batch, steps, features) if batch_first else leaf(steps, batch, features)
    inputs = [x, leaf(g, features), leaf(g, hidden), leaf(g), leaf(g), leaf(batch, hidden)]
    if mode == "LSTM":
        inputs.append(leaf(batch, hidden))
    lengths = rng.integers(1, steps + 1, batch) if ragged else None

    def run(x, *rest):
        x = x.transpose(0, 1) if batch_first else x  # a strided (time-major view of a batch-first) input
        return weighted_sum(
            RECURRENCES[mode].apply(
                x, *rest, reverse=reverse, lengths=lengths, nonlinearity="relu" if mode == "RNN_RELU" else "tanh"
            )
        )

    assert cr.max_relative_error(run, inputs) < 1e-6


def test_recurrence_is_once_differentiable_and_says_so():
    x = leaf(3, 2, 4)
    lstm = nn.LSTM(4, 2, dtype=np.float64)
    out, _ = lstm(x)
    (dx,) = cr.grad(out.sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="the 'lstmrecurrence' gate is once differentiable"):
        dx.sum().backward()


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_a_layer_is_one_gate_per_layer_and_direction(name):
    layer = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True)
    out, _ = layer(np.zeros((50, 2, 3), np.float32))
    gates, seen, stack = [], set(), [out.gate]
    while stack:
        gate = stack.pop()
        if gate is None or id(gate) in seen:
            continue
        seen.add(id(gate))
        gates.append(gate)
        stack.extend(x.gate for x in gate.inputs)
    recurrences = [gate for gate in gates if type(gate).__name__.endswith("Recurrence")]
    assert len(recurrences) == 4  # 2 layers x 2 directions; the rest are the concatenations of the directions
    assert len(gates) < 20  # and the initial states' indexing: never one gate per time step


def test_a_thousand_step_sequence_trains():
    cr.manual_seed(0)
    lstm, head = nn.LSTM(2, 8), nn.Linear(8, 1)
    x = rng.standard_normal((1000, 4, 2)).astype(np.float32)
    out, (h, c) = lstm(x)
    loss = (head(h[0]) ** 2).mean()
    loss.backward()
    assert all(np.isfinite(p.grad).all() for p in lstm.parameters())
    assert out.shape == (1000, 4, 8) and lstm.weight_hh_l0.grad.shape == (32, 8)


# ----- the layers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "options",
    [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}, {"bias": False, "bidirectional": True}],
)
def test_layer_gradients_with_respect_to_input_states_and_weights(name, options):
    cr.manual_seed(1)
    layer = getattr(nn, name)(3, 2, dtype=np.float64, **options)
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    x = leaf(2, 4, 3)
    h0 = leaf(count, 2 if options.get("batch_first") else 4, 2)
    hx = (h0, leaf(*h0.shape)) if name == "LSTM" else h0

    def run(x, w_ih, w_hh, *states):
        out, h = layer(x, tuple(states) if name == "LSTM" else states[0])
        return weighted_sum([out] + (list(h) if name == "LSTM" else [h]))

    states = list(hx) if name == "LSTM" else [hx]
    assert cr.max_relative_error(run, [x, layer.weight_ih_l0, layer.weight_hh_l0] + states) < 1e-6


def test_parameter_names_shapes_and_init_follow_pytorch():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = [name for name, _ in lstm.named_parameters()]
    assert names[:8] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",
        "bias_hh_l0_reverse",
    ]
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_ih_l1.shape == (20, 10)
    assert all(np.abs(p.data).max() <= 1 / np.sqrt(5) for p in lstm.parameters())
    gru = nn.GRU(3, 5, bias=False)
    assert [name for name, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.weight_hh_l0.shape == (15, 5)
    assert [name for name, _ in nn.LSTMCell(3, 4).named_parameters()] == [
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    ]
    assert repr(nn.RNN(3, 4, nonlinearity="relu", num_layers=2)).startswith(
        "RNN(3, 4, num_layers=2, nonlinearity='relu'"
    )


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_batch_first_unbatched_and_time_major_agree(name):
    layer = getattr(nn, name)(3, 4, dtype=np.float64)
    first = getattr(nn, name)(3, 4, batch_first=True, dtype=np.float64)
    first.load_state_dict(layer.state_dict())
    x = rng.standard_normal((5, 2, 3))
    out, h = layer(x)
    out_first, h_first = first(x.transpose(1, 0, 2))
    np.testing.assert_allclose(out_first.data.transpose(1, 0, 2), out.data, atol=1e-14)
    single, _ = layer(x[:, 1])
    np.testing.assert_allclose(single.data, out.data[:, 1], atol=1e-14)


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = rng.standard_normal((6, 2, 3))
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].data, lstm(x)[0].data)
    lstm.train()
    assert not np.array_equal(lstm(x)[0].data, lstm(x)[0].data)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_are_one_step_of_the_layer(name):
    cell = getattr(nn, name)(3, 4, dtype=np.float64)
    layer = getattr(nn, name.replace("Cell", ""))(3, 4, dtype=np.float64)
    layer.load_state_dict({f"{key}_l0": value for key, value in cell.state_dict().items()})
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    if name == "LSTMCell":
        c = rng.standard_normal((2, 4))
        h1, c1 = cell(x, (h, c))
        _, (h_n, c_n) = layer(x[None], (h[None], c[None]))
        np.testing.assert_allclose(c1.data, c_n.data[0], atol=1e-14)
    else:
        h1 = cell(x, h)
        _, h_n = layer(x[None], h[None])
    np.testing.assert_allclose(h1.data, h_n.data[0], atol=1e-14)
    x_leaf = leaf(2, 3)
    assert (
        cr.max_relative_error(
            lambda x, w: weighted_sum([cell(x)[0] if name == "LSTMCell" else cell(x)]), [x_leaf, cell.weight_hh]
        )
        < 1e-6
    )


# ----- unequal lengths ---------------------------------------------------------------------------------------
def test_packing_round_trip_and_gradients():
    x = leaf(3, 5, 2)  # batch first
    lengths = [2, 5, 3]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 2, 0]
    padded, back = pad_packed_sequence(packed, batch_first=True)
    assert back.tolist() == lengths
    mask = np.arange(5)[None, :, None] < np.array(lengths)[:, None, None]
    np.testing.assert_array_equal(padded.data, x.data * mask)
    assert (
        cr.max_relative_error(
            lambda x: weighted_sum(
                [
                    pad_packed_sequence(
                        pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), padding_value=0.5
                    )[0]
                ]
            ),
            [x],
        )
        < 1e-6
    )
    sequences = [leaf(n, 2) for n in (4, 1, 3)]
    stacked = pad_sequence(sequences, batch_first=True, padding_value=-1.0)
    assert stacked.shape == (3, 4, 2) and np.all(stacked.data[1, 1:] == -1)
    left = pad_sequence(sequences, padding_side="left")
    np.testing.assert_array_equal(left.data[3, 1], sequences[1].data[0])
    packed = pack_sequence(sequences, enforce_sorted=False)
    assert packed.lengths().tolist() == [4, 1, 3]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_a_packed_batch_equals_each_sequence_run_alone(name):
    layer = getattr(nn, name)(2, 3, bidirectional=True, num_layers=2, dtype=np.float64)
    lengths = [4, 2, 3]
    x = rng.standard_normal((4, 3, 2)) * (np.arange(4)[:, None, None] < np.array(lengths)[None, :, None])
    out, h = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = pad_packed_sequence(out)
    h = h[0] if name == "LSTM" else h
    for b, n in enumerate(lengths):
        alone, h_alone = layer(x[:n, b])
        h_alone = h_alone[0] if name == "LSTM" else h_alone
        np.testing.assert_allclose(padded.data[:n, b], alone.data, atol=1e-13)
        np.testing.assert_allclose(h.data[:, b], h_alone.data, atol=1e-13)
        assert np.all(padded.data[n:, b] == 0)


# ----- errors ------------------------------------------------------------------------------------------------
def test_errors_name_the_layer_the_shapes_and_what_was_expected():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(
        ValueError,
        match=r"LSTM\(3, 4, num_layers=2\): input has shape \(5, 2, 6\); expected "
        r"\(T, N, input_size\) .* input_size=3",
    ):
        lstm(np.zeros((5, 2, 6), np.float32))
    with pytest.raises(
        ValueError,
        match=r"LSTM\(3, 4, num_layers=2\): h_0 has shape \(1, 2, 4\), expected "
        r"\(2, 2, 4\) \(num_layers \* num_directions, batch, hidden_size\)",
    ):
        lstm(np.zeros((5, 2, 3), np.float32), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\) for an LSTM"):
        lstm(np.zeros((5, 2, 3), np.float32), np.zeros((2, 2, 4)))
    gru = nn.GRU(3, 4, batch_first=True)
    with pytest.raises(
        ValueError,
        match=r"GRU\(3, 4, batch_first=True\): h_0 has shape \(1, 5, 4\), expected "
        r"\(1, 2, 4\)",
    ):
        gru(np.zeros((2, 5, 3), np.float32), np.zeros((1, 5, 4)))
    with pytest.raises(ValueError, match=r"input has no time steps"):
        gru(np.zeros((2, 0, 3), np.float32))
    with pytest.raises(ValueError, match=r"RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"LSTM: proj_size is not supported"):
        nn.LSTM(3, 4, proj_size=2)
    cell = nn.GRUCell(3, 4)
    with pytest.raises(
        ValueError,
        match=r"GRUCell\(3, 4\): hx has shape \(3, 4\), expected \(2, 4\) for input of "
        r"shape \(2, 3\)",
    ):
        cell(np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"pack_padded_sequence: lengths \[2, 5, 3\] are not in decreasing order"):
        pack_padded_sequence(np.zeros((5, 3, 2)), [2, 5, 3])
    with pytest.raises(ValueError, match=r"every length must be between 1 and the padded length 5, got \[6, 5, 3\]"):
        pack_padded_sequence(np.zeros((5, 3, 2)), [6, 5, 3])
    with pytest.raises(
        ValueError,
        match=r"pad_sequence: every sequence must be \(length, 2\); sequence 1 has shape "
        r"\(3, 4\)",
    ):
        pad_sequence([np.zeros((2, 2)), np.zeros((3, 4))])
