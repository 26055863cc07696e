"""The sequence models from the command line and from Python: the character-level GPT on a text (training,
bits per character, checkpoints, resuming, sampling), the row-by-row LSTM on the digits, and the pieces
they bring to the training loop (token loss, AdamW groups, clipping, warm-up + cosine)."""

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.data import Vocabulary, default_corpus, windows
from chainrule.models import GPT, build_model, sample_token
from chainrule.sample_command import generate_text
from chainrule.training import Callback, ConfigError, TrainConfig, WarmupCosine, fit, load_text_splits, make_optimizer

TEXT = "the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs. " * 30
TINY_GPT = [
    "--model",
    "gpt",
    "--layers",
    "1",
    "--width",
    "16",
    "--heads",
    "2",
    "--block-size",
    "16",
    "--batch-size",
    "16",
    "--epochs",
    "1",
    "--no-progress",
]


def run(argv, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "fox.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


# ----- data ------------------------------------------------------------------------------------------------
def test_the_default_corpus_is_pythons_own_documentation():
    corpus = default_corpus()
    assert len(corpus) > 100_000 and 'The "with" statement' in corpus


def test_vocabulary_and_windows():
    vocabulary = Vocabulary("hello world")
    assert vocabulary.characters == " dehlorw"
    ids = vocabulary.encode("hello")
    assert vocabulary.decode(ids) == "hello" and ids.dtype == np.int64
    with pytest.raises(ValueError, match=r"characters 'xz' are not in the vocabulary of 8 characters"):
        vocabulary.encode("xoz")
    x, y = windows(np.arange(10), 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_text_splits_are_the_texts_first_90_next_5_and_last_5_percent(text_file):
    splits = load_text_splits(str(text_file), block_size=16)
    vocabulary = Vocabulary(splits.vocabulary)
    assert vocabulary.decode(splits.X_train[0]) == TEXT[:16]
    assert len(splits.X_train) == (int(len(TEXT) * 0.9) - 1) // 16
    assert vocabulary.decode(splits.X_test[0]) == TEXT[int(len(TEXT) * 0.95) :][:16]
    with pytest.raises(
        ConfigError,
        match=r"the text \(2,\d{3} characters\) is too short: its validation part holds "
        r"no window of 1001 characters",
    ):
        load_text_splits(str(text_file), block_size=1000)
    with pytest.raises(ConfigError, match=r"holds characters '!' that the checkpoint's vocabulary lacks"):
        (text_file.parent / "other.txt").write_text(TEXT + "!")
        load_text_splits(str(text_file.parent / "other.txt"), 16, vocabulary=splits.vocabulary)


# ----- the models ------------------------------------------------------------------------------------------
def test_gpt_shapes_causality_and_the_position_table():
    cr.manual_seed(0)
    model = GPT(vocabulary_size=7, block_size=8, layers=2, width=16, heads=4)
    tokens = np.random.default_rng(0).integers(0, 7, (3, 8))
    logits = model(tokens)
    assert logits.shape == (3, 8, 7)
    changed = tokens.copy()
    changed[:, 5] = (changed[:, 5] + 1) % 7
    np.testing.assert_allclose(model(changed).data[:, :5], logits.data[:, :5], atol=1e-6)  # no peeking ahead
    names = list(model.state_dict())
    assert names[:3] == ["token_embedding.weight", "position_embedding.weight", "blocks.0.self_attn.in_proj_weight"]
    with pytest.raises(
        ValueError,
        match=r"GPT\(block_size=8\): tokens have shape \(2, 9\); expected \(batch, length\) "
        r"with length at most block_size=8 \(the position table\)",
    ):
        model(np.zeros((2, 9), np.int64))


def test_gpt_generation_is_seeded_and_sampling_respects_top_k_and_temperature():
    model = GPT(vocabulary_size=5, block_size=4, layers=1, width=8, heads=2)
    first = model.generate([1, 2], 10, temperature=0.9, top_k=3, generator=np.random.default_rng(4))
    again = model.generate([1, 2], 10, temperature=0.9, top_k=3, generator=np.random.default_rng(4))
    assert len(first) == 12 and first[:2].tolist() == [1, 2] and np.array_equal(first, again)
    logits = np.array([0.0, 3.0, 1.0, 2.0])
    draws = {sample_token(logits, 1.0, 2, np.random.default_rng(s)) for s in range(200)}
    assert draws == {1, 3}
    assert sample_token(logits, 0, None, np.random.default_rng(0)) == 1


def test_lstm_reads_digits_row_by_row():
    model = build_model("lstm", "digits-rows")
    assert model(np.zeros((5, 8, 8), np.float32)).shape == (5, 10)
    assert model.lstm.hidden_size == 64
    with pytest.raises(ValueError, match="the lstm model reads digits-rows, not digits"):
        build_model("lstm", "digits")


# ----- the loop's new pieces ------------------------------------------------------------------------------
def test_weight_decay_on_matrices_only():
    model = GPT(vocabulary_size=5, block_size=4, layers=1, width=8, heads=2)
    optimizer = make_optimizer("adamw", model.parameters(), 1e-3, weight_decay=0.1, decay_matrices_only=True)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and all(p.ndim < 2 for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


def test_warmup_then_cosine():
    schedule = WarmupCosine(warmup=4)
    factors = [schedule.factor(step, 12) for step in range(12)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[4] == 1.0 and factors[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert all(a > b for a, b in zip(factors[4:], factors[5:]))


def test_gpt_trains_on_a_text_and_its_loss_falls(text_file):
    config = TrainConfig.for_model(
        "gpt",
        text=str(text_file),
        layers=1,
        width=32,
        heads=2,
        block_size=16,
        batch_size=16,
        epochs=4,
        warmup=5,
        out=None,
        lr=1e-2,
    )
    seen = []

    class Watch(Callback):  # clipping is on (MODEL_DEFAULTS); see the norm it measured
        def on_batch_end(self, run):
            seen.append(run.grad_norm)

    result = fit(config, callbacks=[Watch()])
    assert config.clip == 1.0 and config.schedule == "warmup-cosine" and config.optimizer == "adamw"
    losses = result.history["val_loss"]
    assert losses[-1] < losses[0] < math.log(len(set(TEXT))) + 0.5
    assert all(math.isfinite(n) for n in seen)


# ----- the command line --------------------------------------------------------------------------------------
def test_train_sample_and_evaluate_a_gpt(tmp_path, text_file, capsys):
    out_dir = tmp_path / "gpt"
    status, out, err = run(["train", *TINY_GPT, "--text", str(text_file), "--out", str(out_dir)], capsys)
    assert status == 0, err
    assert re.search(r"training the text gpt \([\d,]+ parameters\) on \d+ windows of 16 characters", out)
    assert re.search(r"val loss \d\.\d{4} \(\d\.\d{3} bits/char\)", out)
    assert re.search(r"test loss: \d\.\d{4} nats, \d\.\d{3} bits per character", out)
    checkpoint = str(out_dir / "checkpoint.safetensors")

    status, first, err = run(
        [
            "sample",
            checkpoint,
            "--prompt",
            "the ",
            "--tokens",
            "30",
            "--temperature",
            "0.8",
            "--top-k",
            "5",
            "--seed",
            "3",
        ],
        capsys,
    )
    assert status == 0, err
    assert first.startswith("the ") and len(first.rstrip("\n")) == 34
    assert (
        run(
            [
                "sample",
                checkpoint,
                "--prompt",
                "the ",
                "--tokens",
                "30",
                "--temperature",
                "0.8",
                "--top-k",
                "5",
                "--seed",
                "3",
            ],
            capsys,
        )[1]
        == first
    )
    assert generate_text(checkpoint, "the ", 30, 0.8, 5, 3) == first.rstrip("\n")

    status, _, err = run(["sample", checkpoint, "--prompt", "THE"], capsys)
    assert status == 2 and "the prompt holds characters 'THE' that the model never saw" in err

    status, out, err = run(["evaluate", checkpoint], capsys)
    assert status == 0, err
    assert re.search(r"test loss: \d\.\d{4} nats, \d\.\d{3} bits per character over [\d,]+ characters", out)

    status, out, err = run(["train", "--resume", checkpoint, "--epochs", "2", "--no-progress"], capsys)
    assert status == 0, err
    assert "resuming after epoch 1" in out and "epoch 2/2" in out


def test_sample_refuses_a_classifier_and_train_refuses_mismatches(tmp_path, capsys):
    out_dir = tmp_path / "lstm"
    status, out, err = run(
        ["train", "--model", "lstm", "--epochs", "1", "--train-limit", "100", "--no-progress", "--out", str(out_dir)],
        capsys,
    )
    assert status == 0, err
    assert "training the digits-rows lstm" in out and re.search(r"test accuracy: [\d.]+%", out)
    status, _, err = run(["sample", str(out_dir / "checkpoint.safetensors")], capsys)
    assert status == 2 and "holds a digits-rows lstm, not a language model" in err
    status, _, err = run(["train", "--model", "gpt", "--dataset", "digits", "--no-progress"], capsys)
    assert status == 2 and "the gpt model reads text, not digits" in err
    status, _, err = run(["train", "--model", "gpt", "--width", "30", "--heads", "4", "--no-progress"], capsys)
    assert status == 2 and "the width (30) must be divisible by the number of heads (4)" in err
    status, _, err = run(["train", "--model", "cnn", "--text", "x.txt", "--no-progress"], capsys)
    assert status == 2 and "a text file (--text) is for the text dataset, not digits" in err


def test_lstm_on_digit_rows_learns():
    config = TrainConfig.for_model("lstm", epochs=6, out=None)
    result = fit(config)
    assert result.test_accuracy > 0.9
