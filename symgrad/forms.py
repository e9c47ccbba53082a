"""What the scalar forms of op records (OpDef.scalar: Python expressions over floats and the
math module) tell before they run: bounds of their values, the operands they only hand to
math functions or read once and always, and their subexpressions (for reusing a value computed
already).

scalar.py checks at run time only the values that may leave the finite floats: a value whose
bound is finite cannot, as long as the plan's inputs are finite (which it checks). A bound is
worked out from the operands' bounds by the same float operations on the interval's ends,
which rounding cannot get wrong (it is monotone); functions have fixed or widened ranges.
Knows Python's expression syntax and the math module, not ops.
"""

from __future__ import annotations

import ast
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from copy import deepcopy as copy_tree
from functools import cache

Bound = tuple[float, float]  # lo <= value <= hi
UNKNOWN: Bound = (-math.inf, math.inf)  # any value, NaN included
FINITE: Bound = (-sys.float_info.max, sys.float_info.max)  # a value checked to be finite
BOOL: Bound = (0.0, 1.0)
_MAX_OPERANDS = 64  # of a form, with the values it reads from other steps


@cache
def template(form: str) -> ast.expr:
    """The form's syntax tree, its operands named _0, _1, ..."""
    return ast.parse(form.format(*[f"_{i}" for i in range(_MAX_OPERANDS)]), mode="eval").body


def _as_form(tree: ast.expr) -> str:
    return re.sub(r"\b_(\d+)\b", r"{\1}", ast.unparse(tree))


@cache
def canonical(form: str) -> str:
    """The form spelt as ast.unparse spells it: equal subexpressions of two forms read alike."""
    return _as_form(template(form))


@cache
def subexpressions(form: str) -> tuple[tuple[str, str], ...]:
    """(subexpression, the form reading it as a new last operand) for each operation on the
    form's operands inside it, outermost first; both canonical forms."""
    tree = template(form)
    nodes = list(ast.walk(tree))
    n = 1 + max((int(x.id[1:]) for x in nodes if isinstance(x, ast.Name) and x.id[:1] == "_"),
                default=-1)
    out = []
    for k, node in enumerate(nodes[1:], 1):
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call) and any(
                isinstance(x, ast.Name) and x.id[:1] == "_" for x in ast.walk(node)):
            copy = copy_tree(tree)
            target = list(ast.walk(copy))[k]
            out.append((_as_form(node), _as_form(_Swap(target, f"_{n}").visit(copy))))
    return tuple(out)


class _Swap(ast.NodeTransformer):
    def __init__(self, target: ast.AST, name: str) -> None:
        self.target, self.name = target, name

    def visit(self, node: ast.AST) -> ast.AST:
        return ast.Name(self.name) if node is self.target else self.generic_visit(node)


def is_finite(b: Bound) -> bool:
    """Whether every value within the bound is a finite float."""
    return -math.inf < b[0] and b[1] < math.inf


def _hull(*bounds: Bound) -> Bound:
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _up(fn: Callable[[float], float], x: float) -> float:
    """Twice fn(x) (libm need not be monotone to the last bit), inf where it overflows."""
    try:
        return 2.0 * fn(x)
    except (OverflowError, ValueError):
        return math.inf


_LOG = (-1100.0, 1100.0)  # the logarithms of finite floats: log2 of the smallest is -1074
# the range of a math function (of its finite operands' bounds); a function not here: UNKNOWN
_RANGES: dict[str, Callable[..., Bound]] = {
    "tanh": lambda x: (-1.0, 1.0), "sin": lambda x: (-1.0, 1.0), "cos": lambda x: (-1.0, 1.0),
    "erf": lambda x: (-1.0, 1.0), "erfc": lambda x: (0.0, 2.0), "atan": lambda x: (-2.0, 2.0),
    "atan2": lambda y, x: (-4.0, 4.0),
    "exp": lambda x: (0.0, _up(math.exp, x[1])), "expm1": lambda x: (-1.0, _up(math.exp, x[1])),
    "log": lambda x: _LOG, "log1p": lambda x: _LOG, "log2": lambda x: _LOG,
    "log10": lambda x: _LOG,
    "sqrt": lambda x: (0.0, _up(math.sqrt, max(x[1], 0.0))),
    "fabs": lambda x: (0.0, max(-x[0], x[1])),
    "hypot": lambda x, y: (0.0, 2.0 * (max(-x[0], x[1]) + max(-y[0], y[1]))),
    "logaddexp0": lambda x: (0.0, max(x[1], 0.0) + 1.0),  # log(1 + e^t) <= max(t, 0) + log 2
}


def _product(a: Bound, b: Bound) -> Bound:
    ends = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    return min(ends), max(ends)


def _quotient(a: Bound, b: Bound) -> Bound:
    if b[0] <= 0.0 <= b[1]:
        return UNKNOWN  # 1/0 raises, and near 0 the quotient overflows
    ends = (a[0] / b[0], a[0] / b[1], a[1] / b[0], a[1] / b[1])
    return min(ends), max(ends)


_ARITH: dict[type, Callable[[Bound, Bound], Bound]] = {
    ast.Add: lambda a, b: (a[0] + b[0], a[1] + b[1]),
    ast.Sub: lambda a, b: (a[0] - b[1], a[1] - b[0]),
    ast.Mult: _product,
    ast.Div: _quotient,
}


def bound(node: ast.expr, operands: Sequence[Bound]) -> Bound:
    """The bound of a template's value (or of one of its subexpressions), given its operands'.

    An operation on an operand that may not be finite has an UNKNOWN value: inf - inf and
    0 * inf are NaN, which no bound holds."""
    if isinstance(node, ast.Name):
        return operands[int(node.id[1:])] if node.id[:1] == "_" else UNKNOWN  # math.inf, ...
    if isinstance(node, ast.Constant):
        v = float(node.value)
        return (v, v) if math.isfinite(v) else UNKNOWN
    if isinstance(node, ast.Compare) or (isinstance(node, ast.UnaryOp)
                                         and isinstance(node.op, ast.Not)):
        return BOOL
    if isinstance(node, ast.IfExp):
        return _hull(bound(node.body, operands), bound(node.orelse, operands))
    if isinstance(node, ast.BoolOp):  # `a or b` is a or b, not a bool
        return _hull(*[bound(v, operands) for v in node.values])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        b = bound(node.operand, operands)
        return (-b[1], -b[0]) if isinstance(node.op, ast.USub) else b
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        a, b = bound(node.left, operands), bound(node.right, operands)
        if not (is_finite(a) and is_finite(b)):
            return UNKNOWN
        return _ARITH[type(node.op)](a, b)  # finite ends: no NaN, an overflow is an inf end
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        rule = _RANGES.get(node.func.id)
        args = [bound(a, operands) for a in node.args]
        if rule is None or not all(is_finite(a) for a in args):
            return UNKNOWN
        return rule(*args)
    return UNKNOWN


# math functions that read a float operand as a C double and return a float: given an
# np.float64, they compute exactly what they do on the float it holds
_FLOAT_FUNCTIONS = frozenset({
    "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "fabs", "pow",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "hypot", "erf", "erfc"})


@cache
def only_called(form: str) -> frozenset[int]:
    """The operands that the form only passes, as they are, to math functions."""
    tree = template(form)
    uses = Counter(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id[:1] == "_")
    called = Counter(a.id for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                     and node.func.id in _FLOAT_FUNCTIONS
                     for a in node.args if isinstance(a, ast.Name))
    return frozenset(int(name[1:]) for name, k in uses.items() if called[name] == k)


@cache
def read_once(form: str) -> frozenset[int]:
    """The operands the form reads once and always (not in one branch of an `if`, nor after an
    `and`/`or`): where a value that nothing else reads may be written in their place."""
    tree = template(form)
    uses = Counter(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id[:1] == "_")
    sometimes = set()
    for node in ast.walk(tree):
        branches = ([node.body, node.orelse] if isinstance(node, ast.IfExp)
                    else node.values[1:] if isinstance(node, ast.BoolOp) else [])
        sometimes.update(n.id for b in branches for n in ast.walk(b) if isinstance(n, ast.Name))
    return frozenset(int(name[1:]) for name, k in uses.items() if k == 1 and name not in sometimes)
