"""PyTorch eager on CPU: a tape recorded on every call, torch.autograd.grad (create_graph for
second and higher derivatives); forward-only calls under torch.no_grad()."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from common import LAM

NAME, LABEL = "torch", "PyTorch eager"


def version() -> str:
    return f"{torch.__version__} (eager, {torch.get_num_threads()} threads)"


def warm() -> None:
    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    torch.autograd.grad(torch.tanh(x).sum(), x)


def mlp(dtype: str, data: tuple) -> dict[str, Callable[[], object]]:
    X, y, W1, W2, V1, V2 = (torch.from_numpy(a) for a in data)
    W1.requires_grad_()
    W2.requires_grad_()

    def loss():
        z = torch.relu(X @ W1) @ W2
        return F.cross_entropy(z, y) + LAM * (W1.square().sum() + W2.square().sum())

    def forward():
        with torch.no_grad():
            return loss()

    def gradients():
        value = loss()
        return (value.detach(), *torch.autograd.grad(value, [W1, W2]))

    def hvp():  # reverse over reverse: differentiate <grad, v>
        gs = torch.autograd.grad(loss(), [W1, W2], create_graph=True)
        return torch.autograd.grad(gs, [W1, W2], grad_outputs=[V1, V2])

    return {"forward": forward, "gradients": gradients, "hvp": hvp}


def _chain(x, steps: int):
    y = x
    for _ in range(steps):
        y = torch.tanh(y) * 0.9 + 0.1 * torch.sin(y)
    return y


def _grad_of_chain(v: torch.Tensor, steps: int):
    x = v.detach().requires_grad_()
    return torch.autograd.grad(_chain(x, steps).sum(), x)[0]


def chain(steps: int, v: np.ndarray) -> dict[str, Callable[[], object]]:
    vt = torch.from_numpy(v)

    def forward():
        with torch.no_grad():
            return _chain(vt, steps)

    return {"forward": forward, "gradient": lambda: _grad_of_chain(vt, steps)}


def first_gradient(steps: int, v: np.ndarray) -> tuple[dict[str, float], object]:
    t0 = time.perf_counter()
    x = torch.from_numpy(v).requires_grad_()
    y = _chain(x, steps).sum()  # runs the forward pass and records the tape
    t1 = time.perf_counter()
    (gx,) = torch.autograd.grad(y, x)
    t2 = time.perf_counter()
    return {"forward (tape)": t1 - t0, "backward": t2 - t1}, gx


def diamond(depth: int, x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    xt = torch.tensor(float(x), dtype=torch.float64)

    def grad():
        x0 = xt.detach().requires_grad_()
        y = x0
        for _ in range(depth):
            y = torch.sin(y) + torch.cos(y)
        return torch.autograd.grad(y, x0)[0]

    return grad, {}


def tanh4(x: np.float64) -> tuple[Callable[[], object], dict[str, int]]:
    xt = torch.tensor(float(x), dtype=torch.float64)

    def d4():
        x0 = xt.detach().requires_grad_()
        d = torch.tanh(x0)
        for k in range(4):
            (d,) = torch.autograd.grad(d, x0, create_graph=k < 3)
        return d

    return d4, {}
