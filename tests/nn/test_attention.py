"""scaled_dot_product_attention (one gate), MultiheadAttention and the Transformer layers: gradients against
central differences in float64 (first and second order), masks, fully masked rows, dropout, and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.gates.attention import ScaledDotProductAttention

rng = np.random.default_rng(5)


def leaf(*shape, dtype=np.float64):
    return cr.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def composed(q, k, v, bias=None, scale=None):
    """The same attention from basic gates (no fully masked rows)."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.mT) * scale
    if bias is not None:
        scores = scores + bias
    return scores.softmax(-1) @ v


# ----- the gate against central differences and the composed version ------------------------------------
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    length=st.integers(1, 4),
    source=st.integers(1, 4),
    features=st.integers(1, 3),
    value_features=st.integers(1, 3),
    broadcast_key=st.booleans(),
)
def test_attention_gradients_match_central_differences(batch, length, source, features, value_features, broadcast_key):
    q = leaf(*batch, length, features)
    key_batch = [1] * len(batch) if broadcast_key else batch  # keys and values shared across the batch
    k, v = leaf(*key_batch, source, features), leaf(*key_batch, source, value_features)
    out = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.data, composed(q, k, v).data, rtol=1e-12, atol=1e-12)
    assert cr.max_relative_error(F.scaled_dot_product_attention, [q, k, v]) < 1e-6


@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "float-grad", "causal"])
def test_attention_first_and_second_derivatives(mask_kind):
    q, k, v = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)
    inputs = [q, k, v]
    if mask_kind == "bool":
        mask = rng.random((3, 5)) > 0.4
        mask[:, 0] = True
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # noqa: E731
    elif mask_kind == "float":
        mask = rng.standard_normal((2, 1, 5))
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.7)  # noqa: E731
    elif mask_kind == "float-grad":
        inputs.append(leaf(3, 5))
        fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    elif mask_kind == "causal":
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    else:
        fn = F.scaled_dot_product_attention
    assert cr.max_relative_error(fn, inputs) < 1e-6
    assert cr.max_relative_error(fn, inputs, second_order=True) < 1e-6


def test_masks_agree_with_the_composed_attention():
    q, k, v = leaf(2, 4, 3), leaf(2, 4, 3), leaf(2, 4, 2)
    causal = np.tril(np.ones((4, 4), bool))
    bias = np.where(causal, 0.0, -np.inf)
    expected = composed(q, k, v, bias).data
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, is_causal=True).data, expected, atol=1e-14)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=causal).data, expected, atol=1e-14)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=bias).data, expected, atol=1e-14)


def test_fully_masked_rows_give_zeros_and_no_gradient_never_nan():
    q, k, v = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)
    mask = np.ones((2, 3, 5), bool)
    mask[0, 1] = False  # query 1 of the first sequence may attend to nothing
    float_mask = cr.tensor(np.where(mask, 0.0, -np.inf), requires_grad=True)
    for attn_mask in (mask, float_mask):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        assert np.all(out.data[0, 1] == 0) and np.isfinite(out.data).all()
        (dq, dk, dv) = cr.grad((out * out).sum(), [q, k, v])
        assert np.all(dq.data[0, 1] == 0)
        assert all(np.isfinite(g.data).all() for g in (dq, dk, dv))
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # noqa: E731
    assert cr.max_relative_error(fn, [q, k, v], second_order=True) < 1e-6
    (dmask,) = cr.grad(F.scaled_dot_product_attention(q, k, v, attn_mask=float_mask).sum(), [float_mask])
    assert np.isfinite(dmask.data).all() and np.all(dmask.data[0, 1] == 0)


def test_float32_stays_float32_and_the_attention_matrix_is_kept_once():
    q, k, v = (leaf(2, 2, 6, 4, dtype=np.float32) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    out.sum().backward()
    assert out.dtype == q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32
    gate = out.gate
    assert isinstance(gate, ScaledDotProductAttention)
    floats = [a for a in vars(gate).values() if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size >= 36]
    assert len(floats) == 1 and floats[0].shape == (2, 2, 6, 6)  # the softmax; the dropout mask is boolean
    assert gate.keep.dtype == bool


def test_dropout_is_seeded_scaled_and_differentiable():
    q, k, v = leaf(3, 8, 4), leaf(3, 8, 4), leaf(3, 8, 4)
    cr.manual_seed(3)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).data
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).data, first)
    _, weights = ScaledDotProductAttention.apply(
        q,
        k,
        v,
        scale=0.5,
        bias=None,
        keep=np.random.default_rng(0).random((3, 8, 8)) >= 0.25,
        dropout_p=0.25,
        with_weights=True,
    )
    assert set(np.unique(np.round(weights.data, 12))) != {0.0}
    fn = lambda q, k, v: F.scaled_dot_product_attention(  # noqa: E731
        q, k, v, dropout_p=0.3, generator=np.random.default_rng(1)
    )
    assert cr.max_relative_error(fn, [q, k, v]) < 1e-6
    assert cr.max_relative_error(fn, [q, k, v], second_order=True) < 1e-6


def test_the_weights_output_is_differentiable_too():
    q, k, v = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)

    def both(q, k, v):
        out, weights = ScaledDotProductAttention.apply(
            q, k, v, scale=0.5, bias=None, keep=None, dropout_p=0.0, with_weights=True
        )
        return out.sum() + (weights * weights).sum()

    def weights_only(q, k):
        _, weights = ScaledDotProductAttention.apply(
            q, k, v.detach(), scale=0.5, bias=None, keep=None, dropout_p=0.0, with_weights=True
        )
        return (weights * weights).sum()

    assert cr.max_relative_error(both, [q, k, v]) < 1e-6
    assert cr.max_relative_error(weights_only, [q, k]) < 1e-6
    assert cr.max_relative_error(both, [q, k, v], second_order=True) < 1e-6


def test_attention_errors_name_the_function_the_shapes_and_what_was_expected():
    q, k, v = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 3))
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(
        ValueError,
        match=r"scaled_dot_product_attention: query and key must have the same last "
        r"dimension .* query \(2, 3, 4\) and key \(2, 5, 6\)",
    ):
        sdpa(q, np.zeros((2, 5, 6)), v)
    with pytest.raises(
        ValueError,
        match=r"key and value must hold the same number of positions .* key \(2, 5, 4\) "
        r"and value \(2, 4, 3\)",
    ):
        sdpa(q, k, np.zeros((2, 4, 3)))
    with pytest.raises(
        ValueError,
        match=r"attn_mask of shape \(3, 4\) does not broadcast to the attention weights' "
        r"shape \(2, 3, 5\)",
    ):
        sdpa(q, k, v, attn_mask=np.ones((3, 4), bool))
    with pytest.raises(TypeError, match=r"attn_mask must be boolean or floating point, got dtype int64"):
        sdpa(q, k, v, attn_mask=np.ones((3, 5), np.int64))
    with pytest.raises(ValueError, match=r"give attn_mask or is_causal=True, not both"):
        sdpa(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"dropout_p must be a probability in \[0, 1\), got 1.5"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(ValueError, match=r"query must have at least 2 dimensions"):
        sdpa(np.zeros(4), k, v)
    with pytest.raises(ValueError, match=r"batch dimensions of query \(2, 3, 4\), key \(3, 5, 4\)"):
        sdpa(q, np.zeros((3, 5, 4)), np.zeros((3, 5, 3)))


# ----- MultiheadAttention and the Transformer layers ------------------------------------------------------
def test_multihead_attention_parameters_init_and_gradients():
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3, dtype=np.float64)
    assert [name for name, _ in mha.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    bound = np.sqrt(6 / (6 + 18))  # Xavier-uniform over (3E, E)
    assert np.abs(mha.in_proj_weight.data).max() <= bound and np.all(mha.in_proj_bias.data == 0)
    x = leaf(4, 2, 6)
    mask = np.triu(np.ones((4, 4), bool), 1)
    fn = lambda x, w, b: mha(x, x, x, attn_mask=mask)[0]  # noqa: E731
    assert cr.max_relative_error(fn, [x, mha.in_proj_weight, mha.out_proj.weight]) < 1e-6
    separate = nn.MultiheadAttention(6, 2, kdim=3, vdim=5, batch_first=True, dtype=np.float64)
    assert [name for name, _ in separate.named_parameters()][:3] == ["q_proj_weight", "k_proj_weight", "v_proj_weight"]
    q, k, v = leaf(2, 4, 6), leaf(2, 3, 3), leaf(2, 3, 5)
    out, weights = separate(q, k, v, average_attn_weights=False)
    assert out.shape == (2, 4, 6) and weights.shape == (2, 2, 4, 3)
    assert cr.max_relative_error(lambda q, k, v: separate(q, k, v)[0], [q, k, v]) < 1e-6
    unbatched, weights = separate(q.data[0], k.data[0], v.data[0])
    np.testing.assert_allclose(unbatched.data, out.data[0], atol=1e-13)
    assert weights.shape == (4, 3)


def test_multihead_attention_masks_agree_with_each_other():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    x = rng.standard_normal((2, 5, 4))
    padding = np.zeros((2, 5), bool)
    padding[1, 3:] = True
    as_float = np.where(padding, -np.inf, 0.0)
    a, wa = mha(x, x, x, key_padding_mask=padding)
    b, wb = mha(x, x, x, key_padding_mask=as_float)
    np.testing.assert_allclose(a.data, b.data, atol=1e-14)
    assert np.all(wa.data[1, :, 3:] == 0)
    causal = np.triu(np.ones((5, 5), bool), 1)
    c, _ = mha(x, x, x, attn_mask=causal)
    d, _ = mha(x, x, x, is_causal=True)
    np.testing.assert_allclose(c.data, d.data, atol=1e-14)
    per_head = np.broadcast_to(causal, (4, 5, 5))  # (N * heads, L, S)
    np.testing.assert_allclose(mha(x, x, x, attn_mask=per_head)[0].data, c.data, atol=1e-14)


def test_attention_dropout_only_in_training():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, dtype=np.float64)
    x = rng.standard_normal((5, 2, 4))
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].data, mha(x, x, x)[0].data)
    mha.train()
    assert not np.array_equal(mha(x, x, x)[0].data, mha(x, x, x)[0].data)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_layers_gradients(norm_first):
    cr.manual_seed(1)
    enc = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first, batch_first=True, dtype=np.float64)
    dec = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first, activation="gelu", dtype=np.float64)
    src, tgt = leaf(2, 3, 4), leaf(3, 2, 4)
    assert cr.max_relative_error(lambda s: enc(s, is_causal=True), [src]) < 1e-6
    memory = enc(src).transpose(0, 1)
    assert (
        cr.max_relative_error(lambda t, w: dec(t, memory.detach(), tgt_is_causal=True), [tgt, dec.linear1.weight])
        < 1e-6
    )


def test_stacks_copy_the_layer_and_name_it_as_pytorch_does():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1)
    stack = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4))
    names = list(stack.state_dict())
    assert names[:4] == [
        "layers.0.self_attn.in_proj_weight",
        "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight",
        "layers.0.self_attn.out_proj.bias",
    ]
    assert names[-2:] == ["norm.weight", "norm.bias"] and len(names) == 2 * 12 + 2
    first, second = stack.layers[0], stack.layers[1]
    np.testing.assert_array_equal(first.linear1.weight.data, second.linear1.weight.data)
    assert first.linear1.weight is not second.linear1.weight
    x = np.ones((3, 2, 4), np.float32)
    assert not np.array_equal(first.dropout1(x).data, second.dropout1(x).data)  # their own masks
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), 3)
    assert "layers.2.multihead_attn.in_proj_weight" in decoder.state_dict()
    assert decoder(np.zeros((2, 1, 4), np.float32), np.zeros((3, 1, 4), np.float32)).shape == (2, 1, 4)


def test_layer_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: d_model \(6\) must be divisible by nhead \(4\)"):
        nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(ValueError, match=r"activation must be 'relu', 'gelu' or a callable, got 'swish'"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")
    mha = nn.MultiheadAttention(8, 2)
    x = np.zeros((5, 2, 8), np.float32)
    with pytest.raises(
        ValueError,
        match=r"MultiheadAttention\(embed_dim=8, num_heads=2, .*\): query has 6 features "
        r"\(shape \(5, 2, 6\)\), expected embed_dim=8",
    ):
        mha(np.zeros((5, 2, 6)), x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask has shape \(5, 2\), expected \(N, S\)"):
        mha(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(TypeError, match=r"attn_mask must be boolean or floating point, got dtype int64"):
        mha(x, x, x, attn_mask=np.zeros((5, 5), np.int64))
    with pytest.raises(
        ValueError,
        match=r"attn_mask has shape \(4, 5\), expected \(L, S\) or \(N \* num_heads, L, "
        r"S\) = \[\(5, 5\), \(4, 5, 5\)\]",
    ):
        mha(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match=r"query \(5, 2, 8\) and key \(5, 3, 8\) have different batch sizes"):
        mha(x, np.zeros((5, 3, 8)), np.zeros((5, 3, 8)))
    layer = nn.TransformerEncoderLayer(8, 2, batch_first=True)
    with pytest.raises(
        ValueError,
        match=r"TransformerEncoderLayer\(.*\): src has shape \(2, 5, 6\); expected "
        r"\(N, L, d_model\) .* d_model=8",
    ):
        layer(np.zeros((2, 5, 6), np.float32))
