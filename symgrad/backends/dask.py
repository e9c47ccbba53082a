"""The Dask backend: plans run on dask arrays, built lazily; `.compute()` on a result runs it
on whatever scheduler is active (threads, processes, a dask.distributed Client).

Most ops' NumPy computes take dask arrays as they are (NumPy's ufunc and __array_function__
protocols hand them to dask); LAZY holds a lazy form for the few that branch on values, write
in place or call what dask lacks. Building the results computes nothing. Plans, the simplifier
and the ops are shared with NumPy; buffer reuse (`out=`) and check_finite stay NumPy's.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.utils import parse_bytes

from ..errors import FeedError, SymgradError
from ..graph import Graph
from ..ops.base import OPS
from ..plan import Plan, Step, raise_run_error, step_names, what_fed
from ..shapes import show
from ..tensor import Tensor
from . import Backend
from .numpy import check_value

NOT_CHECKED = ("check_finite=True runs on the NumPy backend only: a lazy check could not tell "
               "which node made a NaN first. Check a chunk of the data with backend='numpy', "
               "or the computed results with numpy.isfinite")


# -- feeding -------------------------------------------------------------------------------------
def as_dask(t: Tensor, value: Any) -> da.Array:
    """A fed value as a dask array of t's dtype, checked against t without computing anything:
    FeedError naming t. A NumPy array (a memory map too) is chunked along its first axis."""
    if isinstance(value, da.Array) or type(value) is np.ndarray or isinstance(value, np.memmap):
        arr = value  # a memory map stays one: dask reads each chunk when it computes it
    else:
        arr = check_value(t, value)  # lists, numbers, subclasses; masked arrays are refused
    dtype, shape = t.dtype, t.shape
    if arr.dtype != dtype and not np.can_cast(arr.dtype, dtype, casting="same_kind"):
        raise FeedError(f"{what_fed(t)} is declared {dtype}, got a value of dtype {arr.dtype}")
    if arr.ndim == len(shape) and any(math.isnan(n) for d, n in zip(shape, arr.shape)
                                      if d is not None):
        raise FeedError(f"{what_fed(t)} is declared of shape {show(shape)}, got a dask array "
                        f"whose chunks have unknown sizes (shape {arr.shape}): call its "
                        ".compute_chunk_sizes() first")
    if arr.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, arr.shape)):
        raise FeedError(f"{what_fed(t)} is declared of shape {show(shape)}, "
                        f"got a value of shape {show(arr.shape)}")
    if not isinstance(arr, da.Array):
        arr = da.from_array(arr, chunks=_chunks(arr))
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _chunks(arr: np.ndarray) -> Any:
    """Whole along every axis but the first, which dask cuts to its configured chunk size
    (array.chunk-size): a batch of rows per chunk, what a loss summed over the batch wants;
    "auto" along every axis if even one row is larger than that."""
    if arr.ndim == 0:
        return ()
    row = arr.itemsize * math.prod(arr.shape[1:])
    if row > parse_bytes(dask.config.get("array.chunk-size")):
        return "auto"
    return {0: "auto", **dict.fromkeys(range(1, arr.ndim), -1)}


# -- running ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """What a lazy form knows of its node: the op's NumPy compute (params bound), the same
    for running inside a task (a failure there names the node), and the node's attributes."""

    compute: Callable[..., Any]
    task: Callable[..., Any]
    attrs: dict

    @property
    def multi(self) -> bool:
        return self.attrs["shape"] is None

    def signature(self, arrays: Sequence[Any]) -> tuple[tuple[tuple, np.dtype], ...]:
        """(shape, dtype) of each output for these inputs: the node's own where static, else
        the op's shape rule on the inputs' shapes; NaN for a length only values decide."""
        a = self.attrs
        sig = a["outputs"] if self.multi else ((a["shape"], a["dtype"]),)
        if any(None in shape for shape, _ in sig):
            g = Graph()
            xs = [g.placeholder(f"x{i}", tuple(None if math.isnan(d) else d for d in np.shape(x)),
                                x.dtype) for i, x in enumerate(arrays)]
            got = OPS[a["op"]].infer(xs, **dict(a["params"]))
            sig = got if self.multi else (got,)
        return tuple((tuple(np.nan if d is None else d for d in shape), np.dtype(dtype))
                     for shape, dtype in sig)


class _Named:
    """A compute run inside a dask task: what it raises names the node, as Plan.run does."""

    def __init__(self, fn: Callable[..., Any], where: str, labels: Sequence[str]) -> None:
        self.fn, self.where, self.labels = fn, where, list(labels)

    def __call__(self, *args: Any) -> Any:
        try:
            return self.fn(*args)
        except Exception as e:
            raise_run_error(self.where, self.labels, args, e)


def _lazy_step(graph: Graph, step: Step) -> Step:
    lazy = LAZY.get(step.attrs["op"])
    if lazy is None:
        return replace(step)  # a copy: each plan marks its own frees
    node = Node(step.fn, _Named(step.fn, *step_names(graph, step)), step.attrs)
    return replace(step, fn=functools.partial(lazy, node, **dict(step.attrs["params"])))


class DaskBackend(Backend):
    name = "dask"

    def feed(self, t: Tensor, value: Any) -> da.Array:
        return as_dask(t, value)

    def runner(self, plan: Plan, check_finite: bool) -> tuple[Callable[[list], list], str]:
        if check_finite:
            raise SymgradError(NOT_CHECKED)
        steps = [_lazy_step(plan.graph, s) for s in plan.steps]
        lazy = Plan(plan.graph, plan.inputs, steps, plan.consts, plan.outputs, plan.n_slots)
        return lazy.run, "dask"

    def run(self, plan: Plan, arrays: list, check_finite: bool) -> list:
        return self.runner(plan, check_finite)[0](arrays)

    def results(self, values: Sequence[Any], fed: Sequence[Any]) -> list[da.Array]:
        """Dask arrays, none of them an input or another result (computed together, they
        would give one ndarray twice); a constant becomes a dask array of a copy."""
        out = []
        seen = {a.name for a in fed}
        for v in values:
            arr = v if isinstance(v, da.Array) else da.from_array(np.array(v))
            if arr.name in seen:
                arr = arr.map_blocks(np.copy, dtype=arr.dtype)
            seen.add(arr.name)
            out.append(arr)
        return out


BACKEND = DaskBackend()


# -- lazy forms: LAZY[op](node, *arrays, **params) for the ops whose compute dask cannot run ------
def _stand_in(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An array of that shape and dtype holding no memory (every element the same zero)."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def _run_whole(fn: Callable, like: dict, n: int, *given: Any) -> Any:
    rest = iter(given)
    return fn(*[_stand_in(*like[i]) if i in like else next(rest) for i in range(n)])


def _whole(*like: int) -> Callable[..., Any]:
    """The NumPy compute as one task on the whole inputs: for what only works on whole arrays
    (in-place writes, code that reads values, what dask lacks); it runs on one worker. The
    inputs at positions `like` give their shape and dtype only, and are not computed for it."""
    def lazy(node: Node, *arrays: Any, **params: Any) -> Any:
        sig = node.signature(arrays)
        shapes = {i: (arrays[i].shape, arrays[i].dtype) for i in like}
        given = [x for i, x in enumerate(arrays) if i not in like]
        task = dask.delayed(_run_whole, pure=False)(node.task, shapes, len(arrays), *given)
        if not node.multi:
            return da.from_delayed(task, *sig[0])
        return tuple(da.from_delayed(task[k], shape, dtype) for k, (shape, dtype) in
                     enumerate(sig))
    return lazy


def _native_if(native: Callable[..., bool]) -> Callable[..., Any]:
    """The NumPy compute on dask arrays where `native(**params)` says dask can run it, else
    one task."""
    def lazy(node: Node, *arrays: Any, **params: Any) -> Any:
        if native(**params):
            return node.compute(*map(da.asarray, arrays))
        return _WHOLE(node, *arrays, **params)
    return lazy


def _reshaped(x: da.Array, shape: tuple) -> da.Array:
    try:
        return x.reshape(shape)
    except NotImplementedError:  # dask merges or splits neighbouring axes only: through 1-D
        return x.reshape(-1).reshape(shape)


def _log(s: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):  # a row of -inf only: log 0 = -inf is the answer
        return np.log(s)


def _logsumexp(node: Node, x: Any, axis: Any = None, keepdims: bool = False) -> da.Array:
    # the NumPy compute's arithmetic without its branches: shift by the maximum where finite
    x = _floats(x)
    m = x.max(axis=axis, keepdims=True)
    m = da.where(da.isfinite(m), m, 0)
    s = da.exp(x - m).sum(axis=axis, keepdims=True)
    out = s.map_blocks(_log, dtype=s.dtype) + m
    return out if keepdims else out.squeeze(axis=axis)


def _floats(x: Any) -> da.Array:
    x = da.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float64)  # x - max(x): no wrap-around


def _log_softmax(node: Node, x: Any, axis: Any) -> da.Array:
    x = _floats(x)
    return x - _logsumexp(node, x, axis, True)


_LETTERS = string.ascii_lowercase


def _softmax_cross_entropy(node: Node, z: Any, labels: Any) -> da.Array:
    """The NumPy compute (its label check included) on each block of rows, classes whole."""
    z, labels = da.asarray(z), da.asarray(labels)
    rows = _LETTERS[:z.ndim - 1]
    per_class = rows if labels.dtype.kind in "iu" else rows + "Z"
    dtype = node.attrs["dtype"]
    return da.blockwise(node.task, rows, z, rows + "Z", labels, per_class, concatenate=True,
                        dtype=dtype, meta=np.empty((0,) * len(rows), dtype))


def _one_hot_block(labels: np.ndarray, fn: Callable, classes: int, out_dtype: np.dtype
                   ) -> np.ndarray:
    return fn(labels, _stand_in(labels.shape + (classes,), out_dtype))


def _one_hot(node: Node, labels: Any, like: Any) -> da.Array:
    """The NumPy compute on each block of labels; `like` gives the width and dtype only."""
    labels = da.asarray(labels)
    rows, dtype = _LETTERS[:labels.ndim], node.attrs["dtype"]
    return da.blockwise(_one_hot_block, rows + "Z", labels, rows, new_axes={"Z": like.shape[-1]},
                        dtype=dtype, meta=np.empty((0,) * (labels.ndim + 1), dtype),
                        fn=node.task, classes=like.shape[-1], out_dtype=dtype)


def _max_and_argmax(node: Node, x: Any, axis: Any) -> tuple[da.Array, da.Array]:
    x = da.asarray(x)  # two reductions: dask has no take_along_axis
    return x.max(axis=axis), OPS["argmax"].compute(x, axis=axis)


def _reshape(node: Node, x: Any, like: Any = None, *, shape: tuple | None = None) -> da.Array:
    return _reshaped(da.asarray(x), like.shape if like is not None else shape)


def _split(node: Node, x: Any, *, indices_or_sections: Any, axis: int) -> tuple:
    x = da.asarray(x)
    if isinstance(indices_or_sections, int):
        n, k = x.shape[axis], indices_or_sections
        if n % k:  # as np.split says it (a length known only now)
            raise ValueError("array split does not result in an equal division")
        bounds = [n // k * i for i in range(1, k)]
    else:
        bounds = list(indices_or_sections)
    edges = [0, *bounds, None]
    before = (slice(None),) * axis
    return tuple(x[before + (slice(a, b),)] for a, b in zip(edges, edges[1:]))


def _take(node: Node, x: Any, indices: Any, *, axis: int | None) -> da.Array:
    x, indices = da.asarray(x), da.asarray(indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    picked = da.take(x, indices.reshape(-1), axis=axis)  # dask takes 1-D indices only
    return _reshaped(picked, x.shape[:axis] + indices.shape + x.shape[axis + 1:])


def _getitem(node: Node, x: Any, *arrays: Any, index: tuple) -> Any:
    """dask's own indexing where it means what NumPy's does: basic indexing, or one 1-D
    integer array or mask and no int beside it (NumPy counts such ints as advanced indices,
    dask does not); else one task."""
    if not arrays or (len(arrays) == 1 and arrays[0].ndim == 1
                      and not any(type(i) is int for i in index)):
        return node.compute(da.asarray(x), *arrays)
    return _WHOLE(node, x, *arrays, index=index)


_WHOLE = _whole()

LAZY: dict[str, Callable[..., Any]] = {
    # branches on values, checks of values
    "logsumexp": _logsumexp,
    "log_softmax": _log_softmax,
    "softmax_cross_entropy": _softmax_cross_entropy,
    "one_hot": _one_hot,
    # what dask lacks (take_along_axis, split, n-D take, reduceat) or does otherwise
    "max_and_argmax": _max_and_argmax,
    "reshape": _reshape,
    "split": _split,
    "take": _take,
    "getitem": _getitem,
    "repeat": _native_if(lambda repeats, axis: isinstance(repeats, int) and axis is not None),
    "sum_repeats": _native_if(lambda repeats, axis: isinstance(repeats, int)),
    # in-place writes into a new array (the adjoints of indexing; the `like` input: a shape)
    "scatter": _whole(1),
    "scatter_add": _whole(1),
    "embed_diagonal": _whole(1),
    "einsum_embed": _whole(1),
    "set_at_winners": _whole(0),
    "set_at": _WHOLE,
    "add_at": _WHOLE,
    # batched numpy.linalg and scipy.linalg: dask.array.linalg is 2-D (its cholesky is upper)
    **dict.fromkeys(("inv", "det", "slogdet", "solve", "solve_triangular", "cholesky"), _WHOLE),
}
