"""The stepper page: one self-contained file, stepped through in a real headless browser."""

import json
import os
import re
import shutil

import pytest

from chainrule.viz import GraphvizNotFoundError, stepper_html, write_html
from graphs import perceptron, scalar

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed "
                               "(apt-get install graphviz)")


@needs_dot
def test_page_is_self_contained():
    page = stepper_html(perceptron()[0], title="perceptron")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<?xml" not in page
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", page)  # nothing fetched
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    data = json.loads(re.search(r'<script id="stepper-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))
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
    with pytest.raises(GraphvizNotFoundError, match="write_html: Graphviz's 'dot' program was not found.*"
                                                    "apt-get install graphviz"):
        write_html(perceptron()[0], tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_no_graph_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="write_html: this tensor has no graph behind it"):
        write_html(scalar(1.0, "x"), tmp_path / "page.html")


@needs_dot
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM} (apt-get install chromium)")
def test_stepping_through_the_page_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = write_html(perceptron()[0], tmp_path / "perceptron.html", title="f = 1/(1+exp(-(w0*x0+w1*x1+w2)))")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"file://{path}")

            def state():
                return (int(page.get_attribute("#stepper", "data-step")), page.inner_text("#step-text"),
                        page.eval_on_selector_all("g.node.current", "nodes => nodes.map(n => n.id)"))

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
        finally:
            browser.close()
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
