"""Every op's declared dtype is the dtype its compute returns, for every input dtype it accepts.

Each case of every family's table is rebuilt with its value inputs (not its indices, masks or
conditions) of each dtype below; an op refuses a dtype when the node is built (ShapeError or
TypeError), or its result, by evaluate and by a compiled function, has the dtype infer declared.
"""

import warnings
from dataclasses import replace

import numpy as np
import pytest

import symgrad as sg
from tests.ops.cases import all_cases

SWEEP = ("bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64")
VALUE_DOMAINS = ("normal", "positive", "away_from_zero", "distinct", "probs", "spd",
                 "well_conditioned", "unit", "above_one")


def _sample(spec, rng):
    kind = np.dtype(spec.dtype).kind
    shape = spec.feed_shape if spec.feed_shape is not None else spec.shape
    if spec.domain in ("spd", "well_conditioned"):  # 2 I: invertible, positive definite, any dtype
        return np.broadcast_to(2 * np.eye(shape[-1]), shape).astype(spec.dtype)
    if spec.domain not in VALUE_DOMAINS or kind == "f":
        return spec.sample(rng)
    if kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(0, 3, shape).astype(spec.dtype)  # small and non-negative: no wrap-around


@pytest.mark.parametrize("dtype", SWEEP)
@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_declared_dtype_is_the_computed_dtype(case, dtype, rng):
    specs = [replace(s, dtype=dtype) if s.domain in VALUE_DOMAINS else s for s in case.inputs]
    case = replace(case, inputs=specs)
    g = sg.Graph()
    xs = case.placeholders(g)
    try:
        out = case.build(xs)
    except (sg.ShapeError, TypeError) as e:  # refused when built: fine, but not a float64 input
        assert dtype not in ("float32", "float64"), f"{case.id} refuses {dtype}: {e}"
        return
    arrays = [_sample(s, rng) for s in case.inputs]
    feed = dict(zip(xs, arrays))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = sg.evaluate(out, feed)
        got_f = sg.function(xs, out)(*arrays)
    assert got.dtype == out.dtype, f"{case.id} on {dtype}: declared {out.dtype}, got {got.dtype}"
    assert got_f.dtype == out.dtype, f"{case.id} on {dtype}: function gives {got_f.dtype}"


def test_exp_of_softmax_of_int8_agrees_between_function_and_evaluate(rng):
    g = sg.Graph()
    x = g.placeholder("x", (4,), "int8")
    p = g.placeholder("p", (4,), "float16")
    y = sg.exp(sg.softmax(x)) + p
    xv = np.array([-128, 127, 0, 5], dtype=np.int8)
    pv = np.ones(4, dtype=np.float16)
    a, b = sg.evaluate(y, {x: xv, p: pv}), sg.function([x, p], y)(xv, pv)
    assert a.dtype == b.dtype == y.dtype == np.float64
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    s = np.exp(xv.astype(np.float64) - 127)
    np.testing.assert_allclose(a, np.exp(s / s.sum()) + 1)
