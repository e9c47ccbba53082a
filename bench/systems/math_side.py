"""Plain Python floats and the math module, for the scalar workloads W4 and W5 only: the floor
that a graph compiled to straight-line Python over floats could reach (issue 12)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from systems import Unsupported

NAME, LABEL = "math", "plain Python (math)"


def version() -> str:
    return "Python's math module"


def warm() -> None:
    math.tanh(0.5)


def _vectors_only(*_: object) -> None:
    raise Unsupported("scalar workloads only")


mlp = chain = first_gradient = _vectors_only


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    def grad(x: float) -> float:
        saved = []
        y = x
        for _ in range(depth):
            s, c = math.sin(y), math.cos(y)
            saved.append((s, c))
            y = s + c
        g = 1.0
        for s, c in reversed(saved):
            g *= c - s
        return g
    xf = float(x)
    return lambda: grad(xf), {}


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    def d4(x: float) -> float:
        t = math.tanh(x)
        t2 = t * t
        return t * (16.0 + t2 * (-40.0 + 24.0 * t2))
    xf = float(x)
    return lambda: d4(xf), {}
