"""SymPy both ways: `to_sympy` writes a scalar or elementwise graph as one SymPy expression, and
`from_sympy` builds a graph from one. The table SYMPY_OPS gives each op's SymPy form and is read
in both directions. Knows SymPy and op names; of graphs only the leaves and `apply`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GraphError
from ..graph import CONSTANT, PLACEHOLDER, Graph
from ..ops.base import OPS, apply
from ..shapes import broadcast, show
from ..tensor import Tensor

if TYPE_CHECKING:
    import sympy


class _Sympy:
    """The sympy module, imported at first use: it takes as long to import as symgrad itself."""

    def __getattr__(self, name: str) -> Any:
        import sympy

        globals()["sp"] = sympy  # later lookups go to the module itself
        return getattr(sympy, name)


sp: Any = _Sympy()


@dataclass(frozen=True)
class Row:
    """One op in SymPy's terms.

    Attributes:
        to: the op's expression from its inputs' expressions (params as keywords).
        head: the name of the SymPy class (or names of classes) that from_sympy turns back
            into this op; None when `to`'s form is made of other rows' heads and comes back
            through them.
        read: how from_sympy builds the op from an expression of class `head`, given the
            function that converts a sub-expression (default: the op on the arguments).
        truths: the input positions that take truth values (where's condition); anywhere
            else a boolean arrives as the number 1 or 0, as NumPy counts it.
    """

    to: Callable[..., Any]
    head: str | tuple[str, ...] | None = None
    read: Callable[[Any, Callable[[Any], Any]], Any] | None = None
    truths: tuple[int, ...] = ()


def same(head: str, read: Callable | None = None) -> Row:
    """An op that is SymPy's function `head`, both ways."""
    return Row(lambda *args: getattr(sp, head)(*args), head, read)


# -- how from_sympy reads SymPy's n-ary and special forms ----------------------------------------
def _read_add(e, build):
    # x - y is x + (-1)*y in SymPy: terms with a minus sign become subtractions
    numbers = [t for t in e.args if not t.free_symbols]
    terms = [t for t in e.args if t.free_symbols]
    plus = [build(t) for t in terms if not t.could_extract_minus_sign()]
    minus = [build(-t) for t in terms if t.could_extract_minus_sign()]
    out = _fold("add", plus) if plus else apply("negative", [minus.pop(0)])
    for t in minus:
        out = apply("subtract", [out, t])
    c = _value(sp.Add(*numbers)) if numbers else 0.0
    return apply("subtract", [out, -c]) if c < 0 else apply("add", [out, c]) if c else out


def _read_mul(e, build):
    # x / y is x * y**-1 in SymPy: factors with a negative power go below a division
    c = _value(sp.Mul(*[f for f in e.args if not f.free_symbols]))
    factors = [f for f in e.args if f.free_symbols]
    over = [build(f) for f in factors if not _is_reciprocal(f)]
    under = [build(1 / f) for f in factors if _is_reciprocal(f)]
    if abs(c) != 1 or not over:
        over.insert(0, abs(c))
    out = _fold("multiply", over)
    if under:
        out = apply("divide", [out, _fold("multiply", under)])
    return apply("negative", [out]) if c < 0 else out


def _is_reciprocal(f) -> bool:
    return f.is_Pow and f.exp.is_number and f.exp.is_negative


def _read_pow(e, build):
    base, exponent = e.args
    if not exponent.free_symbols:
        if exponent.is_negative:
            return apply("divide", [1.0, build(1 / e)])  # x**-1 -> 1/x, x**-0.5 -> 1/sqrt(x)
        if exponent == sp.S.Half:
            return apply("sqrt", [build(base)])
    return apply("power", [build(base), build(exponent)])


def _read_choice(e, build):
    """Piecewise, and the logic SymPy writes conditions in (ITE, And, Or, Not), as `where`."""
    kind = type(e).__name__
    if kind == "Piecewise":
        out = math.nan  # where no condition holds, SymPy's Piecewise is undefined
        for expr, cond in reversed(e.args):
            out = build(expr) if cond is sp.true else apply("where", [build(cond), build(expr),
                                                                       out])
        return out
    args = [build(a) for a in e.args]
    if kind == "ITE":
        return apply("where", args)
    if kind == "Not":
        return apply("where", [args[0], False, True])
    if kind == "And":
        return reduce(lambda a, b: apply("where", [a, b, False]), args)
    return reduce(lambda a, b: apply("where", [a, True, b]), args)  # Or


def _fold_read(op):
    return lambda e, build: _fold(op, [build(a) for a in e.args])


def _fold(op: str, items: list) -> Any:
    return reduce(lambda a, b: apply(op, [a, b]), items)


# -- how to_sympy writes symgrad's values --------------------------------------------------------
def _is_truth(e) -> bool:
    """A SymPy truth value (a relation, And, true), not a number (a Symbol is both: a number)."""
    return isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Expr)


def _number(e):
    return sp.Piecewise((1, e), (0, True)) if _is_truth(e) else e


def _truth(e):
    return e if _is_truth(e) else sp.Ne(e, 0)


def _real(v: float):
    """Integer-valued floats as exact integers, others as SymPy Floats of the same value."""
    if math.isnan(v):
        return sp.nan
    if math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    return sp.Integer(int(v)) if v.is_integer() else sp.Float(v)


def _trunc(x):
    return sp.sign(x) * sp.floor(sp.Abs(x))  # toward zero


def _cast(x, dtype: str):
    kind = np.dtype(dtype).kind
    return sp.Ne(x, 0) if kind == "b" else _trunc(x) if kind in "iu" else x  # NumPy truncates


@cache
def _rint() -> type:
    class rint(sp.Function):  # noqa: N801 - NumPy's name
        """Rounding to the nearest integer, halves to even, as NumPy's rint and round."""

        @classmethod
        def eval(cls, x):
            if x.is_Rational or x.is_Float:
                r = sp.Rational(x)  # a Float's exact binary value
                n = sp.floor(r)
                return n + 1 if r - n > sp.S.Half or r - n == sp.S.Half and n % 2 else n
            return None

        def fdiff(self, argindex=1):
            return sp.S.Zero  # flat between the jumps, as symgrad's derivative of round

        def _eval_evalf(self, prec):
            x = self.args[0].evalf(prec)  # rint(erf(0.1) + 0.6) once the argument is a number
            return self.func(x) if x.is_Float or x.is_Rational else None
    return rint


def _round(x, decimals: int = 0):
    scale = sp.Integer(10) ** decimals  # NumPy: rint(x * 10**d) / 10**d
    return _rint()(x * scale) / scale


_CUSTOM_HEADS: dict[str, Callable[[], type]] = {"rint": _rint}

# One row per op, read both ways. Ops another module registers later need a row here too:
# tests/export/test_sympy.py requires one for every elementwise op in OPS.
SYMPY_OPS: dict[str, Row] = {
    "add": Row(operator.add, "Add", _read_add),
    "subtract": Row(operator.sub),
    "multiply": Row(operator.mul, "Mul", _read_mul),
    "divide": Row(operator.truediv),
    "negative": Row(operator.neg),
    "power": Row(operator.pow, "Pow", _read_pow),
    "reciprocal": Row(lambda x: 1 / x),
    "square": Row(lambda x: x**2),
    "sqrt": Row(lambda x: sp.sqrt(x)),
    "exp": same("exp"),
    "expm1": Row(lambda x: sp.exp(x) - 1),
    "exp2": Row(lambda x: sp.Integer(2) ** x),
    "log": same("log"),
    "log1p": Row(lambda x: sp.log(1 + x)),
    "log2": Row(lambda x: sp.log(x, 2)),
    "log10": Row(lambda x: sp.log(x, 10)),
    "logaddexp": Row(lambda x, y: sp.log(sp.exp(x) + sp.exp(y))),
    "hypot": Row(lambda x, y: sp.sqrt(x**2 + y**2)),
    "abs": same("Abs"),
    "sign": same("sign"),
    "maximum": same("Max", _fold_read("maximum")),
    "minimum": same("Min", _fold_read("minimum")),
    "clip": Row(lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi)),  # np.clip: min(max(x, lo), hi)
    "floor": same("floor"),
    "ceil": same("ceiling"),
    "trunc": Row(_trunc),
    "round": Row(_round, "rint", lambda e, build: apply("round", [build(e.args[0])], decimals=0)),
    "mod": same("Mod"),  # both take the divisor's sign: x - y floor(x / y)
    "sin": same("sin"),
    "cos": same("cos"),
    "tan": same("tan"),
    "arcsin": same("asin"),
    "arccos": same("acos"),
    "arctan": same("atan"),
    "arctan2": same("atan2"),  # atan2(y, x), NumPy's order
    "sinh": same("sinh"),
    "cosh": same("cosh"),
    "tanh": same("tanh"),
    "arcsinh": same("asinh"),
    "arccosh": same("acosh"),
    "arctanh": same("atanh"),
    "erf": same("erf"),
    "erfc": same("erfc"),
    "sigmoid": Row(lambda x: 1 / (1 + sp.exp(-x))),
    "softplus": Row(lambda x: sp.log(1 + sp.exp(x))),
    "relu": Row(lambda x: sp.Max(x, 0)),
    "leaky_relu": Row(lambda x, slope: sp.Piecewise((x, x > 0), (_real(slope) * x, True))),
    "elu": Row(lambda x, alpha: sp.Piecewise((x, x > 0), (_real(alpha) * (sp.exp(x) - 1), True))),
    "silu": Row(lambda x: x / (1 + sp.exp(-x))),
    "gelu": Row(lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2),  # x Phi(x), exact
    # derivatives as one node each, in terms of the result y of tanh or sigmoid
    "tanh_grad": Row(lambda y, g: g * (1 - y**2)),
    "sigmoid_grad": Row(lambda y, g: g * y * (1 - y)),
    "less": same("Lt"),
    "less_equal": same("Le"),
    "greater": same("Gt"),
    "greater_equal": same("Ge"),
    "equal": same("Eq"),
    "not_equal": same("Ne"),
    "where": Row(lambda c, x, y: sp.Piecewise((x, c), (y, True)),
                 ("Piecewise", "ITE", "And", "Or", "Not"), _read_choice, truths=(0,)),
    # not elementwise, but in derivative graphs of scalars
    "zeros_like": Row(lambda x: sp.S.Zero),
    "ones_like": Row(lambda x: sp.S.One),
    "cast": Row(_cast),  # dtypes are not SymPy's concern: only integers and booleans change
}


# -- to_sympy ------------------------------------------------------------------------------------
def to_sympy(y: Tensor) -> sympy.Expr:
    """The SymPy expression a scalar or elementwise graph computes (one element of it).

    Placeholders become real symbols of their names (a boolean one stands for 0 or 1);
    integer-valued constants become exact integers, other floats `sympy.Float`s. Dtypes are
    not represented: SymPy computes exactly. GraphError for a non-scalar constant or an op
    without a row in SYMPY_OPS, naming the op and the node.
    """
    if not isinstance(y, Tensor):
        raise TypeError(f"to_sympy expects a symgrad Tensor, got {type(y).__name__}")
    graph = y.graph
    done: dict[int, Any] = {}
    for nid in graph.topo_order([y.id]):
        a = graph.nx.nodes[nid]
        done[nid] = _node_to_sympy(graph, nid, a, [done[i] for i in a["inputs"]])
    return done[y.id]


def _node_to_sympy(graph: Graph, nid: int, a: dict, args: list) -> Any:
    op = a["op"]
    if op == PLACEHOLDER:
        return sp.Symbol(a["name"], real=True)
    if op == CONSTANT:
        value = a["value"]
        if value.shape != ():
            raise GraphError(f"to_sympy: constant {graph.label(nid)} has shape "
                             f"{show(value.shape)}; only scalar constants have a SymPy form")
        return _scalar(value.item())
    row = SYMPY_OPS.get(op)
    if row is None:
        raise GraphError(f"to_sympy: op {op!r} at node {graph.label(nid)} has no SymPy form "
                         "(no row in symgrad.export.sympy.SYMPY_OPS)")
    args = [_truth(x) if i in row.truths else _number(x) for i, x in enumerate(args)]
    return row.to(*args, **dict(a["params"]))


def _scalar(v: bool | int | float | complex) -> Any:
    if isinstance(v, bool):
        return sp.true if v else sp.false
    if isinstance(v, int):
        return sp.Integer(v)
    if isinstance(v, complex):
        return _real(v.real) + sp.I * _real(v.imag)
    return _real(v)


# -- from_sympy ----------------------------------------------------------------------------------
def from_sympy(expr: sympy.Basic | float, graph: Graph | None = None) -> Tensor:
    """A tensor computing a SymPy expression, in `graph` (a new graph if None).

    Free symbols become scalar float64 placeholders of their names, or the graph's placeholders
    of those names if it has them; symbol-free parts become float64 constants. GraphError,
    before anything is added, for a SymPy function symgrad has no op for, naming it.
    """
    if isinstance(expr, bool):
        expr = sp.true if expr else sp.false
    elif isinstance(expr, (int, float)):
        expr = sp.Float(expr)
    if not isinstance(expr, sp.Basic):  # never sympify: on a string it runs Python code
        raise TypeError(f"from_sympy expects a SymPy expression, got {type(expr).__name__}")
    graph = Graph() if graph is None else graph
    if not isinstance(graph, Graph):
        raise TypeError(f"from_sympy: graph must be a symgrad Graph, got {type(graph).__name__}")
    heads = _heads()
    _check(expr, heads)
    names = sorted(s.name for s in expr.free_symbols)
    known = {p.name: p for p in graph.placeholders()}
    broadcast("from_sympy", (), *[known[n].shape for n in names if n in known])  # here or never
    symbols = {n: known[n] if n in known else graph.placeholder(n) for n in names}
    built: dict[Any, Any] = {}

    def build(e):
        if e not in built:
            if not e.free_symbols:
                built[e] = _value(e)
            elif e.is_Symbol:
                built[e] = symbols[e.name]
            else:
                op, row = heads[e.func]
                read = row.read or (lambda e, build: apply(op, [build(a) for a in e.args]))
                built[e] = read(e, build)
        return built[e]

    out = build(expr)
    return out if isinstance(out, Tensor) else graph.constant(np.asarray(out, dtype=(
        np.bool_ if isinstance(out, bool) else np.float64)))


def _heads() -> dict[type, tuple[str, Row]]:
    """SymPy class -> (op, row), for the rows of ops registered now."""
    out = {}
    for op, row in SYMPY_OPS.items():
        if row.head is not None and op in OPS:
            for head in (row.head,) if isinstance(row.head, str) else row.head:
                cls = _CUSTOM_HEADS[head]() if head in _CUSTOM_HEADS else getattr(sp, head)
                out[cls] = (op, row)
    return out


def _check(expr, heads: dict) -> None:
    """Every function symgrad can build and every number real, before building anything."""
    todo, seen = [expr], set()
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.add(e)
        if type(e).__name__ == "ExprCondPair":  # a Piecewise's (x, cond)
            todo.extend(e.args)
        elif not e.free_symbols:
            _value(e)  # a constant part as one number: I*I is real, I is not
        elif e.func in heads:
            todo.extend(e.args)
        elif not e.is_Symbol:
            raise GraphError(f"from_sympy: SymPy's {e.func.__name__} has no symgrad op "
                             f"(in {_short(e)})")


def _value(e) -> float | bool:
    """A symbol-free expression as a Python number (float64), or a bool."""
    if isinstance(e, sp.logic.boolalg.BooleanAtom):
        return bool(e)
    if e is sp.nan:
        return math.nan
    try:
        re, im = (float(part) for part in sp.N(e, 30).as_real_imag())
    except (TypeError, ValueError, AttributeError):
        raise GraphError(f"from_sympy: {_short(e)} is not a number") from None
    if im != 0 or math.isnan(im):
        raise GraphError(f"from_sympy: {_short(e)} is not a real number (symgrad's are float64)")
    return re


def _short(e) -> str:
    text = str(e)
    return text if len(text) <= 60 else text[:57] + "..."
