"""autograd (HIPS): NumPy code traced on every call; grad, value_and_grad, grad of grad."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import version as _dist_version

import autograd.numpy as anp
import numpy as np
from autograd import grad, value_and_grad
from autograd.scipy.special import logsumexp
from common import LAM

NAME, LABEL = "autograd", "autograd"


def version() -> str:
    return _dist_version("autograd")


def warm() -> None:
    grad(lambda x: anp.sum(anp.tanh(x)))(np.ones(2))


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    X, y, W1, W2, V1, V2 = data
    rows = np.arange(len(y))

    def loss(W1, W2):
        z = anp.dot(anp.maximum(anp.dot(X, W1), 0.0), W2)
        nll = logsumexp(z, axis=1) - z[rows, y]
        return anp.mean(nll) + LAM * (anp.sum(W1 * W1) + anp.sum(W2 * W2))

    loss_and_grads = value_and_grad(loss, (0, 1))
    grads = grad(loss, (0, 1))

    def directional(W1, W2):  # H v = d/dW <grad(W), v>: reverse over reverse
        g1, g2 = grads(W1, W2)
        return anp.sum(g1 * V1) + anp.sum(g2 * V2)

    hvp = grad(directional, (0, 1))
    return {"forward": lambda: loss(W1, W2),
            "gradients": lambda: (lambda lg: (lg[0], *lg[1]))(loss_and_grads(W1, W2)),
            "hvp": lambda: hvp(W1, W2)}


def _chain(x, steps: int):
    y = x
    for _ in range(steps):
        y = anp.tanh(y) * 0.9 + 0.1 * anp.sin(y)
    return y


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    g = grad(lambda x: anp.sum(_chain(x, steps)))
    return {"forward": lambda: _chain(v, steps), "gradient": lambda: g(v)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    value = grad(lambda x: anp.sum(_chain(x, steps)))(v)  # no graph kept: trace and backward
    return {"first call": time.perf_counter() - t0}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    def f(y):
        for _ in range(depth):
            y = anp.sin(y) + anp.cos(y)
        return y
    g = grad(f)
    return lambda: g(x), {}


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    d = anp.tanh
    for _ in range(4):
        d = grad(d)
    return lambda: d(x), {}
