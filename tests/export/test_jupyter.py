"""export/jupyter.py: how Graph and Tensor show themselves in a notebook, with and without
graphviz (its absence simulated by patching the lookup of `dot`)."""

import shutil

import pytest

import symgrad as sg
from symgrad.export import jupyter


def small():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = (sg.sin(x) * x).sum()
    y.name = "y"
    dx = sg.grad(y, x)
    return g, x, y, dx


needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="graphviz's dot is not installed (.ci/run installs it)")


@needs_dot
def test_a_graph_shows_itself_as_an_svg_picture():
    g, x, y, dx = small()
    bundle = g._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    for n in g.nx.nodes:
        assert f"<title>n{n}</title>" in svg
    assert "∂y/∂x" in svg
    assert bundle["text/plain"] == repr(g)


@needs_dot
def test_a_tensor_draws_itself_and_its_ancestors_only():
    g, x, y, dx = small()
    svg = y._repr_mimebundle_()["image/svg+xml"]
    titles = {n for n in g.nx.nodes if f"<title>n{n}</title>" in svg}
    assert titles == g.ancestors([y.id])
    assert f"<title>n{dx.id}</title>" not in svg


def test_without_graphviz_the_text_listing_and_a_hint(monkeypatch):
    monkeypatch.setattr(jupyter, "find_dot", lambda: None)
    g, x, y, dx = small()
    bundle = dx._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    listing, hint = bundle["text/plain"].rsplit("\n", 1)
    assert listing == sg.debugprint(dx)
    assert hint == jupyter.HINT and "install graphviz" in hint
    assert g._repr_mimebundle_()["text/plain"] == f"{sg.debugprint(g)}\n{jupyter.HINT}"


def test_when_dot_fails_the_text_listing_says_why(monkeypatch, tmp_path):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'Error: something is wrong' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(jupyter, "find_dot", lambda: str(broken))
    g, x, y, dx = small()
    text = y._repr_mimebundle_()["text/plain"]
    assert text.startswith(sg.debugprint(y))
    assert text.endswith("(graphviz's dot failed: dot exited with status 3: "
                         "Error: something is wrong)")


def test_big_graphs_are_summarised_not_drawn(monkeypatch):
    def no_dot_needed():
        raise AssertionError("a summary needs no graphviz")

    monkeypatch.setattr(jupyter, "find_dot", no_dot_needed)
    g = sg.Graph()
    y = g.placeholder("x", ())
    for _ in range(jupyter.DRAW_LIMIT):
        y = sg.sin(y)
    sg.grad(y, g.tensor("x"))
    text = g._repr_mimebundle_()["text/plain"]
    lines = text.split("\n")
    n = g.nx.number_of_nodes()
    assert lines[0] == f"<symgrad.Graph with {n} nodes>, too many to draw (over 300)"
    assert lines[1] == "by origin: user: 301, gradient pass 1: 601"  # most ops first:
    assert lines[2] == "by op: cos: 300, multiply: 300, sin: 300, constant: 1, placeholder: 1"
    assert "compact=True" in lines[3]
    assert y._repr_mimebundle_()["text/plain"].startswith(
        f"{y.label} and ancestors: 301 nodes, too many to draw")


def test_repr_of_a_graph_stays_short():
    g, *_ = small()
    assert repr(g) == f"<symgrad.Graph with {g.nx.number_of_nodes()} nodes>"


@needs_dot
def test_drawing_takes_the_options_of_to_dot():
    g, x, y, dx = small()
    d = jupyter.drawing(dx, feed={"x": [1.0, 2.0, 3.0]}, compact=True)
    assert d.to_dot() == sg.to_dot(dx, feed={"x": [1.0, 2.0, 3.0]}, compact=True)
    svg = d._repr_mimebundle_()["image/svg+xml"]
    assert "expand_dims" not in svg and "[1, 2, 3]" in svg


def test_an_empty_graph_shows_its_repr():
    g = sg.Graph()
    assert g._repr_mimebundle_() == {"text/plain": repr(g)}
