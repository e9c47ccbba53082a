"""The per-op test case: input specs with a domain, params, a NumPy reference, and one checker.

Every family test module (tests/ops/test_*.py) holds a table `CASES` of `OpCase`s; `all_cases()`
gathers them, for the coverage meta-test here and for the derivative tests to reuse.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest

import symgrad as sg

FAMILIES = ("elementwise", "reductions", "shape", "rearrange", "matrix", "contract", "indexing",
            "updates", "linalg", "nn", "control")
DOMAINS = ("normal", "positive", "away_from_zero", "distinct", "index", "bool", "probs", "spd",
           "well_conditioned", "unit", "above_one")


@dataclass(frozen=True)
class InputSpec:
    """One input: the placeholder's static shape (None allowed), dtype, and where values lie.

    `feed_shape` is the shape of the values fed (needed when `shape` holds None); `high` bounds
    the "index" domain (integers in [0, high)).
    """

    shape: tuple
    dtype: str = "float64"
    domain: str = "normal"
    high: int = 0
    feed_shape: tuple | None = None

    def __post_init__(self) -> None:
        assert self.domain in DOMAINS, self.domain

    @property
    def is_float(self) -> bool:
        return np.dtype(self.dtype).kind == "f"

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        shape = self.feed_shape if self.feed_shape is not None else self.shape
        n = int(np.prod(shape, dtype=int))
        if self.domain == "normal":
            x = rng.standard_normal(shape)
        elif self.domain == "positive":  # log, sqrt, power's base: x > 0, well inside
            x = rng.uniform(0.5, 2.0, shape)
        elif self.domain == "away_from_zero":  # abs, sign, relu: no kink within reach of FD
            x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
        elif self.domain == "distinct":  # max, min, argmax: no ties, gaps of at least 0.4
            x = (rng.permutation(n) * 0.5 + rng.uniform(0, 0.1, n) - n / 4).reshape(shape)
        elif self.domain == "unit":  # arcsin, arctanh, tan: |x| < 1, away from the poles at +-1
            x = rng.uniform(-0.9, 0.9, shape)
        elif self.domain == "above_one":  # arccosh: x > 1, away from the pole of its derivative
            x = rng.uniform(1.2, 3.0, shape)
        elif self.domain == "index":
            x = rng.integers(0, self.high, shape)
        elif self.domain == "bool":
            x = rng.random(shape) < 0.5
        elif self.domain == "probs":  # non-negative rows summing to 1 along the last axis
            p = rng.uniform(0.1, 1.0, shape)
            x = p / p.sum(axis=-1, keepdims=True)
        elif self.domain == "spd":  # symmetric positive definite (a stack of), eigenvalues >= 1
            b = rng.standard_normal(shape)
            x = b @ np.swapaxes(b, -1, -2) / shape[-1] + np.eye(shape[-1])
        else:  # "well_conditioned": 2 I + small noise, so every triangle is well-conditioned too
            x = 2 * np.eye(shape[-1]) + 0.3 * rng.standard_normal(shape)
        return np.asarray(x).astype(self.dtype)


def normal(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "normal", **kw)


def positive(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "positive", **kw)


def away_from_zero(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "away_from_zero", **kw)


def distinct(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "distinct", **kw)


def unit(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "unit", **kw)


def above_one(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "above_one", **kw)


def index(shape, high, dtype="int64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "index", high=high, **kw)


def boolean(shape, **kw) -> InputSpec:
    return InputSpec(tuple(shape), "bool", "bool", **kw)


def probs(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "probs", **kw)


def spd(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "spd", **kw)


def well_conditioned(shape, dtype="float64", **kw) -> InputSpec:
    return InputSpec(tuple(shape), dtype, "well_conditioned", **kw)


@dataclass(frozen=True)
class OpCase:
    """One way to call one op.

    `build(placeholders)` makes the symbolic node (through `builder`, by default the public
    builder `sg.<op>`, called as `builder(*placeholders, **params)`); `reference(*arrays,
    **params)` is the NumPy answer. `label` tells cases of one op apart in test ids.
    """

    op: str
    inputs: list[InputSpec]
    params: dict[str, Any] = field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    builder: Callable[..., sg.Tensor] | None = None
    label: str = ""
    static_only: bool = False  # with every dimension unknown, building raises ShapeError
    sized_by_values: bool = False  # the result has a None dimension (a mask's count)

    @property
    def id(self) -> str:
        return f"{self.op}[{self.label}]" if self.label else self.op

    @property
    def wrt(self) -> list[int]:
        """Positions of the inputs a derivative can be taken with respect to (float inputs)."""
        return [i for i, s in enumerate(self.inputs) if s.is_float]

    def placeholders(self, graph: sg.Graph, dynamic: bool = False) -> list[sg.Tensor]:
        """One placeholder per input, x0, x1, ...; `dynamic`: every dimension None."""
        return [
            graph.placeholder(f"x{i}", (None,) * len(s.shape) if dynamic else s.shape, s.dtype)
            for i, s in enumerate(self.inputs)
        ]

    def build(self, placeholders: list[sg.Tensor]) -> sg.Tensor:
        builder = self.builder if self.builder is not None else getattr(sg, self.op)
        return builder(*placeholders, **self.params)

    def sample(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [s.sample(rng) for s in self.inputs]

    def expected(self, arrays: list[np.ndarray]) -> np.ndarray:
        assert self.reference is not None, f"case {self.id} has no NumPy reference"
        return np.asarray(self.reference(*arrays, **self.params))

    def as_float32(self) -> OpCase:
        """The same case with every float64 input float32."""
        specs = [replace(s, dtype="float32") if s.dtype == "float64" else s for s in self.inputs]
        return replace(self, inputs=specs)


def shape_fits(static: tuple, actual: tuple) -> bool:
    """Whether an inferred static shape (None: unknown) admits a run-time shape."""
    return len(static) == len(actual) and all(s is None or s == a for s, a in zip(static, actual))


def assert_same(got: np.ndarray, want: np.ndarray, what: str = "") -> None:
    """Same dtype and shape, and values equal (floats: close for their precision)."""
    assert isinstance(got, np.ndarray), f"{what}: got {type(got).__name__}, not an ndarray"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy gives {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy gives {want.shape}"
    if got.dtype.kind in "fc":
        tol = 1e-5 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def check_forward(case: OpCase, rng: np.random.Generator, dynamic: bool = False
                  ) -> sg.Tensor | None:
    """compute against NumPy, infer against the result; by evaluate and by a compiled function.

    `dynamic`: placeholders with every dimension None, fed the same values (a `static_only`
    case must refuse them: ShapeError naming the op; then None is returned).
    """
    g = sg.Graph()
    xs = case.placeholders(g, dynamic)
    if dynamic and case.static_only:
        with pytest.raises(sg.ShapeError, match=case.op):
            case.build(xs)
        return None
    out = case.build(xs)
    assert isinstance(out, sg.Tensor) and out.graph is g
    assert case.op in {out.op} | {t.op for t in out.inputs}, f"{case.id} built {out.op}"
    arrays = case.sample(rng)
    want = case.expected(arrays)
    got = sg.evaluate(out, dict(zip(xs, arrays)))
    assert_same(got, want, f"{case.id} evaluate")
    assert out.dtype == got.dtype, f"{case.id}: infer says {out.dtype}, compute gives {got.dtype}"
    assert shape_fits(out.shape, got.shape), (
        f"{case.id}: infer says {out.shape}, compute gives {got.shape}")
    if not dynamic and not case.sized_by_values:
        assert None not in out.shape or any(None in s.shape for s in case.inputs), (
            f"{case.id}: static inputs, yet infer left a dimension unknown: {out.shape}")
    got_f = sg.function(xs, out)(*arrays)
    assert_same(got_f, want, f"{case.id} function")
    return out


def all_cases() -> list[OpCase]:
    """Every family's CASES table."""
    cases: list[OpCase] = []
    for family in FAMILIES:
        cases += importlib.import_module(f"tests.ops.test_{family}").CASES
    return cases


def by_id(cases: list[OpCase]):
    """pytest.mark.parametrize over cases, named by case id."""
    return pytest.mark.parametrize("case", cases, ids=lambda c: c.id)


def float32_cases(cases: list[OpCase]) -> list[OpCase]:
    """The cases that have a float64 input, turned float32."""
    return [c.as_float32() for c in cases if any(s.dtype == "float64" for s in c.inputs)]


DTYPES = ("bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64")


def check_dtype(build: Callable[..., sg.Tensor], arity: int, dtype: str) -> np.dtype | None:
    """An op's declared dtype is the dtype its compute returns, for an input dtype it accepts;
    one it cannot take raises ShapeError when the node is built (then None is returned).
    A float input keeps its precision (float16 stays float16, float32 float32)."""
    g = sg.Graph()
    xs = [g.placeholder(f"x{i}", (2, 3), dtype) for i in range(arity)]
    try:
        out = build(*xs)
    except sg.ShapeError:
        return None
    value = np.arange(1, 7).reshape(2, 3).astype(dtype)
    with np.errstate(all="ignore"):  # domains do not matter here, dtypes do
        got = sg.evaluate(out, dict.fromkeys(xs, value))
    assert got.dtype == out.dtype, f"infer says {out.dtype}, compute gives {got.dtype}"
    if np.dtype(dtype).kind == "f" and got.dtype.kind == "f":
        assert got.dtype == dtype, f"{dtype} input, {got.dtype} result"
    return out.dtype
