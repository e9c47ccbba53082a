"""Symbol-to-symbol derivatives (Deep Learning book 6.5): gradients, and what is built on it.

`gradients` is algorithms 6.5/6.6 as one loop over the pruned graph in reverse topological
order: a grad_table, each op's `bprop` called once per node, contributions summed as they come.
It knows no differentiation rule: the rules live in the op records. hvp, hessian, jacobian and
jvp are compositions of `gradients` and so work at any order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import GradientError, GraphError, ShapeError
from .graph import Graph, no_cycle_collection
from .ops import OPS, broadcast_to, cast, reshape, stack, stop_gradient, zeros_like
from .ops.base import lift
from .ops.shape import broadcast_like, sum_like
from .shapes import dims_match, is_float, show, size
from .tensor import Tensor, as_tensor_list

UNCONNECTED = ("zero", "none", "raise")


def gradients(
    ys: Tensor | Sequence[Tensor],
    xs: Tensor | Sequence[Tensor],
    grad_ys: Any = None,
    *,
    unconnected: str = "zero",
) -> list[Tensor | None]:
    """d(sum of ys)/d(x) for each x, as new nodes of the same graph (origin "gradient").

    Args:
        grad_ys: the gradient on each y (a tensor or array of y's shape); required for a y
            that is not a scalar, default 1.
        unconnected: for an x that y does not depend on through floats: "zero" (zeros of x's
            shape), "none" (None) or "raise" (GradientError saying why).
    """
    if unconnected not in UNCONNECTED:
        raise GradientError(f"unconnected must be one of {UNCONNECTED}, got {unconnected!r}")
    ys_list = as_tensor_list(ys, None, "gradients ys")
    if not ys_list:
        raise GradientError("gradients needs at least one y")
    graph = ys_list[0].graph
    xs_list = as_tensor_list(xs, graph, "gradients xs")
    for t in xs_list + ys_list:
        if t.shape is None:
            raise GradientError(f"{t.label} has several outputs; differentiate the tensors it "
                                "returned")
    with graph.atomic():
        return _gradients(graph, ys, ys_list, xs_list, grad_ys, unconnected)


def _gradients(graph: Graph, ys: Any, ys_list: list[Tensor], xs_list: list[Tensor],
               grad_ys: Any, unconnected: str) -> list[Tensor | None]:
    first_new = graph.next_id
    with graph.origin("gradient", grad_pass=graph.new_grad_pass()), no_cycle_collection():
        seeds = _seeds(graph, ys_list, grad_ys, isinstance(ys, Tensor))
        order = _on_path(graph, ys_list, xs_list)
        on_path = set(order)
        grad_table: dict[int, Any] = {}
        for y, seed in zip(ys_list, seeds):
            if y.id in on_path:
                graph.current_grad_of = y.id
                _accumulate(grad_table, y, seed)
        blocked = _fill_grad_table(graph, order, on_path, grad_table)
        results: list[Tensor | None] = []
        for x in xs_list:
            g = grad_table.get(x.id)
            graph.current_grad_of = x.id
            if g is None:
                g = _unconnected(x, ys_list, blocked, unconnected)
            elif g.shape != x.shape:
                g = broadcast_like(g, x)
            results.append(g)
    _drop_unused(graph, first_new, [r for r in results if r is not None])
    y_ids = tuple(y.id for y in ys_list)
    graph.grad_results.extend((r.id, y_ids, x.id, graph.grad_passes)
                              for r, x in zip(results, xs_list) if r is not None)
    return results


def _seeds(graph: Graph, ys: list[Tensor], grad_ys: Any, one_y: bool) -> list[Tensor]:
    """The gradient on each y: grad_ys, or 1 for a scalar y."""
    if grad_ys is None:
        for y in ys:
            if y.shape != ():
                raise GradientError(f"y {y.label} has shape {show(y.shape)}, not a scalar: pass "
                                 "grad_ys, the gradient on it (for example sg.ones_like(y))")
        seeds = []
        for y in ys:
            graph.current_grad_of = y.id
            seeds.append(graph.scalar(1, y.dtype))
        return seeds
    given = [grad_ys] if one_y else list(grad_ys)
    if len(given) != len(ys):
        raise GradientError(f"grad_ys has {len(given)} entries for {len(ys)} ys")
    seeds = []
    for y, gy in zip(ys, given):
        graph.current_grad_of = y.id
        if gy is None:
            raise TypeError(f"grad_ys for {y.label} is None; give the gradient on it (for a "
                            "scalar y, 1)")
        if not isinstance(gy, Tensor):
            value = np.asarray(gy)
            if value.dtype.kind not in "biuf":
                raise TypeError(f"grad_ys for {y.label} must be real numbers of its shape, got "
                                f"dtype {value.dtype}")
            gy = lift("gradients", [y, gy])[1]
        if gy.graph is not graph:
            raise GraphError(f"grad_ys for {y.label} belongs to another graph")
        if gy.dtype.kind not in "biuf":
            raise TypeError(f"grad_ys for {y.label} must be real, got a tensor of {gy.dtype}")
        if gy.ndim != y.ndim or not all(map(dims_match, gy.shape, y.shape)):
            raise ShapeError(f"grad_ys for {y.label} must be of its shape {show(y.shape)}, "
                             f"got {show(gy.shape)}")
        seeds.append(cast(gy, y.dtype) if gy.dtype != y.dtype else gy)
    return seeds


def _carries(a: dict) -> bool:
    """Whether a node's value can carry a gradient: float results do, integers and booleans not."""
    if "outputs" in a:
        return any(is_float(dtype) for _, dtype in a["outputs"])
    return is_float(a["dtype"])


def _on_path(graph: Graph, ys: list[Tensor], xs: list[Tensor]) -> list[int]:
    """Book alg. 6.5: the nodes that are ancestors of a y and descendants of an x, through floats.

    Returned in topological order.
    """
    nodes = graph._node
    targets = {x.id for x in xs}
    reached: set[int] = set()
    for n in graph.topo_order([y.id for y in ys]):
        a = nodes[n]
        if (n in targets or not reached.isdisjoint(a["inputs"])) and _carries(a):
            reached.add(n)
    return sorted(reached)


def _fill_grad_table(
    graph: Graph, order: list[int], on_path: set[int], grad_table: dict[int, Any]
) -> set[tuple[int, int]]:
    """Book alg. 6.6 as a loop over the pruned order, last node first: each node's bprop runs
    once, on the sum of what its consumers sent it. Returns the edges where bprop sent nothing.
    """
    nodes = graph._node
    blocked: set[tuple[int, int]] = set()
    for nid in reversed(order):
        g = grad_table.get(nid)
        a = nodes[nid]
        if g is None or on_path.isdisjoint(a["inputs"]):
            continue  # a leaf, or an x that is not also between another x and y: no rule runs
        out = Tensor(graph, nid)
        opdef = OPS[a["op"]]
        if opdef.bprop is None:
            raise GradientError(f"op {a['op']!r} at node {out.label} has no derivative rule")
        graph.current_grad_of = nid
        if isinstance(g, list):  # several outputs: one gradient (or None) per output
            g = tuple(g)
        elif g.shape != a["shape"] and not _takes_small_g(opdef, a, nodes, on_path):
            g = broadcast_like(g, out)  # a gradient left smaller (see _fit), now needed in full
        if opdef.bprop_wanted:
            terms = opdef.bprop(out, g, tuple(i in on_path for i in a["inputs"]))
        else:
            terms = opdef.bprop(out, g)
        inputs = out.inputs
        shared = len(inputs) > 1
        for x, term in zip(inputs, terms):
            xid = x.id
            if xid not in on_path:
                continue
            if term is None:
                blocked.add((xid, nid))
                continue
            if isinstance(term, tuple):
                _accumulate(grad_table, x, term)
                continue
            t, xa = term._a, x._a
            if t["shape"] != xa["shape"] or t["dtype"] != xa["dtype"] or (
                    shared and None in xa["shape"]):
                term = _fit(term, x, shared and None in xa["shape"])
            old = grad_table.get(xid)  # the running sum of book 6.5.8
            grad_table[xid] = term if old is None else old + term
    return blocked


def _takes_small_g(opdef: Any, a: dict, nodes: Any, on_path: set[int]) -> bool:
    """Whether a rule may get a gradient smaller than its output: an elementwise rule whose
    inputs on the path all have the output's static shape (none was broadcast, so no term has
    to be summed, where the lost dimensions would count)."""
    shape = a["shape"]
    return opdef.elementwise and None not in shape and all(
        nodes[i]["shape"] == shape for i in a["inputs"] if i in on_path)


def _fit(term: Tensor, x: Tensor, maybe_broadcast: bool) -> Tensor:
    """A bprop term fitted to x: summed over the dimensions broadcasting added, cast to x's
    dtype. A term that only lacks dimensions (a sum's gradient, a scalar) stays small: it is
    broadcast when a rule or the result needs x's full shape.

    Invariant: a gradient whose static shape equals its node's is that shape at run time too.
    `maybe_broadcast` (x has unknown dimensions and shared its op with other inputs) makes the
    fit exact, since static shapes cannot tell then.
    """
    ts, xs = term.shape, x.shape
    if maybe_broadcast or (ts != xs and not _fits_by_broadcasting(ts, xs)):
        term = sum_like(term, x)
    if term.dtype != x.dtype:
        term = cast(term, x.dtype)
    return term


def _fits_by_broadcasting(small: tuple, big: tuple) -> bool:
    return len(small) <= len(big) and all(
        s == 1 or (s == b and s is not None) for s, b in zip(small[::-1], big[::-1]))


def _accumulate(grad_table: dict[int, Any], x: Tensor, term: Any) -> None:
    """Adds a term into x's running sum (book 6.5.8), one slot per output for a multi-output x.
    (The pass's loop does the single-output case inline: it is its hottest line.)"""
    if isinstance(term, tuple):
        slots = grad_table.setdefault(x.id, [None] * len(term))
        for k, t in enumerate(term):
            if t is not None:
                slots[k] = t if slots[k] is None else slots[k] + t
        return
    old = grad_table.get(x.id)
    grad_table[x.id] = term if old is None else old + term


def _unconnected(x: Tensor, ys: list[Tensor], blocked: set, policy: str) -> Tensor | None:
    if policy == "zero":
        if None in x.shape:  # zeros of a shape known only when x is fed
            return zeros_like(x)
        # no need to feed x: a 0 broadcast to its static shape (a view, no memory)
        return broadcast_to(x.graph.scalar(0, x.dtype), x.shape) if x.shape else \
            x.graph.scalar(0, x.dtype)
    if policy == "none":
        return None
    raise GradientError(f"{x.label} is not connected to {', '.join(y.label for y in ys)}: "
                        f"{_why_unconnected(x, ys, blocked)}")


def _why_unconnected(x: Tensor, ys: list[Tensor], blocked: set) -> str:
    """The nearest node between x and y that stops the gradient, or that there is no path."""
    graph = x.graph
    nodes = graph._node
    ancestors = graph.ancestors(y.id for y in ys)
    if x.id not in ancestors:
        return "no path leads from it to y"
    if not _carries(nodes[x.id]):
        return f"it is of dtype {x.dtype}; integer and boolean values carry no gradient"
    seen, todo = {x.id}, deque([x.id])
    while todo:
        n = todo.popleft()
        for c in sorted(graph.nx.successors(n)):
            if c not in ancestors or c in seen:
                continue
            seen.add(c)
            a = nodes[c]
            if not _carries(a):
                return (f"every path passes through {a['op']} at node {graph.label(c)}, whose "
                        f"result is {a.get('dtype')}: integer and boolean results carry no "
                        "gradient")
            if (n, c) in blocked:
                return (f"every path passes through {a['op']} at node {graph.label(c)}, which "
                        "lets no gradient through to its input")
            todo.append(c)
    return "no gradient reaches it"


def _drop_unused(graph: Graph, first_new: int, keep: list[Tensor]) -> None:
    """Removes the nodes this pass built that no result needs (terms for inputs off the path):
    those nothing reads, then the new nodes only they read, and so on."""
    nodes, succ = graph._node, graph._succ
    kept = {t.id for t in keep}
    doomed = [n for n in range(first_new, graph.next_id)
              if n in nodes and not succ[n] and n not in kept]
    if not doomed:
        return
    gone: set[int] = set()
    while doomed:
        n = doomed.pop()
        if n in gone:
            continue
        gone.add(n)
        for i in nodes[n]["inputs"]:
            if i >= first_new and i not in gone and i not in kept and \
                    all(c in gone or c == n for c in succ[i]):
                doomed.append(i)
    graph.nx.remove_nodes_from(gone)


# -- built on gradients --------------------------------------------------------------------------
def grad(y: Tensor, x: Tensor) -> Tensor:
    """dy/dx for a scalar y: one tensor of x's shape."""
    return gradients(y, x)[0]


def hvp(y: Tensor, xs: Tensor | Sequence[Tensor], vs: Any) -> list[Tensor]:
    """Hessian-vector products H v (book 6.5.10): grad of (grad y . v), v not differentiated."""
    xs_list = as_tensor_list(xs, y.graph, "hvp xs")
    vs_list = [vs] if isinstance(xs, Tensor) else list(vs)
    if len(vs_list) != len(xs_list):
        raise GradientError(f"hvp: {len(vs_list)} vectors for {len(xs_list)} xs")
    with y.graph.atomic():
        gs = gradients(y, xs_list)
        vs_list = [_direction("hvp", x, v) for x, v in zip(xs_list, vs_list)]
        with y.graph.origin("gradient", grad_of=y.id):
            dot = None
            for g, v in zip(gs, vs_list):
                term = (g * stop_gradient(v)).sum()  # v may come from the graph: keep it fixed
                dot = term if dot is None else dot + term
        return gradients(dot, xs_list)


def _direction(what: str, x: Tensor, v: Any) -> Tensor:
    """A vector for x (hvp, jvp): a tensor or an array of x's shape, cast to x's dtype."""
    if v is None:
        raise TypeError(f"{what}: no vector given for {x.label}")
    if not isinstance(v, Tensor) and np.asarray(v).dtype.kind not in "biuf":
        raise TypeError(f"{what}: the vector for {x.label} must be real numbers, got "
                        f"dtype {np.asarray(v).dtype}")
    with x.graph.origin("gradient", grad_of=x.id):
        v = lift(what, [x, v])[1]
        if v.ndim != x.ndim or not all(map(dims_match, v.shape, x.shape)):
            raise ShapeError(f"{what}: the vector for {x.label} must have its shape "
                             f"{show(x.shape)}, got {show(v.shape)}")
        return cast(v, x.dtype) if v.dtype != x.dtype else v


def _static_size(t: Tensor, what: str) -> int:
    n = size(t.shape)
    if n is None:
        raise ShapeError(f"{what} needs a static shape; {t.label} has shape {show(t.shape)}")
    return n


def jacobian(y: Tensor, x: Tensor) -> Tensor:
    """dy/dx of shape y.shape + x.shape: one reverse pass per element of y."""
    m = _static_size(y, "jacobian")
    _static_size(x, "jacobian")
    with y.graph.atomic():
        rows = []
        for i in range(m):
            seed = np.zeros(m, dtype=y.dtype)
            seed[i] = 1
            rows.append(gradients(y, x, grad_ys=seed.reshape(y.shape))[0])
        with y.graph.origin("gradient", grad_of=y.id):
            if not rows:
                return y.graph.constant(np.zeros(y.shape + x.shape, dtype=x.dtype))
            return reshape(stack(rows), y.shape + x.shape)


def hessian(y: Tensor, x: Tensor) -> Tensor:
    """d2y/dx2 of shape x.shape + x.shape: the gradient built once, then one pass per element."""
    if y.shape != ():
        raise ShapeError(f"hessian needs a scalar y; {y.label} has shape {show(y.shape)}")
    _static_size(x, "hessian")
    with y.graph.atomic():
        return jacobian(grad(y, x), x)


def jvp(ys: Tensor | Sequence[Tensor], xs: Tensor | Sequence[Tensor], tangents: Any
        ) -> list[Tensor]:
    """Forward-mode directional derivatives J v, one per y, by two reverse passes.

    With u a stand-in for the gradient on y, gradients(y, x, u) = J^T u is linear in u, so the
    gradient of (J^T u) . v with respect to u is J v. u enters the graph as zeros_like(y).
    The result is differentiable in x and in the tangents v (jvp of a jvp: second
    directional derivatives).
    """
    ys_list = as_tensor_list(ys, None, "jvp ys")
    graph = ys_list[0].graph
    xs_list = as_tensor_list(xs, graph, "jvp xs")
    vs = [tangents] if isinstance(xs, Tensor) else list(tangents)
    if len(vs) != len(xs_list):
        raise GradientError(f"jvp: {len(vs)} tangents for {len(xs_list)} xs")
    with graph.atomic():
        vs = [_direction("jvp", x, v) for x, v in zip(xs_list, vs)]
        with graph.origin("gradient"):
            us = []
            for y in ys_list:
                graph.current_grad_of = y.id
                us.append(zeros_like(y))
        vjps = gradients(ys_list, xs_list, grad_ys=us)
        with graph.origin("gradient"):
            dot = None
            for g, x, v in zip(vjps, xs_list, vs):
                graph.current_grad_of = x.id
                term = (g * v).sum()  # v not held fixed: J v is linear in v, differentiably
                dot = term if dot is None else dot + term
        return gradients(dot, us)
