"""Pictures in Jupyter: graphs and tensors drawn as SVG by graphviz's `dot`, or listed as text.

`Graph` and `Tensor` display through `drawing(...)`; without graphviz, or for graphs too big
to read as a picture, the display is text (debugprint, or counts by op and origin).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from ..graph import Graph
from .describe import counts, select
from .dot import to_dot
from .text import debugprint

DRAW_LIMIT = 300  # nodes; a bigger picture is summarised instead
DOT_TIMEOUT = 30.0  # seconds graphviz may take to lay a picture out
HINT = ("(to see this as a picture, install graphviz: apt-get install graphviz, "
        "brew install graphviz or conda install graphviz)")


class Drawing:
    """What a notebook cell shows for a graph or tensors: `drawing(y, compact=True)` as the
    last line of a cell draws y and its ancestors, bookkeeping hidden."""

    def __init__(self, ys_or_graph: Any, *, feed: Mapping | None = None, compact: bool = False):
        self.graph, self.roots, self.nids = select(ys_or_graph, "drawing")
        self.subject, self.feed, self.compact = ys_or_graph, feed, compact

    def to_dot(self) -> str:
        return to_dot(self.subject, feed=self.feed, compact=self.compact)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        if not self.nids:
            return {"text/plain": repr(self.subject)}
        if len(self.nids) > DRAW_LIMIT:
            return {"text/plain": self.summary()}
        dot = find_dot()
        if dot is None:
            return {"text/plain": f"{debugprint(self.subject)}\n{HINT}"}
        try:
            svg = render_svg(self.to_dot(), dot)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
            return {"text/plain": f"{debugprint(self.subject)}\n(graphviz's dot failed: {e})"}
        return {"image/svg+xml": svg, "text/plain": repr(self.subject)}

    def summary(self) -> str:
        """Counts by origin and op, and how to draw a part."""
        if isinstance(self.subject, Graph):
            what = repr(self.subject)
        else:
            what = ", ".join(self.graph.label(r) for r in self.roots)
            what = f"{what} and ancestors: {len(self.nids)} nodes"
        by_op, by_origin = counts(self.graph, self.nids)
        return "\n".join([
            f"{what}, too many to draw (over {DRAW_LIMIT})",
            "by origin: " + _tally(by_origin),
            "by op: " + _tally(by_op),
            "to draw a part: display a tensor (it draws its ancestors), or "
            "symgrad.export.jupyter.drawing(ys, compact=True), which hides bookkeeping nodes",
        ])


def drawing(ys_or_graph: Any, *, feed: Mapping | None = None, compact: bool = False
            ) -> Drawing:
    """A picture of a graph or tensors for a notebook cell (options as for `sg.to_dot`)."""
    return Drawing(ys_or_graph, feed=feed, compact=compact)


def _tally(by: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in by.items())


def find_dot() -> str | None:
    """Where graphviz's `dot` is, or None when it is not installed."""
    return shutil.which("dot")


def render_svg(source: str, dot: str | None = None) -> str:
    """SVG of DOT text, laid out by graphviz's `dot` (RuntimeError if it refuses the text)."""
    dot = dot or find_dot()
    if dot is None:
        raise RuntimeError(f"graphviz's dot is not installed {HINT}")
    done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                          timeout=DOT_TIMEOUT, check=False)
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"dot exited with status {done.returncode}: "
                           f"{why[0] if why else 'no message'}")
    return done.stdout.decode("utf-8")
