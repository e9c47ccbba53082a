"""Running graphs: plan once (prune, merge equal computations, fold constants), then execute.

`evaluate` interprets a plan once; `function` compiles it to straight-line Python (codegen.py).
Reads op records for `compute`; names no op.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FeedError, GraphError, NonFiniteError, ShapeError, SymgradError
from .graph import CONSTANT, PLACEHOLDER, Graph, no_cycle_collection
from .ops.base import OPS, BadInput, params_key
from .shapes import show
from .tensor import Tensor, as_tensor_list

COMPILE_LIMIT = 20_000  # steps; larger plans are interpreted (see Function)


@dataclass(slots=True)
class Step:
    """out = fn(*args): one node to run; slots index the value registers."""

    nid: int
    fn: Callable[..., Any]
    args: tuple[int, ...]
    out: int
    attrs: dict  # the node's attributes: errors name it even after the graph was pruned
    frees: tuple[int, ...] = ()  # slots whose last consumer is this step


@dataclass
class Plan:
    """What to run for some outputs given values for some inputs (slots 0..n-1)."""

    graph: Graph
    inputs: list[Tensor]
    steps: list[Step] = field(default_factory=list)
    consts: dict[int, Any] = field(default_factory=dict)
    outputs: list[int] = field(default_factory=list)
    n_slots: int = 0
    _frees_marked: bool = False

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
            try:
                regs[step.out] = step.fn(*[regs[a] for a in step.args])
            except Exception as e:
                _raise_run_error(self.graph, step, [regs[a] for a in step.args], e)
            if check_finite:
                _check_finite(self.graph, step, [regs[a] for a in step.args], regs[step.out])
            for s in step.frees:
                regs[s] = None
        return [regs[s] for s in self.outputs]


def make_plan(graph: Graph, outputs: list[Tensor], inputs: list[Tensor]) -> Plan:
    """The ancestors of `outputs` (stopping at `inputs`) in topological order, as steps.

    Planning runs what it is given: merging equal computations and folding constants are the
    simplifier's (`function` and `evaluate` simplify first)."""
    with no_cycle_collection():
        return _make_plan(graph, outputs, inputs)


def _make_plan(graph: Graph, outputs: list[Tensor], inputs: list[Tensor]) -> Plan:
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
    bound: dict[tuple, Callable] = {}
    for nid in graph.topo_order([t.id for t in outputs], stop=slot_of):
        if nid in slot_of:
            continue
        a = nodes[nid]
        op = a["op"]
        slot_of[nid] = slot = n_slots
        n_slots += 1
        if op == CONSTANT:
            consts[slot] = a["value"]
            continue
        if op == PLACEHOLDER:
            raise FeedError(f"placeholder {a['name']!r} needs a value")
        opdef = OPS[op]
        params = a["params"]
        if params:
            fkey = (op, params_key(params))
            fn = bound.get(fkey)
            if fn is None:
                fn = bound[fkey] = functools.partial(opdef.compute, **dict(params))
        else:
            fn = opdef.compute
        steps.append(Step(nid, fn, tuple(map(slot_of.__getitem__, a["inputs"])), slot, a))
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
    """Re-raises what a step's compute raised, naming the node. A bad input value is a
    FeedError naming that input; NumPy's ValueError (shapes that met only at run time) a
    ShapeError; any other exception keeps its type, with a note naming the node."""
    where = _where(graph, step)
    if isinstance(e, BadInput):
        culprit = _label(graph, step.attrs["inputs"][e.position])
        raise FeedError(f"{where}: {culprit}: {e.message}") from e
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
        raise NonFiniteError(f"{_what(t)} was fed a value holding {'NaN' if nan else 'inf'}: "
                             f"{_summary(value)}")


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


# -- feeding ---------------------------------------------------------------------------------
def check_value(t: Tensor, value: Any) -> np.ndarray:
    """A fed value as a plain ndarray of t's dtype, or FeedError naming t, declared and given.

    Subclasses become plain arrays (np.matrix, memmap), except masked arrays, which are
    refused: their mask cannot be honoured."""
    dtype, shape = t.dtype, t.shape
    if type(value) is np.ndarray:
        arr = value
    elif isinstance(value, np.ma.MaskedArray):
        raise FeedError(f"{_what(t)} was fed a masked array; symgrad computes on plain arrays "
                        "and would ignore the mask: pass value.filled(...) instead")
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise FeedError(f"{_what(t)} was fed a value NumPy cannot make an array of "
                            f"({type(value).__name__}): {e}") from None
    if arr.dtype != dtype:
        if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
            raise FeedError(f"{_what(t)} is declared {dtype}, got a value of dtype {arr.dtype}")
        arr = arr.astype(dtype)
    if arr.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, arr.shape)):
        raise FeedError(f"{_what(t)} is declared of shape {show(shape)}, "
                        f"got a value of shape {show(arr.shape)}")
    return arr


def _what(t: Tensor) -> str:
    return f"placeholder {t.name!r}" if t.op == PLACEHOLDER else f"fed tensor {t.label}"


def as_output(value: Any, fed: Sequence[np.ndarray] = ()) -> np.ndarray:
    """An array the caller may keep and change: views of shared constants or of the caller's
    own input arrays (x, x.T, x[0], stop_gradient(x)) are copied."""
    arr = np.asarray(value)
    if arr.flags.writeable and not any(np.may_share_memory(arr, a) for a in fed):
        return arr
    return arr.copy()


def as_outputs(values: Sequence[Any], fed: Sequence[np.ndarray]) -> list[np.ndarray]:
    """as_output for each, and no two results share memory (h, h.T, stop_gradient(h))."""
    out: list[np.ndarray] = []
    for v in values:
        arr = as_output(v, fed)
        if any(np.may_share_memory(arr, o) for o in out):
            arr = arr.copy()
        out.append(arr)
    return out


def _resolve_feed(graph: Graph, feed: dict) -> tuple[list[Tensor], list[Any]]:
    names = {t.name: t for t in graph.placeholders()}
    tensors, values = [], []
    for key, value in feed.items():
        if isinstance(key, str):
            if key not in names:
                raise FeedError(f"no placeholder named {key!r} in this graph "
                                f"(placeholders: {', '.join(sorted(names)) or 'none'})")
            key = names[key]
        elif not isinstance(key, Tensor):
            raise FeedError(f"feed keys are tensors or placeholder names, got {key!r}")
        elif key.graph is not graph:
            raise GraphError(f"fed tensor {key.label} belongs to another graph")
        elif key.id not in graph._node:
            raise GraphError(f"fed tensor #{key.id} was pruned from its graph")
        elif key.shape is None:
            raise FeedError(f"{key.label} has several outputs; feed the tensors it returned")
        tensors.append(key)
        values.append(value)
    return tensors, values


def _outputs(outputs: Tensor | Sequence[Tensor]) -> tuple[list[Tensor], bool]:
    single = isinstance(outputs, Tensor)
    ts = as_tensor_list(outputs, None, "outputs")
    if not ts:
        raise GraphError("no outputs to compute")
    for t in ts:
        if t.shape is None:
            raise GraphError(f"{t.label} has several outputs; evaluate the tensors it returned")
    return ts, single


# -- the two ways to run ---------------------------------------------------------------------
BACKENDS = ("numpy",)


def _check_backend(backend: str) -> None:
    if backend == "dask":
        raise SymgradError("backend='dask' is not available in this version of symgrad yet "
                           "(issue 11); only backend='numpy' runs")
    if backend not in BACKENDS:
        raise SymgradError(f"unknown backend {backend!r}; choose one of {BACKENDS}")


def simplified_plan(outputs: list[Tensor], inputs: list[Tensor], simplify: bool,
                    check_finite: bool) -> Plan:
    """The plan of `outputs` given `inputs`, simplified first (the default rules; without
    constant folding under check_finite, so that every computed value is checked). The
    simplifier's nodes are the plan's own: they leave the graph again, and the steps keep
    their attributes."""
    graph = outputs[0].graph
    mark = graph.next_id
    targets = outputs
    if simplify:
        from .simplify.driver import simplify_ids
        from .simplify.rules import DEFAULT_RULES, NO_FOLDING

        rules = NO_FOLDING if check_finite else DEFAULT_RULES
        ids = simplify_ids(graph, [t.id for t in outputs], rules=rules,
                           stop=[t.id for t in inputs], tidy=False)
        targets = [Tensor(graph, n) for n in ids]
    try:
        return make_plan(graph, targets, inputs)
    finally:
        graph.discard_since(mark)


def evaluate(outputs: Tensor | Sequence[Tensor], feed: dict | None = None, *,
             check_finite: bool = False, backend: str = "numpy") -> Any:
    """Computes `outputs` (a tensor: one array; a list: a list) from the values in `feed`,
    simplified as `function` does.

    `check_finite`: raise NonFiniteError naming the first node whose result holds a NaN or an
    inf that its inputs did not hold.
    """
    _check_backend(backend)
    ts, single = _outputs(outputs)
    graph = ts[0].graph
    fed, values = _resolve_feed(graph, feed or {})
    needed = graph.ancestors([t.id for t in ts], stop=[t.id for t in fed])
    pairs = [(t, v) for t, v in zip(fed, values) if t.id in needed]
    inputs = [t for t, _ in pairs]
    if len({t.id for t in inputs}) != len(inputs):
        raise FeedError(f"{_duplicate(inputs)} is fed twice")
    arrays = [check_value(t, v) for t, v in pairs]
    mark = graph.next_id
    try:
        plan = simplified_plan(ts, inputs, True, check_finite)
        results = as_outputs(plan.run(arrays, check_finite), arrays)
    finally:
        graph.rollback(mark)  # the plan is gone after this call: its node ids may be reused
    return results[0] if single else results


def _duplicate(ts: list[Tensor]) -> str:
    seen: set[int] = set()
    for t in ts:
        if t.id in seen:
            return t.label
        seen.add(t.id)
    return ""


class Function:
    """A planned computation: call it with one value per input.

    Plans of up to COMPILE_LIMIT steps are compiled to one straight-line Python function
    (`source` shows it); larger ones run step by step, since compiling them would cost more
    than it saves. With `check_finite` every call runs step by step, checking each result.
    """

    def __init__(self, inputs: Sequence[Tensor], outputs: Tensor | Sequence[Tensor],
                 simplify: bool = True, check_finite: bool = False):
        from .codegen import compile_plan

        ts, self._single = _outputs(outputs)
        self.inputs = as_tensor_list(inputs, ts[0].graph, "function inputs")
        for t in self.inputs:
            if t.shape is None:
                raise FeedError(f"{t.label} has several outputs; use the tensors it returned "
                                "as inputs")
        if len({t.id for t in self.inputs}) != len(self.inputs):
            raise FeedError(f"{_duplicate(self.inputs)} is given twice")
        self.outputs = ts
        self.check_finite = check_finite
        self.plan = simplified_plan(ts, self.inputs, simplify, check_finite)
        if len(self.plan.steps) <= COMPILE_LIMIT and not check_finite:
            self._run, self.source = compile_plan(self.plan)
        else:  # Python's compiler costs ~5-10 us a step: interpreting starts sooner
            self._run, self.source = self.plan.run, None

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.inputs):
            names = ", ".join(t.label for t in self.inputs)
            raise TypeError(f"this function takes {len(self.inputs)} values ({names}), "
                            f"got {len(values)}")
        arrays = [check_value(t, v) for t, v in zip(self.inputs, values)]
        if self.source is None:
            results = self.plan.run(arrays, self.check_finite)  # its errors name the node
        else:
            try:
                results = self._run(*arrays)
            except Exception:
                self.plan.run(arrays)  # again, step by step, to name the node that failed
                raise
        if self._single:
            return as_output(results[0], arrays)
        return as_outputs(results, arrays)

    def __repr__(self) -> str:
        ins = ", ".join(t.label for t in self.inputs)
        return f"<symgrad.Function ({ins}) -> {len(self.outputs)} output(s), " \
               f"{len(self.plan.steps)} steps>"


def function(
    inputs: Tensor | Sequence[Tensor], outputs: Tensor | Sequence[Tensor], *,
    simplify: bool = True, check_finite: bool = False, backend: str = "numpy",
) -> Function:
    """A callable `f(*values)` computing `outputs`, planned and compiled once.

    Planning prunes to what the outputs need; `simplify` (the default) first applies the
    default rules (DEFAULT_RULES: folding constants, merging equal computations, identities,
    fusions, NaN-safe `where` gradients). `check_finite`: see `evaluate`.
    """
    _check_backend(backend)
    return Function(as_tensor_list(inputs, None, "function inputs"), outputs, simplify,
                    check_finite)
