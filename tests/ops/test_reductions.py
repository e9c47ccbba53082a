"""ops/reductions.py: every reduction, max_and_argmax, cumsum and cumprod against NumPy."""

import numpy as np
import pytest

import symgrad as sg

from .cases import DTYPES, OpCase, boolean, check_dtype, distinct, index, normal


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _norm(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _flat_arg(fn):
    """argmax/argmin over a tuple of axes, as API.md defines it: the index into them flattened."""
    def ref(x, axis=None, keepdims=False):
        axis = sorted(a % x.ndim for a in axis)  # the axes in x's order, however listed
        kept = [a for a in range(x.ndim) if a not in axis]
        moved = np.moveaxis(x, list(axis), list(range(len(kept), x.ndim)))
        i = fn(moved.reshape(moved.shape[:len(kept)] + (-1,)), axis=-1)
        return np.expand_dims(i, axis) if keepdims else i
    return ref


def _first(pair_builder):
    return lambda x, **p: pair_builder(x, **p)[0]


CASES = [
    OpCase("sum", [normal((2, 3, 4))], reference=np.sum),
    OpCase("sum", [normal((2, 3, 4))], {"axis": 1}, np.sum, label="axis"),
    OpCase("sum", [normal((2, 3, 4))], {"axis": (0, -1), "keepdims": True}, np.sum,
           label="axes-keepdims"),
    OpCase("sum", [index((3, 2), 5)], {"axis": 0}, np.sum, label="int"),
    OpCase("mean", [normal((2, 3, 4))], {"axis": -1}, np.mean),
    OpCase("mean", [normal((3, 4))], {"keepdims": True}, np.mean, label="all-keepdims"),
    OpCase("mean", [index((3, 4), 7)], {"axis": 1}, np.mean, label="int"),
    OpCase("max", [distinct((3, 4))], {"axis": 1}, np.max),           # no ties
    OpCase("max", [distinct((2, 3, 2))], {"axis": (0, 2), "keepdims": True}, np.max,
           label="axes"),
    OpCase("max", [distinct((5,))], reference=np.max, label="all"),
    OpCase("min", [distinct((3, 4))], {"axis": 0}, np.min),
    OpCase("min", [distinct((3, 4))], reference=np.min, label="all"),
    OpCase("logsumexp", [normal((3, 4))], {"axis": 1}, _logsumexp),
    OpCase("logsumexp", [normal((2, 3, 4))], {"axis": (0, 2), "keepdims": True}, _logsumexp,
           label="axes"),
    OpCase("logsumexp", [normal((3, 4))], reference=_logsumexp, label="all"),
    OpCase("argmax", [distinct((3, 4))], {"axis": 1}, np.argmax),
    OpCase("argmax", [distinct((3, 4))], {"axis": 0, "keepdims": True}, np.argmax,
           label="keepdims"),
    OpCase("argmax", [distinct((3, 4))], reference=np.argmax, label="all"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": 1}, np.max,
           builder=_first(sg.max_and_argmax), label="max"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": 0}, np.argmax,
           builder=lambda x, axis: sg.max_and_argmax(x, axis)[1], label="argmax"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": None}, np.max,
           builder=_first(sg.max_and_argmax), label="all"),
    OpCase("max_and_argmax", [distinct((2, 3, 4))], {"axis": (0, 2)}, np.max,
           builder=_first(sg.max_and_argmax), label="axes-max"),
    OpCase("max_and_argmax", [distinct((2, 3, 4))], {"axis": (0, 2)}, _flat_arg(np.argmax),
           builder=lambda x, axis: sg.max_and_argmax(x, axis)[1], label="axes-argmax"),
    OpCase("argmax", [distinct((2, 3, 4))], {"axis": (2, 0)}, _flat_arg(np.argmax),
           label="axes"),
    OpCase("argmax", [distinct((2, 3, 4))], {"axis": (0, 1), "keepdims": True},
           _flat_arg(np.argmax), label="axes-keepdims"),
    OpCase("argmin", [distinct((3, 4))], {"axis": 0}, np.argmin),
    OpCase("argmin", [distinct((3, 4))], reference=np.argmin, label="all"),
    OpCase("argmin", [distinct((2, 3, 4))], {"axis": (1, 2), "keepdims": True},
           _flat_arg(np.argmin), label="axes-keepdims"),
    OpCase("prod", [normal((3, 4))], {"axis": 1}, np.prod),
    OpCase("prod", [normal((2, 3, 2))], {"axis": (0, 2), "keepdims": True}, np.prod,
           label="axes-keepdims"),
    OpCase("prod", [normal((5,))], reference=np.prod, label="all"),
    OpCase("prod", [index((3, 2), 4)], {"axis": 0}, np.prod, label="int"),
    OpCase("var", [normal((3, 4))], {"axis": 1}, np.var),
    OpCase("var", [normal((2, 3, 4))], {"axis": (0, 2), "keepdims": True, "ddof": 1}, np.var,
           label="axes-ddof"),
    OpCase("var", [normal((5,))], reference=np.var, label="all"),
    OpCase("std", [normal((3, 4))], {"axis": 0}, np.std),
    OpCase("std", [normal((2, 3, 4))], {"axis": (1, 2), "ddof": 1}, np.std, label="axes-ddof"),
    OpCase("std", [normal((3, 4))], {"keepdims": True}, np.std, label="all-keepdims"),
    OpCase("norm", [normal((3, 4))], {"axis": 1}, _norm),
    OpCase("norm", [normal((2, 3, 4))], {"axis": (0, 2), "keepdims": True}, _norm,
           label="axes-keepdims"),
    OpCase("norm", [normal((5,))], reference=_norm, label="all"),
    OpCase("all", [boolean((3, 4))], {"axis": 1}, np.all),
    OpCase("all", [normal((2, 3))], reference=np.all, label="float"),
    OpCase("any", [boolean((2, 3, 4))], {"axis": (0, 2), "keepdims": True}, np.any),
    OpCase("any", [boolean((3, 4))], reference=np.any, label="all"),
    OpCase("cumsum", [normal((3, 4))], {"axis": 1}, np.cumsum),
    OpCase("cumsum", [normal((2, 3, 2))], {"axis": 0}, np.cumsum, label="axis0"),
    OpCase("cumsum", [normal((3, 4))], reference=np.cumsum, label="flat"),
    OpCase("cumsum", [index((3, 4), 5, "int8")], {"axis": 1}, np.cumsum, label="int8"),
    OpCase("cumprod", [normal((3, 4))], {"axis": 1}, np.cumprod),
    OpCase("cumprod", [normal((2, 3, 2))], {"axis": -2}, np.cumprod, label="axis-2"),
    OpCase("cumprod", [normal((3, 4))], reference=np.cumprod, label="flat"),
]


def test_argmax_is_integer_and_max_and_argmax_is_one_node_of_two_outputs(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 5), "float32")
    assert sg.argmax(x, axis=1).dtype == np.intp
    m, i = sg.max_and_argmax(x, axis=1)
    assert m.op == i.op == "output"
    assert m.dtype == np.float32 and i.dtype == np.intp
    assert m.shape == i.shape == (None,)
    (node,) = m.inputs
    assert i.inputs == (node,)
    assert node.op == "max_and_argmax" and node.shape is None
    assert g.nx.nodes[m.id]["index"] == 0 and g.nx.nodes[i.id]["index"] == 1  # API.md
    assert list(g.nx.successors(node.id)) == [m.id, i.id]
    v = rng.permutation(20).reshape(4, 5).astype("float32")
    got_m, got_i = sg.evaluate([m, i], {x: v})
    np.testing.assert_array_equal(got_m, v.max(axis=1))
    np.testing.assert_array_equal(got_i, v.argmax(axis=1))
    f = sg.function([x], [m, i])
    assert sum(s.nid == node.id for s in f.plan.steps) == 1  # the node runs once for both
    got_m, got_i = f(v)
    np.testing.assert_array_equal(got_i, v.argmax(axis=1))


def test_multi_output_node_itself_cannot_be_evaluated():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    m, _ = sg.max_and_argmax(x, 0)
    with pytest.raises(sg.GraphError):
        sg.evaluate(m.inputs[0], {x: np.ones(3)})


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_over_several_axes_indexes_them_flattened(op, rng):
    """API.md: over a tuple of axes, the index into those axes flattened in C order, so that
    np.unravel_index over their lengths finds the extreme in each kept slice."""
    g = sg.Graph()
    x = g.placeholder("x", (4, 3, 5))
    v = rng.standard_normal((4, 3, 5))
    i = sg.evaluate(getattr(sg, op)(x, axis=(-1, 0)), {x: v})
    assert i.shape == (3,) and i.dtype == np.intp
    a, c = np.unravel_index(i, (4, 5))
    extreme = getattr(np, op.replace("arg", ""))
    np.testing.assert_array_equal(v[a, np.arange(3), c], extreme(v, axis=(0, 2)))
    assert getattr(sg, op)(x, axis=(0, 1, 2)).params == getattr(sg, op)(x).params  # all: None
    assert getattr(sg, op)(x, axis=(1,)).params == getattr(sg, op)(x, axis=1).params
    m, j = sg.max_and_argmax(x, axis=(0, 2))
    np.testing.assert_array_equal(sg.evaluate(j, {x: v}), sg.evaluate(sg.argmax(x, (0, 2)),
                                                                     {x: v}))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "logsumexp", "argmax"])
def test_axis_out_of_range_raises_shape_error(op):
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    with pytest.raises(sg.ShapeError, match=op):
        getattr(sg, op)(x, axis=2)


def test_repeated_axis_raises_shape_error():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    with pytest.raises(sg.ShapeError, match="sum"):
        x.sum(axis=(1, -1))


def test_equivalent_axes_make_equal_params():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    assert x.sum(axis=-1).params == x.sum(axis=1).params
    assert x.sum(axis=(1, 0)).params == x.sum(axis=[0, 1]).params


def test_logsumexp_is_stable():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    v = np.array([[1000.0, 1000.0, -np.inf], [-np.inf, -np.inf, -np.inf]])
    got = sg.evaluate(sg.logsumexp(x, axis=1), {x: v})
    np.testing.assert_allclose(got, [1000 + np.log(2), -np.inf])


def test_reductions_of_booleans_follow_numpy(rng):
    g = sg.Graph()
    b = g.placeholder("b", (4,), "bool")
    v = rng.random(4) < 0.5
    for op in ("sum", "mean", "max"):
        out = getattr(sg, op)(b)
        want = getattr(np, op)(v)
        assert out.dtype == want.dtype, op
        got = sg.evaluate(out, {b: v})
        assert got.dtype == want.dtype and got == want


# -- the reductions of issue 10: dtypes, zeros, and the points their rules single out -----------
BUILDS = {
    "prod": lambda x: sg.prod(x, axis=1), "var": lambda x: sg.var(x, axis=0, ddof=1),
    "std": lambda x: x.std(), "norm": lambda x: sg.norm(x, axis=(0, 1), keepdims=True),
    "all": lambda x: sg.all(x, axis=1), "any": lambda x: sg.any(x),
    "argmin": lambda x: x.argmin(axis=(0, 1)), "argmax": lambda x: x.argmax(axis=0),
    "max_and_argmax": lambda x: sg.max_and_argmax(x, (0, 1))[0], "min": lambda x: x.min(1),
    "cumsum": lambda x: sg.cumsum(x, 1), "cumsum-flat": lambda x: sg.cumsum(x),
    "cumprod": lambda x: sg.cumprod(x, 0), "cumprod-flat": lambda x: sg.cumprod(x),
    "logsumexp": lambda x: sg.logsumexp(x, axis=(0, 1)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", list(BUILDS))
def test_declared_dtype_is_computed_dtype(op, dtype):
    check_dtype(BUILDS[op], 1, dtype)


def _others(v):
    """The product of all elements but one, for each element: the derivative of prod."""
    return np.array([np.prod(np.delete(v, j)) for j in range(v.size)])


@pytest.mark.parametrize("v", [[2.0, -3.0, 0.5, 4.0], [2.0, 0.0, 0.5, 4.0],
                               [0.0, 3.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]],
                         ids=["no-zero", "one-zero", "two-zeros", "all-zero"])
def test_prod_gradient_is_the_product_of_the_others_with_zeros_too(v):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    v = np.array(v)
    np.testing.assert_array_equal(sg.evaluate(sg.grad(x.prod(), x), {x: v}), _others(v))
    # over one axis of a matrix: each row its own zeros
    m = g.placeholder("m", (2, 4))
    rows = np.stack([v, v[::-1] + 1])
    got = sg.evaluate(sg.grad(sg.prod(m, axis=1).sum(), m), {m: rows})
    np.testing.assert_array_equal(got, np.stack([_others(r) for r in rows]))


def _prod_hessian(v):
    n = v.size
    return np.array([[0.0 if i == j else np.prod(np.delete(v, [i, j])) for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("v", [[2.0, -3.0, 0.5, 4.0], [2.0, 0.0, 0.5, 4.0]],
                         ids=["no-zero", "one-zero"])
def test_prod_second_derivative_is_exact_with_one_zero(v):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    v = np.array(v)
    np.testing.assert_allclose(sg.evaluate(sg.hessian(x.prod(), x), {x: v}), _prod_hessian(v),
                               rtol=1e-15, atol=0)


def _cumprod_jacobian(v):
    """J[i, j] = d cumprod(v)_i / d v_j = prod of v_k over k <= i, k != j, for j <= i."""
    n = v.size
    return np.array([[np.prod(np.delete(v[:i + 1], j)) if j <= i else 0.0 for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("v", [[2.0, -3.0, 0.5, 4.0], [2.0, 0.0, 0.5, 4.0],
                               [0.0, 3.0, 0.0, 4.0], [1.5, 2.0, 0.0, 0.0]],
                         ids=["no-zero", "one-zero", "two-zeros", "trailing-zeros"])
def test_cumprod_gradient_is_exact_with_zeros(v):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    v = np.array(v)
    np.testing.assert_allclose(sg.evaluate(sg.jacobian(sg.cumprod(x), x), {x: v}),
                               _cumprod_jacobian(v), rtol=1e-15, atol=0)
    # along axis 0 of a matrix, and flattened
    m = g.placeholder("m", (4, 2))
    cols = np.stack([v, v[::-1]], axis=1)
    got = sg.evaluate(sg.jacobian(sg.cumprod(m, 0), m), {m: cols})
    for c in range(2):
        np.testing.assert_allclose(got[:, c, :, c], _cumprod_jacobian(cols[:, c]), atol=0)
    flat = sg.evaluate(sg.jacobian(sg.cumprod(m), m), {m: cols}).reshape(8, 8)
    np.testing.assert_allclose(flat, _cumprod_jacobian(cols.reshape(-1)), rtol=1e-15, atol=0)


def test_cumprod_second_derivative_is_exact_with_one_zero(rng):
    g = sg.Graph()
    x = g.placeholder("x", (5,))
    w = rng.standard_normal(5)
    v = np.array([1.5, -2.0, 0.0, 0.5, 3.0])
    # H[j, m] = sum over i >= max(j, m) of w_i prod_{k <= i, k != j, m} v_k, for j != m
    want = np.zeros((5, 5))
    for j in range(5):
        for m_ in range(5):
            if j != m_:
                want[j, m_] = sum(w[i] * np.prod(np.delete(v[:i + 1], [j, m_]))
                                  for i in range(max(j, m_), 5))
    got = sg.evaluate(sg.hessian((sg.cumprod(x) * w).sum(), x), {x: v})
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_norm_and_std_have_gradient_zero_at_zero():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    v = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    np.testing.assert_array_equal(sg.evaluate(sg.norm(x, axis=1), {x: v}), [0.0, 5.0])
    got = sg.evaluate(sg.grad(sg.norm(x, axis=1).sum(), x), {x: v})
    np.testing.assert_allclose(got, [[0, 0, 0], [0.6, 0, -0.8]], rtol=1e-15, atol=0)
    assert not sg.evaluate(sg.grad(sg.norm(x), x), {x: np.zeros((2, 3))}).any()
    same = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])  # row 0: no spread
    got = sg.evaluate(sg.grad(x.std(axis=1).sum(), x), {x: same})
    d = 1 / (3 * np.sqrt(2 / 3))  # (x - mean) / (n std)
    np.testing.assert_allclose(got, [[0, 0, 0], [-d, 0, d]], rtol=1e-15)


def test_norm_of_integers_squares_them_as_floats():
    g = sg.Graph()
    i = g.placeholder("i", (2,), "int8")
    n = sg.norm(i)
    assert n.dtype == np.float64
    assert float(sg.evaluate(n, {i: np.array([120, 50], "int8")})) == 130.0  # 120^2 wraps in int8


def test_var_and_std_with_no_degrees_of_freedom_give_numpy_inf_and_nan():
    g = sg.Graph()
    x = g.placeholder("x", (1, 3))
    v = np.ones((1, 3))
    for op in ("var", "std"):
        y = getattr(sg, op)(x, axis=0, ddof=1)  # builds: 1 - 1 = 0 is NumPy's business
        gx = sg.grad(y.sum(), x)
        with (pytest.warns(RuntimeWarning, match="Degrees of freedom"),  # NumPy's, both times
              np.errstate(divide="ignore", invalid="ignore")):
            want = getattr(np, op)(v, axis=0, ddof=1)
            got, grad = sg.evaluate([y, gx], {x: v})
        np.testing.assert_array_equal(got, want)
        assert not np.isfinite(grad).any()  # 2 (x - mean) / 0 and 0 / 0: not finite, as the value
    with pytest.raises(TypeError, match="ddof"):
        sg.var(x, ddof="1")
    assert sg.var(x, ddof=1.0).params == sg.var(x, ddof=1).params


def test_cumsum_and_cumprod_flatten_for_axis_none(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    s = g.placeholder("s", ())
    v = rng.standard_normal((4, 3))
    for op in ("cumsum", "cumprod"):
        y = getattr(sg, op)(x)
        assert y.shape == (None,)
        np.testing.assert_allclose(sg.evaluate(y, {x: v}), getattr(np, op)(v))
        assert getattr(sg, op)(s).shape == (1,)
        np.testing.assert_array_equal(sg.evaluate(getattr(sg, op)(s), {s: 2.0}), [2.0])
        with pytest.raises(sg.ShapeError, match=op):
            getattr(sg, op)(x, axis=2)


def test_reversed_cumsum_is_the_adjoint_of_cumsum(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    u = rng.standard_normal((3, 4))
    got = sg.evaluate(sg.gradients(sg.cumsum(x, 1), x, grad_ys=u)[0], {x: np.zeros((3, 4))})
    np.testing.assert_allclose(got, np.cumsum(u[:, ::-1], axis=1)[:, ::-1])


def test_tensor_reduction_methods(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    v = rng.standard_normal((3, 4))
    got = sg.evaluate([x.min(1), x.prod(0, keepdims=True), x.var(ddof=1), x.std(axis=(0, 1)),
                       x.argmax(1), x.argmin(), x.clip(-0.5, 0.5)], {x: v})
    want = [v.min(1), v.prod(0, keepdims=True), v.var(ddof=1), v.std(axis=(0, 1)), v.argmax(1),
            v.argmin(), v.clip(-0.5, 0.5)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
