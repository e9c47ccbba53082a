"""Scalar graphs written as expression text (the syntax symgrad.expr parses) and as LaTeX.

The text is exact: parsing it gives a graph of the same values, since infix operators keep the
graph's grouping (minimal parentheses, never a regrouping that rounds differently) and floats
print as their repr. A node used twice is written out twice; MAX_TERMS bounds the result.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable

import numpy as np

from ..errors import ExpressionError
from ..expr import COMPARISONS, CONSTANTS, FUNCTIONS, OPERATORS
from ..tensor import Tensor

MAX_TERMS = 100_000  # names, numbers and operations in the written-out expression

Rope = str | tuple  # text as nested tuples of strings: shared sub-terms are not copied
Term = tuple[Rope, int]  # (text, precedence)
# precedence, loosest first; LaTeX's sign sits below a product (-a b is -(a b) in math)
CMP, ADD, LATEX_NEG, MUL, NEG, FRAC, POW, ATOM = 10, 20, 25, 30, 40, 50, 60, 70
_PRECEDENCE = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "**": POW,
               **{symbol: CMP for symbol in COMPARISONS.values()}}
_DTYPES = (np.dtype(np.float64), np.dtype(np.bool_))


def to_expression(y: Tensor) -> str:
    """`y` as expression text, in the syntax `symgrad diff` reads; parsing the text again
    (`symgrad.expr.parse`) gives the same values.

    Raises:
        ExpressionError: a node that is not a float64 or boolean scalar, an op that has no
            form in the syntax, or more than MAX_TERMS terms written out.
    """
    return _write(y, _Python(), "to_expression")


def to_latex(y: Tensor) -> str:
    """`y` as LaTeX math (without the surrounding $ signs); errors as to_expression."""
    return _write(y, _Latex(), "to_latex")


def _cast(s: _Python, t: Tensor, args: list[Term]) -> Term:
    x = t.inputs[0]
    if x.dtype == t.dtype:
        return args[0]
    if x.dtype == np.bool_:  # True -> 1.0, False -> 0.0
        return s.call("where", [args[0], s.number(1), s.number(0)])
    raise ExpressionError(f"{t.label}: a cast from {x.dtype} to {t.dtype} has no expression")


def _scaled(s: _Python, g: Term, term: Term) -> Term:
    """g * term; just term where g is the number 1 (the seed of a derivative): 1 * z is z
    exactly, so the text stays exact."""
    return term if g == s.number(1) else s.infix("*", g, term)


# The ops that have no function of their own, written through ones that have. The fused
# derivatives in the very arithmetic their compute does, so that the values stay the same.
FORMS: dict[str, Callable[[_Python, Tensor, list[Term]], Term]] = {
    "tanh_grad": lambda s, t, a: _scaled(s, a[1], s.infix("-", s.number(1),  # g (1 - y y)
                                                          s.infix("*", a[0], a[0]))),
    "sigmoid_grad": lambda s, t, a: _scaled(s, a[1], s.infix("*", a[0],  # g (y (1 - y))
                                                             s.infix("-", s.number(1), a[0]))),
    "cast": _cast,
    "zeros_like": lambda s, t, a: s.number(False if t.dtype == np.bool_ else 0),
    "ones_like": lambda s, t, a: s.number(True if t.dtype == np.bool_ else 1),
}


def _write(y: Tensor, style: _Python, what: str) -> str:
    if not isinstance(y, Tensor):
        raise TypeError(f"{what} expects a Tensor, got {type(y).__name__}")
    graph = y.graph
    order = graph.topo_order([y.id])
    sizes: dict[int, int] = {}
    for n in order:
        a = graph._node[n]
        if a["shape"] != () or a["dtype"] not in _DTYPES:
            raise ExpressionError(f"{what}: {graph.label(n)} is of shape {a['shape']} and "
                                  f"{a['dtype']}; expressions hold float64 and boolean scalars")
        sizes[n] = 1 + sum(sizes[i] for i in a["inputs"])
    if sizes[y.id] > MAX_TERMS:
        raise ExpressionError(f"{what}: written out, {y.label} has {sizes[y.id]} terms, more "
                              f"than the {MAX_TERMS} allowed (a part used twice is written "
                              f"twice)")
    terms: dict[int, Term] = {}
    for n in order:
        t = Tensor(graph, n)
        terms[n] = _term(style, t, [terms[i] for i in graph._node[n]["inputs"]], what)
    return _flatten(terms[y.id][0])


def _term(s: _Python, t: Tensor, args: list[Term], what: str) -> Term:
    op = t.op
    if op == "placeholder":
        return s.name(t.name, what)
    if op == "constant":
        return s.number(t._a["value"].item())
    if op == "negative":
        return s.negate(args[0])
    symbol = OPERATORS.get(op) or COMPARISONS.get(op)
    if symbol is not None:
        return s.infix(symbol, *args)
    if op in FORMS:
        return FORMS[op](s, t, args)
    fn = FUNCTIONS.get(op)
    if fn is None:
        raise ExpressionError(f"{what}: {t.label} (op {op!r}) has no form in expressions")
    return s.call(op, args + [s.number(t.params[key]) for key, _ in fn.params])


def _flatten(rope: Rope) -> str:
    out: list[str] = []
    todo = [rope]
    while todo:  # iterative: ropes nest as deep as the graph
        r = todo.pop()
        if isinstance(r, str):
            out.append(r)
        else:
            todo.extend(reversed(r))
    return "".join(out)


def _joined(ropes: list[Rope], sep: str) -> Rope:
    return tuple(x for i, r in enumerate(ropes) for x in ((sep, r) if i else (r,)))


class _Python:
    """Python's grammar: `**` binds tighter than unary minus on its left (-x ** 2 is
    -(x ** 2)) and takes a unary minus on its right (x ** -2)."""

    open, close = "(", ")"
    SIGN = NEG  # the precedence of a negative number

    def wrap(self, term: Term, at_least: int) -> Rope:
        return term[0] if term[1] >= at_least else (self.open, term[0], self.close)

    def name(self, name: str, what: str) -> Term:
        if (not name.isidentifier() or keyword.iskeyword(name) or name in CONSTANTS
                or name in FUNCTIONS):
            raise ExpressionError(f"{what}: placeholder {name!r} cannot be named in an "
                                  f"expression")
        return name, ATOM

    def number(self, v: float | bool) -> Term:
        if isinstance(v, bool):
            return str(v), ATOM
        text = _number_text(v)
        return text, self.SIGN if text.startswith("-") else ATOM

    def infix(self, symbol: str, a: Term, b: Term) -> Term:
        p = _PRECEDENCE[symbol]
        if symbol == "**":
            left, right = p + 1, NEG
        elif p == CMP:  # a < b < c would chain
            left = right = p + 1
        else:  # left-associative: a - (b - c) and a + (b + c) keep their parentheses
            left, right = p, p + 1
        return (self.wrap(a, left), f" {symbol} ", self.wrap(b, right)), p

    def negate(self, a: Term) -> Term:
        return ("-", self.wrap(a, NEG + 1)), NEG  # -(-x), not --x

    def call(self, name: str, args: list[Term]) -> Term:
        return (name, "(", _joined([a[0] for a in args], ", "), ")"), ATOM


def _number_text(v: float) -> str:
    """A float as exact Python text: repr, integers without ".0", pi, e, inf and nan by name."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    for name in ("pi", "e", "inf"):
        if abs(v) == CONSTANTS[name]:
            return name if v > 0 else "-" + name
    if v == 0 and math.copysign(1, v) < 0:
        return "-0.0"
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


_LATEX_SYMBOLS = {"*": r" \cdot ", "<=": r" \leq ", ">=": r" \geq ", "==": " = ",
                  "!=": r" \neq "}
_LATEX_NAMED = {"sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
                "exp", "log"}
_GREEK = set("""alpha beta gamma delta epsilon zeta eta theta iota kappa mu nu xi rho sigma
    tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi
    Omega""".split())


class _Latex(_Python):
    """Math notation: a product binds tighter than a sign (a (-b) keeps its parentheses),
    division is a fraction, a power's exponent is raised."""

    open, close = r"\left(", r"\right)"
    SIGN = LATEX_NEG

    def name(self, name: str, what: str) -> Term:
        # x2, x_2 and my_var_2: a subscript of digits; x_max: a subscript of one word
        m = re.fullmatch(r"(.*?\D)_?(\d+)", name) or re.fullmatch(r"([^_]+)_([^_]+)", name)
        if m is None:
            return _latex_word(name), ATOM
        return f"{_latex_word(m[1])}_{{{_latex_word(m[2])}}}", ATOM

    def number(self, v: float | bool) -> Term:
        if isinstance(v, bool):
            return rf"\mathrm{{{v}}}", ATOM
        text = _number_text(v)
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        digits = {"pi": r"\pi", "inf": r"\infty", "nan": r"\mathrm{NaN}"}.get(digits, digits)
        p = self.SIGN if sign else ATOM
        if "e" in digits and digits != "e":  # 1e-05: 1 \cdot 10^{-5}
            mantissa, power = digits.split("e")
            digits, p = rf"{mantissa} \cdot 10^{{{int(power)}}}", min(p, MUL)
        return sign + digits, p

    def infix(self, symbol: str, a: Term, b: Term) -> Term:
        if symbol == "/":
            return (r"\frac{", a[0], "}{", b[0], "}"), FRAC
        if symbol == "**":
            return (self.wrap(a, ATOM), "^{", b[0], "}"), POW
        p = _PRECEDENCE[symbol]  # a (b c) needs no parentheses here: math, not rounding
        left = {CMP: ADD, ADD: ADD, MUL: LATEX_NEG}[p]
        right = ADD if p == CMP else MUL
        return (self.wrap(a, left), _LATEX_SYMBOLS.get(symbol, f" {symbol} "),
                self.wrap(b, right)), p

    def negate(self, a: Term) -> Term:
        return ("-", self.wrap(a, MUL)), LATEX_NEG

    def call(self, name: str, args: list[Term]) -> Term:
        r = [a[0] for a in args]
        if name == "where":
            return (r"\begin{cases} ", r[1], r" & \text{if } ", r[0], r" \\ ", r[2],
                    r" & \text{otherwise} \end{cases}"), ATOM
        special = {
            "sqrt": lambda: ((r"\sqrt{", r[0], "}"), ATOM),
            "abs": lambda: ((r"\left|", r[0], r"\right|"), ATOM),
            "floor": lambda: ((r"\left\lfloor ", r[0], r" \right\rfloor"), ATOM),
            "ceil": lambda: ((r"\left\lceil ", r[0], r" \right\rceil"), ATOM),
            "exp": lambda: (("e^{", r[0], "}"), POW),
            "exp2": lambda: (("2^{", r[0], "}"), POW),
            "square": lambda: ((self.wrap(args[0], ATOM), "^{2}"), POW),
            "reciprocal": lambda: ((r"\frac{1}{", r[0], "}"), FRAC),
        }.get(name)
        if special is not None:
            return special()
        head = {"log2": r"\log_{2}", "log10": r"\log_{10}", "maximum": r"\max",
                "minimum": r"\min"}.get(name)
        if head is None:
            head = "\\" + name if name in _LATEX_NAMED else (
                r"\operatorname{" + name.replace("_", r"\_") + "}")
        return (head, self.open, _joined(r, ", "), self.close), ATOM


def _latex_word(word: str) -> str:
    if len(word) == 1:
        return word
    if word in _GREEK:
        return "\\" + word
    return r"\mathrm{" + word.replace("_", r"\_") + "}"
