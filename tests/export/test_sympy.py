"""export/sympy.py: the one table read both ways; each row against NumPy, random round trips,
derivative graphs against sympy.diff, and the errors of both directions."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.export.sympy import SYMPY_OPS, _heads
from tests.ops.cases import all_cases, by_id

X, Y, Z = (sp.Symbol(n, real=True) for n in "xyz")


def sympy_at(expr, values: dict):
    """SymPy's own value of `expr` with numbers for its symbols: a complex, a bool, or None
    where SymPy leaves it undefined (a non-real comparison, say)."""
    subs = {sp.Symbol(k, real=True): sp.Integer(int(v)) if np.asarray(v).dtype.kind in "biu"
            else sp.Float(float(v)) for k, v in values.items()}
    try:
        got = expr.xreplace(subs)
        if isinstance(got, sp.logic.boolalg.BooleanAtom):
            return bool(got)
        return complex(got.evalf(30))
    except (TypeError, ValueError):
        return None


def agree(want, got, tol=1e-9) -> bool:
    """want: symgrad's value (float or bool); got: SymPy's (complex, bool or None)."""
    if isinstance(got, bool) or np.asarray(want).dtype.kind == "b":
        return bool(want) == got
    if got is None or abs(got.imag) > tol * max(1.0, abs(got.real)):
        return False
    want = float(want)
    if math.isinf(want) or math.isinf(got.real):
        return want == got.real
    return abs(want - got.real) <= tol * max(1.0, abs(want))


def tolerance(dtype: np.dtype) -> float:
    """SymPy computes exactly: agreement to the precision of symgrad's result."""
    return max(1e-9, 8 * float(np.finfo(dtype).eps)) if dtype.kind == "f" else 0.0


# -- the table -----------------------------------------------------------------------------------
def test_every_elementwise_op_has_a_row():
    missing = sorted(n for n, d in sg.OPS.items() if d.elementwise and n not in SYMPY_OPS)
    assert not missing, f"elementwise ops without a SymPy row in SYMPY_OPS: {missing}"


def test_each_head_is_a_sympy_class_read_back_as_one_op():
    heads = [h for row in SYMPY_OPS.values() if row.head is not None
             for h in ((row.head,) if isinstance(row.head, str) else row.head)]
    assert len(heads) == len(set(heads)), sorted(h for h in heads if heads.count(h) > 1)
    registered = _heads()
    assert all(isinstance(cls, type) and issubclass(cls, sp.Basic) for cls in registered)
    assert {op for op, _ in registered.values()} == {
        op for op, row in SYMPY_OPS.items() if row.head is not None and op in sg.OPS}


ROW_CASES = [c for c in all_cases() if c.op in SYMPY_OPS]


def test_the_cases_reach_every_registered_row():
    covered = {c.op for c in ROW_CASES}
    untested = sorted(op for op in SYMPY_OPS if op in sg.OPS and op not in covered)
    assert not untested, untested


@by_id(ROW_CASES)
def test_each_row_computes_what_numpy_computes(case, rng):
    """Element by element, SymPy's value of the row's expression equals symgrad's; and the
    expression read back by from_sympy computes the same array."""
    g = sg.Graph()
    xs = case.placeholders(g)
    out = case.build(xs)
    arrays = case.sample(rng)
    feed = {x.name: a for x, a in zip(xs, arrays)}
    want = sg.evaluate(out, feed)
    expr = sg.to_sympy(out)
    tol = tolerance(want.dtype)
    for idx in np.ndindex(want.shape):
        point = {x.name: np.broadcast_to(a, want.shape)[idx] for x, a in zip(xs, arrays)}
        got = sympy_at(expr, point)
        assert agree(want[idx], got, tol), (case.id, expr, point, want[idx], got)
    unread = [row.head for op, row in SYMPY_OPS.items()
              if op not in sg.OPS and isinstance(row.head, str)]
    if any(getattr(sp, h, None) in {type(e) for e in sp.preorder_traversal(expr)}
           for h in unread):  # a form made of an op not registered yet (trunc's floor)
        with pytest.raises(sg.GraphError, match="has no symgrad op"):
            sg.from_sympy(expr, g)
        return
    back = sg.from_sympy(expr, g)  # the graph's own placeholders, shapes and all
    np.testing.assert_allclose(sg.evaluate(back, feed).astype(float), want.astype(float),
                               rtol=tol, atol=tol)


# -- random expressions over the table -----------------------------------------------------------
def _vocabulary():
    """The elementwise cases from floats to floats (comparisons come in through `where`)."""
    out = []
    for c in ROW_CASES:
        if sg.OPS[c.op].elementwise and all(s.dtype == "float64" for s in c.inputs):
            g = sg.Graph()
            if c.build(c.placeholders(g)).dtype == np.float64:
                out.append(c)
    return out


VOCABULARY = _vocabulary()
NAMES = ("x", "y", "z")


def _into_domain(t, domain):
    """A sub-expression moved into an input's domain (log's x > 0, arcsin's |x| < 1, ...)."""
    if domain == "positive":
        return sg.square(t) + 0.5
    if domain == "unit":
        return sg.tanh(t) * 0.9
    if domain == "above_one":
        return sg.square(t) + 1.2
    return t


@st.composite
def random_graphs(draw, depth=3):
    g = sg.Graph()
    leaves = [g.placeholder(n, (5,)) for n in NAMES]

    def expr(level):
        if level == 0 or draw(st.integers(0, 3)) == 0:
            if draw(st.booleans()):
                return draw(st.sampled_from(leaves))
            return g.constant(draw(st.sampled_from([2.0, -1.5, 0.25, 3.0])))
        if draw(st.integers(0, 6)) == 0:  # comparisons and where: Piecewise and relations
            cmp = draw(st.sampled_from(["less", "less_equal", "greater", "greater_equal"]))
            cond = getattr(sg, cmp)(expr(level - 1), expr(level - 1))
            return sg.where(cond, expr(level - 1), expr(level - 1))
        case = draw(st.sampled_from(VOCABULARY))
        args = [_into_domain(expr(level - 1), s.domain) for s in case.inputs]
        return case.build(args)

    return g, leaves, expr(depth)


POINTS = np.random.default_rng(7).uniform(-2, 2, (3, 5))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(built=random_graphs())
def test_random_graphs_survive_symgrad_sympy_symgrad(built):
    g, leaves, out = built
    feed = dict(zip(NAMES, POINTS))
    with np.errstate(all="ignore"):
        want = np.broadcast_to(sg.evaluate(out, feed), (5,))
    expr = sg.to_sympy(out)
    h = sg.Graph()
    for n in NAMES:
        h.placeholder(n, (5,))
    if expr.has(sp.zoo):  # a division by an exact zero: infinity of no sign, NumPy's has one
        with pytest.raises(sg.GraphError, match="zoo is not a real number"):
            sg.from_sympy(expr, h)
        return
    back = sg.from_sympy(expr, h)
    compared = 0
    for i in range(5):
        if not np.isfinite(want[i]):
            continue  # NumPy's NaN: SymPy has a complex number or a limit there
        got = sympy_at(expr, {n: POINTS[k, i] for k, n in enumerate(NAMES)})
        assert agree(want[i], got, tol=1e-7), (expr, i, want[i], got)
        compared += 1
    with np.errstate(all="ignore"):
        again = np.broadcast_to(sg.evaluate(back, feed), want.shape)
    finite = np.isfinite(want)
    np.testing.assert_allclose(again[finite], want[finite], rtol=1e-7, atol=1e-7)
    assert compared or not np.isfinite(want).any()


@settings(max_examples=40, derandomize=True, deadline=None)
@given(built=random_graphs(depth=2))
def test_random_expressions_survive_sympy_symgrad_sympy(built):
    _, _, out = built
    expr = sg.to_sympy(out)
    again = sg.to_sympy(sg.from_sympy(expr))
    if expr == again:
        return
    for point in POINTS.T[:3]:
        values = dict(zip(NAMES, point))
        a, b = sympy_at(expr, values), sympy_at(again, values)
        if a is not None and not isinstance(a, bool) and math.isfinite(abs(a)):
            assert agree(a.real, b, tol=1e-9), (expr, again, values)


# -- derivative graphs ---------------------------------------------------------------------------
SMOOTH = {
    "tanh(x) y": lambda x, y: sg.tanh(x) * y,
    "sigmoid(x y)": lambda x, y: sg.sigmoid(x * y),
    "softplus(x)^2": lambda x, y: sg.softplus(x) ** 2,
    "exp(x) / y": lambda x, y: sg.exp(x) / y,
    "log1p(x^2) + sqrt(y^2 + 1)": lambda x, y: sg.log1p(x * x) + sg.sqrt(y * y + 1),
    "x^3 sin(y) - cos(x)": lambda x, y: x ** 3 * sg.sin(y) - sg.cos(x),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_gradients_equal_sympy_diff(name):
    g = sg.Graph()
    x, y = g.placeholder("x"), g.placeholder("y")
    out = SMOOTH[name](x, y)
    expr = sg.to_sympy(out)
    for symbol, d in zip((X, Y), sg.gradients(out, [x, y])):
        assert sp.simplify(sg.to_sympy(d) - sp.diff(expr, symbol)) == 0, (name, symbol)


def test_second_derivatives_through_tanh_grad_and_sigmoid_grad():
    g = sg.Graph()
    x = g.placeholder("x")
    out = sg.tanh(x) * x + sg.sigmoid(x)
    d2 = sg.grad(sg.grad(out, x), x)
    ops = {g.nx.nodes[n]["op"] for n in g.ancestors([d2.id])}
    assert {"tanh_grad", "sigmoid_grad"} <= ops
    assert sp.simplify(sg.to_sympy(d2) - sp.diff(sg.to_sympy(out), X, 2)) == 0


@pytest.mark.parametrize("build", [
    lambda x, y: sg.relu(x) * y, lambda x, y: sg.abs(x) * y, lambda x, y: sg.maximum(x, y),
    lambda x, y: sg.where(x > y, x * y, y), lambda x, y: sg.minimum(x * x, y) + sg.sign(x),
], ids=["relu", "abs", "maximum", "where", "minimum-sign"])
def test_gradients_of_kinked_functions_equal_sympy_diff_away_from_kinks(build):
    g = sg.Graph()
    x, y = g.placeholder("x"), g.placeholder("y")
    out = build(x, y)
    expr = sg.to_sympy(out)
    for symbol, d in zip((X, Y), sg.gradients(out, [x, y])):
        mine, theirs = sg.to_sympy(d), sp.diff(expr, symbol)  # SymPy: Heaviside, DiracDelta
        for px, py in [(0.7, -1.3), (-0.4, 0.9), (1.5, 0.2), (-2.0, -0.5)]:
            values = {"x": px, "y": py}
            assert agree(complex(sympy_at(mine, values)).real, sympy_at(theirs, values)), (
                mine, theirs, values)


def test_a_derivative_prints_as_latex():
    g = sg.Graph()
    x = g.placeholder("x")
    d = sg.grad(sg.tanh(x) * sg.exp(x), x)
    text = sp.latex(sg.to_sympy(d))
    assert r"\tanh" in text and "e^{x}" in text, text


# -- to_sympy ------------------------------------------------------------------------------------
def test_placeholders_are_real_symbols_and_constants_exact_where_integral():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    assert sg.to_sympy(x).free_symbols == {X} and X.is_real
    two, tenth, three = (sg.to_sympy(x * c).args[0] for c in (
        2.0, 0.1, g.constant(np.int8(3))))
    assert type(two) is sp.Integer and two == 2
    assert type(tenth) is sp.Float and float(tenth) == 0.1  # the float64 nearest 0.1, exactly
    assert type(three) is sp.Integer and three == 3
    assert sg.to_sympy(x + np.float32(0.1)).args[0] == sp.Float(float(np.float32(0.1)))
    assert sg.to_sympy(x * True + g.constant(np.nan) + g.constant(-np.inf)) == X + sp.nan - sp.oo


@pytest.mark.parametrize("build, form", [
    (sg.relu, sp.Max(X, 0)), (sg.abs, sp.Abs(X)), (sg.sign, sp.sign(X)),
    (sg.sigmoid, 1 / (1 + sp.exp(-X))), (sg.softplus, sp.log(1 + sp.exp(X))),
    (lambda x: sg.maximum(x, 1.5), sp.Max(X, sp.Float(1.5))), (sg.square, X**2),
    (lambda x: sg.where(x < 0, -x, x), sp.Piecewise((-X, X < 0), (X, True))),
], ids=["relu", "abs", "sign", "sigmoid", "softplus", "maximum", "square", "where"])
def test_exact_forms(build, form):
    g = sg.Graph()
    assert sg.to_sympy(build(g.placeholder("x"))) == form


def test_booleans_count_as_one_and_zero_in_arithmetic():
    g = sg.Graph()
    x = g.placeholder("x")
    expr = sg.to_sympy((x > 0) * x + sg.where(x, 1.0, 2.0))  # a float condition: x != 0
    assert expr == sp.Piecewise((1, X > 0), (0, True)) * X + sp.Piecewise((1, sp.Ne(X, 0)),
                                                                            (2, True))


def test_to_sympy_names_the_node_it_cannot_write():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    with pytest.raises(sg.GraphError, match=r"op 'matmul' at node matmul#\d+ has no SymPy"):
        sg.to_sympy(x @ x)
    with pytest.raises(sg.GraphError, match=r"constant w has shape \(3,\)"):
        sg.to_sympy(x * g.constant(np.ones(3), name="w"))
    with pytest.raises(TypeError):
        sg.to_sympy(X)


# -- from_sympy ----------------------------------------------------------------------------------
def ops_of(t):
    return [t.graph.nx.nodes[n]["op"] for n in sorted(t.graph.ancestors([t.id]))]


@pytest.mark.parametrize("expr, ops", [
    (X + Y + Z + 1, ["add", "add", "add"]),
    (X - Y - 2, ["subtract", "subtract"]),
    (X * Y * Z * 3, ["multiply", "multiply", "multiply"]),
    (X / Y, ["divide"]), (1 / X, ["divide"]), (X**-2, ["power", "divide"]),
    (sp.sqrt(X), ["sqrt"]), (1 / sp.sqrt(X), ["sqrt", "divide"]), (-X, ["negative"]),
    (X ** sp.Rational(1, 3), ["power"]), (2**X, ["power"]),
    (sp.Max(X, Y, Z), ["maximum", "maximum"]),
], ids=str)
def test_sympys_forms_become_few_plain_nodes(expr, ops):
    t = sg.from_sympy(expr)
    assert [o for o in ops_of(t) if o not in ("placeholder", "constant")] == ops
    values = {"x": 0.7, "y": 1.9, "z": 2.3}
    got = sg.evaluate(t, {k: v for k, v in values.items() if sp.Symbol(k, real=True) in
                          expr.free_symbols})
    assert agree(got, sympy_at(expr, values), tol=1e-14)


@pytest.mark.parametrize("expr, value", [
    (sp.Rational(1, 3), 1 / 3), (sp.E, math.e), (sp.pi, math.pi), (sp.Float(0.1), 0.1),
    (sp.Integer(7), 7.0), (sp.sqrt(2) * sp.pi, math.sqrt(2) * math.pi), (sp.oo, math.inf),
], ids=str)
def test_numbers_become_float64_constants(expr, value):
    t = sg.from_sympy(expr)
    assert t.op == "constant" and t.dtype == np.float64
    assert sg.evaluate(t, {}) == value
    u = sg.from_sympy(X * expr)
    assert sg.evaluate(u, {"x": 2.0}) == 2.0 * value


def test_free_symbols_reuse_the_graphs_placeholders_or_become_scalar_float64_ones():
    g = sg.Graph()
    x = g.placeholder("x", (4,), "float32")
    t = sg.from_sympy(X * Y + sp.Symbol("x"), g)  # assumptions aside, a name is a name
    assert t.graph is g and x in g.placeholders()
    y = g.tensor("y")
    assert (y.op, y.shape, y.dtype) == ("placeholder", (), np.float64)
    assert [p.name for p in g.placeholders()] == ["x", "y"]
    assert t.shape == (4,)
    new = sg.from_sympy(X + 1)
    assert new.graph is not g and new.graph.tensor("x").shape == ()


def test_relations_and_piecewise_become_comparisons_and_where():
    t = sg.from_sympy(sp.Piecewise((X, X > Y), (Y**2, X < 0), (1, True)))
    assert {"greater", "less", "where"} <= set(ops_of(t))
    for x, y in [(1.0, 0.5), (-1.0, 0.5), (0.2, 0.5)]:
        assert sg.evaluate(t, {"x": x, "y": y}) == (x if x > y else y * y if x < 0 else 1)
    c = sg.from_sympy(sp.Ge(X, 1))
    assert c.dtype == np.bool_ and sg.evaluate(c, {"x": 1.0})
    logic = sg.from_sympy(sp.Piecewise((X, (X > 0) & ~(Y > 0) | (Y > 2)), (0, True)))
    for x, y in [(1.0, -1.0), (1.0, 1.0), (-1.0, 3.0), (-1.0, 1.0)]:
        want = x if (x > 0 and not y > 0) or y > 2 else 0
        assert sg.evaluate(logic, {"x": x, "y": y}) == want, (x, y)


def test_from_sympy_names_what_it_cannot_build_and_leaves_the_graph_as_it_was():
    g = sg.Graph()
    g.placeholder("x")
    before = sorted(g.nx.nodes)
    for expr, message in [(sp.gamma(X) + Y, "SymPy's gamma has no symgrad op"),
                          (sp.Function("f")(X) * Y, "SymPy's f has no symgrad op"),
                          (sp.I * X + Y, "I is not a real number"),
                          (sp.Heaviside(X) * Y, "SymPy's Heaviside"),  # sympy.diff's
                          (sp.Derivative(sp.Function("f")(X), X), "SymPy's Derivative")]:
        with pytest.raises(sg.GraphError, match=message):
            sg.from_sympy(expr, g)
        assert sorted(g.nx.nodes) == before and [p.name for p in g.placeholders()] == ["x"]
    g2 = sg.Graph()
    g2.placeholder("x", (3,))
    g2.placeholder("y", (4,))
    with pytest.raises(sg.ShapeError):
        sg.from_sympy(X + Y + Z, g2)
    assert [p.name for p in g2.placeholders()] == ["x", "y"]


def test_from_sympy_never_parses_strings():
    with pytest.raises(TypeError, match="expects a SymPy expression"):
        sg.from_sympy("__import__('os').getcwd()")
    with pytest.raises(TypeError):
        sg.from_sympy(X, graph="g")
