"""PyTensor: symbolic graphs, pytensor.grad, pytensor.function with its C backend (the CVM
linker: C thunks and a C loop) where a C++ compiler works, else its default backend."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt
from common import HID, LAM, D, K, N
from pytensor.gradient import hessian_vector_product
from pytensor.graph.traversal import applys_between

NAME, LABEL = "pytensor", "PyTensor"
MODE = "CVM" if pytensor.config.cxx else None  # None: PyTensor's default mode


def version() -> str:
    how = (f"C backend (CVM linker, {pytensor.config.cxx})" if MODE else
           f"no C++ compiler: default mode {pytensor.config.mode}")
    if MODE and not pytensor.config.blas__ldflags:  # a pip install finds no BLAS to link
        how += "; no BLAS linked, matrix products call NumPy's"
    return f"{pytensor.__version__}, {how}"


def _function(ins: list, outs: object) -> Callable:
    return pytensor.function(ins, outs, mode=MODE)


def warm() -> None:
    x = pt.dvector("x")
    _function([x], pytensor.grad(pt.tanh(x).sum(), x))(np.ones(2))


def _nodes(ins: list, out: object, f: Callable) -> dict[str, int]:
    return {"graph": sum(1 for _ in applys_between(ins, [out])),
            "compiled": len(f.maker.fgraph.apply_nodes)}


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    X, W1, V1 = (pt.tensor(n, dtype=dtype, shape=s) for n, s in
                 (("X", (N, D)), ("W1", (D, HID)), ("V1", (D, HID))))
    W2, V2 = (pt.tensor(n, dtype=dtype, shape=(HID, K)) for n in ("W2", "V2"))
    y = pt.tensor("y", dtype="int64", shape=(N,))
    z = pt.maximum(X @ W1, 0) @ W2
    nll = pt.logsumexp(z, axis=1) - z[pt.arange(N), y]
    loss = nll.mean() + LAM * ((W1 ** 2).sum() + (W2 ** 2).sum())
    f_loss = _function([X, y, W1, W2], loss)
    f_grad = _function([X, y, W1, W2], [loss, *pytensor.grad(loss, [W1, W2])])
    f_hvp = _function([X, y, W1, W2, V1, V2], hessian_vector_product(loss, [W1, W2], [V1, V2]))
    Xv, yv, W1v, W2v, V1v, V2v = data
    return {"forward": lambda: f_loss(Xv, yv, W1v, W2v),
            "gradients": lambda: f_grad(Xv, yv, W1v, W2v),
            "hvp": lambda: f_hvp(Xv, yv, W1v, W2v, V1v, V2v)}


def _chain(x, steps: int):
    y = x
    for _ in range(steps):
        y = pt.tanh(y) * 0.9 + 0.1 * pt.sin(y)
    return y


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    x = pt.dvector("x")
    y = _chain(x, steps)
    fwd, g = _function([x], y), _function([x], pytensor.grad(y.sum(), x))
    return {"forward": lambda: fwd(v), "gradient": lambda: g(v)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    x = pt.dvector("x")
    y = _chain(x, steps)
    t1 = time.perf_counter()
    gx = pytensor.grad(y.sum(), x)
    t2 = time.perf_counter()
    f = _function([x], gx)
    t3 = time.perf_counter()
    value = f(v)
    t4 = time.perf_counter()
    return {"build": t1 - t0, "gradient": t2 - t1, "function (rewrite, C compile)": t3 - t2,
            "first call": t4 - t3}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    x0 = pt.dscalar("x")
    y = x0
    for _ in range(depth):
        y = pt.sin(y) + pt.cos(y)
    gx = pytensor.grad(y, x0)
    f = _function([x0], gx)
    return lambda: f(x), _nodes([x0], gx, f)


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    x0 = pt.dscalar("x")
    d = pt.tanh(x0)
    for _ in range(4):
        d = pytensor.grad(d, x0)
    f = _function([x0], d)
    return lambda: f(x), _nodes([x0], d, f)
