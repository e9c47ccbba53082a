"""Random graphs for property tests: a hypothesis strategy over every op and its params.

A drawn `Program` is a list of steps over a pool of values; `build()` makes the symgrad graph
and `reference()` computes the same values with straight NumPy, independently of symgrad's
evaluator. Inputs mix shapes that broadcast, a dimension known only at run time, float32 and
float64; integer and boolean paths come from comparisons, casts, argmax and indices; the
multi-output max_and_argmax appears too. `smooth=True` draws only ops differentiable
everywhere on their (wrapped) domain, for finite-difference checks.

Each op table row: (op, arity, builder(sg, *xs, **params), reference(np, *xs, **params),
params sampler, kind). Inputs are wrapped into the op's domain (log of softplus(x) + 0.5, say)
in both interpretations alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import symgrad as sg

# Input placeholders: (name, static shape, run-time shape)
INPUT_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((None, 3), (2, 3)), ((2, 1), (2, 1))]


def _special():
    import scipy.special

    return scipy.special


def _softplus(x):
    return np.logaddexp(0, x)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _set_first(np, x):
    y = x.copy()
    y[0] = np.sin(x[0])
    return y


def _add_first(np, x):
    y = x.copy()
    np.add.at(y, [0, 0], np.sin(x[0]))
    return y


def _spd(sg, x):
    n = x.shape[-2]
    return x @ sg.swapaxes(x, -1, -2) + 3.0 * np.eye(n)


def _spd_np(x):
    return x @ np.swapaxes(x, -1, -2) + 3.0 * np.eye(x.shape[-2])


@dataclass(frozen=True)
class OpGen:
    """How to draw one op: its arity, both interpretations and its params."""

    op: str
    arity: int
    build: Callable[..., Any]
    ref: Callable[..., Any]
    params: Callable[[Any, list[tuple]], dict] | None = None  # (draw, input shapes) -> params
    smooth: bool = True
    needs_rank: int = 0  # the least rank of the first input
    same_shape: bool = False  # inputs of one shape (no broadcasting)
    static: bool = False  # its first input's shape must be fully known


def _axis_params(draw, shapes):
    nd = len(shapes[0])
    axis = draw(st.sampled_from([None, *range(-nd, nd)] + ([(0, nd - 1)] if nd >= 2 else [])))
    return {"axis": axis, "keepdims": draw(st.booleans())}


def _one_axis(draw, shapes):
    nd = len(shapes[0])
    return {"axis": draw(st.sampled_from(list(range(-nd, nd))))}


def _transpose_params(draw, shapes):
    return {"axes": tuple(draw(st.permutations(range(len(shapes[0])))))}


def _getitem_params(draw, shapes):
    shape = shapes[0]
    choice = draw(st.sampled_from(["int", "slice", "newaxis", "ellipsis"]))
    if choice == "int" and shape and shape[0] is not None:
        return {"index": draw(st.integers(-shape[0], shape[0] - 1))}
    if choice == "slice":
        return {"index": slice(draw(st.sampled_from([None, 0, 1])), None,
                               draw(st.sampled_from([None, 1, 2, -1])))}
    if choice == "newaxis":
        return {"index": (None, Ellipsis)}
    return {"index": (Ellipsis, None)}


GENS: list[OpGen] = [
    # elementwise, unary (wrapped into their domains where they have one)
    OpGen("negative", 1, lambda sg, x: -x, lambda np, x: -x),
    OpGen("exp", 1, lambda sg, x: sg.exp(sg.tanh(x)), lambda np, x: np.exp(np.tanh(x))),
    OpGen("log", 1, lambda sg, x: sg.log(sg.softplus(x) + 0.5),
          lambda np, x: np.log(_softplus(x) + 0.5)),
    OpGen("log1p", 1, lambda sg, x: sg.log1p(sg.square(x)), lambda np, x: np.log1p(x * x)),
    OpGen("sqrt", 1, lambda sg, x: sg.sqrt(sg.square(x) + 0.5), lambda np, x: np.sqrt(x * x + 0.5)),
    OpGen("square", 1, lambda sg, x: sg.square(x), lambda np, x: np.square(x)),
    OpGen("sin", 1, lambda sg, x: sg.sin(x), lambda np, x: np.sin(x)),
    OpGen("cos", 1, lambda sg, x: sg.cos(x), lambda np, x: np.cos(x)),
    OpGen("tanh", 1, lambda sg, x: sg.tanh(x), lambda np, x: np.tanh(x)),
    OpGen("sigmoid", 1, lambda sg, x: sg.sigmoid(x), lambda np, x: _sigmoid(x)),
    OpGen("softplus", 1, lambda sg, x: sg.softplus(x), lambda np, x: _softplus(x)),
    OpGen("relu", 1, lambda sg, x: sg.relu(x), lambda np, x: np.maximum(x, 0), smooth=False),
    OpGen("abs", 1, lambda sg, x: sg.abs(x), lambda np, x: np.abs(x), smooth=False),
    OpGen("sign", 1, lambda sg, x: sg.sign(x) * x, lambda np, x: np.sign(x) * x, smooth=False),
    OpGen("stop_gradient", 1, lambda sg, x: sg.stop_gradient(x) * x, lambda np, x: x * x,
          smooth=False),
    OpGen("zeros_like", 1, lambda sg, x: sg.zeros_like(x) + x, lambda np, x: x + 0.0),
    OpGen("ones_like", 1, lambda sg, x: sg.ones_like(x) * x, lambda np, x: x * 1.0),
    OpGen("cast", 1, lambda sg, x: x.astype("float32").astype(x.dtype) + x,
          lambda np, x: x.astype(np.float32).astype(x.dtype) + x, smooth=False),
    OpGen("expm1", 1, lambda sg, x: sg.expm1(sg.tanh(x)), lambda np, x: np.expm1(np.tanh(x))),
    OpGen("exp2", 1, lambda sg, x: sg.exp2(sg.tanh(x)), lambda np, x: np.exp2(np.tanh(x))),
    OpGen("log2", 1, lambda sg, x: sg.log2(sg.square(x) + 0.5), lambda np, x: np.log2(x * x + 0.5)),
    OpGen("log10", 1, lambda sg, x: sg.log10(sg.square(x) + 0.5),
          lambda np, x: np.log10(x * x + 0.5)),
    OpGen("reciprocal", 1, lambda sg, x: sg.reciprocal(sg.square(x) + 0.5),
          lambda np, x: 1 / (x * x + 0.5)),
    OpGen("tan", 1, lambda sg, x: sg.tan(sg.tanh(x)), lambda np, x: np.tan(np.tanh(x))),
    OpGen("arcsin", 1, lambda sg, x: sg.arcsin(sg.tanh(x) * 0.9),
          lambda np, x: np.arcsin(np.tanh(x) * 0.9)),
    OpGen("arccos", 1, lambda sg, x: sg.arccos(sg.tanh(x) * 0.9),
          lambda np, x: np.arccos(np.tanh(x) * 0.9)),
    OpGen("arctan", 1, lambda sg, x: sg.arctan(x), lambda np, x: np.arctan(x)),
    OpGen("sinh", 1, lambda sg, x: sg.sinh(sg.tanh(x)), lambda np, x: np.sinh(np.tanh(x))),
    OpGen("cosh", 1, lambda sg, x: sg.cosh(sg.tanh(x)), lambda np, x: np.cosh(np.tanh(x))),
    OpGen("arcsinh", 1, lambda sg, x: sg.arcsinh(x), lambda np, x: np.arcsinh(x)),
    OpGen("arccosh", 1, lambda sg, x: sg.arccosh(sg.square(x) + 1.5),
          lambda np, x: np.arccosh(x * x + 1.5)),
    OpGen("arctanh", 1, lambda sg, x: sg.arctanh(sg.tanh(x) * 0.9),
          lambda np, x: np.arctanh(np.tanh(x) * 0.9)),
    OpGen("erf", 1, lambda sg, x: sg.erf(x), lambda np, x: _special().erf(x)),
    OpGen("erfc", 1, lambda sg, x: sg.erfc(x), lambda np, x: _special().erfc(x)),
    OpGen("gelu", 1, lambda sg, x: sg.gelu(x),
          lambda np, x: x * 0.5 * (1 + _special().erf(x / 2 ** 0.5))),
    OpGen("silu", 1, lambda sg, x: sg.silu(x), lambda np, x: x * _sigmoid(x)),
    OpGen("leaky_relu", 1, lambda sg, x: sg.leaky_relu(x, 0.1),
          lambda np, x: np.where(x > 0, x, 0.1 * x), smooth=False),
    OpGen("elu", 1, lambda sg, x: sg.elu(x), lambda np, x: np.where(x > 0, x, np.expm1(x)),
          smooth=False),
    OpGen("floor", 1, lambda sg, x: sg.floor(x) + x, lambda np, x: np.floor(x) + x, smooth=False),
    OpGen("ceil", 1, lambda sg, x: sg.ceil(x) * x, lambda np, x: np.ceil(x) * x, smooth=False),
    OpGen("round", 1, lambda sg, x: sg.round(x, 1), lambda np, x: np.round(x, 1), smooth=False),
    OpGen("trunc", 1, lambda sg, x: sg.trunc(x) - x, lambda np, x: np.trunc(x) - x, smooth=False),
    OpGen("clip", 1, lambda sg, x: sg.clip(x, -0.5, 0.7), lambda np, x: np.clip(x, -0.5, 0.7),
          smooth=False),
    # elementwise, binary: broadcasting between the two
    OpGen("arctan2", 2, lambda sg, x, y: sg.arctan2(x, sg.square(y) + 0.5),
          lambda np, x, y: np.arctan2(x, y * y + 0.5)),
    OpGen("hypot", 2, lambda sg, x, y: sg.hypot(x, sg.square(y) + 0.5),
          lambda np, x, y: np.hypot(x, y * y + 0.5)),
    OpGen("logaddexp", 2, lambda sg, x, y: sg.logaddexp(x, y), lambda np, x, y: np.logaddexp(x, y)),
    OpGen("mod", 2, lambda sg, x, y: sg.mod(x, sg.square(y) + 0.5),
          lambda np, x, y: np.mod(x, y * y + 0.5), smooth=False),
    OpGen("add", 2, lambda sg, x, y: x + y, lambda np, x, y: x + y),
    OpGen("subtract", 2, lambda sg, x, y: x - y, lambda np, x, y: x - y),
    OpGen("multiply", 2, lambda sg, x, y: x * y, lambda np, x, y: x * y),
    OpGen("divide", 2, lambda sg, x, y: x / (sg.square(y) + 0.5),
          lambda np, x, y: x / (y * y + 0.5)),
    OpGen("power", 2, lambda sg, x, y: (sg.softplus(x) + 0.5) ** sg.tanh(y),
          lambda np, x, y: (_softplus(x) + 0.5) ** np.tanh(y)),
    OpGen("maximum", 2, lambda sg, x, y: sg.maximum(x, y), lambda np, x, y: np.maximum(x, y),
          smooth=False),
    OpGen("minimum", 2, lambda sg, x, y: sg.minimum(x, y), lambda np, x, y: np.minimum(x, y),
          smooth=False),
    OpGen("where", 2, lambda sg, x, y: sg.where(x > y, x * y, x - y),
          lambda np, x, y: np.where(x > y, x * y, x - y), smooth=False),
    OpGen("equal", 2, lambda sg, x, y: sg.where(sg.equal(x, y), x, y * 2.0),
          lambda np, x, y: np.where(x == y, x, y * 2.0), smooth=False),
    OpGen("not_equal", 2, lambda sg, x, y: sg.where(sg.not_equal(x, x), y, x),
          lambda np, x, y: np.broadcast_to(x, np.broadcast_shapes(x.shape, y.shape)) + 0 * y),
    OpGen("less", 2, lambda sg, x, y: (x < y).astype(x.dtype) * y,
          lambda np, x, y: (x < y).astype(x.dtype) * y, smooth=False),
    OpGen("less_equal", 2, lambda sg, x, y: sg.where(x <= y, y, x),
          lambda np, x, y: np.where(x <= y, y, x), smooth=False),
    OpGen("greater_equal", 2, lambda sg, x, y: sg.where(x >= 0.0, x, y),
          lambda np, x, y: np.where(x >= 0, x, y), smooth=False),
    # reductions
    OpGen("sum", 1, lambda sg, x, **p: x.sum(**p), lambda np, x, **p: np.sum(x, **p),
          _axis_params),
    OpGen("mean", 1, lambda sg, x, **p: x.mean(**p), lambda np, x, **p: np.mean(x, **p),
          _axis_params),
    OpGen("max", 1, lambda sg, x, **p: x.max(**p), lambda np, x, **p: np.max(x, **p),
          _axis_params, smooth=False),
    OpGen("min", 1, lambda sg, x, **p: sg.min(x, **p), lambda np, x, **p: np.min(x, **p),
          _axis_params, smooth=False),
    OpGen("logsumexp", 1, lambda sg, x, **p: sg.logsumexp(x, **p),
          lambda np, x, **p: _lse(x, **p), _axis_params),
    OpGen("prod", 1, lambda sg, x, **p: sg.prod(x, **p), lambda np, x, **p: np.prod(x, **p),
          _axis_params),
    OpGen("var", 1, lambda sg, x, **p: sg.var(x, **p), lambda np, x, **p: np.var(x, **p),
          _axis_params, smooth=False),
    OpGen("std", 1, lambda sg, x, **p: sg.std(x, **p), lambda np, x, **p: np.std(x, **p),
          _axis_params, smooth=False),
    OpGen("norm", 1, lambda sg, x, **p: sg.norm(x, **p),
          lambda np, x, **p: np.sqrt(np.sum(x * x, **p)), _axis_params, smooth=False),
    OpGen("cumsum", 1, lambda sg, x, axis: sg.cumsum(x, axis),
          lambda np, x, axis: np.cumsum(x, axis), _one_axis, needs_rank=1),
    OpGen("cumprod", 1, lambda sg, x, axis: sg.cumprod(x, axis),
          lambda np, x, axis: np.cumprod(x, axis), _one_axis, needs_rank=1),
    OpGen("all", 1, lambda sg, x, **p: sg.where(sg.all(x > 0, **p), 1.0, 0.0) + x.sum(),
          lambda np, x, **p: np.where(np.all(x > 0, **p), 1.0, 0.0) + x.sum(), _axis_params,
          smooth=False),
    OpGen("any", 1, lambda sg, x, **p: sg.where(sg.any(x > 0, **p), x.sum(), 0.0),
          lambda np, x, **p: np.where(np.any(x > 0, **p), x.sum(), 0.0), _axis_params,
          smooth=False),
    OpGen("argmin", 1, lambda sg, x, axis: sg.take(x, sg.argmin(x, axis=axis), axis=None),
          lambda np, x, axis: np.take(x, np.argmin(x, axis=axis)), _one_axis, smooth=False,
          needs_rank=1),
    OpGen("argmax", 1, lambda sg, x, axis: sg.take(x, sg.argmax(x, axis=axis), axis=None),
          lambda np, x, axis: np.take(x, np.argmax(x, axis=axis)), _one_axis, smooth=False,
          needs_rank=1),
    OpGen("max_and_argmax", 1,
          lambda sg, x, axis: sg.max_and_argmax(x, axis)[0]
          + sg.max_and_argmax(x, axis)[1].astype(x.dtype),
          lambda np, x, axis: np.max(x, axis=axis) + np.argmax(x, axis=axis).astype(x.dtype),
          _one_axis, smooth=False, needs_rank=1),
    # shapes
    OpGen("transpose", 1, lambda sg, x, axes: x.transpose(axes),
          lambda np, x, axes: np.transpose(x, axes), _transpose_params),
    OpGen("reshape", 1, lambda sg, x: x.reshape((-1,)), lambda np, x: x.reshape(-1)),
    OpGen("broadcast_to", 1, lambda sg, x: sg.broadcast_to(x, (2,) + x.shape),
          lambda np, x: np.broadcast_to(x, (2,) + x.shape), static=True),
    OpGen("getitem", 1, lambda sg, x, index: x[index], lambda np, x, index: x[index],
          _getitem_params, needs_rank=1),
    OpGen("concatenate", 2, lambda sg, x, y: sg.concatenate([x, y], 0),
          lambda np, x, y: np.concatenate([x, y], 0), needs_rank=1, same_shape=True),
    OpGen("stack", 2, lambda sg, x, y: sg.stack([x, y], -1), lambda np, x, y: np.stack([x, y], -1),
          same_shape=True),
    OpGen("take", 1, lambda sg, x: sg.take(x, np.array([0, 0, 1]), axis=-1)
          if x.shape[-1] != 1 else sg.take(x, np.array([0, 0]), axis=-1),
          lambda np, x: np.take(x, [0, 0, 1] if x.shape[-1] != 1 else [0, 0], axis=-1),
          needs_rank=1),
    OpGen("matmul", 2, lambda sg, x, y: x @ y.T, lambda np, x, y: x @ y.T, needs_rank=2,
          same_shape=True),
    OpGen("flip", 1, lambda sg, x, axis: sg.flip(x, axis), lambda np, x, axis: np.flip(x, axis),
          _one_axis, needs_rank=1),
    OpGen("roll", 1, lambda sg, x, axis: sg.roll(x, 1, axis=axis),
          lambda np, x, axis: np.roll(x, 1, axis=axis), _one_axis, needs_rank=1),
    OpGen("tile", 1, lambda sg, x: sg.tile(x, 2), lambda np, x: np.tile(x, 2)),
    OpGen("repeat", 1, lambda sg, x, axis: sg.repeat(x, 2, axis=axis),
          lambda np, x, axis: np.repeat(x, 2, axis=axis), _one_axis, needs_rank=1),
    OpGen("pad", 1, lambda sg, x: sg.pad(x, 1), lambda np, x: np.pad(x, 1)),
    OpGen("split", 1, lambda sg, x: sg.split(x, [1], axis=-1)[1] * 2.0,
          lambda np, x: np.split(x, [1], axis=-1)[1] * 2.0, needs_rank=1),
    OpGen("squeeze", 1, lambda sg, x: sg.squeeze(x[None], 0), lambda np, x: x + 0.0),
    OpGen("swapaxes", 1, lambda sg, x: sg.swapaxes(x, 0, -1), lambda np, x: np.swapaxes(x, 0, -1),
          needs_rank=1),
    OpGen("moveaxis", 1, lambda sg, x: sg.moveaxis(x, 0, -1), lambda np, x: np.moveaxis(x, 0, -1),
          needs_rank=1),
    OpGen("diagonal", 1, lambda sg, x: sg.diagonal(x), lambda np, x: np.diagonal(x).copy(),
          needs_rank=2),
    OpGen("trace", 1, lambda sg, x: sg.trace(x), lambda np, x: np.trace(x), needs_rank=2),
    OpGen("tril", 1, lambda sg, x: sg.tril(x), lambda np, x: np.tril(x), needs_rank=2),
    OpGen("triu", 1, lambda sg, x: sg.triu(x, 1), lambda np, x: np.triu(x, 1), needs_rank=2),
    OpGen("outer", 2, lambda sg, x, y: sg.outer(x, y), lambda np, x, y: np.outer(x, y)),
    OpGen("tensordot", 1, lambda sg, x: sg.tensordot(x, sg.sin(x), x.ndim),
          lambda np, x: np.tensordot(x, np.sin(x), x.ndim)),
    OpGen("einsum", 1, lambda sg, x: sg.einsum("...i,...i->...", x, sg.cos(x)),
          lambda np, x: np.einsum("...i,...i->...", x, np.cos(x)), needs_rank=1),
    OpGen("set_at", 1, lambda sg, x: sg.set_at(x, 0, sg.sin(x[0])), _set_first, needs_rank=1),
    OpGen("add_at", 1, lambda sg, x: sg.add_at(x, np.array([0, 0]), sg.sin(x[0])), _add_first,
          needs_rank=1),
    # linear algebra, on a symmetric positive definite matrix made of x (2, 3): x x^T + 3 I
    OpGen("inv", 1, lambda sg, x: sg.linalg.inv(_spd(sg, x)), lambda np, x: np.linalg.inv(
        _spd_np(x)), needs_rank=2, static=True),
    OpGen("det", 1, lambda sg, x: sg.linalg.det(_spd(sg, x)),
          lambda np, x: np.linalg.det(_spd_np(x)), needs_rank=2, static=True),
    OpGen("slogdet", 1, lambda sg, x: sg.linalg.slogdet(_spd(sg, x))[1],
          lambda np, x: np.linalg.slogdet(_spd_np(x))[1], needs_rank=2, static=True),
    OpGen("solve", 1, lambda sg, x: sg.linalg.solve(_spd(sg, x), x),
          lambda np, x: np.linalg.solve(_spd_np(x), x), needs_rank=2, static=True),
    OpGen("cholesky", 1, lambda sg, x: sg.linalg.cholesky(_spd(sg, x)),
          lambda np, x: np.linalg.cholesky(_spd_np(x)), needs_rank=2, static=True),
    OpGen("solve_triangular", 1, lambda sg, x: sg.linalg.solve_triangular(
        sg.linalg.cholesky(_spd(sg, x)), x, lower=True),
          lambda np, x: np.linalg.solve(np.linalg.cholesky(_spd_np(x)), x), needs_rank=2,
          static=True),
    # networks
    OpGen("softmax", 1, lambda sg, x, axis: sg.softmax(x, axis=axis),
          lambda np, x, axis: _softmax(x, axis), _one_axis, needs_rank=1),
    OpGen("log_softmax", 1, lambda sg, x, axis: sg.log_softmax(x, axis=axis),
          lambda np, x, axis: x - _lse(x, axis=axis, keepdims=True), _one_axis, needs_rank=1),
    OpGen("softmax_cross_entropy", 2, lambda sg, x, y: sg.softmax_cross_entropy(
        x, sg.softmax(y, axis=-1)),
          lambda np, x, y: -np.sum(_softmax(y, -1) * (x - _lse(x, -1, True)), axis=-1),
          needs_rank=1, same_shape=True),
]


@dataclass
class Program:
    """Inputs (name, static shape, run-time shape, dtype) and steps (gen index, pool indices,
    params); the last value (summed to a scalar) is the program's result."""

    inputs: list[tuple[str, tuple, tuple, str]]
    steps: list[tuple[int, tuple[int, ...], dict]] = field(default_factory=list)

    def build(self) -> tuple[sg.Graph, list[sg.Tensor], list[sg.Tensor]]:
        """The graph, its placeholders, and every value of the pool (inputs first)."""
        g = sg.Graph()
        xs = [g.placeholder(n, s, d) for n, s, _, d in self.inputs]
        pool = list(xs)
        for k, args, params in self.steps:
            pool.append(GENS[k].build(sg, *[pool[i] for i in args], **params))
        return g, xs, pool

    def scalar_total(self, pool: list[sg.Tensor]) -> sg.Tensor | None:
        """The sum of the 0-d float64 values the program made (None: it made none)."""
        made = [t for t in pool[len(self.inputs):] if t.dtype == np.float64 and t.shape == ()]
        if not made:
            return None
        total = made[0]
        for t in made[1:]:
            total = total + t
        return total

    def values(self, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [rng.standard_normal(shape).astype(d) for _, _, shape, d in self.inputs]

    def reference(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Every value of the pool, by straight NumPy."""
        pool = [np.asarray(a) for a in arrays]
        with np.errstate(all="ignore"):
            for k, args, params in self.steps:
                pool.append(np.asarray(GENS[k].ref(np, *[pool[i] for i in args], **params)))
        return pool

    def __repr__(self) -> str:
        steps = ", ".join(f"{GENS[k].op}{args}{params or ''}" for k, args, params in self.steps)
        return f"Program(inputs={[(n, s, d) for n, s, _, d in self.inputs]}, steps=[{steps}])"


def _static(shape: tuple, runtime: tuple) -> tuple:
    return tuple(runtime[i] if d is None else d for i, d in enumerate(shape))


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@st.composite
def programs(draw, max_steps: int = 6, smooth: bool = False, dtypes=("float64", "float32"),
             shapes=INPUT_SHAPES, ops: Callable[[str], bool] | None = None) -> Program:
    """A random program; `smooth`: only ops differentiable everywhere on their domain;
    `shapes`: the (static, run-time) shapes inputs are drawn from; `ops`: which ops to draw."""
    n_inputs = draw(st.integers(1, 3))
    inputs = []
    for i in range(n_inputs):
        static, runtime = draw(st.sampled_from(shapes))
        inputs.append((f"x{i}", static, runtime, draw(st.sampled_from(dtypes))))
    prog = Program(inputs)
    shapes = [(s, r) for _, s, r, _ in inputs]  # static and run-time shape of each pool value
    gens = [k for k, gen in enumerate(GENS)
            if (gen.smooth or not smooth) and (ops is None or ops(gen.op))]
    for _ in range(draw(st.integers(1, max_steps))):
        k = draw(st.sampled_from(gens))
        gen = GENS[k]
        first = draw(st.integers(0, len(shapes) - 1))
        if len(shapes[first][1]) < gen.needs_rank or (gen.static and None in shapes[first][0]):
            continue
        args = [first]
        if gen.arity == 2:
            fits = [j for j, (_, r) in enumerate(shapes)
                    if (r == shapes[first][1] if gen.same_shape
                        else _broadcasts(r, shapes[first][1]))]
            args.append(draw(st.sampled_from(fits)))
        params = gen.params(draw, [shapes[a][0] for a in args]) if gen.params else {}
        prog.steps.append((k, tuple(args), params))
        try:
            g, xs, pool = prog.build()
        except (sg.ShapeError, TypeError):  # a combination the op refuses: drawn again
            prog.steps.pop()
            continue
        try:
            runtime = prog.reference([np.zeros(r, d) for _, _, r, d in inputs])[-1].shape
        except ValueError:  # NumPy refuses it too (a maximum of nothing): drawn again
            prog.steps.pop()
            continue
        shapes.append((pool[-1].shape, runtime))
    return prog
