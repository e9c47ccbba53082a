"""Every case of every family's table (tests/ops/test_*.py): compute against NumPy and infer
against the result, with static shapes, with every dimension unknown, and in float32."""

import numpy as np

from tests.ops.cases import all_cases, by_id, check_forward, float32_cases

CASES = all_cases()


@by_id(CASES)
def test_op(case, rng):
    check_forward(case, rng)


@by_id(CASES)
def test_op_with_unknown_dims(case, rng):
    check_forward(case, rng, dynamic=True)


@by_id(float32_cases(CASES))
def test_op_float32(case, rng):
    out = check_forward(case, rng)  # dtypes as NumPy gives them, checked there
    if all(s.dtype in ("float32", "bool") for s in case.inputs):
        assert out.dtype.kind != "f" or out.dtype == np.float32, out.dtype  # float32 stays
