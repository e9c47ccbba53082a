"""Running graphs: `evaluate` once, or `function`, planned once and called many times.

Both simplify first (the default rules), plan (plan.py) and run the plan on a backend
(backends/): NumPy by default, compiled to straight-line Python. Owns feeding: which values
go to which inputs, and the checks of those values. Names no op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backends import get_backend
from .errors import FeedError, GraphError
from .graph import Graph, no_cycle_collection
from .plan import COMPILE_LIMIT, Plan, make_plan
from .tensor import Tensor, as_tensor_list

__all__ = ["COMPILE_LIMIT", "Function", "evaluate", "function", "make_plan", "simplified_plan"]


# -- feeding ---------------------------------------------------------------------------------
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
def simplified_plan(outputs: list[Tensor], inputs: list[Tensor], simplify: bool,
                    check_finite: bool) -> Plan:
    """The plan of `outputs` given `inputs`, simplified first (the default rules; without
    constant folding under check_finite, so that every computed value is checked). The
    simplifier's nodes are the plan's own: they leave the graph again, and the steps keep
    their attributes."""
    graph = outputs[0].graph
    mark = graph.next_id
    targets = outputs
    order: list[int] = []  # the simplifier's walk, when the plan can reuse it
    # one pause of the cycle collector for both passes: the first collection after a pause
    # scans every object made during it, so two pauses cost two scans of the driver's work
    with no_cycle_collection():
        if simplify:
            from .simplify.driver import simplify_ids
            from .simplify.rules import DEFAULT_RULES, NO_FOLDING

            rules = NO_FOLDING if check_finite else DEFAULT_RULES
            ids = simplify_ids(graph, [t.id for t in outputs], rules=rules,
                               stop=[t.id for t in inputs], tidy=False, order=order)
            targets = [Tensor(graph, n) for n in ids]
        try:
            return make_plan(graph, targets, inputs, order or None)
        finally:
            graph.discard_since(mark)


def evaluate(outputs: Tensor | Sequence[Tensor], feed: dict | None = None, *,
             check_finite: bool = False, backend: str = "numpy") -> Any:
    """Computes `outputs` (a tensor: one array; a list: a list) from the values in `feed`,
    simplified as `function` does.

    `check_finite`: raise NonFiniteError naming the first node whose result holds a NaN or an
    inf that its inputs did not hold. `backend`: "numpy", or "dask" (lazy dask arrays).
    """
    runs_on = get_backend(backend)
    ts, single = _outputs(outputs)
    graph = ts[0].graph
    fed, values = _resolve_feed(graph, feed or {})
    needed = graph.ancestors([t.id for t in ts], stop=[t.id for t in fed])
    pairs = [(t, v) for t, v in zip(fed, values) if t.id in needed]
    inputs = [t for t, _ in pairs]
    if len({t.id for t in inputs}) != len(inputs):
        raise FeedError(f"{_duplicate(inputs)} is fed twice")
    arrays = [runs_on.feed(t, v) for t, v in pairs]
    mark = graph.next_id
    try:
        plan = simplified_plan(ts, inputs, True, check_finite)
        results = runs_on.results(runs_on.run(plan, arrays, check_finite), arrays)
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

    `tier` says how it runs: "scalar" (a plan of 0-d float64 values: Python floats and the
    math module, NumPy again for a call leaving the finite floats; results are NumPy
    scalars), "compiled" (one straight-line Python function of NumPy calls; `source` shows
    it), "fused" (with llvmlite: the compiled plan with its regions of elementwise steps as
    compiled loops, swapped in once the background compile that the second call starts is
    done), "interpreted" (step by step: the first call of a plan of more than 200 steps,
    which is compiled when called again; plans of more than COMPILE_LIMIT steps, whose
    compiling would cost more than it saves; and check_finite), or the tier of another
    backend.
    """

    def __init__(self, inputs: Sequence[Tensor], outputs: Tensor | Sequence[Tensor],
                 simplify: bool = True, check_finite: bool = False, backend: str = "numpy"):
        self.backend = get_backend(backend)
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
        self._run, self._tier = self.backend.runner(self.plan, check_finite)
        self._direct = None
        if not check_finite:
            direct = self.backend.direct(self.plan, self._call, self._single)
            if direct is not None:
                self._direct, self._tier = direct
                # calls go straight to it: a class of its own whose __call__ it is (Python
                # looks __call__ up on the class), saving the indirection on ~1 us calls
                self.__class__ = type("Function", (Function,), {
                    "__call__": self._direct, "__doc__": Function.__doc__})

    @property
    def tier(self) -> str:
        """How calls run now (see the class); a runner may change tier while it runs
        (compiled once reused, fused once its background compile is done)."""
        return self._tier if self._direct is not None else getattr(self._run, "tier", self._tier)

    def wait_fused(self, timeout: float | None = None) -> bool:
        """Starts compiling the fused tier now if the second call has not, and waits for it at
        most `timeout` seconds (for tests and benchmarks); True when calls then run fused."""
        wait = getattr(self._run, "wait", None)
        return self._direct is None and wait is not None and wait(timeout)

    @property
    def source(self) -> str | None:
        """The Python the plan compiled to (None unless the tier is "compiled")."""
        return self.plan.source

    def __call__(self, *values: Any) -> Any:
        return self._call(*values)

    def _call(self, *values: Any) -> Any:
        if len(values) != len(self.inputs):
            names = ", ".join(t.label for t in self.inputs)
            raise TypeError(f"this function takes {len(self.inputs)} values ({names}), "
                            f"got {len(values)}")
        backend = self.backend
        arrays = [backend.feed(t, v) for t, v in zip(self.inputs, values)]
        results = backend.results(self._run(arrays), arrays)
        return results[0] if self._single else results

    def __repr__(self) -> str:
        ins = ", ".join(t.label for t in self.inputs)
        return f"<symgrad.Function ({ins}) -> {len(self.outputs)} output(s), " \
               f"{len(self.plan.steps)} steps, {self.tier}>"


def function(
    inputs: Tensor | Sequence[Tensor], outputs: Tensor | Sequence[Tensor], *,
    simplify: bool = True, check_finite: bool = False, backend: str = "numpy",
) -> Function:
    """A callable `f(*values)` computing `outputs`, planned and compiled once.

    Planning prunes to what the outputs need; `simplify` (the default) first applies the
    default rules (DEFAULT_RULES: folding constants, merging equal computations, identities,
    fusions, NaN-safe `where` gradients). `check_finite`: see `evaluate`. `backend`:
    "numpy", or "dask" (`pip install symgrad[dask]`).
    """
    return Function(as_tensor_list(inputs, None, "function inputs"), outputs, simplify,
                    check_finite, backend)
