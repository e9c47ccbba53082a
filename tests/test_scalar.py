"""scalar.py: plans of 0-d float64 values run on Python floats and the math module, with NumPy's
semantics: the same values, and a call leaving the finite floats runs on NumPy again."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgrad as sg
from tests.graphs import tanh_derivative
from tests.strategies import programs


def test_scalar_plans_take_the_scalar_tier_and_others_do_not():
    _, x, d = tanh_derivative(4)
    f = sg.function([x], d)
    assert f.tier == "scalar" and isinstance(f, sg.Function)
    assert "tanh(" in f._direct.source and "np." not in f._direct.source
    g = sg.Graph()
    v, s32, n = g.placeholder("v", (3,)), g.placeholder("s", (), "float32"), g.placeholder("n", (),
                                                                                         "int64")
    assert sg.function([v], sg.tanh(v)).tier == "compiled"
    assert sg.function([s32], sg.tanh(s32)).tier == "compiled"  # float32 rounds on NumPy
    assert sg.function([n], n * 2).tier == "compiled"             # int64 wraps on NumPy
    assert sg.function([x], d, check_finite=True).tier == "interpreted"
    assert sg.function([x], sg.logsumexp(sg.stack([x, x * 2.0]))).tier == "compiled"  # no form


def test_values_and_types_match_the_numpy_tier():
    _, x, d = tanh_derivative(4)
    fast, slow = sg.function([x], d), sg.function([x], d, simplify=True)
    slow._direct = None
    at = np.linspace(-3, 3, 13)
    for v in at:
        got = fast(float(v))
        assert type(got) is np.float64 and got.shape == ()  # a NumPy scalar, not a 0-d array
        np.testing.assert_allclose(got, slow._call(v), rtol=1e-14, atol=1e-15)
    y = np.tanh(at)
    np.testing.assert_allclose([fast(v) for v in at], (1 - y * y) * (16 * y - 24 * y ** 3),
                               rtol=1e-12, atol=1e-12)


def test_only_the_values_that_may_leave_the_finite_floats_are_checked():
    _, x, d = tanh_derivative(4)
    src = sg.function([x], d)._direct.source  # tanh is within [-1, 1]: so is every value
    assert "if not (_isfinite(a0)):" in src and "_float(" not in src  # a0 only meets tanh
    assert src.count("v1 * v1") == 1  # t*t once, for t*t and for tanh_grad's 1 - t*t
    g = sg.Graph()
    x = g.placeholder("x")
    y = x
    for _ in range(5):
        y = sg.sin(y) + sg.cos(y)
    src = sg.function([x], sg.grad(y, x))._direct.source
    assert "if not (_isfinite(a0)):" in src
    src = sg.function([x], [x * x + 1.0, sg.exp(sg.tanh(x))])._direct.source
    assert "a0 = _float(a0)" in src  # arithmetic on an np.float64 would be NumPy's
    assert "_isfinite(a0 + v" in src and src.count(" + v") == 1  # x*x may overflow, not the rest


def test_values_read_once_are_written_where_they_are_read_nesting_a_bounded_depth():
    g = sg.Graph()
    x = g.placeholder("x")
    y = x
    for _ in range(300):  # 300 nested calls would be past what Python's parser takes
        y = sg.sin(y)
    f = sg.function([x], y)
    want = 0.3
    for _ in range(300):
        want = math.sin(want)
    assert f(0.3) == want
    assert 1 < f._direct.source.count(" = sin(") < 300


def test_values_that_are_not_plain_floats_are_fed_as_numpy_does_then_run_fast():
    _, x, d = tanh_derivative(4)
    f = sg.function([x], d)
    want = f(0.3)

    def numpy_way(*values):
        raise AssertionError("ran on NumPy")
    f._direct.__globals__["_fallback"] = numpy_way
    assert f(np.array(0.3)) == want and type(f(np.array(0.3))) is np.float64
    assert f(np.float32(0.3)) == f(float(np.float32(0.3)))  # made float64, as NumPy's way does
    assert f(1) == f(1.0) and f(np.int64(2)) == f(2.0)
    for bad, what in ((np.array([0.3]), "shape"), (0.3 + 1j, "complex"), ("0.3", "'x'"),
                      (np.ma.masked_array(0.3), "masked")):
        with pytest.raises(sg.FeedError, match=what):
            f(bad)


def test_inputs_that_are_not_plain_floats_and_wrong_arity():
    _, x, d = tanh_derivative(4)
    f = sg.function([x], d)
    want = f(0.3)
    for v in (np.float64(0.3), np.array(0.3), np.float32(0.3)):
        np.testing.assert_allclose(f(v), want, rtol=1e-7)
    assert f(1) == f(1.0)
    with pytest.raises(sg.FeedError, match="'x'"):
        f("0.3")
    with pytest.raises(TypeError, match="takes 1 values"):
        f(0.1, 0.2)
    with pytest.raises(TypeError, match="takes 1 values"):
        f()


@pytest.mark.parametrize("expr, at", [
    (lambda x: sg.log(x), 0.0), (lambda x: sg.log(x), -1.0), (lambda x: 1.0 / x, 0.0),
    (lambda x: sg.exp(x), 1000.0), (lambda x: sg.sqrt(x), -1.0), (lambda x: x ** 0.5, -2.0),
    (lambda x: x * 2.0, np.inf), (lambda x: x * x - x, np.inf), (lambda x: sg.tanh(x), np.nan),
    (lambda x: x * x, 1e200), (lambda x: sg.tanh(x) * 1e308 * 10.0, 1.0),  # overflows
    (lambda x: 1.0 / (x * x), 1e-200), (lambda x: sg.exp(sg.exp(x)), 7.0),
    (lambda x: sg.where(x > 0.0, sg.log(x), x), -1.0),  # log(x) runs whichever branch is taken
])
def test_a_call_leaving_the_finite_floats_gives_numpys_values_and_warnings(expr, at):
    g = sg.Graph()
    x = g.placeholder("x")
    y = expr(x)
    f, numpy_way = sg.function([x], [y, y * 3.0]), sg.function([x], [y, y * 3.0])
    numpy_way._direct = None
    assert f.tier == "scalar"
    with warnings.catch_warnings(record=True) as fast_warns:
        warnings.simplefilter("always")
        got = f(at)
    with warnings.catch_warnings(record=True) as numpy_warns:
        warnings.simplefilter("always")
        want = numpy_way._call(at)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
        assert type(a) is np.float64  # the NumPy way's results come back as scalars too
    assert [str(w.message) for w in fast_warns] == [str(w.message) for w in numpy_warns]


def test_booleans_where_and_comparisons():
    g = sg.Graph()
    x, flag = g.placeholder("x"), g.placeholder("flag", (), "bool")
    y = sg.where(sg.logical_and(flag, x > 0) if hasattr(sg, "logical_and") else flag, x * 2.0,
                 -x)
    f = sg.function([x, flag], [y, x > 1.0])
    assert f.tier == "scalar"
    out = f(3.0, True)
    assert out[0] == 6.0 and type(out[1]) is np.bool_ and bool(out[1])
    assert f(3.0, False)[0] == -3.0


@given(prog=programs(shapes=[((), ())], dtypes=("float64",)), seed=st.integers(0, 2**16),
       scale=st.sampled_from([1.0, 1e100, 1e155, 1e300]))
def test_random_scalar_graphs_and_gradients_agree_with_numpy(prog, seed, scale):
    g, xs, pool = prog.build()
    y = prog.scalar_total(pool)
    if y is None:
        return
    outs = [y, *sg.gradients(y, xs)]
    f, numpy_way = sg.function(xs, outs), sg.function(xs, outs)
    numpy_way._direct = None
    arrays = [float(a) * scale for a in prog.values(seed)]  # far from 0: overflows
    with warnings.catch_warnings(record=True) as fast_warns:
        warnings.simplefilter("always")
        got = f(*arrays)
    with warnings.catch_warnings(record=True) as numpy_warns:
        warnings.simplefilter("always")
        want = numpy_way._call(*arrays)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, equal_nan=True)
    # a value that overflowed unchecked would come back without NumPy's warning
    assert [str(w.message) for w in fast_warns] == [str(w.message) for w in numpy_warns]
