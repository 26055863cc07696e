"""``chainrule.demo.main``: the worked examples, then a short training run that writes its files."""

import re

from chainrule import demo


def test_demo_prints_the_examples_then_trains(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path / "demo"), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "forward value: -12.0000" in out and "d out / d z   =  3.0000" in out
    assert "forward value: 0.7311" in out and "d out / d x0  =  0.3932" in out
    assert "Backward pass" in out  # the perceptron explained step by step
    assert re.search(r"epoch 2/2: train loss", out)
    assert re.search(r"test accuracy: [\d.]+% after", out)
    assert str(tmp_path / "demo" / "checkpoint.safetensors") in out
    assert (tmp_path / "demo" / "checkpoint.safetensors").exists()
    assert (tmp_path / "demo" / "curves.png").exists()
    assert re.search(r"4\. a tiny GPT trained for 50 steps .*\n.*training the text gpt", out)
    assert re.search(r"test loss \d\.\d\d bits per character after [\d.]+ s \(uniform guessing: \d\.\d\d\)", out)
    lines = re.findall(r"^  \| (.*)$", out, re.MULTILINE)
    assert [line[: len(prompt)] for line, prompt in zip(lines, demo.GPT_PROMPTS)] == list(demo.GPT_PROMPTS)
    assert all(len(line) == len(prompt) + 60 for line, prompt in zip(lines, demo.GPT_PROMPTS))
    assert (tmp_path / "demo" / "gpt" / "checkpoint.safetensors").exists()


def test_demo_with_an_out_that_is_a_file_says_so(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert demo.main(["--out", str(tmp_path / "taken"), "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        f"chainrule demo: error: the output directory {str(tmp_path / 'taken')!r} "
        f"(--out) is a file; expected a directory (it will be created if missing)\n"
    )
