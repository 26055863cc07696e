"""Attention, Transformer and recurrent layers against PyTorch (when it is installed): values and every
gradient in float64 with PyTorch's weights copied in, for several configurations, and training curves of a
2-layer Transformer language model and a 2-layer LSTM that agree step by step for 50 optimizer steps."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch = pytest.importorskip("torch")
tnn, tF = torch.nn, torch.nn.functional

rng = np.random.default_rng(11)


def to_numpy(t):
    return None if t is None else t.detach().numpy()


def assert_close(ours, theirs, what, tol=1e-10):
    theirs = to_numpy(theirs) if isinstance(theirs, torch.Tensor) else theirs
    if theirs is None:  # PyTorch leaves a gradient that does not depend on the input as None
        assert ours is None or not np.any(ours), what
        return
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=what)


def cosine_weights(shape):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape)


def flat_outputs(result):
    """Every tensor in a layer's result (tuples of tuples, PackedSequences unpacked), None left out."""
    if result is None:
        return []
    if isinstance(result, (nn.utils.rnn.PackedSequence, tnn.utils.rnn.PackedSequence)):
        return [result.data]
    if isinstance(result, (tuple, list)):
        return [t for part in result for t in flat_outputs(part)]
    return [result]


def compare_module(ours, theirs, inputs, ours_kwargs=None, theirs_kwargs=None, wrap=None):
    """Copy PyTorch's weights into ours, run both on ``inputs`` (float64 arrays), backpropagate the same weighted
    sum of every output, and compare outputs, input gradients and every parameter's gradient."""
    theirs.double()
    ours.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({key: to_numpy(value) for key, value in theirs.state_dict().items()})
    xs = [cr.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    wrap_ours, wrap_theirs = wrap or (lambda a: a, lambda a: a)
    out = flat_outputs(ours(*wrap_ours(xs), **(ours_kwargs or {})))
    tout = flat_outputs(theirs(*wrap_theirs(ts), **(theirs_kwargs or {})))
    assert len(out) == len(tout)
    for i, (a, b) in enumerate(zip(out, tout)):
        assert_close(a.data, b, f"output {i}")
    sum(((a * cosine_weights(a.shape)).sum() for a in out), cr.tensor(0.0)).backward()
    sum((b * torch.tensor(cosine_weights(tuple(b.shape)))).sum() for b in tout).backward()
    for i, (a, b) in enumerate(zip(xs, ts)):
        assert_close(a.grad, b.grad, f"gradient of input {i}")
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, f"gradient of {name}")


# ----- scaled_dot_product_attention ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case", ["plain", "causal", "bool", "float", "scale", "broadcast", "float-grad", "causal-rectangular"]
)
def test_scaled_dot_product_attention(case):
    q, k, v = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)), rng.standard_normal((2, 3, 6, 7))
    kwargs, mask = {}, None
    if case == "causal":
        k, v = k[:, :, :5], v[:, :, :5]
        kwargs = {"is_causal": True}
    elif case == "causal-rectangular":
        kwargs = {"is_causal": True}
    elif case == "bool":
        mask = rng.random((5, 6)) > 0.3
        mask[:, 0] = True
    elif case == "float":
        mask = rng.standard_normal((3, 1, 6))
    elif case == "scale":
        kwargs = {"scale": 0.3}
    elif case == "broadcast":
        k, v = k[:1], v[:1]
    inputs = [q, k, v]
    if case == "float-grad":
        inputs.append(rng.standard_normal((5, 6)))
    xs = [cr.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    ours_mask = xs[3] if case == "float-grad" else mask
    theirs_mask = ts[3] if case == "float-grad" else (None if mask is None else torch.tensor(mask))
    out = F.scaled_dot_product_attention(*xs[:3], attn_mask=ours_mask, **kwargs)
    tout = tF.scaled_dot_product_attention(*ts[:3], attn_mask=theirs_mask, **kwargs)
    assert_close(out.data, tout, "output")
    g = cosine_weights(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(xs, ts)):
        assert_close(a.grad, b.grad, f"gradient of input {i}")


def test_scaled_dot_product_attention_second_order():
    inputs = [rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))]
    xs = [cr.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = F.scaled_dot_product_attention(*xs, is_causal=False)
    tout = tF.scaled_dot_product_attention(*ts)
    grads = cr.grad((out * out).sum(), xs, create_graph=True)
    tgrads = torch.autograd.grad((tout * tout).sum(), ts, create_graph=True)
    sum((g * g).sum() for g in grads).backward()
    sum((g * g).sum() for g in tgrads).backward()
    for i, (a, b) in enumerate(zip(xs, ts)):
        assert_close(a.grad, b.grad, f"second-order gradient of input {i}")


# ----- MultiheadAttention and the Transformer layers --------------------------------------------------------
def padding_mask(batch, length):
    mask = np.zeros((batch, length), bool)
    mask[1, length - 2 :] = True
    return mask


@pytest.mark.parametrize(
    "case",
    ["self", "weights-per-head", "masks", "float-masks", "batch-first-cross", "kdim-vdim", "no-bias", "unbatched"],
)
def test_multihead_attention(case):
    x = rng.standard_normal((5, 3, 8))
    options, inputs, kwargs = {}, [x, x, x], {}
    shared = True
    if case == "weights-per-head":
        kwargs = {"average_attn_weights": False}
    elif case in ("masks", "float-masks"):
        kpm, causal = padding_mask(3, 5), np.triu(np.ones((5, 5), bool), 1)
        if case == "float-masks":
            kpm, causal = np.where(kpm, -np.inf, 0.0), np.where(causal, -np.inf, rng.standard_normal((5, 5)))
        kwargs = {"key_padding_mask": kpm, "attn_mask": causal}
    elif case == "batch-first-cross":
        options = {"batch_first": True}
        inputs, shared = [x, rng.standard_normal((5, 4, 8)), rng.standard_normal((5, 4, 8))], False
    elif case == "kdim-vdim":
        options = {"kdim": 3, "vdim": 6}
        inputs, shared = [x, rng.standard_normal((4, 3, 3)), rng.standard_normal((4, 3, 6))], False
    elif case == "no-bias":
        options = {"bias": False}
    elif case == "unbatched":
        inputs = [x[:, 0]] * 3
    theirs_kwargs = {key: torch.tensor(value) for key, value in kwargs.items() if isinstance(value, np.ndarray)}
    theirs_kwargs.update({key: value for key, value in kwargs.items() if not isinstance(value, np.ndarray)})
    if shared:  # self-attention: one tensor as query, key and value (the one-product path)
        compare_module(
            nn.MultiheadAttention(8, 2, **options),
            tnn.MultiheadAttention(8, 2, **options),
            inputs[:1],
            kwargs,
            theirs_kwargs,
            wrap=(lambda xs: xs * 3, lambda ts: ts * 3),
        )
    else:
        compare_module(
            nn.MultiheadAttention(8, 2, **options),
            tnn.MultiheadAttention(8, 2, **options),
            inputs,
            kwargs,
            theirs_kwargs,
        )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer(norm_first, activation, batch_first):
    x = rng.standard_normal((3, 5, 8)) if batch_first else rng.standard_normal((5, 3, 8))
    kpm = padding_mask(3, 5)
    options = dict(
        dim_feedforward=16, dropout=0.0, norm_first=norm_first, activation=activation, batch_first=batch_first
    )
    compare_module(
        nn.TransformerEncoderLayer(8, 2, **options),
        tnn.TransformerEncoderLayer(8, 2, **options),
        [x],
        {"src_key_padding_mask": kpm},
        {"src_key_padding_mask": torch.tensor(kpm)},
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_layer(norm_first):
    tgt, memory = rng.standard_normal((3, 4, 8)), rng.standard_normal((3, 6, 8))
    causal = np.triu(np.ones((4, 4), bool), 1)
    memory_kpm = padding_mask(3, 6)
    options = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first, batch_first=True)
    kwargs = {"tgt_mask": causal, "tgt_is_causal": True, "memory_key_padding_mask": memory_kpm}
    compare_module(
        nn.TransformerDecoderLayer(8, 2, **options),
        tnn.TransformerDecoderLayer(8, 2, **options),
        [tgt, memory],
        kwargs,
        {"tgt_mask": torch.tensor(causal), "tgt_is_causal": True, "memory_key_padding_mask": torch.tensor(memory_kpm)},
    )


def test_transformer_encoder_and_decoder_stacks():
    src, tgt = rng.standard_normal((6, 2, 8)), rng.standard_normal((4, 2, 8))
    causal = np.triu(np.ones((6, 6), bool), 1)
    compare_module(
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8)),
        tnn.TransformerEncoder(
            tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=tnn.LayerNorm(8), enable_nested_tensor=False
        ),
        [src],
        {"mask": causal},
        {"mask": torch.tensor(causal)},
    )
    compare_module(
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
        tnn.TransformerDecoder(tnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
        [tgt, src],
    )


# ----- recurrent layers --------------------------------------------------------------------------------------
CONFIGURATIONS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True, "num_layers": 2},
    {"bias": False},
]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "options", CONFIGURATIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "default"
)
@pytest.mark.parametrize("with_states", [False, True])
def test_recurrent_layers(name, options, with_states):
    layers = 2 if options.get("num_layers") == 2 else 1
    count = layers * (2 if options.get("bidirectional") else 1)
    x = rng.standard_normal((3, 5, 4) if options.get("batch_first") else (5, 3, 4))
    inputs = [x]
    if with_states:
        inputs += [rng.standard_normal((count, 3, 6)) for _ in range(2 if name == "LSTM" else 1)]

    def wrap(tensors):
        if len(tensors) == 1:
            return tensors
        return [tensors[0], tuple(tensors[1:]) if name == "LSTM" else tensors[1]]

    compare_module(getattr(nn, name)(4, 6, **options), getattr(tnn, name)(4, 6, **options), inputs, wrap=(wrap, wrap))


def test_rnn_relu():
    x = rng.standard_normal((5, 3, 4))
    compare_module(
        nn.RNN(4, 6, nonlinearity="relu", num_layers=2), tnn.RNN(4, 6, nonlinearity="relu", num_layers=2), [x]
    )


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_on_packed_sequences(name, batch_first):
    lengths = [3, 5, 2]
    x = rng.standard_normal((3, 5, 4) if batch_first else (5, 3, 4))
    options = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}

    def wrap(pack, lengths_of):
        return lambda xs: [pack(xs[0], lengths_of(lengths), batch_first=batch_first, enforce_sorted=False)]

    compare_module(
        getattr(nn, name)(4, 6, **options),
        getattr(tnn, name)(4, 6, **options),
        [x],
        wrap=(wrap(pack_padded_sequence, list), wrap(tnn.utils.rnn.pack_padded_sequence, torch.tensor)),
    )
    ours = getattr(nn, name)(4, 6, **options).double()
    theirs = getattr(tnn, name)(4, 6, **options).double()
    ours.load_state_dict({key: to_numpy(value) for key, value in theirs.state_dict().items()})
    out, _ = ours(pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False))
    tout, _ = theirs(
        tnn.utils.rnn.pack_padded_sequence(
            torch.tensor(x), torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False
        )
    )
    padded, back = pad_packed_sequence(out, batch_first=batch_first)
    tpadded, tback = tnn.utils.rnn.pad_packed_sequence(tout, batch_first=batch_first)
    assert_close(padded.data, tpadded, "padded output")
    assert back.tolist() == tback.tolist()


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(name):
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 6))
    inputs = [x, h, rng.standard_normal((3, 6))] if name == "LSTMCell" else [x, h]

    def wrap(tensors):
        return [tensors[0], tuple(tensors[1:])] if name == "LSTMCell" else tensors

    compare_module(getattr(nn, name)(4, 6), getattr(tnn, name)(4, 6), inputs, wrap=(wrap, wrap))


# ----- training curves -----------------------------------------------------------------------------------------
VOCABULARY, WIDTH, LENGTH, BATCH, STEPS = 11, 16, 12, 4, 50


def language_model(lib):
    container = lib.Module()
    layer = lib.TransformerEncoderLayer(WIDTH, 2, 32, dropout=0.0, norm_first=True, batch_first=True)
    container.tokens = lib.Embedding(VOCABULARY, WIDTH)
    container.positions = lib.Embedding(LENGTH, WIDTH)
    container.blocks = (
        lib.TransformerEncoder(layer, 2) if lib is nn else lib.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    )
    container.norm = lib.LayerNorm(WIDTH)
    container.head = lib.Linear(WIDTH, VOCABULARY)
    return container


def language_model_loss(model, tokens, targets, lib):
    causal = np.triu(np.ones((LENGTH, LENGTH), bool), 1)
    if lib is nn:
        x = model.tokens(tokens) + model.positions(np.arange(LENGTH))
        x = model.norm(model.blocks(x, mask=causal, is_causal=True))
        return F.cross_entropy(model.head(x).reshape(-1, VOCABULARY), targets.reshape(-1))
    x = model.tokens(torch.tensor(tokens)) + model.positions(torch.arange(LENGTH))
    x = model.norm(model.blocks(x, mask=torch.tensor(causal), is_causal=True))
    return tF.cross_entropy(model.head(x).reshape(-1, VOCABULARY), torch.tensor(targets).reshape(-1))


def lstm_model(lib):
    container = lib.Module()
    container.tokens = lib.Embedding(VOCABULARY, WIDTH)
    container.lstm = lib.LSTM(WIDTH, WIDTH, num_layers=2, batch_first=True)
    container.head = lib.Linear(WIDTH, VOCABULARY)
    return container


def lstm_loss(model, tokens, targets, lib):
    if lib is nn:
        out, _ = model.lstm(model.tokens(tokens))
        return F.cross_entropy(model.head(out).reshape(-1, VOCABULARY), targets.reshape(-1))
    out, _ = model.lstm(model.tokens(torch.tensor(tokens)))
    return tF.cross_entropy(model.head(out).reshape(-1, VOCABULARY), torch.tensor(targets).reshape(-1))


def training_curve(lib, model, loss_of, batches):
    if lib is nn:
        optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses = []
    for tokens, targets in batches:
        optimizer.zero_grad()
        loss = loss_of(model, tokens, targets, lib)
        loss.backward()
        if lib is nn:
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        else:
            tnn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize(
    "build, loss_of", [(language_model, language_model_loss), (lstm_model, lstm_loss)], ids=["transformer", "lstm"]
)
def test_training_curves_agree_for_50_steps(build, loss_of):
    theirs = build(tnn).double()
    ours = build(nn).double()
    ours.load_state_dict({key: to_numpy(value) for key, value in theirs.state_dict().items()})
    data = np.random.default_rng(0)
    batches = []
    for _ in range(STEPS):  # a learnable pattern: each token is the previous one plus 1 (mod the vocabulary)
        start = data.integers(0, VOCABULARY, (BATCH, 1))
        tokens = (start + np.arange(LENGTH + 1)) % VOCABULARY
        batches.append((tokens[:, :-1], tokens[:, 1:]))
    ours_losses = training_curve(nn, ours, loss_of, batches)
    theirs_losses = training_curve(tnn, theirs, loss_of, batches)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-6)
    assert ours_losses[-1] < 0.75 * ours_losses[0]  # it learned
