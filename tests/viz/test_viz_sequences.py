"""Pictures and explanations of sequence models: a Transformer block drawn as one box per layer, and the walk
backward through gates with several outputs (an LSTM's output, h_n and c_n) matching the engine's gradients."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.viz import explain, trace

rng = np.random.default_rng(3)


def test_the_walk_through_an_lstm_matches_backward():
    cr.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    x = cr.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True, name="x")
    out, (h, c) = lstm(x)
    loss = (out * out).sum() + h.sum() + (c * 2).sum()  # every output of every recurrence gets a gradient
    walk = trace(loss)
    steps = str(explain(loss))
    assert "lstmrecurrence" in steps and "upstream to output 0" in steps and "to output 2" in steps
    assert "local d/dW_hh lstm = sum_t da_t^T h_{t-1}" in steps
    loss.backward()
    gradients = {wire.name: wire.grad for wire in walk.leaves if wire.grad is not None}
    np.testing.assert_allclose(gradients["x"], x.grad, rtol=1e-12)
    np.testing.assert_allclose(gradients["weight_hh_l1"], lstm.weight_hh_l1.grad, rtol=1e-12)


def test_only_some_outputs_used():
    gru = nn.GRU(2, 3, dtype=np.float64)
    x = cr.tensor(rng.standard_normal((4, 1, 2)), requires_grad=True, name="x")
    _, h = gru(x)
    walk = trace(h.sum())
    h.sum().backward()
    np.testing.assert_allclose([w.grad for w in walk.leaves if w.name == "x"][0], x.grad, rtol=1e-12)


def test_a_transformer_block_draws_as_one_box_per_layer():
    pytest.importorskip("graphviz")
    from chainrule.viz import draw

    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
    x = cr.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32), requires_grad=True, name="x")
    source = draw(layer(x, is_causal=True).sum()).source
    for box in ("norm1", "self_attn", "norm2", "linear1", "linear2"):
        assert f"module_{box} [label=<<b>{box}</b>" in source
    assert 'MultiheadAttention</font><br/><font point-size="10">6 gates' in source
    assert "scaleddotproductattention" not in source  # inside the self_attn box
