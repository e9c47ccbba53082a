"""Indexing: basic (`x[1:, None]`) and advanced (`x[idx]`, `x[mask]`) indexing as NumPy does it,
`take` along an axis, and their adjoints.

An index is held in two parts: its basic items as a param (ints, slices, None, "...") and each
integer or boolean array as an input of the node, so that params stay plain data. The adjoints
(`scatter`, `scatter_add`) put a gradient back where the elements were taken from, adding up
repeated indices.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import ShapeError
from ..shapes import Shape, broadcast, dims_match, normalize_axis, show
from ..tensor import Tensor
from .base import OpDef, apply, register


# -- an index as (params, arrays) ----------------------------------------------------------------
def encode_index(index) -> tuple[tuple, list]:
    """A NumPy index as a hashable tuple and a list of index arrays. Items: int, None, "...",
    ("slice", start, stop, step), and ("array", k) for the k-th array (a tensor, an ndarray or
    a list of integers or booleans)."""
    items = index if isinstance(index, tuple) else (index,)
    out: list = []
    arrays: list = []
    for item in items:
        if isinstance(item, (Tensor, list, np.ndarray)):
            item = _index_array(item)
            if isinstance(item, int):
                out.append(item)
                continue
            out.append(("array", len(arrays)))
            arrays.append(item)
        elif item is None or item is Ellipsis:
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
                f"tensor indexing takes ints, slices of ints, None, ..., and integer or boolean "
                f"arrays or tensors; got {item!r}"
            )
    return tuple(out), arrays


def _index_array(item):
    """An index array as a tensor or an ndarray (a 0-d integer array as an int)."""
    if isinstance(item, Tensor):
        return item
    if isinstance(item, list) and any(isinstance(v, Tensor) for v in item):
        raise TypeError("an index list holds tensors: stack them into one tensor first")
    arr = np.asarray(item)
    if isinstance(item, list) and arr.size == 0:
        arr = arr.astype(np.intp)  # NumPy reads [] as an empty integer index
    if arr.dtype.kind not in "biu":
        raise TypeError(f"index arrays must hold integers or booleans, got dtype {arr.dtype}")
    if arr.ndim == 0:
        if arr.dtype.kind == "b":
            raise TypeError("a 0-d boolean index is not supported; use sg.where")
        return int(arr)
    return arr


@lru_cache(maxsize=1024)
def decode_index(index: tuple) -> tuple:
    """The NumPy index an encoded one stands for; ("array", k) items stay for with_arrays."""
    return tuple(Ellipsis if i == "..." else slice(*i[1:]) if type(i) is tuple and
                 i[0] == "slice" else i for i in index)


def with_arrays(index: tuple, arrays) -> tuple:
    """The NumPy index, the index arrays put in."""
    decoded = decode_index(index)
    if not arrays:
        return decoded
    return tuple(arrays[i[1]] if type(i) is tuple else i for i in decoded)


def may_repeat(arrays) -> bool:
    """Whether the index can name an element twice: only integer arrays can."""
    return any(a.dtype.kind != "b" for a in arrays)


def _width(item, arrays) -> int:
    """How many of x's axes an index item consumes: a mask as many as it has."""
    if item is None or item == "...":
        return 0
    if type(item) is tuple and item[0] == "array" and arrays[item[1]].dtype == bool:
        return arrays[item[1]].ndim
    return 1


def index_shape(op: str, x: Tensor, arrays, index: tuple) -> Shape:
    """The static shape of x[index] by NumPy's rules; a boolean mask gives a None dimension."""
    shape = x.shape
    for a in arrays:
        if a.dtype.kind not in "biu":
            raise ShapeError(f"{op}: index {a.label} must hold integers or booleans, got "
                             f"dtype {a.dtype}")
    widths = [_width(i, arrays) for i in index]
    if sum(widths) > len(shape) or index.count("...") > 1:
        raise ShapeError(f"{op}: too many indices {index} for shape {show(shape)}")
    out: list = []
    picked: list[Shape] = []  # the shapes of the advanced items (ints too, beside arrays)
    where: list[int] = []  # their places among the items
    at = None  # where their dimensions go if they stand together
    pos = 0
    for n, (item, width) in enumerate(zip(index, widths)):
        if item is None:
            out.append(1)
        elif item == "...":
            k = len(shape) - sum(widths)
            out.extend(shape[pos:pos + k])
            pos += k
        elif type(item) is tuple and item[0] == "slice":
            d = shape[pos]
            out.append(None if d is None else len(range(*slice(*item[1:]).indices(d))))
            pos += 1
        else:
            if type(item) is tuple:
                a = arrays[item[1]]
                if a.dtype == bool and not all(map(dims_match, a.shape, shape[pos:pos + width])):
                    raise ShapeError(f"{op}: mask {a.label} of shape {show(a.shape)} does not "
                                     f"fit dimensions {show(shape[pos:pos + width])} of "
                                     f"{show(shape)}")
                picked.append((None,) if a.dtype == bool else a.shape)
            else:
                d = shape[pos]
                if d is not None and not -d <= item < d:
                    raise ShapeError(f"{op}: index {item} is out of range for shape "
                                     f"{show(shape)}")
                if not arrays:  # basic indexing: the axis just goes
                    pos += 1
                    continue
                picked.append(())
            where.append(n)
            at = len(out) if at is None else at
            pos += width
    out.extend(shape[pos:])
    if not picked:
        return tuple(out)
    try:
        joint = broadcast(op, *picked)
    except ShapeError:
        raise ShapeError(f"{op}: index arrays of shapes {', '.join(map(show, picked))} do not "
                         "broadcast") from None
    if where == list(range(where[0], where[-1] + 1)):  # side by side: in place, else in front
        return tuple(out[:at]) + joint + tuple(out[at:])
    return joint + tuple(out)


# -- x[index] and its adjoint --------------------------------------------------------------------
def getitem(x, index) -> Tensor:
    """x[index] with NumPy's rules, basic and advanced (integer arrays, boolean masks)."""
    encoded, arrays = encode_index(index)
    return apply("getitem", [x, *arrays], index=encoded)


def _getitem(x, *arrays, index):
    if not arrays:
        return x[decode_index(index)]
    try:
        return x[with_arrays(index, arrays)]
    except IndexError as e:  # an index value out of range: ValueError names the node
        raise ValueError(str(e)) from None


register(OpDef(
    "getitem",
    infer=lambda inputs, index: (index_shape("getitem", inputs[0], inputs[1:], index),
                                 inputs[0].dtype),
    compute=_getitem,
    bprop=lambda out, g: (apply("scatter", [g, *out.inputs], index=out.params["index"]),
                          *[None] * (len(out.inputs) - 1)),
    views=True,
))


def _scatter(g, like, *arrays, index):
    z = np.zeros(like.shape, dtype=g.dtype)
    if may_repeat(arrays):
        np.add.at(z, with_arrays(index, arrays), g)  # repeated indices accumulate
    else:
        z[with_arrays(index, arrays)] = g
    return z


register(OpDef(  # adjoint of getitem: g added at `index` into zeros shaped like the input
    "scatter",
    infer=lambda inputs, index: (inputs[1].shape, inputs[0].dtype),
    compute=_scatter,
    bprop=lambda out, g: (apply("getitem", [g, *out.inputs[2:]], index=out.params["index"]),
                          *[None] * (len(out.inputs) - 1)),
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
