"""Hand-written NumPy run as a system: its ratios to itself show how far timing noise goes."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from common import chain_grad_numpy, mlp_grad_numpy, mlp_hvp_numpy, mlp_numpy
from peers_workloads import chain_numpy, diamond_grad_numpy, tanh4_numpy

NAME, LABEL = "numpy", "hand-written NumPy"


def version() -> str:
    return np.__version__


def warm() -> None:
    np.tanh(np.ones(2))


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    X, y, W1, W2, V1, V2 = data
    return {"forward": lambda: mlp_numpy(X, y, W1, W2),
            "gradients": lambda: mlp_grad_numpy(X, y, W1, W2),
            "hvp": lambda: mlp_hvp_numpy(X, y, W1, W2, V1, V2)}


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    return {"forward": lambda: chain_numpy(v, steps),
            "gradient": lambda: chain_grad_numpy(v, steps)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    value = chain_grad_numpy(v, steps)
    return {"first call": time.perf_counter() - t0}, value


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    return lambda: diamond_grad_numpy(x, depth), {}


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    return lambda: tanh4_numpy(x), {}
