"""ops/elementwise.py: every elementwise op and comparison against NumPy, broadcasting, dtypes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symgrad as sg

from .cases import (
    OpCase,
    away_from_zero,
    boolean,
    index,
    normal,
    positive,
)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


CASES = [
    OpCase("add", [normal((2, 3)), normal((3,))], reference=np.add),  # broadcasting on purpose
    OpCase("add", [normal((4, 1, 3)), normal((2, 1))], reference=np.add, label="both"),
    OpCase("subtract", [normal((2, 1, 3)), normal((4, 1))], reference=np.subtract),
    OpCase("multiply", [normal((2, 3)), normal((3,))], reference=np.multiply),
    OpCase("multiply", [normal(()), normal((2, 3))], reference=np.multiply, label="scalar"),
    OpCase("divide", [normal((3, 4)), away_from_zero((4,))], reference=np.divide),
    OpCase("power", [positive((3, 2)), normal((3, 2))], reference=np.power),   # base > 0
    OpCase("power", [positive((3, 2)), normal((1,))], reference=np.power, label="broadcast"),
    OpCase("maximum", [normal((3, 4)), normal((4,))], reference=np.maximum),   # ties: prob. 0
    OpCase("minimum", [normal((3, 4)), normal((3, 1))], reference=np.minimum),
    OpCase("negative", [normal((2, 3))], reference=np.negative),
    OpCase("exp", [normal((2, 3))], reference=np.exp),
    OpCase("log", [positive((3, 2))], reference=np.log),                       # domain: x > 0
    OpCase("log1p", [positive((3, 2))], reference=np.log1p),
    OpCase("sqrt", [positive((3, 2))], reference=np.sqrt),
    OpCase("square", [normal((4,))], reference=np.square),
    OpCase("abs", [away_from_zero((2, 3))], reference=np.abs),                 # kink at 0
    OpCase("sign", [away_from_zero((2, 3))], reference=np.sign),
    OpCase("sin", [normal((2, 3))], reference=np.sin),
    OpCase("cos", [normal((2, 3))], reference=np.cos),
    OpCase("tanh", [normal((2, 3))], reference=np.tanh),
    OpCase("sigmoid", [normal((2, 3))], reference=_sigmoid),
    OpCase("relu", [away_from_zero((4,))], reference=lambda x: np.where(x > 0, x, 0)),
    OpCase("softplus", [normal((2, 3))], reference=lambda x: np.log1p(np.exp(x))),
    OpCase("where", [boolean((3, 4)), normal((3, 4)), normal((4,))], reference=np.where),
    OpCase("where", [boolean((4,)), normal(()), normal((3, 1))], reference=np.where,
           label="broadcast"),
    OpCase("less", [normal((3, 4)), normal((4,))], reference=np.less),
    OpCase("less_equal", [index((3, 4), 3), index((4,), 3)], reference=np.less_equal),
    OpCase("greater", [normal((3, 4)), normal((4,))], reference=np.greater),
    OpCase("greater_equal", [index((3, 4), 3), index((4,), 3)], reference=np.greater_equal),
    OpCase("equal", [index((3, 4), 3), index((4,), 3)], reference=np.equal),  # ints: ties
    OpCase("not_equal", [index((3, 4), 3), index((4,), 3)], reference=np.not_equal),
    OpCase("equal", [normal((3,)), normal((3,))], reference=np.equal, label="float"),
    # the fused derivatives of tanh and sigmoid, in terms of the result y and the gradient g
    OpCase("tanh_grad", [normal((2, 3)), normal((3,))], label="broadcast",
           reference=lambda y, g: g * (1 - y * y),
           builder=lambda y, g: sg.apply("tanh_grad", [y, g])),
    OpCase("sigmoid_grad", [normal((2, 3)), normal((2, 3))],
           reference=lambda y, g: g * (y * (1 - y)),
           builder=lambda y, g: sg.apply("sigmoid_grad", [y, g])),
]


@pytest.mark.parametrize("op", ["less", "less_equal", "greater", "greater_equal", "equal",
                                "not_equal"])
def test_comparisons_are_boolean(op, rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,), "float32")
    out = getattr(sg, op)(x, 0.5)
    assert out.dtype == np.bool_
    value = rng.standard_normal(3).astype("float32")
    got = sg.evaluate(out, {x: value})
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, getattr(np, op)(value, 0.5))


@pytest.mark.parametrize("op", ["add", "multiply", "maximum", "subtract"])
def test_none_dimension_broadcasts_as_any_size(op, rng):
    """A (None, 3) placeholder may be fed (5, 3) or (1, 3); the other operand is (4, 3) or (3,)."""
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    y = g.placeholder("y", (3,))
    z = g.placeholder("z", (4, 3))
    xy, xz = getattr(sg, op)(x, y), getattr(sg, op)(x, z)
    assert xy.shape == (None, 3) and xz.shape == (4, 3)
    ref = getattr(np, op)
    vy, vz = rng.standard_normal(3), rng.standard_normal((4, 3))
    for rows in (5, 1):
        vx = rng.standard_normal((rows, 3))
        got_xy, got_xz = sg.evaluate([xy, xz], {x: vx, y: vy, z: vz}) if rows == 1 else (
            sg.evaluate(xy, {x: vx, y: vy}), None)
        np.testing.assert_array_equal(got_xy, ref(vx, vy))
        if rows == 1:
            np.testing.assert_array_equal(got_xz, ref(vx, vz))
    f = sg.function([x, y], xy)
    for rows in (5, 1, 0):
        vx = rng.standard_normal((rows, 3))
        np.testing.assert_array_equal(f(vx, vy), ref(vx, vy))


def test_none_meeting_a_known_size_fails_at_run_time_naming_the_node():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    z = g.placeholder("z", (4, 3))
    s = x + z
    with pytest.raises(sg.ShapeError, match="add"):
        sg.evaluate(s, {x: np.ones((5, 3)), z: np.ones((4, 3))})
    with pytest.raises(sg.ShapeError, match="add"):
        sg.function([x, z], s)(np.ones((5, 3)), np.ones((4, 3)))


@pytest.mark.parametrize("a, b", [((2, 3), (4,)), ((2, 3), (3, 3)), ((5,), (None, 4))])
def test_shapes_that_cannot_broadcast_raise_at_construction(a, b):
    g = sg.Graph()
    x, y = g.placeholder("x", a), g.placeholder("y", b)
    with pytest.raises(sg.ShapeError) as e:
        sg.multiply(x, y)
    msg = str(e.value)
    assert "multiply" in msg
    assert str(a).replace("None", "?") in msg and str(b).replace("None", "?") in msg


def test_dtypes_numpy_refuses_raise_shape_error_naming_the_op():
    g = sg.Graph()
    b = g.placeholder("b", (3,), "bool")
    with pytest.raises(sg.ShapeError, match="subtract.*bool"):
        b - b  # noqa: B018
    with pytest.raises(sg.ShapeError, match="negative"):
        -b  # noqa: B018


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int32", "float32"),
                                    ("int64", "int32"), ("bool", "int8"), ("uint8", "int8")])
def test_dtype_promotion_follows_numpy(dtypes, rng):
    g = sg.Graph()
    x, y = (g.placeholder(n, (3,), d) for n, d in zip("xy", dtypes))
    vx, vy = (np.arange(1, 4).astype(d) for d in dtypes)
    for op in ("add", "multiply", "divide", "maximum"):
        out = getattr(sg, op)(x, y)
        want = getattr(np, op)(vx, vy)
        assert out.dtype == want.dtype, (op, dtypes)
        assert sg.evaluate(out, {x: vx, y: vy}).dtype == want.dtype


@pytest.mark.parametrize("dtype, kind", [("int64", "f"), ("int32", "f"), ("float32", "f")])
def test_float_functions_of_integers_follow_numpy(dtype, kind):
    g = sg.Graph()
    x = g.placeholder("x", (3,), dtype)
    v = np.array([1, 2, 3], dtype)
    for op, ref in [("exp", np.exp), ("sqrt", np.sqrt), ("sigmoid", lambda a: np.tanh(a) * 1.0),
                    ("divide", lambda a: a / a), ("sign", np.sign), ("abs", np.abs),
                    ("relu", lambda a: np.maximum(a, 0)), ("square", np.square)]:
        out = getattr(sg, op)(x, x) if op == "divide" else getattr(sg, op)(x)
        want = ref(v).dtype
        assert out.dtype == want, op
        assert sg.evaluate(out, {x: v}).dtype == want, op


def test_equal_is_elementwise_and_operator_is_identity():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    e = sg.equal(x, 2.0)
    assert isinstance(e, sg.Tensor) and e.op == "equal" and e.dtype == np.bool_
    np.testing.assert_array_equal(sg.evaluate(e, {x: [1.0, 2.0, 3.0]}), [False, True, False])
    ne = sg.not_equal(x, x)
    np.testing.assert_array_equal(sg.evaluate(ne, {x: [1.0, np.nan, 3.0]}), [False, True, False])
    assert (x == 2.0) is False and (x == x) is True


def test_where_with_python_numbers_keeps_float32():
    g = sg.Graph()
    x = g.placeholder("x", (4,), "float32")
    out = sg.where(x > 0, x, 0.0)
    assert out.dtype == np.float32
    v = np.array([-1, 2, -3, 4], "float32")
    got = sg.evaluate(out, {x: v})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [0, 2, 0, 4])


def test_sigmoid_and_softplus_do_not_overflow():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    v = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise"):
        s, sp = sg.evaluate([sg.sigmoid(x), sg.softplus(x)], {x: v})
    np.testing.assert_array_equal(s, [0.0, 1.0])
    np.testing.assert_array_equal(sp, [0.0, 1000.0])


def test_sigmoid_and_softplus_keep_relative_precision_in_the_tails():
    g = sg.Graph()
    x = g.placeholder("x", (7,))
    v = np.array([-700.0, -40.0, -30.0, 0.0, 30.0, 40.0, 700.0])
    s, sp = sg.evaluate([sg.sigmoid(x), sg.softplus(x)], {x: v})
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-v)), rtol=1e-12, atol=0)
    np.testing.assert_allclose(sp[:-1], np.log1p(np.exp(v[:-1])), rtol=1e-12, atol=0)
    assert sp[-1] == 700.0


# Hypothesis: random broadcastable shapes, with some dimensions made unknown (None).
@st.composite
def _broadcast_problem(draw):
    shapes, result = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                            max_side=3))
    masks = [draw(st.lists(st.booleans(), min_size=len(s), max_size=len(s))) for s in shapes]
    static = [tuple(None if m else d for d, m in zip(s, mask)) for s, mask in zip(shapes, masks)]
    op = draw(st.sampled_from(["add", "multiply", "maximum", "less", "power"]))
    return op, shapes, static, result


@settings(max_examples=60, deadline=None)
@given(_broadcast_problem())
def test_broadcasting_matches_numpy(problem):
    op, shapes, static, result = problem
    rng = np.random.default_rng(0)
    g = sg.Graph()
    x, y = (g.placeholder(n, s) for n, s in zip("xy", static))
    out = getattr(sg, op)(x, y)
    assert len(out.shape) == len(result)
    assert all(d is None or d == r for d, r in zip(out.shape, result))
    if None not in static[0] + static[1]:
        assert out.shape == result
    vx, vy = rng.uniform(0.5, 2, shapes[0]), rng.standard_normal(shapes[1])
    got = sg.evaluate(out, {x: vx, y: vy})
    np.testing.assert_array_equal(got, getattr(np, op)(vx, vy))


@pytest.mark.parametrize("a,b", [(1.0, "x32"), (1, 0), ("x32", 0), (1.5, 0), (True, False)])
def test_where_dtype_comes_from_the_branches_as_in_numpy(a, b):
    g = sg.Graph()
    cond = g.placeholder("c", (3,))  # a float condition: it must not decide the dtype
    x32 = g.placeholder("x", (3,), "float32")
    got = sg.where(cond, *(x32 if v == "x32" else v for v in (a, b)))
    want = np.where(np.ones(3), *(np.ones(3, np.float32) if v == "x32" else v for v in (a, b)))
    assert got.dtype == want.dtype
