"""DOT pictures of graphs (to_dot, write_dot), built with pydot.

The forward graph and each derivative pass are bands of their own colour; a derivative node
shows which forward node's rule made it, and what `gradients` returned is marked (∂J/∂W1).
Reads node attributes and op records; the only op names here are those of BOOKKEEPING.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydot

from ..errors import FeedError, GraphError
from ..evaluate import evaluate
from ..graph import CONSTANT, PLACEHOLDER, Graph
from ..ops.base import OPS
from ..tensor import Tensor
from .describe import (
    head,
    is_small,
    params_text,
    result_marks,
    select,
    shape_text,
    value_text,
)

# What compact=True hides: ops that only move, reshape, broadcast or cast values, and sums and
# means that reduce nothing but axes of length 1. Edges run through them from their first input.
BOOKKEEPING = frozenset({"reshape", "broadcast_to", "sum_to", "expand_dims", "squeeze", "cast"})
SAME_VALUE_REDUCTIONS = frozenset({"sum", "mean"})

# (node fill, node line, band background) for the forward graph, then derivative passes 1, 2, ...
FORWARD = ("#ffffff", "#374151", "#f9fafb")
PASSES = (
    ("#dbeafe", "#1d4ed8", "#f0f6ff"),  # blue
    ("#ffedd5", "#c2410c", "#fff8f1"),  # orange
    ("#dcfce7", "#15803d", "#f3fdf6"),  # green
    ("#f3e8ff", "#7e22ce", "#faf5ff"),  # purple
    ("#ffe4e6", "#be123c", "#fff5f6"),  # rose
)
UNKNOWN_PASS = ("#e0f2fe", "#0369a1", "#f0f9ff")  # derivative nodes that record no pass
PLACEHOLDER_FILL = "#fef3c7"
PROVENANCE_LINE = "#9ca3af"
LABEL_PARAMS = 28  # longer params are left to the tooltip


def to_dot(ys_or_graph: Any, *, feed: Mapping | None = None, compact: bool = False) -> str:
    """DOT text of a Graph (all of it) or of tensors (them and their ancestors).

    Node n of the graph is the DOT node `n<n>`; its label shows the op (a placeholder's name, a
    small constant's value) and the shape. `feed` (as for `sg.evaluate`) adds each node's value
    where the fed values determine it; `compact` hides bookkeeping nodes (BOOKKEEPING, sums
    over nothing but axes of length 1), except the tensors asked for and gradient results.
    """
    return _build(ys_or_graph, feed, compact, "to_dot").to_string()


def write_dot(ys_or_graph: Any, path: str | os.PathLike, *, feed: Mapping | None = None,
              compact: bool = False) -> None:
    """Writes `to_dot(ys_or_graph, feed=feed, compact=compact)` to `path`, all or nothing."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"write_dot: path must be a str or path, got {type(path).__name__}")
    text = to_dot(ys_or_graph, feed=feed, compact=compact)
    _write_atomically(Path(path), text)


def _write_atomically(path: Path, text: str) -> None:
    """A temporary file beside `path`, renamed over it: a reader never sees half a file, and
    a failure leaves what was there."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OSError(e.errno, f"write_dot: {e.strerror}", os.fspath(path)) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- what is drawn -----------------------------------------------------------------------------
def _build(ys_or_graph: Any, feed: Mapping | None, compact: bool, what: str) -> pydot.Dot:
    if not isinstance(compact, bool):
        raise TypeError(f"{what}: compact must be True or False, got {compact!r}")
    if feed is not None and not isinstance(feed, Mapping):
        raise TypeError(f"{what}: feed must be a dict, got {type(feed).__name__}")
    graph, roots, order = select(ys_or_graph, what)
    marks = result_marks(graph)
    shown, source = _visible(graph, roots, compact, keep=set(roots) | set(marks))
    values = _values(graph, order, shown, feed, what) if feed else {}
    return _Picture(graph, marks, values).draw(shown, source)


def _visible(graph: Graph, roots: list[int], compact: bool, keep: set[int]
             ) -> tuple[list[int], dict[int, int]]:
    """The nodes to draw, in id order, and where each drawn edge starts: a hidden node's
    edges start at what its first input shows. Walks from the roots, so what only hidden
    nodes use (the tensor whose shape a broadcast takes) is not drawn either."""
    nodes = graph.nx.nodes
    if not compact:
        shown = graph.topo_order(roots)
        return shown, {n: n for n in shown}
    hidden = {n for n in graph.ancestors(roots)
              if n not in keep and _is_bookkeeping(nodes, nodes[n])}
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            inputs = nodes[n]["inputs"]
            todo.extend(inputs[:1] if n in hidden else inputs)
    source: dict[int, int] = {}
    for n in sorted(seen):  # inputs first, so a hidden node's first input is resolved already
        source[n] = source[nodes[n]["inputs"][0]] if n in hidden else n
    return sorted(seen - hidden), source


def _is_bookkeeping(nodes: Any, a: dict) -> bool:
    if a["op"] in BOOKKEEPING:
        return True
    return a["op"] in SAME_VALUE_REDUCTIONS and _reduces_nothing(nodes[a["inputs"][0]], a)


def _reduces_nothing(x: dict, a: dict) -> bool:
    """Whether a reduction keeps its input's values: the same dimensions other than 1 remain
    (reducing an unknown dimension, which may be longer, leaves one None fewer)."""
    return [d for d in x["shape"] if d != 1] == [d for d in a["shape"] if d != 1]


def _values(graph: Graph, order: list[int], shown: list[int], feed: Mapping, what: str
            ) -> dict[int, Any]:
    """The value of each drawn node that the feed determines, by symgrad's own evaluator."""
    nodes = graph.nx.nodes
    known = _fed_ids(graph, feed, what)
    for n in order:
        a = nodes[n]
        if a["op"] == CONSTANT or (a["op"] != PLACEHOLDER and a["inputs"]
                                   and all(i in known for i in a["inputs"])):
            known.add(n)
    wanted = [n for n in shown if n in known and "outputs" not in nodes[n]]
    if not wanted:
        return {}
    results = evaluate([graph.tensor(n) for n in wanted], dict(feed))
    return dict(zip(wanted, results))


def _fed_ids(graph: Graph, feed: Mapping, what: str) -> set[int]:
    names = {t.name: t.id for t in graph.placeholders()}
    ids = set()
    for key in feed:
        if isinstance(key, str):
            if key not in names:
                raise FeedError(f"{what}: no placeholder named {key!r} in this graph "
                                f"(placeholders: {', '.join(sorted(names)) or 'none'})")
            ids.add(names[key])
        elif isinstance(key, Tensor):
            if key.graph is not graph:
                raise GraphError(f"{what}: fed tensor {key.label} belongs to another graph")
            ids.add(key.id)
        else:
            raise FeedError(f"{what}: feed keys are tensors or placeholder names, got {key!r}")
    return ids


# -- how it is drawn ---------------------------------------------------------------------------
class _Picture:
    """One pydot graph in the making: a band (cluster) per origin and pass, nodes, edges."""

    def __init__(self, graph: Graph, marks: dict[int, list[str]], values: dict[int, Any]):
        self.graph, self.marks, self.values = graph, marks, values
        self.nodes = graph.nx.nodes
        self.dot = pydot.Dot("symgrad", graph_type="digraph", **_quoted(
            rankdir="TB", newrank="true", nodesep="0.25", ranksep="0.3", fontname="Helvetica"))
        self.dot.set_node_defaults(**_quoted(fontname="Helvetica", fontsize="11",
                                             margin="0.08,0.04"))
        self.dot.set_edge_defaults(**_quoted(arrowsize="0.6", fontname="Helvetica",
                                             fontsize="9"))
        self.bands: dict[tuple, pydot.Cluster] = {}
        self.groups: dict[int, pydot.Cluster] = {}  # multi-output node -> its cluster

    def draw(self, shown: list[int], source: dict[int, int]) -> pydot.Dot:
        on = set(shown)
        for key in sorted({_band(self.nodes[n]) for n in shown}):
            self.bands[key] = self._band_cluster(key)
            self.dot.add_subgraph(self.bands[key])
        for n in shown:
            self._container(n).add_node(pydot.Node(f"n{n}", **_quoted(**self._node_attrs(n))))
        consumers: dict[int, set[int]] = {}  # as drawn: through hidden nodes
        for n in shown:
            for i in self._edges(n, source):
                consumers.setdefault(i, set()).add(n)
        for n in shown:
            self._provenance_edge(n, on, consumers.get(n, set()))
        return self.dot

    def _band_cluster(self, key: tuple) -> pydot.Cluster:
        kind, k = key
        _, line, bg = _colours(key)
        if kind == 0:
            name, label = "forward", "forward graph"
        elif kind == 1:
            name, label = f"pass{k}", f"derivative pass {k}"
            returned = [m for r, _, _, p in self.graph.grad_results if p == k
                        for m in self.marks.get(r, ()) if r in self.nodes]
            if returned:
                label += ": " + ", ".join(dict.fromkeys(returned))
        else:
            name, label = "gradient", "derivatives"
        return pydot.Cluster(name, **_quoted(
            label=label, labeljust="l", style="filled,rounded", fillcolor=bg,
            color=line if kind else "#d1d5db", fontcolor=line, fontsize="10", penwidth="0.8"))

    def _container(self, n: int) -> pydot.Subgraph:
        """A node's band, or the small cluster that keeps a multi-output node with its outputs."""
        a = self.nodes[n]
        band = self.bands[_band(a)]
        if "outputs" in a:
            multi = n
        elif a["op"] == "output":  # API.md: one node per output, the multi-output node its input
            multi = a["inputs"][0]
        else:
            return band
        group = self.groups.get(multi)
        if group is None:
            line = _colours(_band(a))[1]
            group = self.groups[multi] = pydot.Cluster(f"n{multi}", **_quoted(
                label="", color=line, style="dashed,rounded", penwidth="0.6"))
            band.add_subgraph(group)
        return group

    def _node_attrs(self, n: int) -> dict[str, str]:
        a = self.nodes[n]
        fill, line, _ = _colours(_band(a))
        attrs = {"label": self._label(n, a), "tooltip": self._tooltip(n, a),
                 "color": line, "fillcolor": fill, "shape": "box", "style": "rounded,filled"}
        if a["op"] == PLACEHOLDER:
            attrs.update(shape="ellipse", style="filled",
                         fillcolor=PLACEHOLDER_FILL if a["origin"] == "user" else fill)
        elif a["op"] == CONSTANT:
            attrs.update(style="rounded,filled,dashed", fontsize="10")
        if a["origin"] == "simplify":
            attrs["style"] += ",diagonals"  # rewritten by the simplifier
        if n in self.marks:
            attrs.update(penwidth="2.5", fontcolor=line)
        return attrs

    def _label(self, n: int, a: dict) -> str:
        lines = list(self.marks.get(n, ()))
        name = a["name"]
        if a["op"] == PLACEHOLDER:
            lines.append(name)
        elif a["op"] == CONSTANT:
            lines.append(name if name else ("" if is_small(a) else "constant"))
            if is_small(a):
                lines.append(value_text(a["value"]))
        else:
            title = _short_head(a)
            lines.append(f"{name} = {title}" if name else title)
        lines.append(shape_text(a, dtype=False))
        if n in self.values and not is_small(a):  # a small constant shows its value already
            lines.append(value_text(self.values[n]))
        return "\n".join(line for line in lines if line)

    def _tooltip(self, n: int, a: dict) -> str:
        words = [f"#{n}", head(a)]
        if a["name"] is not None:
            words.append(repr(a["name"]))
        words.append(shape_text(a))
        origin = [{"gradient": "derivative"}.get(a["origin"], a["origin"])]
        if a.get("grad_pass") is not None:
            origin.append(f"pass {a['grad_pass']}")
        of = a.get("grad_of")
        if of is not None:
            rule = self.graph.label(of) if of in self.nodes else f"#{of}"
            origin.append(f"from the rule of {rule}")
        return f"{' '.join(words)}: {', '.join(origin)}"

    def _edges(self, n: int, source: dict[int, int]) -> list[int]:
        """Draws one edge per argument, numbered where order matters; returns the sources."""
        a = self.nodes[n]
        line = _colours(_band(a))[1]
        inputs = a["inputs"]
        opdef = OPS.get(a["op"])
        numbered = len(inputs) > 1 and not (opdef is not None and opdef.commutative)
        sources = [source[i] for i in inputs]
        for k, i in enumerate(sources):
            attrs = {"color": line}
            if numbered:
                attrs.update(label=str(k), fontcolor=line)
            self.dot.add_edge(pydot.Edge(f"n{i}", f"n{n}", **_quoted(**attrs)))
        return sources

    def _provenance_edge(self, n: int, on: set[int], consumers: set[int]) -> None:
        """A faint line from a forward node to each term its rule returned (a node of that rule
        that no other node of the same rule consumes); every derivative node's tooltip says
        its rule too."""
        of = self.nodes[n].get("grad_of")
        if of is None or of not in on or of == n:
            return
        if any(self.nodes[c].get("grad_of") == of for c in consumers):
            return
        self.dot.add_edge(pydot.Edge(f"n{of}", f"n{n}", **_quoted(
            style="dotted", arrowhead="none", color=PROVENANCE_LINE, constraint="false",
            penwidth="0.7")))


def _band(a: dict) -> tuple[int, int]:
    """(0, 0) for the forward graph, (1, k) for derivative pass k, (2, 0) for derivative
    nodes of no recorded pass. Simplified nodes go with the pass of the nodes they replace."""
    k = a.get("grad_pass")
    if k is not None:
        return (1, k)
    return (2, 0) if a["origin"] == "gradient" else (0, 0)


def _colours(key: tuple[int, int]) -> tuple[str, str, str]:
    kind, k = key
    if kind == 0:
        return FORWARD
    return PASSES[(k - 1) % len(PASSES)] if kind == 1 else UNKNOWN_PASS


def _short_head(a: dict) -> str:
    """The op and the params that say something: None and False are left to the tooltip."""
    params = tuple((k, v) for k, v in a["params"] if v is not None and v is not False)
    text = params_text(params)
    if not text:
        return a["op"]
    return f"{a['op']}{{{text if len(text) <= LABEL_PARAMS else '…'}}}"


def _quoted(**attrs: str) -> dict[str, str]:
    """DOT attributes as quoted strings: backslash and quote escaped, line breaks as DOT's
    centred \\n. Quoted here, every one, rather than left to pydot, whose quoting has changed
    between versions (pydot 2 left `style=rounded,filled` bare, which dot refuses)."""
    return {k: '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
            for k, v in attrs.items()}
