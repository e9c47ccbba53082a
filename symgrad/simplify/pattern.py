"""The pattern language of rewrite rules: Rule, Match, matching a pattern at a node, building one.

A pattern is a nested tuple `(op, sub, ..., {params})`: a string is a variable (the same string
must match the same node), a number matches a constant whose entries all equal it, a trailing
dict matches params (a string value binds the param to a variable, anything else must equal it,
types included). Commutative ops (OpDef.commutative) match in both orders. Knows op records,
not ops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SymgradError
from ..graph import CONSTANT, PLACEHOLDER
from ..ops.base import OPS, apply, params_key
from ..tensor import Tensor

# The pattern of a rule that applies to any op node whose inputs are all constants (folding).
CONSTANT_INPUTS = "<any op of constant inputs>"


class NodeRef:
    """A variable bound to a node (kept apart from param values, which may be any tuple)."""

    __slots__ = ("id",)

    def __init__(self, nid: int) -> None:
        self.id = nid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeRef) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class Match(dict):
    """What a pattern bound: variable -> Tensor (a node) or param value; `.node` is the tensor
    being rewritten; `.scratch` a dict that lives as long as one simplify run (for rules that
    remember what they worked out)."""

    def __init__(self, node: Tensor, binds: dict[str, Any], scratch: dict | None = None) -> None:
        graph = node.graph
        super().__init__((k, Tensor(graph, v.id) if isinstance(v, NodeRef) else v)
                         for k, v in binds.items())
        self.node = node
        self.scratch = scratch if scratch is not None else {}


Replacement = Any  # a pattern, or Callable[[Match], Tensor | None]


@dataclass(frozen=True)
class Rule:
    """A rewrite: where `pattern` matches a node (and `when(match)` holds), the node is
    replaced by `replacement`: a pattern built from the match, or `replacement(match)`
    returning a Tensor of the node's shape and dtype, or None to decline."""

    name: str
    pattern: Any
    replacement: Replacement
    when: Callable[[Match], bool] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a rule needs a non-empty string name, got {self.name!r}")
        if self.pattern != CONSTANT_INPUTS:
            if not isinstance(self.pattern, tuple):
                raise SymgradError(f"rule {self.name!r}: a pattern is a tuple (op, sub, ...), "
                                   f"got {self.pattern!r}")
            _check(self.name, self.pattern)
        if not callable(self.replacement) and isinstance(self.replacement, (int, float)):
            raise SymgradError(f"rule {self.name!r}: a number cannot replace a node (its shape "
                               "is unknown); return a tensor from a function instead")

    @property
    def root_op(self) -> str | None:
        """The op the pattern's root matches (None: any op, for CONSTANT_INPUTS)."""
        return None if self.pattern == CONSTANT_INPUTS else self.pattern[0]

    def child_ops(self) -> tuple[str | None, ...]:
        """What each input of the root must be: an op name, "constant", or None (anything)."""
        return tuple(_head(p) for p in _parts(self.pattern)[1])


def _check(rule: str, pattern: tuple) -> None:
    op, subs, params = _parts(pattern)
    if not isinstance(op, str):
        raise SymgradError(f"rule {rule!r}: a pattern starts with an op name, got {pattern!r}")
    if params is not None and not all(isinstance(k, str) for k in params):
        raise SymgradError(f"rule {rule!r}: param names must be strings in {pattern!r}")
    for sub in subs:
        if isinstance(sub, tuple):
            _check(rule, sub)
        elif not (isinstance(sub, str) or _is_number(sub)):
            raise SymgradError(f"rule {rule!r}: {sub!r} is neither a pattern, a variable nor "
                               "a number")


def _is_number(p: Any) -> bool:
    return isinstance(p, (bool, int, float, np.number))


def _parts(pattern: tuple) -> tuple[str, tuple, dict | None]:
    """(op, sub-patterns, params dict or None) of a tuple pattern."""
    if len(pattern) > 1 and isinstance(pattern[-1], dict):
        return pattern[0], pattern[1:-1], pattern[-1]
    return pattern[0], pattern[1:], None


def _head(p: Any) -> str | None:
    if isinstance(p, tuple):
        return p[0]
    return CONSTANT if _is_number(p) else None


# -- matching ----------------------------------------------------------------------------------
def match(pattern: Any, nid: int, nodes: Any, binds: dict, opaque: frozenset | set) -> bool:
    """Whether `pattern` matches node `nid`, extending `binds` (variable -> NodeRef or a param
    value); `opaque` nodes (values fed at run time) match only variables."""
    if isinstance(pattern, str):
        bound = binds.get(pattern)
        if bound is None:
            binds[pattern] = NodeRef(nid)
            return True
        return bound == NodeRef(nid)
    a = nodes[nid]
    if not isinstance(pattern, tuple):  # a number
        return a["op"] == CONSTANT and nid not in opaque and _all_equal(a["value"], pattern)
    op, subs, params = _parts(pattern)
    if a["op"] != op or nid in opaque or len(a["inputs"]) != len(subs):
        return False
    if params is not None and not _match_params(params, a["params"], binds):
        return False
    inputs = a["inputs"]
    if len(subs) == 2 and OPS[op].commutative:
        saved = dict(binds)
        if _match_all(subs, inputs, nodes, binds, opaque):
            return True
        binds.clear()
        binds.update(saved)
        return _match_all(subs, inputs[::-1], nodes, binds, opaque)
    return _match_all(subs, inputs, nodes, binds, opaque)


def _match_all(subs: tuple, inputs: tuple, nodes: Any, binds: dict, opaque: Any) -> bool:
    return all(match(p, i, nodes, binds, opaque) for p, i in zip(subs, inputs))


def _match_params(want: dict, have: tuple, binds: dict) -> bool:
    have_d = dict(have)
    for key, p in want.items():
        if key not in have_d:
            return False
        value = have_d[key]
        if isinstance(p, str):
            if p in binds:
                if isinstance(binds[p], NodeRef):
                    return False  # a variable bound to a node cannot also be a param
                if params_key(binds[p]) != params_key(value):
                    return False
            else:
                binds[p] = value
        elif params_key(p) != params_key(value):
            return False
    return True


def _all_equal(value: np.ndarray, number: Any) -> bool:
    return value.size > 0 and bool(np.all(value == number))


def is_constant(t: Tensor) -> bool:
    return t.op == CONSTANT


def constant_value(t: Tensor) -> np.ndarray | None:
    """A constant tensor's value (read-only), or None."""
    return t._a.get("value") if t.op == CONSTANT else None


def is_leaf_op(op: str) -> bool:
    return op in (PLACEHOLDER, CONSTANT)


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
