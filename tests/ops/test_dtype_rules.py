"""The shape, indexing and linear-algebra families: for every input dtype an op accepts, the
dtype it declares (infer) is the dtype its compute returns; a dtype it cannot take is a
ShapeError when the node is built."""

from dataclasses import replace

import numpy as np
import pytest

import symgrad as sg
from tests.ops import (
    test_contract,
    test_indexing,
    test_linalg,
    test_matrix,
    test_rearrange,
    test_shape,
    test_updates,
)

DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64"]
CASES = [c for m in (test_shape, test_rearrange, test_matrix, test_contract, test_indexing,
                     test_updates, test_linalg) for c in m.CASES]
VALUED = ("normal", "positive", "away_from_zero", "distinct", "probs", "spd",
          "well_conditioned")  # the inputs whose dtype the sweep sets; indices and masks stay


def _values(spec, rng):
    """Values of the spec's dtype that every op can take: 2 I for matrices (invertible,
    positive definite in any dtype), small non-negative numbers otherwise."""
    if spec.domain in ("spd", "well_conditioned"):
        x = np.broadcast_to(2 * np.eye(spec.shape[-1]), spec.shape)
    else:
        x = np.round(3 * np.abs(rng.standard_normal(spec.shape)))
    return x.astype(spec.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_declared_dtype_is_computed_dtype(case, dtype, rng):
    specs = [replace(s, dtype=dtype) if s.domain in VALUED else s for s in case.inputs]
    case = replace(case, inputs=specs)
    g = sg.Graph()
    xs = case.placeholders(g)
    try:
        out = case.build(xs)
    except sg.ShapeError as e:  # refused when built: fine, for a dtype other than float32/64
        assert dtype not in ("float32", "float64"), f"{case.id} refuses {dtype}: {e}"
        return
    arrays = [_values(s, rng) if s.domain in VALUED else s.sample(rng) for s in specs]
    with np.errstate(all="ignore"):
        got = sg.evaluate(out, dict(zip(xs, arrays)))
    assert got.dtype == out.dtype, f"{case.id} on {dtype}: declares {out.dtype}, computes " \
                                   f"{got.dtype}"
