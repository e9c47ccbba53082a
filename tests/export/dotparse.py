"""DOT text read back with pydot: nodes, edges and clusters as plain dicts, strings unquoted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pydot


@dataclass
class Parsed:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # DOT name -> attributes
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, set[str]] = field(default_factory=dict)  # cluster -> nodes, nested too
    cluster_attrs: dict[str, dict[str, str]] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return self.nodes[name]["label"]

    def data_edges(self) -> list[tuple[str, str, str | None]]:
        """(source, target, position label) of the edges that carry values."""
        return [(s, t, a.get("label")) for s, t, a in self.edges if a.get("style") != "dotted"]

    def provenance_edges(self) -> set[tuple[str, str]]:
        return {(s, t) for s, t, a in self.edges if a.get("style") == "dotted"}


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value[1:-1])
    return value


def parse(text: str) -> Parsed:
    graphs = pydot.graph_from_dot_data(text)
    assert graphs and len(graphs) == 1, "not one DOT graph"
    out = Parsed()
    _walk(graphs[0], out, [])
    return out


def _walk(g: pydot.Graph, out: Parsed, clusters: list[str]) -> None:
    for node in g.get_nodes():
        name = node.get_name()
        if name in ("node", "edge", "graph"):
            continue
        assert name not in out.nodes, f"node {name} drawn twice"
        out.nodes[name] = {k: unquote(str(v)) for k, v in node.get_attributes().items()}
        for c in clusters:
            out.clusters[c].add(name)
    for edge in g.get_edges():
        attrs = {k: unquote(str(v)) for k, v in edge.get_attributes().items()}
        out.edges.append((edge.get_source(), edge.get_destination(), attrs))
    for sub in g.get_subgraphs():
        name = unquote(sub.get_name())
        out.clusters[name] = set()
        out.cluster_attrs[name] = {k: unquote(str(v)) for k, v in sub.get_attributes().items()}
        _walk(sub, out, [*clusters, name])
