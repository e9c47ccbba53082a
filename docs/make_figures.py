"""Draws the pictures in the README and docs with symgrad's own to_dot and graphviz's dot.

    python docs/make_figures.py        (writes docs/derivative-graph.svg)
"""

from __future__ import annotations

import sys
from pathlib import Path

import symgrad as sg
from symgrad.export.jupyter import render_svg

HERE = Path(__file__).resolve().parent


def readme_example() -> list[sg.Tensor]:
    """The README's example: a loss, and its gradient with respect to w beside it."""
    g = sg.Graph()
    x = g.placeholder("x", shape=(None, 3))
    w = g.placeholder("w", shape=(3,))
    loss = sg.softplus(x @ w).mean() + 0.1 * (w * w).sum()
    loss.name = "loss"
    return [loss, sg.grad(loss, w)]


def main() -> int:
    svg = render_svg(sg.to_dot(readme_example(), compact=True))
    path = HERE / "derivative-graph.svg"
    path.write_text(svg, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
