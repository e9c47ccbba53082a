"""A rule's replacement: elementwise arithmetic rewritten as a polynomial in its other nodes.

A region of add, subtract, multiply, negative, square, small integer powers and the fused
derivatives tanh_grad and sigmoid_grad (polynomials in their inputs) is expanded into a sum of
monomials over its "atoms" (every other node) with constant coefficients, and written back in
Horner form, common factors first, when that takes fewer nodes than the region has. This is
what shrinks higher derivatives: d4/dx4 tanh(x) becomes y (16 + y^2 (24 y^2 - 40)) (1 - y^2)
written as one polynomial in y = tanh(x).
"""

from __future__ import annotations

from typing import Any

from ..graph import CONSTANT
from ..ops import add, multiply, negative, square, subtract
from ..tensor import Tensor
from .pattern import Match

Monomial = tuple  # ((atom id, power), ...) sorted by atom id
Poly = dict  # Monomial -> float coefficient

_MAX_TERMS = 12  # a larger expansion is left as it is (and its node counts as an atom)
_MAX_DEGREE = 8

# Ops whose result is a polynomial in their inputs: how to combine the inputs' polynomials.
POLYNOMIAL_OPS = ("add", "subtract", "multiply", "negative", "square", "power", "divide",
                  "tanh_grad", "sigmoid_grad")


def _mul(p: Poly, q: Poly) -> Poly | None:
    """p q, or None (an atom) for a product of two sums: (1 - x)(1 + x) is kept factored, as
    numerically careful forms write it (1 - x^2 loses digits near x = 1)."""
    if len(p) > 1 and len(q) > 1:
        return None
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            powers = dict(m1)
            for a, k in m2:
                powers[a] = powers.get(a, 0) + k
            if sum(powers.values()) > _MAX_DEGREE:
                return None
            m = tuple(sorted(powers.items()))
            out[m] = out.get(m, 0.0) + c1 * c2
    return _clean(out)


def _add(p: Poly, q: Poly, sign: float = 1.0) -> Poly:
    out = dict(p)
    for m, c in q.items():
        out[m] = out.get(m, 0.0) + sign * c
    return _clean(out)


def _scale(p: Poly, c: float) -> Poly:
    return _clean({m: c * v for m, v in p.items()})


def _clean(p: Poly) -> Poly:
    return {m: c for m, c in p.items() if c != 0.0}


ONE: Poly = {(): 1.0}


class Polynomials:
    """The polynomial of each node, worked out once per simplify run (None: an atom)."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.nodes = graph._node
        self.memo: dict[int, Poly | None] = {}

    def atom(self, nid: int) -> Poly:
        a = self.nodes[nid]
        if a["op"] == CONSTANT and a["value"].ndim == 0 and a["value"].dtype.kind == "f":
            return _clean({(): float(a["value"])})
        return {((nid, 1),): 1.0}

    def of(self, nid: int) -> Poly:
        """The node's polynomial over atoms (itself an atom when it is not arithmetic)."""
        p = self.expand(nid)
        return p if p is not None else self.atom(nid)

    def expand(self, nid: int) -> Poly | None:
        if nid in self.memo:
            return self.memo[nid]
        self.memo[nid] = None  # an atom unless it expands below
        a = self.nodes[nid]
        op = a["op"]
        if op not in POLYNOMIAL_OPS or a["dtype"].kind != "f":
            return None
        xs = [self.of(i) for i in a["inputs"]]
        if op == "add":
            p = _add(xs[0], xs[1])
        elif op == "subtract":
            p = _add(xs[0], xs[1], -1.0)
        elif op == "negative":
            p = _scale(xs[0], -1.0)
        elif op == "multiply":
            p = _mul(xs[0], xs[1])
        elif op == "square":
            p = _mul(xs[0], xs[0])
        elif op == "tanh_grad":  # g (1 - y^2)
            y2 = _mul(xs[0], xs[0])
            p = None if y2 is None else _mul(xs[1], _add(ONE, y2, -1.0))
        elif op == "sigmoid_grad":  # g y (1 - y)
            gy = _mul(xs[1], xs[0])
            p = None if gy is None else _mul(gy, _add(ONE, xs[0], -1.0))
        elif op in ("power", "divide"):
            p = self._power_or_divide(op, xs, a["inputs"][1])
        else:
            p = None
        if p is not None and len(p) > _MAX_TERMS:
            p = None
        self.memo[nid] = p
        return p

    def _power_or_divide(self, op: str, xs: list[Poly], other: int) -> Poly | None:
        c = self.nodes[other]
        if c["op"] != CONSTANT or c["value"].ndim != 0:
            return None
        k = float(c["value"])
        if op == "divide":
            return _scale(xs[0], 1.0 / k) if k != 0 else None
        if k not in (2.0, 3.0, 4.0):
            return None
        p: Poly | None = xs[0]
        for _ in range(int(k) - 1):
            p = None if p is None else _mul(p, xs[0])
        return p

    def region(self, nid: int) -> set[int]:
        """The arithmetic nodes the polynomial of nid was expanded through (nid included)."""
        seen: set[int] = set()
        todo = [nid]
        while todo:
            n = todo.pop()
            if n in seen or self.memo.get(n) is None:
                continue
            seen.add(n)
            todo.extend(self.nodes[n]["inputs"])
        return seen

    def freed(self, nid: int, region: set[int], scratch: dict) -> int:
        """How many region nodes replacing nid frees: nid, and those that are no result of the
        run and that no node outside the region reads (nodes the results do not need, and that
        are not new, do not count as readers)."""
        succ = self.graph._succ
        live, first_new, keep = scratch["live"], scratch["first_new"], scratch["roots"]
        return sum(1 for n in region if n == nid or (n not in keep and all(
            c in region or (c not in live and c < first_new) for c in succ[n])))


# -- writing a polynomial back -------------------------------------------------------------------
def _cost(p: Poly, powers: set) -> int:
    """Nodes that `_emit` builds for p (powers already built are in `powers`)."""
    if not p:
        return 0
    const = p.get((), 0.0)
    rest = {m: c for m, c in p.items() if m}
    if not rest:
        return 0
    if len(rest) == 1:
        ((m, c),) = rest.items()
        n = _power_cost(m, powers) + (0 if c in (1.0, -1.0) else 1)
        return n + (1 if const else (1 if c == -1.0 else 0))
    common = _common(rest)
    if common:
        inner = {_divide(m, common): c for m, c in rest.items()}
        n = _power_cost(common, powers) + 1 + _cost(inner, powers)
        return n + (1 if const else 0)
    atom, k = _split_atom(rest)
    with_a = {_divide(m, ((atom, k),)): c for m, c in rest.items() if _has(m, atom)}
    without = {m: c for m, c in rest.items() if not _has(m, atom)}
    n = _power_cost(((atom, k),), powers) + 1 + _cost(with_a, powers)
    if without:
        n += 1 + _cost(without, powers)
    return n + (1 if const else 0)


def _power_cost(m: Monomial, powers: set) -> int:
    n = 0
    for a, k in m:
        for j in range(2, k + 1):
            if (a, j) not in powers:
                powers.add((a, j))
                n += 1
    return n + max(0, len(m) - 1)


def _common(p: Poly) -> Monomial:
    """The monomial dividing every term of p."""
    items = list(p)
    common = dict(items[0])
    for m in items[1:]:
        d = dict(m)
        common = {a: min(k, d[a]) for a, k in common.items() if a in d}
    return tuple(sorted(common.items()))


def _divide(m: Monomial, by: Monomial) -> Monomial:
    d = dict(m)
    for a, k in by:
        d[a] -= k
    return tuple(sorted((a, k) for a, k in d.items() if k))


def _has(m: Monomial, atom: int) -> bool:
    return any(a == atom for a, _ in m)


def _split_atom(p: Poly) -> tuple[int, int]:
    """The atom in most terms (ties: the lowest id), and its least power among them."""
    counts: dict[int, list[int]] = {}
    for m in p:
        for a, k in m:
            counts.setdefault(a, []).append(k)
    atom = max(sorted(counts), key=lambda a: len(counts[a]))
    return atom, min(counts[atom])


class _Emitter:
    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.powers: dict[tuple[int, int], Tensor] = {}

    def power(self, atom: int, k: int) -> Tensor:
        if k == 1:
            return Tensor(self.graph, atom)
        t = self.powers.get((atom, k))
        if t is None:
            base = Tensor(self.graph, atom)
            t = square(base) if k == 2 else multiply(self.power(atom, k - 1), base)
            self.powers[(atom, k)] = t
        return t

    def monomial(self, m: Monomial) -> Tensor:
        t = None
        for a, k in m:
            f = self.power(a, k)
            t = f if t is None else multiply(t, f)
        assert t is not None
        return t

    def emit(self, p: Poly) -> Tensor | float:
        """p as tensors; a float when p is a constant."""
        const = p.get((), 0.0)
        rest = {m: c for m, c in p.items() if m}
        if not rest:
            return const
        common = _common(rest)
        if len(rest) == 1:
            ((m, c),) = rest.items()
            body = self._times(self.monomial(m), c)
        elif common:
            inner = {_divide(m, common): c for m, c in rest.items()}
            body = self._times(self.monomial(common), self.emit(inner))
        else:
            atom, k = _split_atom(rest)
            with_a = {_divide(m, ((atom, k),)): c for m, c in rest.items() if _has(m, atom)}
            without = {m: c for m, c in rest.items() if not _has(m, atom)}
            body = self._times(self.power(atom, k), self.emit(with_a))
            if without:
                body = self._plus(body, self.emit(without))
        return self._plus(body, const) if const else body

    @staticmethod
    def _times(t: Tensor, c: Tensor | float) -> Tensor:
        if isinstance(c, float):
            return t if c == 1.0 else negative(t) if c == -1.0 else multiply(t, c)
        return multiply(t, c)

    @staticmethod
    def _plus(t: Tensor, c: Tensor | float) -> Tensor:
        if isinstance(c, Tensor) and c.op == "negative":
            return subtract(t, c.inputs[0])  # t + (-u) -> t - u
        if t.op == "negative":
            return subtract(c, t.inputs[0])  # (-u) + c -> c - u
        return add(t, c)


def polynomial_form(m: Match) -> Tensor | None:
    """The node as a polynomial in Horner form, when that takes fewer nodes than the region of
    arithmetic it replaces (the replacement of the polynomial rules)."""
    node = m.node
    if node.dtype.kind != "f" or node.shape is None:
        return None
    polys = m.scratch.get("polynomials")
    if polys is None:
        polys = m.scratch["polynomials"] = Polynomials(node.graph)
    p = polys.expand(node.id)
    if p is None:
        return None
    region = polys.region(node.id)
    if len(region) < 2 or _cost(p, set()) >= polys.freed(node.id, region, m.scratch):
        return None
    out = _Emitter(node.graph).emit(p)
    return None if isinstance(out, float) else out  # a constant: folding has its own rule
