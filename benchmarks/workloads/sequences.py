"""Sequence workloads: a Transformer block, an LSTM layer and a GPT training step, against PyTorch.

* transformer_block: forward+backward of ``nn.TransformerEncoderLayer(128, 4, 512, dropout=0,
  batch_first=True, norm_first=True)`` with causal self-attention, batch 16, sequence 128,
  float32; the sum of the output weighted by a fixed random array is backpropagated.
* lstm_layer: forward+backward of ``nn.LSTM(64, 128, batch_first=True)``, batch 64, sequence
  32, float32; the output and the final states are backpropagated.
* gpt_step: one training step of ``chainrule train --model gpt``'s default model (4 pre-norm
  blocks, width 128, 4 heads, block 64, vocabulary 103) on a batch of 32 windows: forward,
  cross-entropy, backward, gradient clipping to norm 1, AdamW (decay on matrices only).
* gpt_forward: the same model's forward and loss alone, graph kept: its peak memory is the
  memory held at the end of forward (what backward will need).

PyTorch runs the same modules (its own TransformerEncoderLayer, LSTM), built with the same
submodule names and loaded with chainrule's initial weights, on the same batches.
"""

import numpy as np

from ..harness import Workload, import_torch

VOCABULARY, BLOCK, GPT_BATCH = 103, 64, 32


def _load_into_torch(torch_module, chainrule_module):
    torch = import_torch()
    state = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in chainrule_module.state_dict().items()}
    torch_module.load_state_dict(state)
    return torch_module


# ----- a Transformer block -------------------------------------------------------------------------
def _block(lib):
    return lib.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True, norm_first=True)


def _block_data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((16, 128, 128), dtype=np.float32), rng.standard_normal((16, 128, 128), dtype=np.float32)


def chainrule_block():
    import chainrule as cr
    from chainrule import nn

    cr.manual_seed(0)
    layer = _block(nn)
    x_np, weights = _block_data()
    x = cr.tensor(x_np, requires_grad=True)

    def run():
        layer.zero_grad()
        x.grad = None
        (layer(x, is_causal=True) * weights).sum().backward()
        return [x.grad] + [p.grad for p in layer.parameters()]

    return run


def torch_block():
    import chainrule as cr
    from chainrule import nn

    torch = import_torch()
    cr.manual_seed(0)
    layer = _load_into_torch(_block(torch.nn), _block(nn))
    x_np, weights_np = _block_data()
    x, weights = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(weights_np)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(128)

    def run():
        layer.zero_grad()
        x.grad = None
        (layer(x, src_mask=mask, is_causal=True) * weights).sum().backward()
        return [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]

    return run


def transformer_block(quick):
    return Workload(
        name="transformer_block",
        title="Transformer block fwd+bwd, batch 16, seq 128, width 128, 4 heads",
        unit="pass",
        count=1,
        description=(
            "Forward and backward of a pre-norm TransformerEncoderLayer(128, 4, dim_feedforward=512, "
            "dropout=0) with causal self-attention on a (16, 128, 128) float32 batch, the output weighted "
            "by a fixed random array and summed; the same weights in both libraries."
        ),
        implementations={"chainrule": chainrule_block, "pytorch": torch_block},
        targets={"pytorch": 1.2},
        rtol=2e-3,
    )


# ----- an LSTM layer -------------------------------------------------------------------------------
def _lstm_data():
    rng = np.random.default_rng(1)
    return (rng.standard_normal((64, 32, 64), dtype=np.float32), rng.standard_normal((64, 32, 128), dtype=np.float32))


def chainrule_lstm():
    import chainrule as cr
    from chainrule import nn

    cr.manual_seed(0)
    lstm = nn.LSTM(64, 128, batch_first=True)
    x_np, weights = _lstm_data()
    x = cr.tensor(x_np, requires_grad=True)

    def run():
        lstm.zero_grad()
        x.grad = None
        out, (h, c) = lstm(x)
        ((out * weights).sum() + h.sum() + c.sum()).backward()
        return [x.grad] + [p.grad for p in lstm.parameters()]

    return run


def torch_lstm():
    import chainrule as cr
    from chainrule import nn

    torch = import_torch()
    cr.manual_seed(0)
    lstm = _load_into_torch(torch.nn.LSTM(64, 128, batch_first=True), nn.LSTM(64, 128, batch_first=True))
    x_np, weights_np = _lstm_data()
    x, weights = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(weights_np)

    def run():
        lstm.zero_grad()
        x.grad = None
        out, (h, c) = lstm(x)
        ((out * weights).sum() + h.sum() + c.sum()).backward()
        return [x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]

    return run


def lstm_layer(quick):
    return Workload(
        name="lstm_layer",
        title="LSTM layer fwd+bwd, batch 64, seq 32, input 64, hidden 128",
        unit="pass",
        count=1,
        description=(
            "Forward and backward of LSTM(64, 128, batch_first=True) on a (64, 32, 64) float32 batch; the "
            "output weighted by a fixed random array plus h_n and c_n are summed; the same weights in both."
        ),
        implementations={"chainrule": chainrule_lstm, "pytorch": torch_lstm},
        targets={"pytorch": 1.0},
        rtol=2e-3,
    )


# ----- the GPT of chainrule train --model gpt ---------------------------------------------------------
def torch_gpt(torch):
    """chainrule.models.GPT's twin in PyTorch: the same submodules under the same names."""
    nn = torch.nn

    class GPT(nn.Module):
        def __init__(self, vocabulary_size, block_size=64, layers=4, width=128, heads=4):
            super().__init__()
            self.token_embedding = nn.Embedding(vocabulary_size, width)
            self.position_embedding = nn.Embedding(block_size, width)
            self.drop = nn.Dropout(0.0)
            self.blocks = nn.ModuleList(
                [
                    nn.TransformerEncoderLayer(width, heads, 4 * width, 0.0, batch_first=True, norm_first=True)
                    for _ in range(layers)
                ]
            )
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocabulary_size, bias=False)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block_size), persistent=False)

        def forward(self, tokens):
            length = tokens.shape[1]
            x = self.drop(self.token_embedding(tokens) + self.position_embedding(torch.arange(length)))
            for block in self.blocks:
                x = block(x, src_mask=self.mask[:length, :length], is_causal=True)
            return self.head(self.norm(x))

    return GPT


def gpt_batch(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCABULARY, (GPT_BATCH, BLOCK + 1))
    return tokens[:, :-1].copy(), tokens[:, 1:].copy()


def chainrule_gpt_parts():
    import chainrule as cr
    from chainrule.models import GPT
    from chainrule.training import make_optimizer

    cr.manual_seed(0)
    model = GPT(VOCABULARY, BLOCK)
    optimizer = make_optimizer("adamw", model.parameters(), 1e-3, weight_decay=0.1, decay_matrices_only=True)
    return model, optimizer


def torch_gpt_parts():
    torch = import_torch()
    model = _load_into_torch(torch_gpt(torch)(VOCABULARY, BLOCK), chainrule_gpt_parts()[0])
    decay = [p for p in model.parameters() if p.ndim >= 2]
    plain = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay}, {"params": plain, "weight_decay": 0.0}], lr=1e-3, weight_decay=0.1
    )
    return model, optimizer


def chainrule_gpt_step(step=True):
    import chainrule.nn.functional as F
    from chainrule import nn

    model, optimizer = chainrule_gpt_parts()
    tokens, targets = gpt_batch()

    def run():
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1))
        if not step:
            return [loss.data]  # the graph is held until run returns: the memory at the end of forward
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return [loss.data]

    return run


def torch_gpt_step(step=True):
    torch = import_torch()
    model, optimizer = torch_gpt_parts()
    tokens, targets = (torch.from_numpy(a) for a in gpt_batch())

    def run():
        logits = model(tokens)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1))
        if not step:
            return [loss.detach().numpy()]
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return [loss.detach().numpy()]

    return run


def gpt_step(quick):
    return Workload(
        name="gpt_step",
        title="GPT training step (chainrule train --model gpt), batch 32 x 64 characters",
        unit="step",
        count=1,
        description=(
            "One AdamW step (weight decay on matrices only, gradients clipped to norm 1) of the default "
            "character-level GPT: token and position embeddings (width 128), 4 pre-norm Transformer blocks "
            "(4 heads, causal, feed-forward 512, ReLU), LayerNorm, linear head to 103 characters; 32 windows "
            "of 64 characters; same initial weights in both. The loss changes every step, so only the "
            "first call's loss is compared."
        ),
        implementations={"chainrule": chainrule_gpt_step, "pytorch": torch_gpt_step},
        memory=True,
        repeats=7 if quick else 11,
        rtol=1e-3,
        rate=("characters/s", GPT_BATCH * BLOCK),
    )


def gpt_forward(quick):
    return Workload(
        name="gpt_forward",
        title="GPT forward and loss, graph kept (memory held at the end of forward)",
        unit="pass",
        count=1,
        description=(
            "The gpt_step model's forward and cross-entropy on the same batch, with the graph recorded "
            "for backward; the peak memory of one call is what the graph holds at the end of forward."
        ),
        implementations={
            "chainrule": lambda: chainrule_gpt_step(step=False),
            "pytorch": lambda: torch_gpt_step(step=False),
        },
        memory=True,
        rtol=1e-4,
    )
