"""export/expression.py: graphs written as expression text and LaTeX. The text is exact:
parsed again it computes the same values, for every function and every derivative of one."""

import itertools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgrad as sg
from symgrad.errors import ExpressionError
from symgrad.export.expression import FORMS, MAX_TERMS, to_expression, to_latex
from symgrad.expr import COMPARISONS, FUNCTIONS, OPERATORS, parse
from symgrad.ops import OPS

POINTS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5]


def _values(t, names, points):
    """t's value at each point (a dict: a value for each name), in float64, computed as
    built."""
    by_name = {p.name: p for p in t.graph.placeholders()}
    f = sg.function([by_name[n] for n in names], t, simplify=False)
    with np.errstate(all="ignore"):
        return np.array([f(*[p[n] for n in names]) for p in points], dtype=np.float64)


def assert_same_values(a, b):
    """Equal bit for bit, NaN matching NaN (its sign may differ: x86 makes -nan of inf-inf)."""
    nan = np.isnan(a)
    assert (nan == np.isnan(b)).all(), (a, b)
    assert (a[~nan] == b[~nan]).all() and (np.signbit(a[~nan]) == np.signbit(b[~nan])).all(), \
        (a, b)


def assert_exact(t, points=None):
    """to_expression(t) parses back to the same values, and prints back to itself."""
    text = to_expression(t)
    u = parse(text)
    assert to_expression(u) == text
    nodes = t.graph.nx.nodes
    used = sorted(nodes[n]["name"] for n in t.graph.ancestors([t.id])
                  if nodes[n]["op"] == "placeholder")
    assert sorted(p.name for p in u.graph.placeholders()) == used
    if points is None:
        points = [dict(zip(used, p)) for p in itertools.product(POINTS, repeat=len(used))]
    assert_same_values(_values(t, used, points), _values(u, used, points))
    return text


# (graph built from x, y, z; its text): grouping that Python reads differently needs brackets
WRITTEN = [
    (lambda x, y, z: x - (y - z), "x - (y - z)"),
    (lambda x, y, z: (x - y) - z, "x - y - z"),
    (lambda x, y, z: x + (y + z), "x + (y + z)"),  # floats do not associate
    (lambda x, y, z: x * (y * z), "x * (y * z)"),
    (lambda x, y, z: x / (y / z), "x / (y / z)"),
    (lambda x, y, z: x / y * z, "x / y * z"),
    (lambda x, y, z: (x + y) * z, "(x + y) * z"),
    (lambda x, y, z: x ** (y ** z), "x ** y ** z"),
    (lambda x, y, z: (x ** y) ** z, "(x ** y) ** z"),
    (lambda x, y, z: -x ** 2, "-x ** 2"),
    (lambda x, y, z: (-x) ** 2, "(-x) ** 2"),
    (lambda x, y, z: x ** -y, "x ** -y"),
    (lambda x, y, z: sg.negative(-x), "-(-x)"),
    (lambda x, y, z: x * -y, "x * -y"),
    (lambda x, y, z: -(x * y), "-(x * y)"),
    (lambda x, y, z: (-x) * y, "-x * y"),
    (lambda x, y, z: (x < y) * z, "(x < y) * z"),
    (lambda x, y, z: sg.equal(x < y, y < z), "(x < y) == (y < z)"),
    (lambda x, y, z: sg.where(x > 0, x * -2.5, 1e-300), "where(x > 0, x * -2.5, 1e-300)"),
    (lambda x, y, z: sg.power(x, x.graph.constant(-2.0)), "x ** -2"),
    (lambda x, y, z: sg.power(x.graph.constant(-2.0), y), "(-2) ** y"),
    (lambda x, y, z: x * np.pi + np.e - np.inf, "x * pi + e - inf"),
    (lambda x, y, z: x * -0.0 + 0.1, "x * -0.0 + 0.1"),
    (lambda x, y, z: x * 3.0 + 1e16 + 2.0**60, "x * 3 + 1e+16 + 1.152921504606847e+18"),
    (lambda x, y, z: sg.leaky_relu(x, 0.25) + sg.elu(y) + sg.round(z, 2),
     "leaky_relu(x, 0.25) + elu(y, 1) + round(z, 2)"),
    (lambda x, y, z: sg.clip(x, -1.0, y), "clip(x, -1, y)"),
    (lambda x, y, z: sg.leaky_relu(x, -np.inf) * sg.elu(y, np.nan),
     "leaky_relu(x, -inf) * elu(y, nan)"),
]


@pytest.mark.parametrize("build, text", WRITTEN, ids=[w[1] for w in WRITTEN])
def test_infix_text_has_the_fewest_brackets_that_keep_the_grouping(build, text):
    g = sg.Graph()
    t = build(g.placeholder("x"), g.placeholder("y"), g.placeholder("z"))
    assert assert_exact(t) == text


def _calls():
    """One expression per function, its arguments away from the trivial point."""
    for name, fn in FUNCTIONS.items():
        args = ["x * y", "y - x", "z + 0.25"][:fn.arity]
        if name == "where":
            args = ["x > y", "x * y", "sin(x)"]
        params = {"slope": "0.3", "alpha": "0.7", "decimals": "1"}
        yield f"{name}({', '.join(args + [params[k] for k, _ in fn.params])})"


@pytest.mark.parametrize("text", list(_calls()))
def test_every_function_and_its_derivatives_print_back_exactly(text):
    t = parse(text)
    x = t.graph.tensor("x")
    d1 = sg.grad(t, x)
    d2 = sg.grad(d1, x)  # differentiates the first derivative's nodes (tanh_grad, ...)
    for u in [t, d1, sg.simplify(d1), d2, sg.simplify(d2)]:
        assert_exact(u)


def test_every_elementwise_op_can_be_written():
    # a derivative pass may emit any of them: each needs an operator, a function or a form
    missing = sorted(name for name, d in OPS.items() if d.elementwise
                     and name not in FUNCTIONS and name not in FORMS)
    assert not missing, f"elementwise ops with no expression form: {missing}"
    assert set(OPERATORS) | set(COMPARISONS) <= set(FUNCTIONS)


def test_fused_derivatives_and_casts_are_written_in_the_arithmetic_they_compute():
    g = sg.Graph()
    x, y = g.placeholder("x"), g.placeholder("y")
    d = sg.grad(sg.tanh(x * y) + sg.sigmoid(x), x)
    assert {g.nx.nodes[n]["op"] for n in g.ancestors([d.id])} >= {"tanh_grad", "sigmoid_grad"}
    # the seed 1 of each fused derivative is left out: 1 * z is z exactly
    assert to_expression(d) == ("sigmoid(x) * (1 - sigmoid(x))"
                                " + (1 - tanh(x * y) * tanh(x * y)) * y")
    g2 = sg.Graph()
    z, s = g2.placeholder("z"), g2.placeholder("s")
    assert to_expression(sg.grad(sg.tanh(z) * s, z)) == "1 * s * (1 - tanh(z) * tanh(z))"
    assert_exact(d)
    assert to_expression(sg.cast(x > y, "float64") + 0.5) == "where(x > y, 1, 0) + 0.5"
    assert to_expression(sg.zeros_like(x) + sg.ones_like(x > y)) == "0 + True"
    assert_exact(sg.cast(x > y, "float64") * y + sg.zeros_like(x))


def test_what_has_no_expression_is_refused_by_name():
    g = sg.Graph()
    v = g.placeholder("v", (3,))
    f32 = g.placeholder("f", (), "float32")
    spaced = g.placeholder("two words")
    named_like_a_function = g.placeholder("sin")
    x = g.placeholder("x")
    for t, word in [(v * 2.0, "shape (3,)"), (f32 + 1, "float32"), (v.sum(), "shape (3,)"),
                    (spaced + 1, "'two words'"), (named_like_a_function * 2.0, "'sin'"),
                    (sg.cast(x, "int64").astype("float64"), "int64"),
                    (sg.stop_gradient(x), "stop_gradient")]:
        with pytest.raises(ExpressionError, match=re.escape(word)):
            to_expression(t)
    with pytest.raises(TypeError, match="Tensor"):
        to_expression("x")


def test_a_shared_node_is_written_out_where_used_up_to_max_terms():
    g = sg.Graph()
    t = g.placeholder("x")
    for _ in range(8):
        t = t * t  # 2^8 leaves written out
    assert to_expression(t).count("x") == 2**8
    for _ in range(20):
        t = t * t
    with pytest.raises(ExpressionError, match=f"more than the {MAX_TERMS}"):
        to_expression(t)
    deep = g.placeholder("y")
    for _ in range(5000):  # deeper than Python's recursion limit: the writer does not recurse
        deep = sg.sin(deep)
    assert to_expression(deep) == "sin(" * 5000 + "y" + ")" * 5000


# -- random expressions ------------------------------------------------------------------------
_NUMBERS = st.one_of(st.sampled_from(["0", "1", "2", "0.5", "-0.0", "1e-300", "1e300", "pi",
                                      "e", "inf", "nan", "-2"]),
                     st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr))


def _random_expressions():
    leaves = st.one_of(st.sampled_from(["x", "y"]), _NUMBERS)
    unary = sorted(n for n, f in FUNCTIONS.items() if f.arity == 1 and not f.params)
    binary = sorted(n for n, f in FUNCTIONS.items() if f.arity == 2
                    and n not in COMPARISONS)

    def extend(inner):
        condition = st.builds(lambda a, op, b: f"{a} {op} {b}", inner,
                              st.sampled_from(sorted(COMPARISONS.values())), inner)
        return st.one_of(
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner,
                      st.sampled_from(["+", "-", "*", "/", "**"]), inner),
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner,  # Python's own grouping
                      st.sampled_from(["+", "-", "*", "/", "**"]), inner),
            st.builds(lambda a: f"-{a}", inner),
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(unary), inner),
            st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(binary), inner, inner),
            st.builds(lambda c, a, b: f"where({c}, {a}, {b})", condition, inner, inner),
            st.builds(lambda a, s: f"leaky_relu({a}, {s})", inner, _NUMBERS),
        )
    return st.recursive(leaves, extend, max_leaves=12)


_SOME = [{"x": 0.7, "y": -1.3}, {"x": 0.0, "y": 2.0}, {"x": -2.5, "y": -0.5}]


@given(_random_expressions())
def test_random_expressions_and_their_derivatives_print_back_exactly(text):
    try:
        t = parse(text)
    except ExpressionError:
        return  # -(x < y), say; the parser's own tests cover what it refuses
    assert_exact(t, points=_SOME)
    names = {p.name for p in t.graph.placeholders()}
    if "x" in names and t.dtype == np.float64:
        d = sg.grad(t, t.graph.tensor("x"))
        for u in (d, sg.simplify(d)):
            assert_exact(u, points=_SOME)


# -- LaTeX -------------------------------------------------------------------------------------
LATEX = [
    ("sin(x) * y + 2", r"\sin\left(x\right) \cdot y + 2"),
    ("x / (y + 1)", r"\frac{x}{y + 1}"),
    ("(x / y) ** 2", r"\left(\frac{x}{y}\right)^{2}"),
    ("-2 * x * -y", r"-2 \cdot x \cdot \left(-y\right)"),
    ("a - (b - c) + -d", r"a - \left(b - c\right) + \left(-d\right)"),
    ("exp(x) + sqrt(x) + abs(x) + square(x + 1) + log10(x)",
     r"e^{x} + \sqrt{x} + \left|x\right| + \left(x + 1\right)^{2} + \log_{10}\left(x\right)"),
    ("maximum(x, 1e-05) + sigmoid(x) + leaky_relu(x, 0.5)",
     r"\max\left(x, 1 \cdot 10^{-5}\right) + \operatorname{sigmoid}\left(x\right)"
     r" + \operatorname{leaky\_relu}\left(x, 0.5\right)"),
    ("alpha_1 * x2 + theta + my_var_2 + pi * inf",
     r"\alpha_{1} \cdot x_{2} + \theta + \mathrm{my\_var}_{2} + \pi \cdot \infty"),
    ("x <= y", r"x \leq y"),
    ("theta_max != x_b", r"\theta_{\mathrm{max}} \neq x_{b}"),
    ("where(x > 0, x, 0)", r"\begin{cases} x & \text{if } x > 0 \\ 0 & \text{otherwise} "
                           r"\end{cases}"),
]


@pytest.mark.parametrize("text, latex", LATEX, ids=[c[0] for c in LATEX])
def test_latex_of_expressions(text, latex):
    assert to_latex(parse(text)) == latex


@pytest.mark.parametrize("text", [c[0] for c in LATEX if "where" not in c[0]])
def test_latex_renders_with_matplotlib_mathtext(text):
    from matplotlib.mathtext import MathTextParser

    MathTextParser("path").parse(f"${to_latex(parse(text))}$")  # raises on bad LaTeX
