"""Plans: the steps that compute some outputs from some inputs, run one by one.

A plan is what every backend runs: make_plan orders the ancestors of the outputs (stopping at
the inputs) into steps over value slots; Plan.run interprets them, releasing each value after
its last consumer, checking results when asked (check_finite) and naming the node a failure
happened at. Reads op records for `compute`; names no op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FeedError, NonFiniteError, ShapeError, SymgradError
from .graph import CONSTANT, PLACEHOLDER, Graph, no_cycle_collection
from .ops.base import OPS, BadInput, params_key
from .shapes import show
from .tensor import Tensor

COMPILE_LIMIT = 20_000  # steps; larger plans are interpreted: compiling would cost more


@dataclass(slots=True, init=False)
class Step:
    """out = fn(*args): one node to run; slots index the value registers."""

    nid: int
    fn: Callable[..., Any]
    args: tuple[int, ...]
    out: int
    attrs: dict  # the node's attributes: errors name it even after the graph was pruned
    frees: tuple[int, ...]  # slots whose last consumer is this step

    def __init__(self, nid: int, fn: Callable[..., Any], args: tuple[int, ...], out: int,
                 attrs: dict, frees: tuple[int, ...] = ()) -> None:
        # (written out: cheaper than the generated one, and made once per node)
        self.nid = nid
        self.fn = fn
        self.args = args
        self.out = out
        self.attrs = attrs
        self.frees = frees


@dataclass
class Plan:
    """What to run for some outputs given values for some inputs (slots 0..n-1)."""

    graph: Graph
    inputs: list[Tensor]
    steps: list[Step] = field(default_factory=list)
    consts: dict[int, Any] = field(default_factory=dict)
    outputs: list[int] = field(default_factory=list)
    n_slots: int = 0
    source: str | None = None  # the Python a backend compiled the plan to, if it did
    _frees_marked: bool = False
    _tuples: list[tuple] | None = None

    def run(self, values: Sequence[Any], check_finite: bool = False) -> list[Any]:
        """Interprets the steps; each value is released right after its last consumer.

        `check_finite`: raise NonFiniteError at the first step whose result holds a NaN or an
        inf that its inputs did not hold."""
        if not self._frees_marked:  # only interpreting needs them: codegen does its own
            with no_cycle_collection():
                _mark_frees(self)
            self._frees_marked = True
        regs: list[Any] = [None] * self.n_slots
        regs[: len(values)] = values
        for slot, value in self.consts.items():
            regs[slot] = value
        if check_finite:
            for slot, value in enumerate(values):
                _check_fed_finite(self.inputs[slot], value)
            for step in self.steps:
                args = [regs[a] for a in step.args]
                try:
                    regs[step.out] = step.fn(*args)
                except Exception as e:
                    _raise_run_error(self.graph, step, args, e)
                _check_finite(self.graph, step, args, regs[step.out])
                for s in step.frees:
                    regs[s] = None
            return [regs[s] for s in self.outputs]
        k = 0
        try:  # the hot loop: one or two arguments spelt out, no list made for them
            for k, (fn, args, out, frees) in enumerate(self._compact()):  # noqa: B007
                if len(args) == 1:
                    regs[out] = fn(regs[args[0]])
                elif len(args) == 2:
                    regs[out] = fn(regs[args[0]], regs[args[1]])
                else:
                    regs[out] = fn(*[regs[a] for a in args])
                for s in frees:
                    regs[s] = None
        except Exception as e:
            step = self.steps[k]
            _raise_run_error(self.graph, step, [regs[a] for a in step.args], e)
        return [regs[s] for s in self.outputs]

    def _compact(self) -> list[tuple]:
        """The steps as (fn, args, out, frees) tuples, made once: cheaper to unpack."""
        compact = self._tuples
        if compact is None:
            with no_cycle_collection():  # many new objects at once: no full collection of the graph
                compact = self._tuples = [(st.fn, st.args, st.out, st.frees)
                                          for st in self.steps]
        return compact


def make_plan(graph: Graph, outputs: list[Tensor], inputs: list[Tensor],
              order: list[int] | None = None) -> Plan:
    """The ancestors of `outputs` (stopping at `inputs`) in topological order, as steps;
    `order`: those ancestors in that order, if the caller has them already.

    Planning runs what it is given: merging equal computations and folding constants are the
    simplifier's (`function` and `evaluate` simplify first)."""
    with no_cycle_collection():
        return _make_plan(graph, outputs, inputs, order)


def _make_plan(graph: Graph, outputs: list[Tensor], inputs: list[Tensor],
               order: list[int] | None) -> Plan:
    plan = Plan(graph, inputs)
    slot_of: dict[int, int] = {}
    for t in inputs:
        if t.id in slot_of:
            raise FeedError(f"{t.label} is given twice")
        slot_of[t.id] = len(slot_of)
    n_slots = len(slot_of)
    nodes = graph._node  # the attribute dicts; the planner reads them for every node
    consts = plan.consts
    steps = plan.steps
    bound: dict[Any, Callable] = {}  # op, or (op, params): its compute, params bound
    if order is None:
        order = graph.topo_order([t.id for t in outputs], stop=slot_of)
    rest = [n for n in order if n not in slot_of]  # every other node gets the next slot
    slot_of.update(zip(rest, range(n_slots, n_slots + len(rest))))
    for slot, nid in enumerate(rest, n_slots):
        a = nodes[nid]
        op = a["op"]
        params = a["params"]
        fkey = (op, params_key(params)) if params else op
        fn = bound.get(fkey)
        if fn is None:
            if op == CONSTANT:
                consts[slot] = a["value"]
                continue
            if op == PLACEHOLDER:
                raise FeedError(f"placeholder {a['name']!r} needs a value")
            compute = OPS[op].compute
            fn = bound[fkey] = functools.partial(compute, **dict(params)) if params else compute
        ins = a["inputs"]
        args = ((slot_of[ins[0]], slot_of[ins[1]]) if len(ins) == 2 else
                (slot_of[ins[0]],) if len(ins) == 1 else tuple(map(slot_of.__getitem__, ins)))
        steps.append(Step(nid, fn, args, slot, a))
    n_slots += len(rest)
    plan.n_slots = n_slots
    plan.outputs = [slot_of[t.id] for t in outputs]
    return plan


def _mark_frees(plan: Plan) -> None:
    last: dict[int, int] = {}
    for k, step in enumerate(plan.steps):
        for a in step.args:
            last[a] = k
    keep = set(plan.outputs) | set(plan.consts)
    frees: dict[int, list[int]] = {}
    for slot, k in last.items():
        if slot not in keep:
            frees.setdefault(k, []).append(slot)
    for k, slots in frees.items():
        plan.steps[k].frees = tuple(slots)


def _label(graph: Graph, nid: int) -> str:
    """A node's name in errors, also for a node the graph no longer holds."""
    a = graph._node.get(nid)
    return f"#{nid}" if a is None else graph.label(nid)


def _where(graph: Graph, step: Step) -> str:
    """The node of a step, as errors name it: a node the simplifier made by what it replaced."""
    a = step.attrs
    if a["name"]:
        return f"{a['op']} at node {a['name']}"
    replaced = a.get("replaces")
    if replaced is not None and replaced in graph._node:
        return f"{a['op']} at node {_label(graph, replaced)} (as simplified)"
    return f"{a['op']} at node {a['op']}#{step.nid}"


def _raise_run_error(graph: Graph, step: Step, args: list[Any], e: Exception) -> None:
    raise_run_error(*step_names(graph, step), args, e)


def step_names(graph: Graph, step: Step) -> tuple[str, list[str]]:
    """How errors name a step's node (its op and node) and each of its inputs."""
    return _where(graph, step), [_label(graph, i) for i in step.attrs["inputs"]]


def raise_run_error(where: str, labels: Sequence[str], args: Sequence[Any],
                    e: Exception) -> None:
    """Re-raises what a compute raised, naming the node (`where`, as errors name it) and its
    inputs (`labels`). A bad input value is a FeedError naming that input; NumPy's ValueError
    (shapes that met only at run time) a ShapeError; any other exception keeps its type, with
    a note naming the node. Strings only: a backend's task that fails far from the graph (a
    dask worker) names its node too."""
    if isinstance(e, BadInput):
        raise FeedError(f"{where}: {labels[e.position]}: {e.message}") from e
    shapes = ", ".join(show(np.shape(v)) for v in args)
    if isinstance(e, ValueError) and not isinstance(e, SymgradError):
        raise ShapeError(f"{where} failed on inputs of shapes {shapes}: {e}") from e
    e.add_note(f"symgrad: raised by {where}, on inputs of shapes {shapes}")
    raise e


# -- check_finite ----------------------------------------------------------------------------
def _non_finite(value: Any) -> tuple[bool, bool]:
    """(has NaN, has inf) of a result (a tuple for a multi-output node)."""
    nan = inf = False
    for v in value if isinstance(value, tuple) else (value,):
        v = np.asarray(v)
        if v.dtype.kind in "fc" and not np.isfinite(v).all():
            nan = nan or bool(np.isnan(v).any())
            inf = inf or bool(np.isinf(v).any())
    return nan, inf


def _summary(v: Any) -> str:
    v = np.asarray(v)
    if v.dtype.kind not in "fc" or v.size == 0:
        return f"{show(v.shape)} {v.dtype}"
    finite = v[np.isfinite(v)]
    bad = f", {np.isnan(v).sum()} NaN, {np.isinf(v).sum()} inf" if finite.size < v.size else ""
    span = f" in [{finite.min():.4g}, {finite.max():.4g}]" if finite.size else ""
    return f"{show(v.shape)} {v.dtype}{span}{bad}"


def _check_fed_finite(t: Tensor, value: Any) -> None:
    nan, inf = _non_finite(value)
    if nan or inf:
        raise NonFiniteError(f"{what_fed(t)} was fed a value holding {'NaN' if nan else 'inf'}: "
                             f"{_summary(value)}")


def what_fed(t: Tensor) -> str:
    """How errors name a fed tensor."""
    return f"placeholder {t.name!r}" if t.op == PLACEHOLDER else f"fed tensor {t.label}"


def _check_finite(graph: Graph, step: Step, args: list[Any], value: Any) -> None:
    nan, inf = _non_finite(value)
    if not (nan or inf):
        return
    had_nan = had_inf = False
    for v in args:
        n, i = _non_finite(v)
        had_nan, had_inf = had_nan or n, had_inf or i
    if (nan and not had_nan) or (inf and not had_inf):
        a = step.attrs
        made = "NaN" if nan and not had_nan else "inf"
        origin = a.get("origin")
        replaced = graph._node.get(a.get("replaces", -1))
        if origin == "simplify" and replaced is not None:
            origin = replaced["origin"]
        if "grad_of" in a:
            fwd = a["grad_of"]
            fa = graph._node.get(fwd)
            origin += f", from the derivative rule of {fa['op'] if fa else '?'} at node " \
                      f"{_label(graph, fwd)}"
        inputs = "; ".join(f"{_label(graph, i)}: {_summary(v)}"
                           for i, v in zip(a["inputs"], args))
        raise NonFiniteError(f"{_where(graph, step)} (origin {origin}) made {made} from finite "
                             f"inputs: {inputs or 'none'}; result {_summary(value)}")


