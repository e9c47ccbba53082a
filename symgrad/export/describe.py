"""How pictures and listings describe nodes: what to show, and the words and numbers for it.

Shared by dot.py, text.py and jupyter.py; reads node attributes only and names no op.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..graph import CONSTANT, ORIGINS, Graph
from ..shapes import show
from ..tensor import Tensor, as_tensor_list

SMALL = 8  # arrays of at most this many entries are shown in full; larger ones summarised


def select(ys_or_graph: Any, what: str) -> tuple[Graph, list[int], list[int]]:
    """What to show: (graph, root ids, node ids in topological order).

    A Graph shows all its nodes, its roots being the nodes nothing consumes; tensors show their
    ancestors, themselves the roots.
    """
    if isinstance(ys_or_graph, Graph):
        graph = ys_or_graph
        succ = graph.nx.succ
        nids = sorted(graph.nx.nodes)
        return graph, [n for n in nids if not succ[n]], nids
    if not isinstance(ys_or_graph, Tensor) and not _is_sequence(ys_or_graph):
        raise TypeError(f"{what} takes a Graph, a Tensor or a list of tensors, "
                        f"got {type(ys_or_graph).__name__}")
    ys = as_tensor_list(ys_or_graph, None, what)
    if not ys:
        raise ValueError(f"{what}: no tensors given")
    roots = list(dict.fromkeys(t.id for t in ys))
    graph = ys[0].graph
    return graph, roots, graph.topo_order(roots)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def shape_text(a: dict, *, dtype: bool = True) -> str:
    """A node's shape with ? for unknown dimensions, then its dtype (with `dtype=False`, only
    one other than float64); a multi-output node's, one per output."""
    if "outputs" in a:
        return ", ".join(_shape_dtype(s, d, dtype) for s, d in a["outputs"])
    return _shape_dtype(a["shape"], a["dtype"], dtype)


def _shape_dtype(shape: tuple, dtype: np.dtype, always: bool) -> str:
    return show(shape) if dtype == np.float64 and not always else f"{show(shape)} {dtype}"


def params_text(params: tuple) -> str:
    """A node's params as `axis=1, keepdims=False` (strings bare, tuples as Python writes them)."""
    return ", ".join(f"{k}={_param(v)}" for k, v in params)


def _param(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, tuple):
        inner = ", ".join(_param(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    return repr(v)


def head(a: dict) -> str:
    """A node's op with its params, `sum{axis=1, keepdims=False}`, or a leaf's kind."""
    params = params_text(a["params"]) if a["params"] else ""
    return f"{a['op']}{{{params}}}" if params else a["op"]


def is_small(a: dict) -> bool:
    """Whether a constant is shown by its value."""
    return a["op"] == CONSTANT and a["value"].size <= SMALL


def value_text(value: Any) -> str:
    """An array in full when small, else `min .. mean .. max` (its shape is shown beside)."""
    arr = np.asarray(value)
    if arr.size <= SMALL:
        if arr.ndim == 0:
            return _number(arr.item())
        return np.array2string(arr, separator=", ", formatter={"all": _number})
    if arr.dtype.kind not in "biuf":
        return f"{arr.size} values"
    num = arr.astype(np.float64) if arr.dtype.kind == "b" else arr
    return (f"min {_number(num.min(), 3)} mean {_number(num.mean(), 3)} "
            f"max {_number(num.max(), 3)}")


def _number(x: Any, digits: int = 4) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{digits}g}"
    return str(x)


def result_marks(graph: Graph) -> dict[int, list[str]]:
    """For each node that `gradients` returned: what it is the derivative of, `∂J/∂W1`."""
    nodes = graph.nx.nodes
    marks: dict[int, list[str]] = {}
    for rid, y_ids, x_id, _ in graph.grad_results:
        if rid not in nodes or x_id not in nodes or any(y not in nodes for y in y_ids):
            continue  # pruned since
        ys = " + ".join(graph.label(y) for y in y_ids)
        ys = f"({ys})" if len(y_ids) > 1 else ys
        mark = f"∂{ys}/∂{graph.label(x_id)}"
        if mark not in marks.setdefault(rid, []):
            marks[rid].append(mark)
    return marks


def counts(graph: Graph, nids: Iterable[int]) -> tuple[dict[str, int], dict[str, int]]:
    """How many of these nodes each op has (most first) and each origin (user first, then
    each derivative pass, then the simplifier's)."""
    by_op: dict[str, int] = {}
    by_origin: dict[tuple, int] = {}
    for n in nids:
        a = graph.nx.nodes[n]
        by_op[a["op"]] = by_op.get(a["op"], 0) + 1
        key = (ORIGINS.index(a["origin"]), a.get("grad_pass") or 0, a["origin"])
        by_origin[key] = by_origin.get(key, 0) + 1
    ops = dict(sorted(by_op.items(), key=lambda kv: (-kv[1], kv[0])))
    origins = {f"{o} pass {k}" if k else o: v for (_, k, o), v in sorted(by_origin.items())}
    return ops, origins
