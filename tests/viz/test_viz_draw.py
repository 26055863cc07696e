"""draw() and save(): the picture of the graph, with values over gradients on every wire."""

import shutil

import numpy as np
import pytest
from graphs import perceptron, scalar

import chainrule as cr
from chainrule.viz import GraphvizNotFoundError, draw, save
from chainrule.viz.drawing import GRADIENT_COLOR, VALUE_COLOR

graphviz = pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


def test_perceptron_picture():
    graph = draw(perceptron()[0])
    assert isinstance(graph, graphviz.Digraph)
    source = graph.source
    assert "rankdir=LR" in source
    for label in ["mul", "add", '"*-1"', "exp", '"+1"', '"1/x"', "w0", "x0", "w1", "x1", "w2"]:
        assert f"label={label}" in source
    # the exp gate's input wire: value -1.00 over gradient -0.20, as in the text's figure
    assert f'<font color="{VALUE_COLOR}">-1.00</font><br/><font color="{GRADIENT_COLOR}">-0.20</font>' in source
    assert f'<font color="{VALUE_COLOR}">0.73</font><br/><font color="{GRADIENT_COLOR}">1.00</font>' in source
    assert "id=gate7" in source and "id=edge_output" in source


def test_values_only_and_leaf_grad_untouched():
    f = perceptron()[0]
    source = draw(f, gradients=False).source
    assert GRADIENT_COLOR not in source and VALUE_COLOR in source
    f.backward()  # drawing released nothing


def test_non_scalar_wires_show_shape_dtype_and_summary():
    w = cr.tensor(np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32), requires_grad=True, name="W")
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32))
    source = draw((w @ x).sum()).source
    assert "(2, 2) float32" in source and "[-2.00, 3.00]" in source and "norm 3.16" in source
    assert 'label="input (2,)"' in source and "const" not in source  # an unnamed leaf: an input, with its shape


def test_max_nodes_draws_what_fits_and_says_how_many_were_left_out():
    x = scalar(0.5, "x")
    y = x
    for _ in range(30):
        y = (y * 1.01).tanh()
    source = draw(y, max_nodes=10).source
    assert source.count("shape=circle") == 10
    assert "50 more gates not drawn" in source and "(max_nodes=10)" in source
    with pytest.raises(ValueError, match="max_nodes must be a positive integer"):
        draw(y, max_nodes=0)


def modules_graph():
    """Two 'layers' whose gates carry module paths, as modules record them."""
    x = cr.tensor(np.ones((2, 3)), name="input")
    w1 = cr.tensor(np.full((3, 4), 0.1), requires_grad=True, name="fc1.weight")
    b1 = cr.tensor(np.zeros(4), requires_grad=True, name="fc1.bias")
    w2 = cr.tensor(np.full((4, 1), 0.2), requires_grad=True, name="fc2.weight")
    h = x @ w1
    h2 = h + b1
    a = h2.relu()
    out = a @ w2
    loss = (out * out).mean()
    for t, path in [(h, ("fc1",)), (h2, ("fc1",)), (a, ("act",)), (out, ("fc2", "inner"))]:
        t.gate.module_path = path
    return loss


def test_modules_collapse_to_one_box_each_by_default():
    source = draw(modules_graph()).source
    assert "module_fc1 [label=<<b>fc1</b>" in source and "2 gates" in source
    assert "weight: (3, 4) float64" in source and "bias: (4,) float64" in source  # parameters inside the box
    assert "module_fc2" in source and "module_act" in source
    assert "cluster" not in source
    assert "wire1 " not in source  # fc1.weight is not a separate node


def test_modules_expanded_are_clusters():
    source = draw(modules_graph(), collapse_modules=False).source
    assert "subgraph cluster_fc1" in source and "subgraph cluster_fc2_inner" in source
    assert 'label="fc2.inner"' in source
    assert source.count("shape=circle") == 6
    fc2 = source[source.index("subgraph cluster_fc2 {") :]
    assert 'label="fc2.weight"' in fc2  # a parameter sits in its module's cluster


def test_no_graph_is_a_clear_error():
    with pytest.raises(ValueError, match=r"draw: this tensor has no graph behind it \(it is a leaf"):
        draw(scalar(1.0, "x"))


def test_dot_text_needs_no_graphviz_program(tmp_path, monkeypatch):
    graph = draw(perceptron()[0])
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    path = save(graph, tmp_path / "perceptron.dot")
    assert open(path).read() == graph.source
    with pytest.raises(
        GraphvizNotFoundError,
        match=r"apt-get install graphviz.*brew install graphviz.*"
        r"conda install graphviz.*save\(graph, 'graph.dot'\)",
    ):
        save(graph, tmp_path / "perceptron.svg")
    with pytest.raises(ValueError, match="cannot tell the format"):
        save(graph, tmp_path / "perceptron.txt")


@needs_dot
def test_svg_and_png(tmp_path):
    graph = draw(perceptron()[0])
    svg = open(save(graph, tmp_path / "perceptron.svg")).read()
    assert 'id="gate5"' in svg and "&#45;0.20" in svg  # dot writes "-" as &#45;
    png = open(save(graph, tmp_path / "perceptron.png"), "rb").read()
    assert png.startswith(b"\x89PNG")
    save(graph, tmp_path / "noext", fmt="svg")
    assert open(tmp_path / "noext").read().lstrip().startswith("<?xml")


def test_real_modules_are_named_by_their_attribute():
    nn = pytest.importorskip("chainrule.nn")
    if not all(hasattr(nn, name) for name in ("Sequential", "Linear", "ReLU")):
        pytest.skip("chainrule.nn has no Sequential/Linear/ReLU yet")
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = cr.tensor(np.ones((2, 3), dtype=np.float32), name="x")
    loss = (net(x) ** 2).mean()
    collapsed = draw(loss).source
    assert "<b>0</b>" in collapsed and "Linear" in collapsed and "<b>1</b>" in collapsed
    expanded = draw(loss, collapse_modules=False).source
    assert "subgraph cluster_0" in expanded and 'label="0 (Linear)"' in expanded
