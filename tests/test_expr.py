"""expr.py: the safe expression parser: what it accepts, what it refuses and where, its
limits, and (hypothesis) that any text or syntax tree gives a tensor or its own error."""

import ast
import builtins
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgrad as sg
from symgrad.errors import ExpressionError, FormatError
from symgrad.expr import CONSTANTS, FUNCTIONS, MAX_DEPTH, MAX_LENGTH, parse

X, Y = 0.7, -1.3


def _value(t, **point):
    names = [p.name for p in t.graph.placeholders()]
    f = sg.function(t.graph.placeholders(), t, simplify=False)
    with np.errstate(all="ignore"):
        return f(*[point[n] for n in names])


# (text, the value at x = 0.7, y = -1.3, computed here with NumPy)
ACCEPTED = [
    ("x", X),
    ("2 * x + 1", 2 * X + 1),
    ("x - y - 1", X - Y - 1),
    ("x - (y - 1)", X - (Y - 1)),
    ("-x ** 2", -(X**2)),
    ("(-x) ** 2", (-X) ** 2),
    ("x ** -2", X**-2),
    ("2 ** 3 ** 2", 2.0**9),
    ("+x", X),
    ("x / y / 2", X / Y / 2),
    ("sin(x) * cos(y)", np.sin(X) * np.cos(Y)),
    ("exp(log(x))", np.exp(np.log(X))),
    ("arctan2(y, x) + hypot(x, y)", np.arctan2(Y, X) + np.hypot(X, Y)),
    ("logaddexp(x, y) - maximum(x, y) + minimum(x, y)",
     np.logaddexp(X, Y) - np.maximum(X, Y) + np.minimum(X, Y)),
    ("where(x > y, x, y)", X),
    ("where(x <= y, 1, 0) + (x == x) + (x != y)", 2.0),
    ("clip(y, -1, 1)", -1.0),
    ("leaky_relu(y, 0.2)", 0.2 * Y),
    ("leaky_relu(y)", 0.01 * Y),
    ("leaky_relu(y, -inf) + elu(x, pi)", math.inf + X),
    ("elu(y, -2)", -2 * np.expm1(Y)),
    ("round(x, 1) + round(2.5)", 0.7 + 2.0),
    ("erf(x) + gelu(x) + sigmoid(x) + softplus(x) + relu(y)", None),
    ("pi + e + 1e-3 + 1_000 + 0x10", math.pi + math.e + 1e-3 + 1000 + 16),
    ("inf - inf", math.nan),
    ("-0.0", -0.0),
    ("-0", -0.0),
    ("True", True),
    ("  x\n", X),
    ("(x +\n y)", X + Y),
    ("é + x", None),
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_syntax_computes_what_python_would(text, expected):
    t = parse(text)
    assert t.shape == () and t.dtype in (np.float64, np.bool_)
    assert all(p.shape == () and p.dtype == np.float64 for p in t.graph.placeholders())
    value = _value(t, x=X, y=Y, é=2.0)
    if expected is not None:
        np.testing.assert_array_equal(value, expected)
        if not np.isnan(expected):
            assert np.signbit(value) == np.signbit(expected)  # -0.0 stays -0.0


def test_every_name_becomes_one_placeholder_and_a_given_graph_keeps_its_own():
    g = sg.Graph()
    x = g.placeholder("x")
    t = parse("x * y + x / y", g)
    assert t.graph is g
    assert [p.name for p in g.placeholders()] == ["x", "y"] and g.placeholders()[0] == x


# (text, a word the message holds, the offset and length of the culprit or None)
REFUSED = [
    ("", "empty", None),
    ("x +", "ends too early", (3, 1)),
    ("sin(x", "never closed", (3, 1)),
    ("x $ y", "invalid", (2, 1)),
    ("foo(x) + 1", "unknown function 'foo'", (0, 3)),
    ("x + __import__('os').system('true')", "only functions called by name", (4, 23)),
    ("__import__('os')", "unknown function '__import__'", (0, 10)),
    ("eval('1')", "unknown function 'eval'", (0, 4)),
    ("x.real", "attribute access", (0, 6)),
    ("x[0]", "indexing", (0, 4)),
    ("(lambda: 1)()", "only functions called by name", (1, 9)),
    ("[x for x in y]", "comprehensions", (0, 14)),
    ("sin(x=1)", "keyword arguments", (4, 3)),
    ("sin(*x)", "starred", (4, 2)),
    ("'abc'", "strings", (0, 5)),
    ("b'abc'", "bytes", (0, 6)),
    ("1j", "complex numbers", (0, 2)),
    ("None", "None", (0, 4)),
    ("x if y else 1", "if-else", (0, 13)),
    ("x and y", "and/or", (0, 7)),
    ("not x", "not", (0, 5)),
    ("~x", "~", (0, 2)),
    ("x // 2", "//", (0, 6)),
    ("x % 2", "mod", (0, 5)),
    ("x @ y", "@", (0, 5)),
    ("x < y < 1", "chained", (0, 9)),
    ("x in y", "in", (0, 6)),
    ("(x, y)", "tuples", (0, 6)),
    ("(y := 1)", "assignment", (1, 6)),
    ("f'{x}'", "f-strings", (0, 6)),
    ("sin", "'sin' is a function", (0, 3)),
    ("sin(x, y)", "sin takes 1 argument, got 2", (0, 9)),
    ("arctan2(x)", "arctan2 takes 2 arguments, got 1", (0, 10)),
    ("leaky_relu(x, y)", "a number is expected", (14, 1)),
    ("round(x, 0.5)", "whole number", (9, 3)),
    ("round(x, 1e300)", "from -2147483648 to 2147483647", (9, 5)),
    ("-(x > 0)", "negative", (0, 8)),
    ("True + x * sin(True)", "float16", (11, 9)),
    ("x + 9" + "9" * 5000, "Exceeds the limit (4300 digits)", None),
    ("1" * 400 + "e0 * x", None, None),  # accepted: a float literal of 400 digits is 1e400
    ("x\0", "null", None),
    ("(x +\n foo(y))", "line 2, column 2", (6, 3)),
    ("x +\n y", "invalid syntax (line 1, column 4)", (3, 1)),
    ("  x ^ 1", "column 3", (2, 5)),
]


@pytest.mark.parametrize("text, word, position", REFUSED, ids=[r[0][:30] for r in REFUSED])
def test_refused_text_raises_one_error_that_points_at_the_culprit(text, word, position):
    g = sg.Graph()
    g.placeholder("x")
    before = g.nx.number_of_nodes()
    if word is None:
        parse(text, g)
        return
    with pytest.raises(ExpressionError) as info:
        parse(text, g)
    assert isinstance(info.value, FormatError) and isinstance(info.value, sg.SymgradError)
    assert word in str(info.value)
    if position is not None:
        assert info.value.position == position
        assert "column" in str(info.value)
    assert g.nx.number_of_nodes() == before  # nothing left behind


def test_wrong_python_types_are_type_errors():
    with pytest.raises(TypeError, match="str"):
        parse(b"x")
    with pytest.raises(TypeError, match="Graph"):
        parse("x", graph="g")


def test_input_length_and_nesting_are_bounded():
    wide = " + ".join(["sin(x * y) * (x - 1)"] * (MAX_DEPTH // 2))  # 3 levels per term
    assert len(wide) < MAX_LENGTH
    parse(wide)
    with pytest.raises(ExpressionError, match=f"more than the {MAX_LENGTH}"):
        parse("x" * (MAX_LENGTH + 1))
    parse(" + ".join(["x"] * (MAX_DEPTH - 1)))  # x + x + x nests: ((x + x) + x)
    parse("sin(" * 150 + "x" + ")" * 150)  # Python's parser takes 200 nested parentheses
    parse("(" * 150 + "x" + ")" * 150)  # parentheses add no level
    deep = ["sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, "-" * MAX_DEPTH + "x",
            " + ".join(["x"] * (MAX_DEPTH + 1)), "-" * (MAX_LENGTH - 1) + "x",
            "x" + "**x" * 3000, "(" * 300 + "x" + ")" * 300, "[" * 3000]
    for text in deep:
        with pytest.raises(ExpressionError) as info:
            parse(text)
        assert "nest" in str(info.value)


def test_parsing_runs_no_code(monkeypatch, tmp_path):
    canary = tmp_path / "ran"

    def refuse(*args, **kwargs):
        raise AssertionError("the parser ran code")

    real_compile = builtins.compile

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile to code, not just a syntax tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", ast_only)
    monkeypatch.setattr(builtins, "__import__", refuse)
    parse("sin(x) * exp(-y) + where(x > 0, x, 0)")
    for text in [f"open({str(canary)!r}, 'w')", f"__import__('pathlib').Path({str(canary)!r})"
                 ".touch()", "[c for c in ().__class__.__base__.__subclasses__()]"]:
        with pytest.raises(ExpressionError):
            parse(text)
    assert not canary.exists()


# -- fuzzing: any text, any syntax tree --------------------------------------------------------
def _outcome(text):
    """A tensor, or the parser's own error: never any other exception. The work is bounded:
    every node it builds stands for at least one character of the text."""
    g = sg.Graph()
    try:
        t = parse(text, g)
    except ExpressionError as e:
        assert str(e)
        assert g.nx.number_of_nodes() == 0
        if e.position is not None:
            offset, length = e.position
            assert 0 <= offset <= len(text) and length >= 1
        return None
    assert t.shape == () and t.dtype in (np.float64, np.bool_)
    assert g.nx.number_of_nodes() <= len(text)
    return t


_TOKENS = [*FUNCTIONS, *CONSTANTS, "x", "y", "z", "0", "1", "2.5", "1e300", "-", "+", "*",
           "/", "**", "//", "%", "@", "(", ")", "(", ")", ",", " ", "<", ">=", "==", "!=",
           "not ", " and ", " if ", " else ", "lambda", ":", ".", "[", "]", "'", '"', "=",
           "True", "None", "__import__", "__class__", "\n", "\t", "j", "_", "\\", "#", ";"]


@given(st.one_of(st.text(max_size=80),
                 st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join)))
def test_random_text_gives_a_tensor_or_an_expression_error(text):
    _outcome(text)


_NAMES = st.sampled_from([*FUNCTIONS, *CONSTANTS, "x", "y", "eval", "__import__", "True"])


def _expressions(leaves):
    def extend(inner):
        ops = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod,
               ast.MatMult, ast.BitAnd, ast.LShift]
        cmps = [ast.Lt, ast.GtE, ast.Eq, ast.NotEq, ast.Is, ast.In]
        return st.one_of(
            st.builds(ast.BinOp, inner, st.sampled_from(ops).map(lambda c: c()), inner),
            st.builds(ast.UnaryOp, st.sampled_from([ast.USub(), ast.UAdd(), ast.Not(),
                                                    ast.Invert()]), inner),
            st.builds(lambda left, pairs: ast.Compare(left, [c() for c, _ in pairs],
                                                      [x for _, x in pairs]),
                      inner, st.lists(st.tuples(st.sampled_from(cmps), inner), min_size=1,
                                      max_size=2)),
            st.builds(lambda f, args, kws: ast.Call(ast.Name(f, ast.Load()), args, kws),
                      _NAMES, st.lists(inner, max_size=4),
                      st.lists(st.builds(ast.keyword, st.sampled_from(["slope", "x"]), inner),
                               max_size=1)),
            st.builds(lambda v, args: ast.Call(ast.Attribute(v, "sin", ast.Load()), args, []),
                      inner, st.lists(inner, max_size=2)),
            st.builds(lambda v: ast.Subscript(v, ast.Constant(0), ast.Load()), inner),
            st.builds(lambda v: ast.Lambda(ast.arguments([], [], None, [], [], None, []), v),
                      inner),
            st.builds(ast.IfExp, inner, inner, inner),
            st.builds(lambda a, b: ast.BoolOp(ast.And(), [a, b]), inner, inner),
            st.builds(lambda xs: ast.Tuple(xs, ast.Load()), st.lists(inner, max_size=3)),
            st.builds(lambda f, v: ast.Call(ast.Name(f, ast.Load()),
                                            [ast.Starred(v, ast.Load())], []), _NAMES, inner),
        )
    return st.recursive(leaves, extend, max_leaves=25)


_LEAVES = st.one_of(
    st.builds(lambda n: ast.Name(n, ast.Load()), _NAMES),
    st.builds(ast.Constant, st.one_of(st.integers(-10**400, 10**400), st.floats(),
                                      st.booleans(), st.none(), st.text(max_size=3),
                                      st.complex_numbers(max_magnitude=10))),
)


@given(_expressions(_LEAVES))
def test_random_syntax_trees_give_a_tensor_or_an_expression_error(tree):
    text = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    _outcome(text)
