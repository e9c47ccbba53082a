"""The pattern language of rewrite rules: Rule, Match, matching a pattern at a node, building one.

A pattern is a nested tuple `(op, sub, ..., {params})`: a string is a variable (the same string
must match the same node; `Const("c")` one that matches constants only), a number matches a
constant whose entries all equal it, a trailing dict matches params (a string value binds the
param to a variable, anything else must equal it, types included). Commutative ops
(OpDef.commutative) match in both orders. Each pattern is compiled once into a matcher, a
closure specialised to its shape. Knows op records, not ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SymgradError
from ..graph import CONSTANT
from ..ops.base import OPS, apply, params_key
from ..tensor import Tensor

# The pattern of a rule that applies to any op node whose inputs are all constants (folding).
CONSTANT_INPUTS = "<any op of constant inputs>"

# matcher(nid, nodes, binds, params, opaque) -> bool; binds: variable -> node id, params:
# variable -> param value; both only grow while a match succeeds.
Matcher = Callable[[int, Any, dict, dict, Any], bool]


class Const(str):
    """A pattern variable that matches only a constant node: `Const("c")`."""

    __slots__ = ()


class Match(Mapping):
    """What a pattern bound: variable -> Tensor (a node) or param value; `.node` is the tensor
    being rewritten; `.scratch` a dict that lives as long as one simplify run (for rules that
    remember what they worked out). Tensors are made when asked for."""

    __slots__ = ("node", "scratch", "_binds", "_params")

    def __init__(self, node: Tensor, binds: dict[str, int], params: dict[str, Any] | None = None,
                 scratch: dict | None = None) -> None:
        self.node = node
        self.scratch = scratch if scratch is not None else {}
        self._binds = binds
        self._params = params or {}

    def __getitem__(self, key: str) -> Any:
        nid = self._binds.get(key)
        if nid is not None:
            return Tensor(self.node.graph, nid)
        return self._params[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._binds
        yield from self._params

    def __len__(self) -> int:
        return len(self._binds) + len(self._params)

    def __contains__(self, key: object) -> bool:
        return key in self._binds or key in self._params


Replacement = Any  # a pattern, or Callable[[Match], Tensor | None]


@dataclass(frozen=True)
class Rule:
    """A rewrite: where `pattern` matches a node (of rank `ndim`, if given) and `when(match)`
    holds, the node is replaced by `replacement`: a pattern built from the match, or
    `replacement(match)` returning a Tensor of the node's shape and dtype, or None to
    decline."""

    name: str
    pattern: Any
    replacement: Replacement
    when: Callable[[Match], bool] | None = None
    ndim: int | None = None  # only nodes of this rank (checked before matching: cheap)
    matcher: Matcher | None = field(default=None, init=False, repr=False, compare=False)
    # quick(inputs, nodes): a cheap necessary condition on the root's two inputs, or None:
    # that they share a variable at distance one (the driver skips inputs that cannot)
    quick: Callable[[tuple, Any], bool] | None = field(default=None, init=False, repr=False,
                                                        compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a rule needs a non-empty string name, got {self.name!r}")
        if not callable(self.replacement) and _is_number(self.replacement):
            raise SymgradError(f"rule {self.name!r}: a number cannot replace a node (its shape "
                               "is unknown); return a tensor from a function instead")
        if self.pattern == CONSTANT_INPUTS:
            return
        if not isinstance(self.pattern, tuple):
            raise SymgradError(f"rule {self.name!r}: a pattern is a tuple (op, sub, ...), got "
                               f"{self.pattern!r}")
        nodes_vars: set[str] = set()
        param_vars: set[str] = set()
        _check(self.name, self.pattern, nodes_vars, param_vars)
        if nodes_vars & param_vars:
            raise SymgradError(f"rule {self.name!r}: {sorted(nodes_vars & param_vars)} name "
                               "both a node and a param")
        object.__setattr__(self, "matcher", compile_pattern(self.pattern))
        object.__setattr__(self, "quick", _quick_check(self.pattern))

    @property
    def root_op(self) -> str | None:
        """The op the pattern's root matches (None: any op, for CONSTANT_INPUTS)."""
        return None if self.pattern == CONSTANT_INPUTS else self.pattern[0]

    def child_ops(self) -> tuple[Any, ...]:
        """What each input of the root must be: an op name, "constant", ("constant", number),
        or None (anything)."""
        return tuple(_head(p) for p in _parts(self.pattern)[1])


def _check(rule: str, pattern: tuple, node_vars: set, param_vars: set) -> None:
    op, subs, params = _parts(pattern)
    if not isinstance(op, str):
        raise SymgradError(f"rule {rule!r}: a pattern starts with an op name, got {pattern!r}")
    for k, v in (params or {}).items():
        if not isinstance(k, str):
            raise SymgradError(f"rule {rule!r}: param names must be strings in {pattern!r}")
        if isinstance(v, str):
            param_vars.add(v)
    for sub in subs:
        if isinstance(sub, tuple):
            _check(rule, sub, node_vars, param_vars)
        elif isinstance(sub, str):
            node_vars.add(sub)
        elif not _is_number(sub):
            raise SymgradError(f"rule {rule!r}: {sub!r} is neither a pattern, a variable nor "
                               "a number")


def _is_number(p: Any) -> bool:
    return isinstance(p, (bool, int, float, np.number))


def _parts(pattern: tuple) -> tuple[str, tuple, dict | None]:
    """(op, sub-patterns, params dict or None) of a tuple pattern."""
    if len(pattern) > 1 and isinstance(pattern[-1], dict):
        return pattern[0], pattern[1:-1], pattern[-1]
    return pattern[0], pattern[1:], None


def _head(p: Any) -> Any:
    if isinstance(p, tuple):
        return p[0]
    if isinstance(p, Const):
        return CONSTANT
    return (CONSTANT, p) if _is_number(p) else None


# -- matching ----------------------------------------------------------------------------------
def compile_pattern(pattern: Any) -> Matcher:
    """The matcher of a pattern; `opaque` nodes (values fed at run time) match only plain
    variables."""
    if isinstance(pattern, str):
        return _variable(pattern)
    if not isinstance(pattern, tuple):
        return _number(pattern)
    op, subs, params = _parts(pattern)
    children = [compile_pattern(p) for p in subs]
    arity = len(children)
    want_params = _params_matcher(params) if params else None
    both_orders = arity == 2 and OPS[op].commutative if op in OPS else None
    if arity == 2 and _same_shape(subs[0], subs[1]):
        both_orders = False  # (x, x), (a*x, b*x): the swapped order finds the same matches
    # of two inputs, one wanted constant: the constant input goes there, no order is tried
    const_side = next((k for k in range(arity) if _head(subs[k]) in (CONSTANT, )
                       or isinstance(_head(subs[k]), tuple)), None) if arity == 2 else None
    quick = _quick_check(pattern)

    def match_tuple(nid: int, nodes: Any, binds: dict, pbinds: dict, opaque: Any) -> bool:
        a = nodes[nid]
        if a["op"] != op or nid in opaque:
            return False
        inputs = a["inputs"]
        if len(inputs) != arity:
            return False
        if want_params is not None and not want_params(a["params"], pbinds):
            return False
        commutes = both_orders if both_orders is not None else (
            arity == 2 and OPS[op].commutative)
        if quick is not None and not quick(inputs, nodes):
            return False
        if commutes and const_side is not None:
            first = nodes[inputs[0]]["op"] == CONSTANT
            if first != (nodes[inputs[1]]["op"] == CONSTANT):  # exactly one is: it decides
                if first != (const_side == 0):
                    inputs = inputs[::-1]
                return all(c(i, nodes, binds, pbinds, opaque) for c, i in zip(children, inputs))
        n0, p0 = len(binds), len(pbinds)
        if all(c(i, nodes, binds, pbinds, opaque) for c, i in zip(children, inputs)):
            return True
        if not commutes:
            return False
        _undo(binds, n0)
        _undo(pbinds, p0)
        return (children[0](inputs[1], nodes, binds, pbinds, opaque)
                and children[1](inputs[0], nodes, binds, pbinds, opaque))

    return match_tuple


def _meeting(subs: tuple) -> Callable[[int, int, Any], bool] | None:
    """A quick necessary condition for two sub-patterns sharing a variable that each has as
    itself or as a direct input ((x, x), (x, a*x), (a*x, b*x)): the nodes it may stand for on
    either side meet. Most candidates fail a rule here, before any variable is bound."""
    def places(p: Any) -> tuple[set[str], bool]:  # the variables, and whether p is one
        if isinstance(p, str) and not isinstance(p, Const):
            return {p}, True
        if isinstance(p, tuple):
            return {v for v in _parts(p)[1] if isinstance(v, str)
                    and not isinstance(v, Const)}, False
        return set(), False

    (left, left_is), (right, right_is) = places(subs[0]), places(subs[1])
    if not left & right:
        return None

    def meet(i: int, j: int, nodes: Any) -> bool:
        mine = (i,) if left_is else nodes[i]["inputs"]
        theirs = (j,) if right_is else nodes[j]["inputs"]
        for k in mine:  # a loop: a generator would be made at every candidate node
            if k in theirs:
                return True
        return False
    return meet


def _quick_check(pattern: tuple) -> Callable[[tuple, Any], bool] | None:
    """The root's _meeting condition on a node's inputs (in either order where the op
    commutes), for the driver to try before matching: most candidates fail it."""
    op, subs, _ = _parts(pattern)
    meet = _meeting(subs) if len(subs) == 2 else None
    if meet is None:
        return None
    if op not in OPS:  # an op registered after the rule: whether it commutes is read then
        return lambda inputs, nodes: (meet(inputs[0], inputs[1], nodes) or (
            OPS[op].commutative and meet(inputs[1], inputs[0], nodes)))
    if not OPS[op].commutative:
        return lambda inputs, nodes: meet(inputs[0], inputs[1], nodes)
    return lambda inputs, nodes: (meet(inputs[0], inputs[1], nodes)
                                  or meet(inputs[1], inputs[0], nodes))


def _same_shape(p: Any, q: Any) -> bool:
    """Whether two sub-patterns are the same but for the names of variables only one of them
    has ((a*x, b*x): a and b): then matching them in either order binds the same."""
    shared = _variables(p) & _variables(q)
    return _canonical(p, shared, {}) == _canonical(q, shared, {})


def _variables(p: Any) -> set[str]:
    if isinstance(p, str):
        return {p}
    if isinstance(p, tuple):
        return set().union(*(_variables(s) for s in _parts(p)[1]))
    return set()


def _canonical(p: Any, shared: set[str], names: dict) -> Any:
    if isinstance(p, str):
        if p in shared:
            return ("shared", p, isinstance(p, Const))
        return ("own", names.setdefault(p, len(names)), isinstance(p, Const))
    if isinstance(p, tuple):
        op, subs, params = _parts(p)
        return (op, tuple(_canonical(s, shared, names) for s in subs), repr(params))
    return ("number", repr(p))


def _undo(d: dict, n: int) -> None:
    while len(d) > n:
        d.popitem()


def _variable(name: str) -> Matcher:
    only_constants = isinstance(name, Const)

    def match_variable(nid: int, nodes: Any, binds: dict, pbinds: dict, opaque: Any) -> bool:
        bound = binds.get(name)
        if bound is not None:
            return bound == nid
        if only_constants and (nodes[nid]["op"] != CONSTANT or nid in opaque):
            return False
        binds[name] = nid
        return True

    return match_variable


def _number(number: Any) -> Matcher:
    def match_number(nid: int, nodes: Any, binds: dict, pbinds: dict, opaque: Any) -> bool:
        a = nodes[nid]
        return a["op"] == CONSTANT and nid not in opaque and _all_equal(a["value"], number)

    return match_number


def _params_matcher(want: dict) -> Callable[[tuple, dict], bool]:
    items = [(k, p, isinstance(p, str), None if isinstance(p, str) else params_key(p))
             for k, p in want.items()]

    def match_params(have: tuple, pbinds: dict) -> bool:
        have_d = dict(have)
        for key, p, is_var, literal in items:
            if key not in have_d:
                return False
            value = have_d[key]
            if is_var:
                if p in pbinds:
                    if params_key(pbinds[p]) != params_key(value):
                        return False
                else:
                    pbinds[p] = value
            elif literal != params_key(value):
                return False
        return True

    return match_params


def _all_equal(value: np.ndarray, number: Any) -> bool:
    if value.ndim == 0:
        return value.item() == number
    return value.size > 0 and bool(np.all(value == number))


def uniform_value(value: np.ndarray) -> Any:
    """The one value every entry of a small constant has (a Python number), else None."""
    if value.ndim == 0:
        return value.item()
    if 0 < value.size <= 64 and np.all(value == value.flat[0]):
        return value.flat[0].item()
    return None


def is_constant(t: Tensor) -> bool:
    return t.op == CONSTANT


def constant_value(t: Tensor) -> np.ndarray | None:
    """A constant tensor's value (read-only), or None."""
    return t._a.get("value") if t.op == CONSTANT else None


# -- building a replacement pattern ------------------------------------------------------------
def build(pattern: Any, m: Match) -> Any:
    """The tensor (or number, for a sub-pattern) a replacement pattern stands for under `m`."""
    if isinstance(pattern, str):
        if pattern not in m:
            raise SymgradError(f"replacement uses variable {pattern!r}, which the pattern does "
                               "not bind")
        return m[pattern]
    if not isinstance(pattern, tuple):
        return pattern
    op, subs, params = _parts(pattern)
    args = [build(p, m) for p in subs]
    kwargs = {k: (m[v] if isinstance(v, str) and v in m else v)
              for k, v in (params or {}).items()}
    return apply(op, args, **kwargs)
