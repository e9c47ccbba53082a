"""docs/make_figures.py draws the README's picture with to_dot and graphviz."""

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_picture_is_committed():
    svg = (ROOT / "docs" / "derivative-graph.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "∂loss/∂w" in svg and "cluster_pass1" in svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed "
                    "(.ci/run installs it)")
def test_the_script_draws_the_readme_example(tmp_path, monkeypatch):
    script = load_script()
    monkeypatch.setattr(script, "HERE", tmp_path)
    assert script.main() == 0
    svg = (tmp_path / "derivative-graph.svg").read_text(encoding="utf-8")
    loss, dw = script.readme_example()
    g = loss.graph
    drawn = {n for n in g.nx.nodes if f"<title>n{n}</title>" in svg}
    assert drawn <= g.ancestors([loss.id, dw.id])
    assert {loss.id, dw.id, *(t.id for t in g.placeholders())} <= drawn
    assert not [n for n in drawn if g.nx.nodes[n]["op"] in ("expand_dims", "broadcast_to")]
    assert "∂loss/∂w" in svg
