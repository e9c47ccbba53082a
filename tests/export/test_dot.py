"""export/dot.py: to_dot and write_dot, read back with pydot, and drawn by graphviz's dot."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgrad as sg
from symgrad.export.dot import BOOKKEEPING

from .dotparse import parse


def mlp():
    """The book's network (6.5.7), small: J, its graph and its inputs."""
    g = sg.Graph()
    X = g.placeholder("X", (None, 4))
    y = g.placeholder("y", (None,), "int64")
    W1 = g.placeholder("W1", (4, 5))
    W2 = g.placeholder("W2", (5, 3))
    H = sg.relu(X @ W1)
    H.name = "H"
    J = sg.softmax_cross_entropy(H @ W2, y).sum() + 0.01 * ((W1 * W1).sum() + (W2 * W2).sum())
    J.name = "J"
    return g, J, X, y, W1, W2


def test_every_node_of_a_graph_is_drawn_once_as_n_id():
    g, J, *_ = mlp()
    sg.gradients(J, g.tensor("W1"))
    p = parse(sg.to_dot(g))
    assert set(p.nodes) == {f"n{n}" for n in g.nx.nodes}


def test_labels_show_op_or_name_and_shape_with_question_marks():
    g, J, X, y, W1, W2 = mlp()
    p = parse(sg.to_dot(J))
    assert p.label(f"n{X.id}") == "X\n(?, 4)"
    assert p.label(f"n{y.id}") == "y\n(?,) int64"  # a dtype other than float64 is shown
    H = g.tensor("H")
    assert p.label(f"n{H.id}") == "H = relu\n(?, 5)"
    assert p.label(f"n{H.inputs[0].id}") == "matmul\n(?, 5)"
    assert p.label(f"n{J.id}") == "J = add\n()"
    const = [n for n in g.nx.nodes if g.nx.nodes[n]["op"] == "constant"]
    assert [p.label(f"n{n}") for n in const] == ["0.01\n()"]  # a small constant by its value
    assert p.nodes[f"n{X.id}"]["shape"] == "ellipse"


def test_params_that_say_something_are_in_the_label_all_in_the_tooltip():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    s = x.sum(axis=1, keepdims=True)
    t = x.sum()
    p = parse(sg.to_dot([s, t]))
    assert p.label(f"n{s.id}") == "sum{axis=(1,), keepdims=True}\n(2, 1)"
    assert p.label(f"n{t.id}") == "sum\n()"
    assert "sum{axis=None, keepdims=False}" in p.nodes[f"n{t.id}"]["tooltip"]


def test_a_large_constant_shows_its_shape_and_name():
    g = sg.Graph()
    x = g.placeholder("x", (3, 3))
    y = x @ g.constant(np.eye(3), name="I") + g.constant(np.arange(9.0).reshape(3, 3))
    p = parse(sg.to_dot(y))
    labels = sorted(p.label(f"n{n}") for n in g.nx.nodes if g.nx.nodes[n]["op"] == "constant")
    assert labels == ["I\n(3, 3)", "constant\n(3, 3)"]


def test_given_tensors_only_their_ancestors_are_drawn():
    g, J, X, y, W1, W2 = mlp()
    gW1, gW2 = sg.gradients(J, [W1, W2])
    p = parse(sg.to_dot(gW2))
    assert set(p.nodes) == {f"n{n}" for n in g.ancestors([gW2.id])}
    assert f"n{gW1.id}" not in p.nodes and f"n{J.id}" not in p.nodes
    both = parse(sg.to_dot([gW1, gW2]))
    assert set(both.nodes) == {f"n{n}" for n in g.ancestors([gW1.id, gW2.id])}


def test_a_shared_sub_expression_is_drawn_once_with_one_edge_per_argument():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    s = sg.sin(x)
    y = s * s + s
    p = parse(sg.to_dot(y))
    assert len(p.nodes) == 4  # x, sin, multiply, add
    edges = p.data_edges()
    mul, add = y.inputs[0], y
    assert edges.count((f"n{s.id}", f"n{mul.id}", None)) == 2  # s * s: two arguments
    assert (f"n{s.id}", f"n{add.id}", None) in edges  # commutative ops: no positions


def test_argument_positions_on_edges_where_order_matters():
    g = sg.Graph()
    a = g.placeholder("a", (2, 2))
    b = g.placeholder("b", (2, 2))
    c = g.placeholder("c", (2, 2), "bool")
    d = b - a
    m = d @ a
    w = sg.where(c, m, b)
    p = parse(sg.to_dot(w))
    edges = set(p.data_edges())
    assert {(f"n{b.id}", f"n{d.id}", "0"), (f"n{a.id}", f"n{d.id}", "1")} <= edges
    assert {(f"n{d.id}", f"n{m.id}", "0"), (f"n{a.id}", f"n{m.id}", "1")} <= edges
    assert {(f"n{c.id}", f"n{w.id}", "0"), (f"n{m.id}", f"n{w.id}", "1"),
            (f"n{b.id}", f"n{w.id}", "2")} <= edges


def test_each_derivative_pass_is_a_band_of_its_own_colour():
    g, J, X, y, W1, W2 = mlp()
    (hv,) = sg.hvp(J, W2, np.ones((5, 3)))
    p = parse(sg.to_dot(g))
    nodes = g.nx.nodes
    # forward graph, gradient, gradient of the gradient
    assert {"cluster_forward", "cluster_pass1", "cluster_pass2"} <= set(p.clusters)
    assert "cluster_pass3" not in p.clusters
    for n, a in nodes(data=True):
        band = f"cluster_pass{a['grad_pass']}" if "grad_pass" in a else "cluster_forward"
        assert f"n{n}" in p.clusters[band], (n, a["op"])
    fills = {}
    for band in ("forward", "pass1", "pass2"):
        ops = [n for n in p.clusters[f"cluster_{band}"]
               if nodes[int(n[1:])]["op"] not in ("placeholder",)]
        fills[band] = {p.nodes[n]["fillcolor"] for n in ops}
        assert len(fills[band]) == 1, band
    assert len(set.union(*fills.values())) == 3  # three different colours
    backgrounds = {p.cluster_attrs[f"cluster_{b}"]["fillcolor"] for b in fills}
    assert len(backgrounds) == 3


def test_the_results_of_gradients_are_marked_with_what_they_are():
    g, J, X, y, W1, W2 = mlp()
    gW1, gW2 = sg.gradients(J, [W1, W2])
    p = parse(sg.to_dot([gW1, gW2]))
    assert p.label(f"n{gW1.id}").split("\n")[0] == "∂J/∂W1"
    assert p.label(f"n{gW2.id}").split("\n")[0] == "∂J/∂W2"
    assert p.nodes[f"n{gW1.id}"]["penwidth"] == "2.5"
    assert p.cluster_attrs["cluster_pass1"]["label"] == "derivative pass 1: ∂J/∂W1, ∂J/∂W2"
    K = (W1 * 3.0).sum()
    K.name = "K"
    (g2,) = sg.gradients([J, K], W1)
    assert parse(sg.to_dot(g2)).label(f"n{g2.id}").startswith("∂(J + K)/∂W1\n")


def test_derivative_nodes_say_which_forward_nodes_rule_made_them():
    g, J, X, y, W1, W2 = mlp()
    (gW2,) = sg.gradients(J, [W2])
    p = parse(sg.to_dot(g))
    nodes = g.nx.nodes
    for n, a in nodes(data=True):
        tip = p.nodes[f"n{n}"]["tooltip"]
        if a["origin"] == "gradient":
            assert tip.endswith(f"derivative, pass 1, from the rule of {g.label(a['grad_of'])}")
        else:
            assert tip.endswith(": user")
    faint = p.provenance_edges()
    assert faint, "no line from a forward node to what its rule made"
    for src, dst in faint:
        assert nodes[int(dst[1:])]["grad_of"] == int(src[1:])
    # the result is the term the matmul's rule returned; it gets a line from its forward node
    made_by = nodes[gW2.id]["grad_of"]
    assert (f"n{made_by}", f"n{gW2.id}") in faint


def test_a_multi_output_node_and_its_outputs_are_drawn_together():
    g = sg.Graph()
    x = g.placeholder("x", (None, 4))
    m, i = sg.max_and_argmax(x, axis=1)
    p = parse(sg.to_dot([m, i]))
    multi = m.inputs[0].id
    assert p.clusters[f"cluster_n{multi}"] == {f"n{multi}", f"n{m.id}", f"n{i.id}"}
    assert p.label(f"n{multi}") == "max_and_argmax{axis=1}\n(?,), (?,) int64"
    assert p.label(f"n{i.id}") == "output{index=1}\n(?,) int64"


def test_nodes_the_simplifier_made_are_styled_and_keep_their_pass():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = sg.sin(x).sum()
    (dx,) = sg.gradients(y, x)
    with g.origin("simplify", grad_of=y.id, grad_pass=1):  # as the simplifier stamps them
        s = dx * 1.0
    with g.origin("simplify"):
        t = sg.exp(x)
    p = parse(sg.to_dot([s, t]))
    assert "diagonals" in p.nodes[f"n{s.id}"]["style"]
    assert f"n{s.id}" in p.clusters["cluster_pass1"]
    assert f"n{t.id}" in p.clusters["cluster_forward"]
    assert "diagonals" in p.nodes[f"n{t.id}"]["style"]
    assert "diagonals" not in p.nodes[f"n{dx.id}"]["style"]


# -- compact --------------------------------------------------------------------------------
def test_compact_hides_exactly_the_bookkeeping_nodes_and_reconnects_edges():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    w = g.placeholder("w", (2,))
    a = x.reshape((3, 2))                     # hidden
    b = sg.broadcast_to(w, (3, 2))            # hidden
    c = a - b                                 # kept: order matters, positions survive
    d = c.astype("float32")                   # hidden
    e = d.sum(axis=1, keepdims=True)          # kept: (3, 2) -> (3, 1) sums something
    f = e.sum(axis=1, keepdims=True)          # hidden: sums over a length-1 axis only
    r = sg.exp(f)
    full = parse(sg.to_dot(r))
    p = parse(sg.to_dot(r, compact=True))
    hidden = {a.id, b.id, d.id, f.id}
    assert set(full.nodes) - set(p.nodes) == {f"n{n}" for n in hidden}
    assert set(p.data_edges()) == {
        (f"n{x.id}", f"n{c.id}", "0"), (f"n{w.id}", f"n{c.id}", "1"),
        (f"n{c.id}", f"n{e.id}", None), (f"n{e.id}", f"n{r.id}", None)}


def test_compact_keeps_the_tensors_asked_for_and_gradient_results():
    g, J, X, y, W1, W2 = mlp()
    gW1, gW2 = sg.gradients(J, [W1, W2])
    shaped = sg.broadcast_to(J, (2,))  # a bookkeeping node asked for is drawn
    p = parse(sg.to_dot([gW1, gW2, shaped], compact=True))
    nodes = g.nx.nodes
    drawn = {int(n[1:]) for n in p.nodes}
    assert {gW1.id, gW2.id, shaped.id} <= drawn
    assert not [n for n in drawn - {shaped.id} if nodes[n]["op"] in BOOKKEEPING]
    assert any(nodes[n]["op"] in BOOKKEEPING for n in g.ancestors([gW1.id, gW2.id]))
    for src, dst, _ in p.data_edges():  # every edge joins two drawn nodes
        assert src in p.nodes and dst in p.nodes


def test_compact_does_not_draw_what_only_hidden_nodes_needed():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    v = g.placeholder("v", (3,))
    like = x * 2.0
    b = sg.ops.shape.broadcast_like(v, like)  # takes only the shape of `like`
    r = sg.exp(b)
    p = parse(sg.to_dot(r, compact=True))
    assert {int(n[1:]) for n in p.nodes} == {v.id, r.id}


# -- feed -----------------------------------------------------------------------------------
def test_feed_shows_values_small_in_full_larger_summarised():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    w = g.placeholder("w", (10,))
    y = x * 2.0
    z = w + 1.0
    p = parse(sg.to_dot([y, z], feed={"x": [1.0, 2.0, 3.0], w: np.arange(10.0)}))
    assert p.label(f"n{x.id}") == "x\n(3,)\n[1, 2, 3]"
    assert p.label(f"n{y.id}") == "multiply\n(3,)\n[2, 4, 6]"
    assert p.label(f"n{z.id}") == "add\n(10,)\nmin 1 mean 5.5 max 10"


def test_feed_leaves_nodes_it_does_not_determine_without_a_value():
    g, J, X, y, W1, W2 = mlp()
    rng = np.random.default_rng(0)
    x, w1 = rng.normal(size=(6, 4)), rng.normal(size=(4, 5))
    p = parse(sg.to_dot(J, feed={X: x, W1: w1}))
    H = g.tensor("H")
    got = p.label(f"n{H.id}").split("\n")
    value = np.maximum(x @ w1, 0)
    assert got[:2] == ["H = relu", "(?, 5)"]
    assert got[2] == f"min {value.min():.3g} mean {value.mean():.3g} max {value.max():.3g}"
    assert p.label(f"n{W2.id}") == "W2\n(5, 3)"  # not fed
    assert p.label(f"n{J.id}") == "J = add\n()"  # needs y and W2
    decay = J.inputs[1].inputs[1]  # (W1 * W1).sum() + (W2 * W2).sum()
    assert p.label(f"n{decay.inputs[0].id}") == f"sum\n()\n{(w1 * w1).sum():.4g}"
    assert p.label(f"n{decay.inputs[1].id}") == "sum\n()"


def test_feed_values_come_from_the_evaluator_and_a_fed_tensor_stops_there():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    s = sg.exp(x)
    t = s * 3.0
    p = parse(sg.to_dot(t, feed={s: [1.0, 2.0]}))  # x missing: s is given
    assert p.label(f"n{t.id}") == "multiply\n(2,)\n[3, 6]"
    assert p.label(f"n{x.id}") == "x\n(2,)"


@pytest.mark.parametrize("bad, error", [
    ({"nope": 1.0}, sg.FeedError),
    ({"x": np.ones(4)}, sg.FeedError),  # wrong shape, from the evaluator
    ({3: 1.0}, sg.FeedError),
])
def test_bad_feeds_raise_clear_errors(bad, error):
    g = sg.Graph()
    g.placeholder("x", (3,))
    y = sg.exp(g.tensor("x"))
    with pytest.raises(error):
        sg.to_dot(y, feed=bad)


def test_bad_arguments_raise_clear_errors():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    other = sg.Graph().placeholder("z", (3,))
    with pytest.raises(TypeError, match="Graph, a Tensor or a list"):
        sg.to_dot(3)
    with pytest.raises(ValueError, match="no tensors"):
        sg.to_dot([])
    with pytest.raises(TypeError, match="compact"):
        sg.to_dot(x, compact="yes")
    with pytest.raises(TypeError, match="feed must be a dict"):
        sg.to_dot(x, feed=[1.0, 2.0, 3.0])
    with pytest.raises(sg.GraphError):
        sg.to_dot([x, other])
    with pytest.raises(sg.GraphError, match="another graph"):
        sg.to_dot(x, feed={other: np.ones(3)})


def test_names_with_quotes_and_backslashes_survive():
    g = sg.Graph()
    x = g.placeholder('say "hi" \\ there', (2,))
    y = sg.exp(x)
    y.name = "graph"  # a DOT keyword
    p = parse(sg.to_dot(y))
    assert p.label(f"n{x.id}") == 'say "hi" \\ there\n(2,)'
    assert p.label(f"n{y.id}") == "graph = exp\n(2,)"


# -- write_dot ------------------------------------------------------------------------------
def test_write_dot_writes_what_to_dot_returns(tmp_path):
    g, J, *_ = mlp()
    path = tmp_path / "j.dot"
    sg.write_dot(J, path, compact=True)
    assert path.read_text(encoding="utf-8") == sg.to_dot(J, compact=True)
    sg.write_dot(g, str(path))  # a str path, an existing file replaced
    assert path.read_text(encoding="utf-8") == sg.to_dot(g)


def test_write_dot_failing_leaves_the_old_file_and_no_other(tmp_path, monkeypatch):
    g = sg.Graph()
    y = sg.exp(g.placeholder("x", (3,)))
    path = tmp_path / "y.dot"
    path.write_text("old")
    with pytest.raises(sg.FeedError):
        sg.write_dot(y, path, feed={"nope": 1})
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["y.dot"]

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError, match="y.dot"):
        sg.write_dot(y, path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["y.dot"]


def test_write_dot_bad_paths(tmp_path):
    y = sg.exp(sg.Graph().placeholder("x", (3,)))
    with pytest.raises(TypeError, match="path"):
        sg.write_dot(y, 42)
    missing = tmp_path / "no" / "such" / "dir.dot"
    with pytest.raises(FileNotFoundError, match="dir.dot"):
        sg.write_dot(y, missing)
    assert os.listdir(tmp_path) == []


# -- graphviz itself ------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed "
                    "(.ci/run installs it)")
def test_graphviz_renders_names_labels_and_derivative_styles_to_svg():
    g, J, X, y, W1, W2 = mlp()
    (hv,) = sg.hvp(J, W2, np.ones((5, 3)))
    svg = subprocess.run(["dot", "-Tsvg"], input=sg.to_dot(g).encode(), capture_output=True,
                         check=True, timeout=60).stdout
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    drawn = {}
    for node in root.iter("{http://www.w3.org/2000/svg}g"):
        if node.get("class") != "node":
            continue
        title = node.find("s:title", ns).text
        texts = [t.text for t in node.iter("{http://www.w3.org/2000/svg}text")]
        shape = next(e for e in node.iter() if e.tag.endswith(("path", "polygon", "ellipse")))
        drawn[title] = (texts, shape.get("fill"))
    assert set(drawn) == {f"n{n}" for n in g.nx.nodes}
    assert drawn[f"n{X.id}"][0] == ["X", "(?, 4)"]
    assert drawn[f"n{J.id}"][0] == ["J = add", "()"]
    hvp_y = g.grad_results[-1][1][0]  # the scalar (dJ/dW2 . v) that hvp differentiates
    assert drawn[f"n{hv.id}"][0][0] == f"∂{g.label(hvp_y)}/∂W2"
    fill = {}
    for n, a in g.nx.nodes(data=True):
        if a["op"] != "placeholder":
            fill.setdefault(a.get("grad_pass", 0), set()).add(drawn[f"n{n}"][1])
    assert all(len(f) == 1 for f in fill.values())
    assert len({f.pop() for f in fill.values()}) == 3  # forward and both passes differ
    clusters = [t.text for c in root.iter("{http://www.w3.org/2000/svg}g")
                if c.get("class") == "cluster" for t in c.findall("s:title", ns)]
    assert {"cluster_forward", "cluster_pass1", "cluster_pass2"} <= set(clusters)
