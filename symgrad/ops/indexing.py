"""Indexing: basic indexing (`x[1:, None]`), `take` along an axis, and their adjoints.

The adjoints (`scatter`, `scatter_add`) put a gradient back where the elements were taken from;
`scatter_add` adds repeated indices up.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import ShapeError
from ..shapes import normalize_axis, show
from ..tensor import Tensor
from .base import OpDef, apply, register


# -- basic indexing ------------------------------------------------------------------------------
def getitem(x, index):
    return apply("getitem", [x], index=_encode_index(index))


def _encode_index(index) -> tuple:
    """A basic index as a hashable tuple: int, None, "..." or ("slice", start, stop, step)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if item is None or item is Ellipsis:
            out.append("..." if item is Ellipsis else None)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            out.append(int(item))
        elif isinstance(item, slice) and all(
            v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool))
            for v in (item.start, item.stop, item.step)
        ):
            if item.step == 0:
                raise ShapeError("getitem: slice step cannot be zero")
            out.append(("slice", *(None if v is None else int(v)
                                   for v in (item.start, item.stop, item.step))))
        else:
            raise TypeError(
                f"tensor indexing takes ints, slices of ints, None and ...; got {item!r} "
                "(use sg.take to index with an array or a tensor)"
            )
    return tuple(out)


@lru_cache(maxsize=1024)
def decode_index(index: tuple) -> tuple:
    """The NumPy index an encoded one stands for."""
    return tuple(Ellipsis if i == "..." else slice(*i[1:]) if isinstance(i, tuple) else i
                 for i in index)


def _getitem(x, *, index):
    return x[decode_index(index)]


def _getitem_infer(inputs, index):
    shape = inputs[0].shape
    consumed = sum(1 for i in index if i is not None and i != "...")
    if consumed > len(shape) or index.count("...") > 1:
        raise ShapeError(f"getitem: too many indices {index} for shape {show(shape)}")
    dims = iter(shape)
    out: list[int | None] = []
    for item in index:
        if item is None:
            out.append(1)
        elif item == "...":
            out.extend(next(dims) for _ in range(len(shape) - consumed))
        elif isinstance(item, tuple):
            d = next(dims)
            out.append(None if d is None else len(range(*slice(*item[1:]).indices(d))))
        else:
            d = next(dims)
            if d is not None and not -d <= item < d:
                raise ShapeError(f"getitem: index {item} is out of range for shape {show(shape)}")
    out.extend(dims)
    return tuple(out), inputs[0].dtype


register(OpDef(
    "getitem", infer=_getitem_infer, compute=_getitem,
    bprop=lambda out, g: (apply("scatter", [g, out.inputs[0]], index=out.params["index"]),),
))


def _scatter(g, like, *, index):
    z = np.zeros(like.shape, dtype=g.dtype)
    z[decode_index(index)] = g
    return z


register(OpDef(  # adjoint of getitem: g placed at `index` in zeros shaped like the input
    "scatter",
    infer=lambda inputs, index: (inputs[1].shape, inputs[0].dtype),
    compute=_scatter,
    bprop=lambda out, g: (apply("getitem", [g], index=out.params["index"]), None),
))


# -- take: gather along an axis with an integer index array --------------------------------------
def take(x, indices, axis=None):
    if not isinstance(indices, Tensor):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"take: indices must be integers, got dtype {indices.dtype}")
    return apply("take", [x, indices], axis=axis)


def _take_normalize(inputs, axis=None):
    return {"axis": None if axis is None else normalize_axis("take", axis, inputs[0].ndim)}


def _take_infer(inputs, axis):
    x, idx = inputs
    if idx.dtype.kind not in "iu":
        raise ShapeError(f"take: indices {idx.label} must be integers, got dtype {idx.dtype}")
    if axis is None:
        return idx.shape, x.dtype
    return x.shape[:axis] + idx.shape + x.shape[axis + 1:], x.dtype


def _scatter_add(g, like, indices, *, axis):
    z = np.zeros(like.shape, dtype=g.dtype)
    if axis is None:
        np.add.at(z.reshape(-1), indices, g)  # repeated indices accumulate
    else:
        np.add.at(z, (slice(None),) * axis + (indices,), g)
    return z


register(OpDef(
    "take", infer=_take_infer, compute=np.take, normalize=_take_normalize,
    bprop=lambda out, g: (
        apply("scatter_add", [g, out.inputs[0], out.inputs[1]], axis=out.params["axis"]), None),
))
register(OpDef(  # adjoint of take: g added at `indices` into zeros shaped like the input
    "scatter_add",
    infer=lambda inputs, axis: (inputs[1].shape, inputs[0].dtype),
    compute=_scatter_add,
    bprop=lambda out, g: (take(g, out.inputs[2], out.params["axis"]), None, None),
))
