"""CasADi: SX (scalar expression graphs) for W2-W5; W1 in MX (matrix graphs), since SX would
spell out the MLP's products as ~10^8 scalar nodes. float64 only."""

from __future__ import annotations

import time
from collections.abc import Callable

import casadi as ca
import numpy as np
from common import HID, LAM, D, K, N

from systems import Unsupported

NAME, LABEL = "casadi", "CasADi (SX)"


def version() -> str:
    return f"{ca.__version__} (SX; MX for W1)"


def warm() -> None:
    x = ca.SX.sym("x", 2)
    ca.Function("w", [x], [ca.gradient(ca.sum1(ca.tanh(x)), x)])(np.ones(2))


def _instructions(f: ca.Function) -> dict[str, int]:
    return {"instructions": f.n_instructions()}


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    if dtype != "float64":
        raise Unsupported("CasADi computes in float64 only")
    X, Y = ca.MX.sym("X", N, D), ca.MX.sym("Y", N, K)  # labels as one-hot rows
    W1, W2 = ca.MX.sym("W1", D, HID), ca.MX.sym("W2", HID, K)
    V1, V2 = ca.MX.sym("V1", D, HID), ca.MX.sym("V2", HID, K)
    z = ca.mtimes(ca.fmax(ca.mtimes(X, W1), 0), W2)
    # MX has no row-wise max to shift by: the plain log-sum-exp (safe for these logits)
    nll = ca.log(ca.sum2(ca.exp(z))) - ca.sum2(z * Y)
    loss = ca.sum1(nll) / N + LAM * (ca.sumsqr(W1) + ca.sumsqr(W2))
    g1, g2 = ca.gradient(loss, W1), ca.gradient(loss, W2)
    along = ca.dot(g1, V1) + ca.dot(g2, V2)
    ins = [X, Y, W1, W2]
    f_loss = ca.Function("loss", ins, [loss])
    f_grad = ca.Function("grad", ins, [loss, g1, g2])
    f_hvp = ca.Function("hvp", ins + [V1, V2], [ca.gradient(along, W1), ca.gradient(along, W2)])
    Xv, yv, W1v, W2v, V1v, V2v = data
    eye = np.eye(K)

    def call(f: ca.Function, *rest: np.ndarray) -> object:
        return f(Xv, eye[yv], W1v, W2v, *rest)  # one-hot labels made on every call

    return {"forward": lambda: call(f_loss), "gradients": lambda: call(f_grad),
            "hvp": lambda: call(f_hvp, V1v, V2v)}


def _chain(x, steps: int):
    y = x
    for _ in range(steps):
        y = ca.tanh(y) * 0.9 + 0.1 * ca.sin(y)
    return y


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    x = ca.SX.sym("x", 16)
    y = _chain(x, steps)
    fwd = ca.Function("chain", [x], [y])
    g = ca.Function("grad", [x], [ca.gradient(ca.sum1(y), x)])
    return {"forward": lambda: fwd(v), "gradient": lambda: g(v)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    x = ca.SX.sym("x", 16)
    y = _chain(x, steps)
    t1 = time.perf_counter()
    gx = ca.gradient(ca.sum1(y), x)
    t2 = time.perf_counter()
    f = ca.Function("grad", [x], [gx])
    t3 = time.perf_counter()
    value = f(v)
    t4 = time.perf_counter()
    return {"build": t1 - t0, "gradient": t2 - t1, "function": t3 - t2,
            "first call": t4 - t3}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    x0 = ca.SX.sym("x")
    y = x0
    for _ in range(depth):
        y = ca.sin(y) + ca.cos(y)
    f = ca.Function("grad", [x0], [ca.gradient(y, x0)])
    xf = float(x)
    return lambda: f(xf), _instructions(f)


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    x0 = ca.SX.sym("x")
    d = ca.tanh(x0)
    for _ in range(4):
        d = ca.gradient(d, x0)
    f = ca.Function("d4", [x0], [d])
    xf = float(x)
    return lambda: f(xf), _instructions(f)
