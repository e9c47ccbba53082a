"""Graphs that several test modules build."""

import symgrad as sg


def tanh_derivative(order: int) -> tuple[sg.Graph, sg.Tensor, sg.Tensor]:
    """(graph, x, d^order tanh(x) / dx^order) for a scalar placeholder x, as sg.grad builds it
    (not simplified)."""
    g = sg.Graph()
    x = g.placeholder("x")
    d = sg.tanh(x)
    for _ in range(order):
        d = sg.grad(d, x)
    return g, x, d
