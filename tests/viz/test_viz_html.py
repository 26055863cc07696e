"""The stepper page: one self-contained file, stepped through in a real headless browser."""

import contextlib
import json
import os
import re
import shutil

import pytest
from graphs import perceptron, scalar

from chainrule.viz import GraphvizNotFoundError, stepper_html, write_html

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def open_in_browser(path, viewport):
    """The page at ``path`` in headless Chromium (the test is skipped without Playwright)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.goto(f"file://{path}")
            yield page
        finally:
            browser.close()


needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


@needs_dot
def test_page_is_self_contained():
    page = stepper_html(perceptron()[0], title="perceptron")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<?xml" not in page
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", page)  # nothing fetched
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )
    data = json.loads(
        re.search(r'<script id="stepper-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    assert len(data["steps"]) == 1 + 8 + 9  # the inputs, 8 forward gates, 9 backward steps
    assert [s["phase"] for s in data["steps"]].count("backward") == 9
    assert 'class="wire-value"' in page and 'class="wire-grad"' in page


@needs_dot
def test_names_cannot_break_out_of_the_embedded_data():
    x = scalar(2.0, "x<!--<script>")
    y = scalar(3.0, "y</script><b>&amp;")
    page = stepper_html(x * y)
    block = re.search(r'<script id="stepper-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert not set("<>&") & set(block)
    texts = " ".join(step["text"] for step in json.loads(block)["steps"])
    assert "x<!--<script> = 2.00" in texts and "y</script><b>&amp; = 3.00" in texts


def test_missing_dot_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        GraphvizNotFoundError, match="write_html: Graphviz's 'dot' program was not found.*apt-get install graphviz"
    ):
        write_html(perceptron()[0], tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_no_graph_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="write_html: this tensor has no graph behind it"):
        write_html(scalar(1.0, "x"), tmp_path / "page.html")


@needs_dot
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_stepping_through_the_page_in_a_browser(tmp_path):
    path = write_html(perceptron()[0], tmp_path / "perceptron.html", title="f = 1/(1+exp(-(w0*x0+w1*x1+w2)))")
    with open_in_browser(path, {"width": 1280, "height": 800}) as page:

        def state():
            return (
                int(page.get_attribute("#stepper", "data-step")),
                page.inner_text("#step-text"),
                page.eval_on_selector_all("g.node.current", "nodes => nodes.map(n => n.id)"),
            )

        def shown(kind):
            return page.eval_on_selector_all(f"text.{kind}:not(.hidden)", "ts => ts.map(t => t.textContent)")

        step, text, current = state()
        assert step == 0 and text.startswith("Forward pass: the inputs are w0 = 2.00") and current == []
        assert sorted(shown("wire-value")) == sorted(["2.00", "-1.00", "-3.00", "-2.00", "-3.00"])
        assert shown("wire-grad") == []
        assert page.is_disabled("#prev")

        page.keyboard.press("ArrowRight")  # forward: the first mul
        step, text, current = state()
        assert step == 1 and text == "forward: mul: x = w0 = 2.00, y = x0 = -1.00 \u2192 -2.00"
        assert current == ["gate0"] and page.get_attribute("#stepper", "data-phase") == "forward"

        for _ in range(8):
            page.keyboard.press("ArrowRight")
        step, text, current = state()  # the start of the backward pass
        assert step == 9 and text == "backward 1. start: dL/dout = 1" and current == ["output"]
        assert "0.73" in shown("wire-value") and shown("wire-grad") == ["1.00"]

        for _ in range(3):
            page.click("#next")
        step, text, current = state()  # exp, the text's step 4
        assert text.startswith("backward 4. exp:") and text.endswith("sends 0.37 * -0.53 = -0.20")
        assert current == ["gate5"] and page.get_attribute("#stepper", "data-phase") == "backward"
        assert sorted(shown("wire-grad")) == ["-0.20", "-0.53", "-0.53", "1.00"]
        page.screenshot(path=str(tmp_path / "exp-step.png"), full_page=True)

        page.keyboard.press("ArrowLeft")
        assert state()[2] == ["gate6"]  # back to +1
        page.click("#prev")
        page.click("#next")
        page.click("#next")
        assert state()[2] == ["gate5"]

        for _ in range(10):  # past the end stays at the end
            page.keyboard.press("ArrowRight")
        step, text, current = state()
        assert step == 17 and text.startswith("backward 9. mul:") and page.is_disabled("#next")
        assert "0.39" in shown("wire-grad") and len(shown("wire-grad")) == 13  # 12 gate inputs + the output

        page.click("#reset")
        assert state()[0] == 0 and shown("wire-grad") == []
    assert (tmp_path / "exp-step.png").stat().st_size > 10_000


@needs_dot
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_a_page_with_script_like_names_still_steps_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = write_html(scalar(2.0, "x<!--<script>") * scalar(3.0, "y"), tmp_path / "names.html")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"file://{path}")
            assert page.inner_text("#step-text") == "Forward pass: the inputs are x<!--<script> = 2.00, y = 3.00"
            page.keyboard.press("ArrowRight")
            assert page.get_attribute("#stepper", "data-step") == "1"
        finally:
            browser.close()


def test_layer_page_steps_through_the_layers():
    from chainrule.viz.layers import training_step

    page = stepper_html(training_step("cnn", batch=4), level="layer")
    data = json.loads(
        re.search(r'<script id="stepper-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    texts = [s["text"] for s in data["steps"]]
    assert texts[0] == "Forward pass: the input, shape (4, 1, 8, 8)"
    assert texts[1] == "forward: layer 0 (Conv2d): (4, 1, 8, 8) \u2192 (4, 16, 8, 8)"
    assert texts[11] == "forward: crossentropy (CrossEntropy): (4, 10) \u2192 ()"
    assert texts[12] == "backward: start: dL/dL = 1 at the loss" and len(texts) == 1 + 11 + 1 + 11
    assert texts[14].startswith("backward 2. layer 9 (Linear): receives dL/dY (4, 10)\n")
    assert "dL/dW = dL/dY^T X: (out, N) @ (N, in) = (10, 4) @ (4, 128)" in texts[14]
    assert [s["node"] for s in data["steps"][12:15]] == ["output", "gate10", "module_9"]
    assert 'id="module_9"' in page and 'id="gate10"' in page
    with pytest.raises(ValueError, match="write_html: level must be 'gate' or 'layer', got 'layers'"):
        stepper_html(training_step("mlp", batch=2), level="layers")


@needs_dot
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_stepping_through_a_network_layer_by_layer_in_a_browser(tmp_path):
    from chainrule.viz.layers import training_step

    path = write_html(training_step("mlp", batch=4), tmp_path / "mlp.html", level="layer")
    with open_in_browser(path, {"width": 1280, "height": 900}) as page:

        def state():
            return (
                page.get_attribute("#stepper", "data-phase"),
                page.inner_text("#step-text"),
                page.eval_on_selector_all("g.node.current", "nodes => nodes.map(n => n.id)"),
            )

        def shown(kind):
            return page.eval_on_selector_all(f"text.{kind}:not(.hidden)", "ts => ts.map(t => t.textContent)")

        assert page.inner_text("h1") == "Backward pass, layer by layer"
        assert shown("wire-grad") == [] and shown("wire-value") == ["(4, 64) float32", "[0.00, 1.00]"]
        page.keyboard.press("ArrowRight")  # the input was flattened before any gate: the first layer is a Linear
        assert state() == ("forward", "forward: layer 1 (Linear): (4, 64) \u2192 (4, 128)", ["module_1"])
        assert "(4, 128) float32" in shown("wire-value")
        for _ in range(6):  # the rest of the forward pass and the start
            page.click("#next")
        assert state() == ("backward", "backward: start: dL/dL = 1 at the loss", ["output"])
        page.click("#next")
        page.click("#next")
        phase, text, current = state()  # the last Linear: dL/dW = dL/dY^T X with the real shapes
        assert current == ["module_5"] and text.startswith("backward 2. layer 5 (Linear): receives dL/dY (4, 10)")
        assert "(out, N) @ (N, in) = (10, 4) @ (4, 64) -> (10, 64)" in text
        assert len(shown("wire-grad")) == 3  # the output, into the loss, into the Linear
        assert page.eval_on_selector_all("g.node.done", "nodes => nodes.map(n => n.id)") == ["gate5", "output"]
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        phase, text, current = state()
        assert current == ["module_1"] and text.startswith("backward 6. layer 1 (Linear)")
        assert page.is_disabled("#next") and len(shown("wire-grad")) == 6  # none to the input: it needs none
        page.screenshot(path=str(tmp_path / "layers.png"), full_page=True)
    assert (tmp_path / "layers.png").stat().st_size > 10_000
