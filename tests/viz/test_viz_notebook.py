"""What Jupyter shows: tensors, explanations, practice sessions and the stepping page display themselves richly."""

import html
import re
import shutil

import pytest
from graphs import perceptron

import chainrule as cr
from chainrule.viz import Page, step_through

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


def test_a_tensor_shows_its_values_and_then_its_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True, name="x<1>")
    assert x._repr_html_() == "<pre>tensor([1., 2.], requires_grad=True, name=&#x27;x&lt;1&gt;&#x27;)</pre>"
    (x * x).sum().backward()
    shown = x._repr_html_()
    assert shown.startswith("<pre>tensor([1., 2.]") and "\ngrad: array([2., 4.], dtype=float32)</pre>" in shown


@needs_dot
def test_the_stepping_page_shows_inline(tmp_path):
    page = step_through(perceptron()[0], title="perceptron")
    assert isinstance(page, Page) and str(page).startswith("<!DOCTYPE html>")
    frame = page._repr_html_()
    assert frame.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and "height: 760px" in frame
    assert html.unescape(re.search(r'srcdoc="(.*?)"', frame, re.S).group(1)) == page.html
    assert page.save(tmp_path / "page.html") == tmp_path / "page.html"
    assert (tmp_path / "page.html").read_text() == page.html


def test_explanations_show_as_their_text():
    shown = cr.explain(perceptron()[0])._repr_html_()
    assert shown.startswith("<pre>Backward pass, from the output (0.73)") and "sends 0.37 * -0.53 = -0.20" in shown
