"""Checking derivatives: central finite differences against the symbolic gradient graph."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .evaluate import evaluate
from .grad import gradients, jvp
from .tensor import Tensor, as_tensor_list


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
                 ) -> np.ndarray:
    """The gradient of a scalar function f at x by central differences, one element at a time."""
    x = np.array(x, dtype=np.float64 if x.dtype.kind != "f" else x.dtype)
    out = np.zeros(x.shape, dtype=np.float64)
    flat, grad = x.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(f(x))
        flat[i] = old - eps
        down = float(f(x))
        flat[i] = old
        grad[i] = (up - down) / (2 * eps)
    return out


def check_grads(
    y: Tensor,
    xs: Tensor | Sequence[Tensor],
    feed: dict,
    *,
    order: int = 2,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> None:
    """Asserts that the gradients of y (and, for order 2, of its gradients) match finite
    differences at `feed`. A random projection makes y, and then each gradient, a scalar.

    Defaults suit float64; where x or y is float32, a larger step and tolerances.
    """
    xs_list = as_tensor_list(xs, y.graph, "check_grads xs")

    def settings(x: Tensor) -> tuple[float, float, float]:
        single = x.dtype.itemsize <= 4 or y.dtype.itemsize <= 4
        return (eps or (1e-3 if single else 1e-6), rtol or (2e-2 if single else 1e-5),
                atol or (2e-2 if single else 1e-6))

    rng = np.random.default_rng(seed)
    graph = y.graph
    values = {(k if isinstance(k, Tensor) else graph.tensor(k)): np.asarray(v)
              for k, v in feed.items()}

    def project(t: Tensor) -> Tensor:
        if t.shape == ():
            return t
        r = rng.normal(size=evaluate(t, values).shape).astype(t.dtype)
        return (t * r).sum()

    s = project(y)
    for k in range(1, order + 1):
        gs = gradients(s, xs_list)
        got = evaluate(gs, values)
        for x, g, value in zip(xs_list, gs, got):
            assert g.dtype == x.dtype, f"gradient for {x.label} is {g.dtype}, not {x.dtype}"

            def f(v, x=x, s=s):
                return evaluate(s, {**values, x: v})

            step, rel, abs_ = settings(x)
            want = numeric_grad(f, values[x], step)
            np.testing.assert_allclose(
                value, want, rtol=rel, atol=abs_,
                err_msg=f"order {k} derivative with respect to {x.label}",
            )
        if k < order:
            total = None
            for g in gs:
                term = project(g)
                total = term if total is None else total + term
            s = total


def check_adjoint(y: Tensor, xs: Sequence[Tensor], feed: dict, rng: np.random.Generator,
                  tol: float = 1e-9) -> None:
    """Asserts <u, J v> = <J^T u, v> for random u and v: jvp (forward) against gradients
    (reverse) at `feed`."""
    y_value = evaluate(y, feed)
    u = rng.standard_normal(np.shape(y_value))
    vs = [rng.standard_normal(np.shape(feed[x])) for x in xs]
    jv = evaluate(jvp(y, xs, vs)[0], feed)
    jtu = evaluate(gradients(y, xs, grad_ys=u), feed)
    left = float(np.sum(u * jv))
    right = sum(float(np.sum(a * v)) for a, v in zip(jtu, vs))
    assert np.isclose(left, right, rtol=tol, atol=tol), (left, right)
