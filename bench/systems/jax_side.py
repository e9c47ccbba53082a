"""JAX: jax.grad / jax.value_and_grad / jvp-of-grad under jax.jit, 64-bit enabled, on CPU."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from common import LAM

jax.config.update("jax_enable_x64", True)  # float64 workloads stay float64

NAME, LABEL = "jax", "JAX (jit)"


def version() -> str:
    return f"{jax.__version__} (jit, XLA on {jax.devices()[0].platform})"


def warm() -> None:
    jax.jit(lambda a: a + 1.0)(np.ones(2)).block_until_ready()


def _ready(f: Callable, *args: object) -> Callable[[], object]:
    return lambda: jax.block_until_ready(f(*args))


def _eqns(f: Callable, *args: object) -> dict[str, int]:
    return {"jaxpr": len(jax.make_jaxpr(f)(*args).jaxpr.eqns)}


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    X, y, W1, W2, V1, V2 = (jnp.asarray(a) for a in data)

    def loss(W1, W2, X, y):
        z = jnp.maximum(X @ W1, 0.0) @ W2
        nll = jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
        return nll.mean() + LAM * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2))

    def loss_and_grads(W1, W2, X, y):
        value, (g1, g2) = jax.value_and_grad(loss, (0, 1))(W1, W2, X, y)
        return value, g1, g2

    def hvp(W1, W2, V1, V2, X, y):  # forward over reverse, as JAX's docs recommend
        return jax.jvp(lambda a, b: jax.grad(loss, (0, 1))(a, b, X, y), (W1, W2), (V1, V2))[1]

    return {"forward": _ready(jax.jit(loss), W1, W2, X, y),
            "gradients": _ready(jax.jit(loss_and_grads), W1, W2, X, y),
            "hvp": _ready(jax.jit(hvp), W1, W2, V1, V2, X, y)}


def _chain(x, steps: int):
    y = x
    for _ in range(steps):
        y = jnp.tanh(y) * 0.9 + 0.1 * jnp.sin(y)
    return y


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    x = jnp.asarray(v)
    fwd = jax.jit(lambda x: _chain(x, steps))
    g = jax.jit(jax.grad(lambda x: _chain(x, steps).sum()))
    return {"forward": _ready(fwd, x), "gradient": _ready(g, x)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    traced = jax.jit(jax.grad(lambda x: _chain(x, steps).sum())).trace(v)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    compiled = lowered.compile()
    t3 = time.perf_counter()
    value = jax.block_until_ready(compiled(v))
    t4 = time.perf_counter()
    return {"build + gradient (trace)": t1 - t0, "lower": t2 - t1, "compile (XLA)": t3 - t2,
            "first call": t4 - t3}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    def f(y):
        for _ in range(depth):
            y = jnp.sin(y) + jnp.cos(y)
        return y
    xj = jnp.asarray(x)
    return _ready(jax.jit(jax.grad(f)), xj), _eqns(jax.grad(f), xj)


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    d = jnp.tanh
    for _ in range(4):
        d = jax.grad(d)
    xj = jnp.asarray(x)
    return _ready(jax.jit(d), xj), _eqns(d, xj)
