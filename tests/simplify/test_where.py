"""NaN-safe where: gradients of where-guarded sqrt, log, division and power are finite and
correct in the branch not taken, at orders 1 and 2, after function or simplify."""

import warnings

import numpy as np
import pytest

import symgrad as sg

X = np.array([0.0, -1.0, 4.0, 0.25])  # 0 and -1 are outside the guard x > 0
INSIDE = X > 0

# (name, guarded f, its first and second derivative inside the guard)
CASES = [
    ("sqrt", lambda x: sg.where(x > 0, sg.sqrt(x), 0.0),
     lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5),
    ("log", lambda x: sg.where(x > 0, sg.log(x), 0.0), lambda x: 1 / x, lambda x: -1 / x ** 2),
    ("divide", lambda x: sg.where(x > 0, 1.0 / x, 0.0),
     lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    ("power", lambda x: sg.where(x > 0, x ** 0.5, 0.0),
     lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5),
    ("else_branch", lambda x: sg.where(x <= 0, 0.0, sg.sqrt(x)),
     lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5),
    ("through_tanh", lambda x: sg.where(x > 0, sg.tanh(sg.log(x)), 0.0),
     lambda x: (1 - np.tanh(np.log(x)) ** 2) / x, None),
]


def _derivatives(f):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    y = f(x).sum()
    d1 = sg.grad(y, x)
    d2 = sg.grad(d1.sum(), x)  # each element's second derivative (the Hessian is diagonal)
    return x, [d1, d2]


@pytest.mark.parametrize("name, f, first, second", CASES, ids=[c[0] for c in CASES])
def test_guarded_gradients_are_finite_and_right(name, f, first, second):
    x, ds = _derivatives(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = sg.function([x], ds, simplify=False)(X)
        assert not np.isfinite(raw[0]).all()  # the trouble being fixed: 0 * inf
        for got in (sg.function([x], ds)(X), sg.evaluate(sg.simplify(ds), {x: X}),
                    sg.evaluate(ds, {x: X})):
            for k, (d, want) in enumerate(zip(got, (first, second))):
                assert np.isfinite(d).all(), f"order {k + 1}: {d}"
                np.testing.assert_array_equal(d[~INSIDE], 0.0)
                if want is not None:
                    np.testing.assert_allclose(d[INSIDE], want(X[INSIDE]), rtol=1e-12)


def test_no_guard_no_change():
    # sqrt'(0) = inf is the documented convention when nothing guards it
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    with np.errstate(divide="ignore"):
        d = sg.function([x], sg.grad(sg.sqrt(x).sum(), x))(np.array([0.0, 1.0]))
    assert d[0] == np.inf and d[1] == 0.5
