"""symgrad as a user writes it: graph, sg.gradients / sg.hvp, sg.function with its defaults."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from common import chain_graph, mlp_graph, tanh_derivative

import symgrad as sg

NAME, LABEL = "symgrad", "symgrad"


def version() -> str:
    return getattr(sg, "__version__", "unknown")


def warm() -> None:
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    sg.function([x], sg.grad((x * x).sum(), x))(np.ones(2))


def count_nodes(y: sg.Tensor) -> int:
    """Operation nodes among y's ancestors (leaves and output nodes not counted): the same
    definition as sg.count_nodes, which is used where this version of symgrad has it."""
    if hasattr(sg, "count_nodes"):
        return sg.count_nodes(y)
    nodes = y.graph.nx.nodes
    seen, todo = set(), [y.id]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(nodes[n]["inputs"])
    return sum(1 for n in seen if nodes[n]["op"] not in ("placeholder", "constant", "output"))


def node_counts(y: sg.Tensor) -> dict[str, int]:
    """The gradient graph's nodes as built, and after sg.simplify where symgrad has it."""
    counts = {"graph": count_nodes(y)}
    if hasattr(sg, "simplify"):
        counts["simplified"] = count_nodes(sg.simplify(y))
    return counts


def steady(f: sg.Function, *args: object) -> sg.Function:
    """f after warm-up: called twice, and its fused tier (symgrad[fast]) compiled where it has
    one, so that what is timed is what a user's later calls run."""
    f(*args)
    f(*args)
    if hasattr(f, "wait_fused"):
        f.wait_fused(timeout=300)
    return f


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    t = mlp_graph(dtype)
    ws, vs = [t["W1"], t["W2"]], [t["V1"], t["V2"]]
    ins = [t["X"], t["y"], *ws]
    f_loss = sg.function(ins, t["loss"])
    f_grad = sg.function(ins, [t["loss"], *sg.gradients(t["loss"], ws)])
    f_hvp = sg.function(ins + vs, sg.hvp(t["loss"], ws, vs))
    X, y, W1, W2, V1, V2 = data
    steady(f_loss, X, y, W1, W2), steady(f_grad, X, y, W1, W2)
    steady(f_hvp, X, y, W1, W2, V1, V2)
    return {"forward": lambda: f_loss(X, y, W1, W2),
            "gradients": lambda: f_grad(X, y, W1, W2),
            "hvp": lambda: f_hvp(X, y, W1, W2, V1, V2)}


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    x, y = chain_graph(steps)
    f_fwd = sg.function([x], y)
    x, loss = chain_graph(steps, summed=True)
    f_grad = sg.function([x], sg.grad(loss, x))
    steady(f_fwd, v), steady(f_grad, v)
    return {"forward": lambda: f_fwd(v), "gradient": lambda: f_grad(v)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    x, loss = chain_graph(steps, summed=True)
    t1 = time.perf_counter()
    gx = sg.grad(loss, x)
    t2 = time.perf_counter()
    f = sg.function([x], gx)
    t3 = time.perf_counter()
    value = f(v)
    t4 = time.perf_counter()
    return {"build": t1 - t0, "gradient": t2 - t1, "function": t3 - t2,
            "first call": t4 - t3}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    g = sg.Graph()
    x0 = g.placeholder("x")
    y = x0
    for _ in range(depth):
        y = sg.sin(y) + sg.cos(y)
    gx = sg.grad(y, x0)
    f = sg.function([x0], gx)
    return lambda: f(x), node_counts(gx)


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    x0, d = tanh_derivative(4)
    f = sg.function([x0], d)
    return lambda: f(x), node_counts(d)
