"""Expression text: a safe parser of the scalar syntax that `symgrad diff` reads.

Python's `ast` parses the text and nothing of it runs: a whitelist admits numbers, True and
False, names, + - * / **, unary minus, single comparisons and calls of FUNCTIONS (positional
arguments only). Each free name becomes a scalar float64 placeholder. The input's length and
nesting are bounded, so no text makes the parser work long or recurse deeply. Prints nothing.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import ops
from .errors import ExpressionError, SymgradError
from .graph import Graph
from .tensor import Tensor

MAX_LENGTH = 10_000  # characters
MAX_DEPTH = 500  # levels of the syntax tree (x + x + x is three): what follows recurses


@dataclass(frozen=True)
class Function:
    """A function expressions may call: `arity` tensor arguments, then optionally one number
    literal for each of `params` ((keyword of `builder`, int or float), in order)."""

    builder: Callable[..., Tensor]
    arity: int
    params: tuple[tuple[str, type], ...] = ()


_UNARY = """negative exp expm1 exp2 log log1p log2 log10 sqrt square reciprocal abs sign sin cos
    tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh sigmoid relu silu gelu
    softplus erf erfc floor ceil trunc"""
_BINARY = """add subtract multiply divide power arctan2 hypot logaddexp maximum minimum mod
    less less_equal greater greater_equal equal not_equal"""

# The elementwise ops of API.md; a function's name is its op's name and its builder's
FUNCTIONS: dict[str, Function] = {
    **{name: Function(getattr(ops, name), 1) for name in _UNARY.split()},
    **{name: Function(getattr(ops, name), 2) for name in _BINARY.split()},
    "clip": Function(ops.clip, 3),
    "where": Function(ops.where, 3),
    "leaky_relu": Function(ops.leaky_relu, 1, (("slope", float),)),
    "elu": Function(ops.elu, 1, (("alpha", float),)),
    "round": Function(ops.round, 1, (("decimals", int),)),
}
OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
COMPARISONS = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
               "equal": "==", "not_equal": "!="}
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}

_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!="}
_OTHER_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "% (use mod)", ast.MatMult: "@",
                  ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
                  ast.BitAnd: "&", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
                  ast.NotIn: "not in"}
_OP_OF_SYMBOL = {symbol: op for op, symbol in (OPERATORS | COMPARISONS).items()}
_REFUSED = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Slice: "slices",
    ast.Lambda: "lambda", ast.IfExp: "if-else (use where)", ast.BoolOp: "and/or",
    ast.NamedExpr: "assignment", ast.Starred: "starred arguments", ast.Await: "await",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings", ast.FormattedValue: "f-strings", ast.Tuple: "tuples",
    ast.List: "lists", ast.Set: "sets", ast.Dict: "dicts", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.keyword: "keyword arguments",
}
_FLOAT, _BOOL = np.dtype(np.float64), np.dtype(np.bool_)
_INT_MIN, _INT_MAX = int(np.iinfo(np.intc).min), int(np.iinfo(np.intc).max)


def parse(text: str, graph: Graph | None = None) -> Tensor:
    """The tensor that expression `text` computes, built in `graph` (a new one if None).

    Each free name becomes a scalar float64 placeholder of that name, reused if `graph` has
    one; numbers become float64 constants; pi, e, inf and nan are constants. A failure leaves
    `graph` as it was.

    Raises:
        ExpressionError: text that is not an expression of this syntax, or longer than
            MAX_LENGTH, or nested deeper than MAX_DEPTH; `position` points at the culprit.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse expects the expression as a str, got {type(text).__name__}")
    if graph is None:
        graph = Graph()
    elif not isinstance(graph, Graph):
        raise TypeError(f"parse: graph must be a symgrad.Graph, got {type(graph).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression has {len(text)} characters, more than the {MAX_LENGTH} allowed")
    source = _Source(text)
    tree = source.syntax_tree()
    _check_depth(tree, source)
    with graph.atomic():
        return _Builder(graph, source).build(tree.body)


class _Source:
    """The text and positions in it: ast gives (line, UTF-8 byte column) in the text without
    its leading blanks (which ast refuses); errors want character offsets in the text."""

    def __init__(self, text: str) -> None:
        self.body = text.lstrip()
        self.lead = len(text) - len(self.body)
        self.starts = _line_starts(self.body)
        self.text_starts = _line_starts(text.rstrip())

    def syntax_tree(self) -> ast.Expression:
        if not self.body:
            raise ExpressionError("the expression is empty")
        try:
            return ast.parse(self.body, mode="eval")
        except SyntaxError as e:
            end = self.lead + len(self.body)
            if not e.offset:  # the end of the input, or no place at all
                if e.msg == "invalid syntax":
                    raise self.error("the expression ends too early", (end, 1)) from None
                why = e.msg.split(":")[0]  # not CPython's advice on its int digit limit
                raise ExpressionError(f"not an expression: {why}") from None
            line = min(max(e.lineno or 1, 1), len(self.starts))
            start = min(self.lead + self.starts[line - 1] + e.offset - 1, end)
            length = (e.end_offset or 0) - e.offset if e.end_lineno == e.lineno else 1
            raise self.error(e.msg, (start, max(length, 1))) from None
        except ValueError as e:  # a NUL character in Pythons before 3.11.4 or so
            raise ExpressionError(f"not an expression: {e}") from None
        except (MemoryError, RecursionError):  # the parser's own guard against deep nesting
            raise ExpressionError(
                f"the expression nests deeper than the {MAX_DEPTH} levels allowed") from None

    def position(self, node: ast.AST) -> tuple[int, int]:
        start = self._offset(node.lineno, node.col_offset)
        if getattr(node, "end_lineno", None) == node.lineno:
            return start, max(self._offset(node.lineno, node.end_col_offset) - start, 1)
        return start, 1

    def _offset(self, line: int, byte_column: int) -> int:
        start = self.starts[line - 1]
        head = self.body[start:].encode()[:byte_column].decode("utf-8", "ignore")
        return self.lead + start + len(head)

    def error(self, message: str, position: tuple[int, int]) -> ExpressionError:
        """An ExpressionError whose message ends with where the culprit is."""
        offset, starts = position[0], self.text_starts
        line = sum(1 for s in starts if s <= offset)
        column = offset - starts[line - 1] + 1
        where = f"column {column}" if len(starts) == 1 else f"line {line}, column {column}"
        return ExpressionError(f"{message} ({where})", position)

    def refuse(self, node: ast.AST, what: str) -> ExpressionError:
        return self.error(what, self.position(node))


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


def _check_depth(tree: ast.Expression, source: _Source) -> None:
    todo = [(tree.body, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise source.refuse(node, f"the expression nests deeper than the {MAX_DEPTH} "
                                      f"levels allowed")
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                    if isinstance(child, (ast.expr, ast.keyword)))  # not operators, contexts


Make = Callable[[list[Tensor]], Tensor]


class _Builder:
    """Builds the tensor of each whitelisted syntax node; refuses every other node. Iterative:
    a node is checked, then its operands are built, then the node."""

    def __init__(self, graph: Graph, source: _Source) -> None:
        self.graph = graph
        self.source = source
        self.symbols = {t.name: t for t in graph.placeholders()}

    def build(self, root: ast.AST) -> Tensor:
        todo: list[ast.AST | tuple[Make, int]] = [root]
        values: list[Tensor] = []
        while todo:
            item = todo.pop()
            if isinstance(item, tuple):  # its n operands are the last n values
                make, n = item
                args = values[len(values) - n:]
                del values[len(values) - n:]
                values.append(make(args))
            else:
                make, operands = self.plan(item)
                todo.append((make, len(operands)))
                todo.extend(reversed(operands))
        return values[0]

    def plan(self, node: ast.AST) -> tuple[Make, list[ast.AST]]:
        """How to make `node`'s tensor from those of its operands, and the operands."""
        if isinstance(node, ast.Constant):
            value = self.literal(node, allow_bool=True)
            return lambda _: self.constant(value), []
        if isinstance(node, ast.Name):
            return lambda _: self.name(node), []
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, (ast.BinOp, ast.Compare)):
            return self.operator(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.source.refuse(node, f"{_REFUSED.get(type(node), type(node).__name__)} "
                                       f"cannot be used in an expression")

    def constant(self, value: float | bool) -> Tensor:
        return self.graph.scalar(value, _BOOL if isinstance(value, bool) else _FLOAT)

    def literal(self, node: ast.AST, allow_bool: bool = False) -> float | bool:
        """The value of a number literal (True and False if `allow_bool`), a sign included."""
        sign = 1.0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            node = node.operand
        if isinstance(node, ast.Name) and node.id in CONSTANTS:
            return sign * CONSTANTS[node.id]
        if not isinstance(node, ast.Constant):
            raise self.source.refuse(node, "a number is expected here")
        value = node.value
        if isinstance(value, bool) and allow_bool and sign == 1.0:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = {str: "strings", bytes: "bytes", complex: "complex numbers", bool: "True and "
                    "False here", type(None): "None", type(...): "..."}.get(type(value))
            raise self.source.refuse(node, f"{what or type(value).__name__} cannot be used "
                                           f"in an expression")
        try:
            return sign * float(value)  # -0 is -0.0, as in Python: sign * float, not float(-v)
        except OverflowError:
            raise self.source.refuse(node, "a number too large for float64") from None

    def name(self, node: ast.Name) -> Tensor:
        name = node.id
        if name in CONSTANTS:
            return self.constant(CONSTANTS[name])
        if name in FUNCTIONS:
            raise self.source.refuse(node, f"{name!r} is a function: call it, as in {name}(x)")
        if name not in self.symbols:
            self.symbols[name] = self.graph.placeholder(name)
        return self.symbols[name]

    def unary(self, node: ast.UnaryOp) -> tuple[Make, list[ast.AST]]:
        if isinstance(node.operand, ast.Constant) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.literal(node)
            return lambda _: self.constant(value), []  # -2 is the number -2, not negative(2)
        if isinstance(node.op, ast.UAdd):
            return lambda args: args[0], [node.operand]
        if isinstance(node.op, ast.USub):
            return self.applying(node, FUNCTIONS["negative"]), [node.operand]
        what = "not" if isinstance(node.op, ast.Not) else "~"
        raise self.source.refuse(node, f"the operator {what} cannot be used in an expression")

    def operator(self, node: ast.BinOp | ast.Compare) -> tuple[Make, list[ast.AST]]:
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:
                raise self.source.refuse(node, "chained comparisons cannot be used in an "
                                               "expression")
            op, operands = node.ops[0], [node.left, node.comparators[0]]
        else:
            op, operands = node.op, [node.left, node.right]
        symbol = _SYMBOLS.get(type(op))
        if symbol is None:
            what = _OTHER_SYMBOLS.get(type(op), type(op).__name__)
            raise self.source.refuse(node, f"the operator {what} cannot be used in an "
                                           f"expression (only + - * / ** and comparisons)")
        return self.applying(node, FUNCTIONS[_OP_OF_SYMBOL[symbol]]), operands

    def call(self, node: ast.Call) -> tuple[Make, list[ast.AST]]:
        if not isinstance(node.func, ast.Name):
            raise self.source.refuse(node.func, "only functions called by name can be used "
                                                "in an expression")
        name = node.func.id
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise self.source.refuse(node.func, f"unknown function {name!r}")
        if node.keywords:
            raise self.source.refuse(node.keywords[0], f"{name}: keyword arguments cannot be "
                                                       f"used; pass them by position")
        for x in node.args:
            if isinstance(x, ast.Starred):
                raise self.source.refuse(x, "starred arguments cannot be used in an expression")
        n, most = len(node.args), fn.arity + len(fn.params)
        if not fn.arity <= n <= most:
            wanted = f"{fn.arity}" if most == fn.arity else f"{fn.arity} to {most}"
            raise self.source.refuse(node, f"{name} takes {wanted} argument"
                                           f"{'s' if most > 1 else ''}, got {n}")
        params = {}
        for x, (key, kind) in zip(node.args[fn.arity:], fn.params):
            value = self.literal(x)
            if kind is int:  # NumPy takes a C int
                if not value.is_integer() or not _INT_MIN <= value <= _INT_MAX:
                    raise self.source.refuse(x, f"{name}: {key} must be a whole number from "
                                                f"{_INT_MIN} to {_INT_MAX}")
                value = int(value)
            params[key] = value
        return self.applying(node, fn, **params), node.args[:fn.arity]

    def applying(self, node: ast.AST, fn: Function, **params: float) -> Make:
        def make(args: list[Tensor]) -> Tensor:
            try:
                t = fn.builder(*args, **params)
            except (SymgradError, TypeError) as e:
                raise self.source.refuse(node, str(e)) from None
            if t.dtype not in (_FLOAT, _BOOL):  # True - True is refused, sin(True) a float16
                raise self.source.refuse(node, f"this gives {t.dtype}; expressions compute "
                                               f"float64 (True and False only as conditions)")
            return t
        return make
