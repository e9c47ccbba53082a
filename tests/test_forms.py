"""forms.py: bounds of scalar forms' values hold for the values Python computes, and say
"unknown" wherever a value may leave the finite floats."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symgrad.forms import (
    BOOL,
    FINITE,
    UNKNOWN,
    bound,
    canonical,
    is_finite,
    only_called,
    read_once,
    subexpressions,
    template,
)
from symgrad.ops.base import OPS
from symgrad.scalar import NAMES

FORMS = sorted((name, d.scalar) for name, d in OPS.items() if d.scalar)


def _arity(form: str) -> int:
    return 1 + max(int(c) for c in "0123456789" if f"{{{c}}}" in form)


def test_bounds_of_the_forms_that_scalar_plans_meet():
    tanh, mul, add = OPS["tanh"].scalar, OPS["multiply"].scalar, OPS["add"].scalar
    assert bound(template(tanh), [FINITE]) == (-1.0, 1.0)
    assert bound(template(mul), [(-1.0, 1.0), (-24.0, -24.0)]) == (-24.0, 24.0)
    g = bound(template(OPS["tanh_grad"].scalar), [(-1.0, 1.0), (-40.0, 40.0)])
    assert is_finite(g) and g[0] <= -40.0 and g[1] >= 40.0
    assert not is_finite(bound(template(mul), [FINITE, FINITE]))  # x * x may overflow
    assert is_finite(bound(template(add), [FINITE, (1.0, 1.0)]))  # x + 1 rounds, never overflows
    assert not is_finite(bound(template(OPS["exp"].scalar), [FINITE]))
    assert is_finite(bound(template(OPS["exp"].scalar), [(-1.0, 700.0)]))
    assert bound(template(OPS["log"].scalar), [FINITE]) == (-1100.0, 1100.0)
    assert bound(template(OPS["relu"].scalar), [(-3.0, 2.0)]) == (-3.0, 2.0)  # hull of branches
    assert bound(template(OPS["less"].scalar), [UNKNOWN, UNKNOWN]) == BOOL


def test_unknown_where_a_value_may_be_nan_or_a_quotient_may_overflow():
    assert bound(template(OPS["tanh"].scalar), [UNKNOWN]) == UNKNOWN  # tanh(NaN) is NaN
    assert bound(template(OPS["add"].scalar), [UNKNOWN, (0.0, 0.0)]) == UNKNOWN  # inf - inf
    assert bound(template(OPS["divide"].scalar), [(1.0, 1.0), (-1.0, 1.0)]) == UNKNOWN
    assert bound(template(OPS["divide"].scalar), [(1.0, 2.0), (0.5, 4.0)]) == (0.25, 4.0)
    assert bound(template(OPS["power"].scalar), [(1.0, 2.0), (1.0, 2.0)]) == UNKNOWN  # no rule
    assert bound(template("{0} * inf"), [(1.0, 1.0)]) == UNKNOWN


def _bounds(draw, arity):
    """Operand bounds of every size: around 1, where exp and sinh overflow, near the largest."""
    ends = st.floats(-2.0, 2.0) | st.floats(-1000.0, 1000.0) | st.floats(-1e308, 1e308)
    out = []
    for _ in range(arity):
        a, b = draw(ends), draw(ends)
        out.append((min(a, b), max(a, b)))
    return out


@pytest.mark.parametrize("op, form", FORMS, ids=[n for n, _ in FORMS])
@given(data=st.data())
def test_every_form_stays_within_its_bound(op, form, data):
    operands = _bounds(data.draw, _arity(form))
    b = bound(template(form), operands)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for k in range(30):  # the ends, then uniformly in between
        at = rng.integers(0, 2, len(operands)) if k < 4 else rng.random(len(operands))
        values = [min(max(lo * (1.0 - float(u)) + hi * float(u), lo), hi)
                  for (lo, hi), u in zip(operands, at)]
        try:
            v = eval(form.format(*map(repr, values)), dict(NAMES))  # noqa: S307 (our forms)
        except (ArithmeticError, ValueError):
            continue  # raised: the call runs on NumPy, no bound needed
        if is_finite(b):  # then no value may leave the finite floats unchecked
            assert b[0] <= float(v) <= b[1], (values, v, b)


def test_only_called_names_the_operands_only_passed_to_math_functions():
    assert only_called(OPS["tanh"].scalar) == {0}
    assert only_called(OPS["arctan2"].scalar) == {0, 1}
    assert only_called(OPS["multiply"].scalar) == set()
    assert only_called(OPS["sigmoid"].scalar) == set()  # -x is NumPy arithmetic on np.float64
    assert only_called(OPS["silu"].scalar) == set()
    assert only_called(OPS["softplus"].scalar) == set()  # a Python helper, not math's


def test_subexpressions_and_the_form_reading_each_as_an_operand():
    assert canonical("{1} * (1 - {0}*{0})") == "{1} * (1 - {0} * {0})"
    assert subexpressions("{1} * (1.0 - {0} * {0})") == (
        ("1.0 - {0} * {0}", "{1} * {2}"), ("{0} * {0}", "{1} * (1.0 - {2})"))
    assert subexpressions("{0} * {1}") == ()  # the whole form is no subexpression of itself
    assert subexpressions("{0} + log(2.0)") == ()  # log(2.0) reads no operand: nothing to reuse
    assert subexpressions("-{0} / {1}") == (("-{0}", "{2} / {1}"),)


def test_read_once_names_the_operands_read_once_and_whatever_branch_is_taken():
    assert read_once(OPS["where"].scalar) == {0}  # the condition; a branch only sometimes
    assert read_once(OPS["tanh_grad"].scalar) == {1}  # y is read twice
    assert read_once(OPS["relu"].scalar) == set()
    assert read_once(OPS["add"].scalar) == {0, 1}
    assert read_once("{0} or {1}") == {0}
