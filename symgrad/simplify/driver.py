"""The one driver: rewrites a graph bottom-up with a list of rules until none applies.

Each node is visited once, after its inputs: its inputs are replaced by their simplified
forms (rebuilding the node, origin "simplify", only if one changed), equal computations
(same op, inputs and params; commutative inputs in either order) become one node, and the
rules are tried at it; a replacement's new nodes are simplified the same way before it takes
the node's place. Nodes users hold are never changed. Knows rules and op records, no op.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SymgradError
from ..graph import CONSTANT, PLACEHOLDER, Graph, no_cycle_collection
from ..ops.base import OPS, params_key
from ..shapes import show
from ..tensor import Tensor, as_tensor_list
from .pattern import Match, Rule, build, uniform_value

_SMALL_CONSTANT = 4096  # bytes; larger constants merge only with themselves


@dataclass(frozen=True)
class Rewrite:
    """One rewrite applied: `rule`'s name, the `node` id replaced, its `replacement` id, and
    the number of nodes (count_nodes) the results had right after it."""

    rule: str
    node: int
    replacement: int
    nodes_after: int


def count_nodes(ys: Tensor | Iterable[Tensor]) -> int:
    """The nodes among the ancestors of ys (themselves included) that are neither
    placeholders, constants nor `output` nodes."""
    ts = as_tensor_list(ys, None, "count_nodes")
    if not ts:
        return 0
    graph = ts[0].graph
    nodes = graph._node
    return sum(1 for n in graph.ancestors(t.id for t in ts)
               if nodes[n]["op"] not in (PLACEHOLDER, CONSTANT, "output"))


def simplify(ys: Any, *, rules: Sequence[Rule] | None = None, trace: list | None = None) -> Any:
    """Tensors (the structure of `ys`: a tensor, a list or a tuple) that compute what ys do
    (wherever their values are finite) with fewer or cheaper nodes; rules default to
    DEFAULT_RULES; `trace` receives one Rewrite per rewrite applied."""
    ts = as_tensor_list(ys, None, "simplify")
    if not ts:
        return [] if not isinstance(ys, tuple) else ()
    graph = ts[0].graph
    out = simplify_ids(graph, [t.id for t in ts], rules=rules, trace=trace)
    results = [Tensor(graph, n) for n in out]
    if isinstance(ys, Tensor):
        return results[0]
    return tuple(results) if isinstance(ys, tuple) else results


def simplify_ids(graph: Graph, roots: list[int], *, rules: Sequence[Rule] | None = None,
                 trace: list | None = None, stop: Iterable[int] = (), tidy: bool = True,
                 order: list[int] | None = None) -> list[int]:
    """The simplified node of each root; `stop` nodes (fed at run time) stay as they are and
    are not looked into. Nodes it made that no result needs are removed again, bar those the
    records it adds to `trace` name (unless not `tidy`: a caller that removes every new node
    itself). `order`, if given, receives the results' ancestors in topological order when the
    run changed nothing (a planner need not walk the graph again); else it stays empty."""
    if rules is None:
        from .rules import DEFAULT_RULES
        rules = DEFAULT_RULES
    for r in rules:
        if not isinstance(r, Rule):
            raise TypeError(f"rules must be symgrad.Rule objects, got {type(r).__name__}")
    first_new = graph.next_id
    traced = len(trace) if trace is not None else 0
    with graph.atomic(), no_cycle_collection():
        saved = graph.current_origin, graph.current_grad_of, graph.current_grad_pass
        graph.current_origin = "simplify"
        try:
            driver = _Driver(graph, rules, set(stop), trace, roots)
            out = driver.run(roots)
            if order is not None and not driver.moved:
                order.extend(driver.order)
        finally:
            graph.current_origin, graph.current_grad_of, graph.current_grad_pass = saved
        if tidy:  # the nodes the trace names stay, so that each rewrite can be looked at
            named = [n for r in trace[traced:] for n in (r.node, r.replacement)] if trace else []
            _drop_unneeded(graph, first_new, out + named)
    return out


class _Driver:
    def __init__(self, graph: Graph, rules: Sequence[Rule], opaque: set[int],
                 trace: list | None, roots: list[int]) -> None:
        self.graph = graph
        self.nodes = graph._node
        self.opaque = opaque
        self.trace = trace
        self.roots = roots
        self.new_of: dict[int, int] = {}  # node -> its simplified node
        self.table: dict[tuple, int] = {}  # merge key -> the node computing it
        # node -> the id merge keys use for it: its simplified node, or for a constant the
        # first constant of its value (equal constants make equal computations without their
        # consumers being rebuilt)
        self.kid: dict[int, int] = {}
        self.moved: set[int] = set()  # nodes whose simplified node is another
        self.busy: set[int] = set()  # nodes whose rules are being tried (cycle detection)
        self.chain: list[str] = []  # the rules whose replacements are being simplified
        self.recent: deque[str] = deque(maxlen=12)
        self.pending: list[tuple[str, int, int]] = []  # rewrites to trace once settled
        self.rewrites = 0
        self.limit = 0
        self.by_op: dict[str | None, list[tuple[Rule, tuple]]] = {}
        for r in rules:
            self.by_op.setdefault(r.root_op, []).append((r, r.child_ops()))
        self.folders = self.by_op.pop(None, [])

        self.candidates: dict[tuple, list[Rule]] = {}
        self.head = _Heads(graph._node, opaque)  # node -> what candidate lookups read of it
        self.op_info: dict[str, tuple[bool, bool]] = {}  # op -> (commutative, has rules)
        self.scratch: dict = {}  # Match.scratch: what rules remember during this run
        self.order: list[int] = []  # the nodes run() visits, in order

    def run(self, roots: list[int]) -> list[int]:
        self.order = order = self.graph.topo_order(roots, stop=self.opaque)
        self.limit = 20 * len(order) + 10_000
        # what rules may ask about the run: the nodes it simplifies, the results, new ids
        self.scratch.update(live=set(order), roots=set(roots), first_new=self.graph.next_id)
        self._settle(order)
        return [self.new_of[n] for n in roots]

    def norm(self, nid: int) -> int:
        """The simplified form of node nid (visiting it now if not yet)."""
        done = self.new_of.get(nid)
        if done is None:
            self._settle((nid,))
            done = self.new_of[nid]
        return done

    def _settle(self, nids: Iterable[int]) -> None:
        """Visits the nodes of nids not visited yet, in the order given (inputs first): each
        is rebuilt on its inputs' simplified forms if one changed, merged with an equal
        computation, or given to the first rule that replaces it. One loop for every node
        (no call per node: this is the simplifier's hot path)."""
        nodes, opaque, table, kid, new_of = self.nodes, self.opaque, self.table, self.kid, \
            self.new_of
        moved, op_info, candidates, head = self.moved, self.op_info, self.candidates, self.head
        pending = self.pending
        for nid in nids:
            if nid in new_of:
                continue
            a = nodes[nid]
            op = a["op"]
            if op == PLACEHOLDER or nid in opaque:
                new_of[nid] = kid[nid] = nid
                continue
            if op == CONSTANT:
                new_of[nid] = nid
                value = a["value"]
                kid[nid] = nid if value.nbytes > _SMALL_CONSTANT else table.setdefault(
                    (CONSTANT, value.dtype.str, value.shape, value.tobytes()), nid)
                continue
            inputs = a["inputs"]
            info = op_info.get(op)
            if info is None:
                info = op_info[op] = (OPS[op].commutative, op in self.by_op or bool(self.folders))
            commutes, has_rules = info
            try:  # inputs come first, except where a rule's replacement reaches back
                # the merge key, flat: (op, *inputs) or (op, params, *inputs) (an int never
                # equals params); one or two inputs spelt out: cheaper than map and unpacking
                if len(inputs) == 2:
                    k0, k1 = kid[inputs[0]], kid[inputs[1]]
                    key = (op, k1, k0) if commutes and k0 > k1 else (op, k0, k1)
                elif len(inputs) == 1:
                    key = (op, kid[inputs[0]])
                else:
                    key = (op, *_keyed(inputs, kid, commutes))
            except KeyError:
                self._settle(inputs)
                key = (op, *_keyed(inputs, kid, commutes))
            params = a["params"]
            if params:
                key = (op, params_key(params), *key[1:])
            done = table.get(key)
            if done is not None:
                if done in self.busy:
                    self._cycle(nid)
                if done != nid and self.trace is not None:
                    pending.append(("merge", nid, done))
            else:
                done = nid
                head[nid] = op  # what consumers' rule lookups read of it, known already
                if moved and not moved.isdisjoint(inputs):
                    done, a = self._rebuilt(nid, a)
                    inputs = a["inputs"]
                table[key] = done
                if has_rules:  # the rules that may match, by op, rank and input heads
                    shape = a["shape"]
                    ndim = None if shape is None else len(shape)
                    if len(inputs) == 2:
                        ckey = (op, ndim, head[inputs[0]], head[inputs[1]])
                    elif len(inputs) == 1:
                        ckey = (op, ndim, head[inputs[0]])
                    else:
                        ckey = (op, ndim, *map(head.__getitem__, inputs))
                    entry = candidates.get(ckey)
                    if entry is None:
                        entry = candidates[ckey] = self._candidates(
                            ckey, commutes and len(inputs) == 2)
                    rules, gated = entry
                    if rules and not (gated and _apart(inputs[0], inputs[1], nodes)):
                        result = self._rewrite(done, a, rules)
                        if result != done:
                            table[key] = done = result
            new_of[nid] = done
            if done != nid:
                moved.add(nid)
                kid[nid] = kid.get(done, done)
            else:
                kid[nid] = nid
            if pending:
                count = self._count_now()
                self.trace.extend(Rewrite(*p, count) for p in pending)  # type: ignore
                pending.clear()

    def _rebuilt(self, nid: int, a: dict) -> tuple[int, dict]:
        """Node nid on its inputs' simplified forms (a new node, origin "simplify", if one
        changed; shapes cannot differ), and its attributes."""
        new_inputs = tuple(map(self.new_of.__getitem__, a["inputs"]))
        if new_inputs == a["inputs"]:
            return nid, a
        graph = self.graph
        graph.current_grad_of = a.get("grad_of")
        graph.current_grad_pass = a.get("grad_pass")
        extra = {k: a[k] for k in ("outputs", "index") if k in a}
        extra["replaces"] = a.get("replaces", nid)  # so that errors name the user's node
        new = graph.add_node(a["op"], new_inputs, a["shape"], a["dtype"], a["params"], **extra)
        return new, self.nodes[new]

    def _candidates(self, key: tuple, swap: bool) -> tuple[list[Rule], bool]:
        """The rules that may match a node of key's op and rank (key[1]) whose inputs have
        the heads key[2:] (in either order if `swap`), and whether each of them needs the
        two inputs to share a variable (Rule.quick): then inputs that are _apart skip them."""
        op, ndim, heads = key[0], key[1], key[2:]
        found = [r for r, want in self.by_op.get(op, ())
                 if (r.ndim is None or r.ndim == ndim)
                 and (_fits(want, heads) or (swap and _fits(want, heads[::-1])))]
        if heads and all(isinstance(h, tuple) for h in heads):
            found += [r for r, _ in self.folders]
        return found, len(heads) == 2 and all(r.quick is not None for r in found)

    def _rewrite(self, nid: int, a: dict, rules: list[Rule]) -> int:
        """Tries the rules at nid; the simplified form of the first replacement, else nid."""
        nodes, opaque = self.nodes, self.opaque
        graph = self.graph
        node = None
        inputs = a["inputs"]
        for rule in rules:
            quick = rule.quick
            if quick is not None and not quick(inputs, nodes):
                continue
            binds: dict = {}
            pbinds: dict = {}
            matcher = rule.matcher
            if matcher is not None and not matcher(nid, nodes, binds, pbinds, opaque):
                continue
            if node is None:
                node = Tensor(graph, nid)
            m = Match(node, binds, pbinds, self.scratch)
            if rule.when is not None and not rule.when(m):
                continue
            graph.current_grad_of = a.get("grad_of")
            graph.current_grad_pass = a.get("grad_pass")
            mark = graph.next_id
            r = rule.replacement(m) if callable(rule.replacement) else build(
                rule.replacement, m)
            if r is None:
                continue
            self._check(rule, node, r)
            if r.id == nid:
                continue
            if r.op not in (PLACEHOLDER, CONSTANT) and "replaces" not in r._a and r.id > nid:
                r._a["replaces"] = a.get("replaces", nid)  # a node of its own making
            self.rewrites += 1
            self.recent.append(rule.name)
            if self.rewrites > self.limit:
                raise SymgradError(f"simplify: more than {self.limit} rewrites; the rules "
                                   f"{_names(self.recent)} keep rewriting each other")
            self.busy.add(nid)
            self.chain.append(rule.name)
            self.new_of[nid] = nid  # what the replacement reads of the node itself: as it is
            self.kid[nid] = nid
            try:
                self._settle(self._new_part(r.id, mark))  # inputs first: no deep recursion
                result = self.norm(r.id)
            finally:
                self.busy.discard(nid)
                self.chain.pop()
            self.new_of[nid] = result
            self.kid[nid] = self.kid.get(result, result)
            self.moved.add(nid)
            if result in self.busy or result == nid:
                self._cycle(nid)
            if self.trace is not None:
                self.pending.append((rule.name, nid, result))
            return result
        return nid

    def _new_part(self, nid: int, mark: int) -> list[int]:
        """The nodes a replacement made (ids >= mark) that nid is computed from, in order."""
        nodes, new_of = self.nodes, self.new_of
        seen: set[int] = set()
        todo = [nid]
        while todo:
            n = todo.pop()
            if n in seen or n < mark or n in new_of:
                continue
            seen.add(n)
            todo.extend(nodes[n]["inputs"])
        return sorted(seen)

    def _check(self, rule: Rule, node: Tensor, r: Any) -> None:
        if not isinstance(r, Tensor) or r.graph is not node.graph:
            raise SymgradError(f"rule {rule.name!r} returned {type(r).__name__}, not a tensor "
                               f"of the graph, for {node.label}")
        if r.shape != node.shape or r.dtype != node.dtype:
            raise SymgradError(
                f"rule {rule.name!r} would replace {node.label} {_sig(node)} by {r.label} "
                f"{_sig(r)}: a replacement must keep the shape and dtype of what it replaces")

    def _cycle(self, nid: int) -> None:
        names = _names(list(self.chain) + list(self.recent))
        raise SymgradError(f"simplify: the rules {names} rewrite node "
                           f"{self.graph.label(nid)} back into itself (a cycle); drop one")

    def _count_now(self) -> int:
        """count_nodes of the roots as they stand: simplified where visited, else as built."""
        nodes, new_of = self.nodes, self.new_of
        seen: set[int] = set()
        todo = [new_of.get(r, r) for r in self.roots]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(new_of.get(i, i) for i in nodes[n]["inputs"])
        return sum(1 for n in seen if nodes[n]["op"] not in (PLACEHOLDER, CONSTANT, "output"))


class _Heads(dict):
    """node -> what candidate lookups know of it, found when first asked: its op,
    ("constant", its one value or None), or "placeholder" for a node fed at run time."""

    def __init__(self, nodes: dict, opaque: set[int]) -> None:
        super().__init__()
        self.nodes, self.opaque = nodes, opaque

    def __missing__(self, nid: int) -> Any:
        a = self.nodes[nid]
        if nid in self.opaque:
            h = PLACEHOLDER
        elif a["op"] == CONSTANT:
            h = (CONSTANT, uniform_value(a["value"]))
        else:
            h = a["op"]
        self[nid] = h
        return h


def _keyed(inputs: tuple, kid: dict, commutes: bool) -> tuple:
    """The ids merge keys use for inputs (sorted if their op commutes)."""
    keyed = tuple(map(kid.__getitem__, inputs))
    return tuple(sorted(keyed)) if commutes else keyed


def _apart(i: int, j: int, nodes: Any) -> bool:
    """Whether nodes i and j share nothing at distance one (neither is the other or an input
    of it, and they have no input in common): then no rule whose two sides share a variable
    (a Rule.quick, which each of them would check on its own) can match their consumer."""
    if i == j:
        return False
    mine, theirs = nodes[i]["inputs"], nodes[j]["inputs"]
    if i in theirs or j in mine:
        return False
    for k in mine:  # a loop: a generator would be made at every node
        if k in theirs:
            return False
    return True


def _fits(want: tuple, heads: tuple) -> bool:
    """Whether inputs with these heads may match a pattern whose children want `want`."""
    return len(want) == len(heads) and all(_fits_one(w, h) for w, h in zip(want, heads))


def _fits_one(want: Any, head: Any) -> bool:
    if want is None:
        return True
    if isinstance(want, tuple):  # a number: a constant of that value (unknown: maybe)
        return isinstance(head, tuple) and (head[1] is None or head[1] == want[1])
    if want == CONSTANT:
        return isinstance(head, tuple)
    return want == head


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in dict.fromkeys(names))


def _sig(t: Tensor) -> str:
    return f"{show(t.shape) if t.shape is not None else 'multi-output'} {t.dtype}"


def _drop_unneeded(graph: Graph, first_new: int, keep: list[int]) -> None:
    """Removes the nodes this run made that no result needs (replaced along the way)."""
    nodes = graph._node
    needed: set[int] = set()
    todo = [n for n in keep if n >= first_new]
    while todo:
        n = todo.pop()
        if n not in needed:
            needed.add(n)
            todo.extend(i for i in nodes[n]["inputs"] if i >= first_new)
    doomed = [n for n in range(first_new, graph.next_id) if n in nodes and n not in needed]
    if doomed:
        graph.nx.remove_nodes_from(doomed)
