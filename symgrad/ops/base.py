"""OpDef records, the OPS registry, and apply(): lift inputs, infer, add the node.

An operation is one record holding its shape/dtype rule, its NumPy compute and its derivative rule.
Everything else (evaluator, derivative pass, exporters) reads these records and names no op.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import FeedError, GraphError, ShapeError
from ..graph import Graph
from ..shapes import scalar_dtype
from ..tensor import Tensor

Signature = tuple  # (shape, dtype), or one such pair per output for a multi-output op


@dataclass(frozen=True)
class OpDef:
    """One operation.

    Attributes:
        name: the op's name: node attribute "op", OPS key, builder name.
        infer: `infer(inputs, **params) -> (shape, dtype)` from the input tensors; checks and raises
            ShapeError naming the op and the shapes. A multi-output op returns one pair per output.
        compute: `compute(*arrays, **params) -> ndarray` in plain NumPy (a tuple when multi-output).
        bprop: `bprop(out, g) -> sequence` of one gradient per input (None where nothing flows),
            given the node's tensor and the gradient on its output (a tuple when multi-output).
            None: the op has no derivative.
        bprop_wanted: the rule takes a third argument, `wanted`: one bool per input, False
            where the derivative pass needs no term (say, a constant). Declared, never guessed
            from the rule's signature (a parameter with a default is the rule's own business).
        normalize: optional `normalize(inputs, **params) -> dict` giving canonical params
            (for example axis=-1 -> axis=1), so that equal computations have equal keys.
        n_outputs: outputs of one node; each is held through an "output" node. None: as many
            as the params ask for (`split`): one per (shape, dtype) pair that `infer` returns.
        commutative: inputs may be swapped (used when merging equal computations).
        elementwise: the rule only broadcasts `g` against other values, so the derivative pass
            may hand it a gradient not yet broadcast to the output's shape.
        scalar: the op on Python floats, for plans whose values are all 0-d (scalar.py): an
            expression of its inputs {0}, {1}, ... over the `math` module's names, equal to
            `compute` on float64 wherever the result is finite (where it is not, the call
            runs on NumPy instead). None: no such form.
        views: `compute` may return an input, or a view of one, rather than a new array (the
            compiled plan's memory estimates count no array for it; its buffer reuse assumes
            this of every op that is not a ufunc, declared or not).
    """

    name: str
    infer: Callable[..., Signature]
    compute: Callable[..., Any]
    bprop: Callable[..., Sequence[Any]] | None = None
    normalize: Callable[..., dict] | None = None
    n_outputs: int | None = 1
    commutative: bool = False
    elementwise: bool = False
    bprop_wanted: bool = False
    scalar: str | None = None
    views: bool = False


OPS: dict[str, OpDef] = {}


class BadInput(FeedError):
    """Raised by a compute on an input value it cannot take (a class index out of range);
    the evaluator re-raises it as a FeedError naming the node and input `position`."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position, self.message = position, message


def params_key(value: Any) -> Any:
    """Params as a merge key that tells apart what == confuses: 1, 1.0 and True; 0.0 and -0.0
    (a float by its repr, which also makes NaN equal to itself)."""
    if isinstance(value, tuple):
        return tuple([params_key(v) for v in value])
    if isinstance(value, float):
        return (float, repr(value))
    return (type(value), value)


def register(opdef: OpDef, *, replace: bool = False) -> OpDef:
    """Adds an operation to OPS; `apply(opdef.name, inputs, **params)` then builds its nodes."""
    if not isinstance(opdef, OpDef):
        raise TypeError(f"register expects an OpDef, got {type(opdef).__name__}")
    if opdef.name in OPS and not replace:
        raise GraphError(f"an op named {opdef.name!r} is registered already (replace=True)")
    OPS[opdef.name] = opdef
    return opdef


def apply(name: str, inputs: Sequence[Any], **params: Any) -> Any:
    """Builds one node of op `name`: returns its Tensor, or a tuple of tensors if multi-output.

    Python numbers and arrays among `inputs` become constants; a Python number takes the dtype
    of the tensors beside it (float32 stays float32).
    """
    opdef = OPS.get(name)
    if opdef is None:
        raise GraphError(f"unknown op {name!r}; register it first with symgrad.register")
    tensors, mark = lift_marked(name, inputs)
    try:
        if opdef.normalize is not None:
            params = opdef.normalize(tensors, **params)
        sig = opdef.infer(tensors, **params)
        key = tuple(sorted(params.items())) if params else ()
        if key:
            try:
                hash(key)
            except TypeError:
                raise TypeError(f"{name}: params must be hashable, got {params!r}") from None
    except BaseException:
        if mark is not None:
            tensors[0].graph.rollback(mark)  # constants lift made for this node go again
        raise
    graph = tensors[0].graph
    if (graph.current_origin == "gradient" and opdef.n_outputs == 1 and sig[0] == ()
            and _scalar_constants(tensors)):
        folded = _fold_now(graph, opdef, tensors, params, sig)
        if folded is not None:
            return folded
    ids = tuple([t.id for t in tensors])
    if opdef.n_outputs == 1:
        return Tensor(graph, graph.add_node(name, ids, sig[0], sig[1], key))
    multi = Tensor(graph, graph.add_node(name, ids, None, None, key, outputs=tuple(sig)))
    return tuple(output(multi, i) for i in range(len(sig)))


def _scalar_constants(tensors: list[Tensor]) -> bool:
    for t in tensors:
        a = t._a
        if a["op"] != "constant" or a["shape"] != ():
            return False
    return True


def _fold_now(graph: Graph, opdef: OpDef, tensors: list[Tensor], params: dict, sig: Signature
              ) -> Tensor | None:
    """A derivative pass's op on 0-d constants (the seed 1 times a factor, say), computed as it
    is built: the derivative graph does not carry arithmetic on numbers. Only finite results
    of the declared dtype; anything else is built as a node, to be seen and checked."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = np.asarray(opdef.compute(*[t._a["value"] for t in tensors], **params))
    except Exception:
        return None
    if value.shape != sig[0] or value.dtype != sig[1] or not np.isfinite(value).all():
        return None
    return graph.scalar(value.item(), value.dtype)


def output(multi: Tensor, index: int) -> Tensor:
    """Output `index` of a multi-output node: an "output" node with attribute "index" (API.md)."""
    shape, dtype = multi._a["outputs"][index]
    graph = multi.graph
    return Tensor(graph, graph.add_node("output", (multi.id,), shape, dtype, (("index", index),),
                                        index=index))


def lift(name: str, inputs: Sequence[Any]) -> list[Tensor]:
    """The inputs as tensors of one graph; numbers and arrays become constant nodes."""
    return lift_marked(name, inputs)[0]


def lift_marked(name: str, inputs: Sequence[Any]) -> tuple[list[Tensor], int | None]:
    """lift, and the graph's next id before any constant it made (None: it made none)."""
    graph: Graph | None = None
    first: Tensor | None = None
    only_tensors = True
    for x in inputs:
        if isinstance(x, Tensor):
            if first is None:
                first, graph = x, x.graph
                nodes = graph._node
            elif x.graph is not graph:
                raise GraphError(f"{name}: tensors {first.label} and {x.label} belong to "
                                 "different graphs")
            if x.id not in nodes:
                raise GraphError(f"{name}: tensor #{x.id} was pruned from its graph "
                                 "(Graph.prune removed its node)")
        else:
            only_tensors = False
    if graph is None:
        raise TypeError(f"{name}: needs at least one symgrad Tensor among its inputs")
    if only_tensors:
        return list(inputs), None
    mark = graph.next_id
    dtypes = tuple(x.dtype for x in inputs if isinstance(x, Tensor))
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif type(x) in (bool, int, float, complex):
            out.append(graph.scalar(x, _weak_dtype(type(x), dtypes)))
        else:
            out.append(graph.constant(x))
    return out, mark


@lru_cache(maxsize=1024)
def _weak_dtype(kind: type, dtypes: tuple[np.dtype, ...]) -> np.dtype:
    """The dtype a Python number of this type takes beside arrays of `dtypes`."""
    return scalar_dtype(kind(0), dtypes)


_DTYPES: dict[tuple, np.dtype] = {}


def dtype_of(name: str, compute: Callable, inputs: Sequence[Tensor], **params: Any) -> np.dtype:
    """The dtype NumPy gives `compute` on arrays like `inputs`: one tiny run per combination of
    dtypes, ranks and params, remembered; ShapeError naming the op when NumPy refuses them."""
    key = (compute, *[(t._a["dtype"], len(t._a["shape"])) for t in inputs], *params.items())
    dtype = _DTYPES.get(key)
    if dtype is None:
        args = [np.ones((1,) * t.ndim, dtype=t.dtype) for t in inputs]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dtype = _DTYPES[key] = np.asarray(compute(*args, **params)).dtype
        except TypeError as e:
            names = ", ".join(str(t.dtype) for t in inputs)
            raise ShapeError(f"{name}: NumPy refuses dtypes ({names}): {e}") from None
    return dtype
