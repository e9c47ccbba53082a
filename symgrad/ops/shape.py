"""Operations that move or broadcast elements: transpose, reshape, broadcast_to, adding, removing
and moving axes, joining.

Also the internal ops derivative rules need when a shape is only known at run time (`sum_to`,
`broadcast_to` and `reshape` given a tensor whose shape to take) and the adjoints of indexing.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..shapes import (
    as_shape,
    dims_match,
    normalize_axes,
    normalize_axis,
    promote,
    show,
    size,
)
from ..tensor import Tensor
from .base import OpDef, apply, register
from .control import zeros_like
from .indexing import getitem


def _like_shape(like, shape):
    return like.shape if like is not None else shape


def is_static(shape) -> bool:
    return None not in shape


# -- transpose -----------------------------------------------------------------------------------
def transpose(x, axes=None):
    return apply("transpose", [x], axes=axes)


def _transpose_normalize(inputs, axes=None):
    ndim = inputs[0].ndim
    if axes is None:
        return {"axes": tuple(range(ndim))[::-1]}
    axes = tuple(normalize_axis("transpose", a, ndim) for a in axes)
    if sorted(axes) != list(range(ndim)):
        shape = show(inputs[0].shape)
        raise ShapeError(f"transpose: axes {axes} are not a permutation for {shape}")
    return {"axes": axes}


register(OpDef(
    "transpose",
    infer=lambda inputs, axes: (tuple(inputs[0].shape[a] for a in axes), inputs[0].dtype),
    compute=np.transpose,
    bprop=lambda out, g: (transpose(g, tuple(np.argsort(out.params["axes"]).tolist())),),
    normalize=_transpose_normalize,
    views=True,
))


# -- reshape and broadcast_to, also "like a tensor" for shapes known only at run time ------------
def reshape(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply("reshape", [x], shape=tuple(int(d) if isinstance(d, np.integer) else d
                                             for d in shape))  # NumPy ints as NumPy takes them


def reshape_like(x: Tensor, like: Tensor) -> Tensor:
    """x reshaped to the shape `like` has when the graph runs."""
    if x.shape == like.shape and is_static(x.shape):
        return x
    if is_static(like.shape):
        return apply("reshape", [x], shape=like.shape)
    return apply("reshape", [x, like], shape=None)


def _reshape(x, like=None, *, shape=None):
    return np.reshape(x, _like_shape(like, shape))


def _reshape_infer(inputs, shape):
    x = inputs[0]
    if shape is None:
        return inputs[1].shape, x.dtype
    if sum(d == -1 for d in shape) > 1 or any(not isinstance(d, int) or d < -1 for d in shape):
        raise ShapeError(f"reshape: bad target shape {shape} for {show(x.shape)}")
    n, known = size(x.shape), [d for d in shape if d != -1]
    prod = math.prod(known)  # Python ints: np.prod would wrap around silently
    if prod > np.iinfo(np.int64).max:
        raise ShapeError(f"reshape: target shape {shape} has more elements than int64 counts")
    if n is None:
        return tuple(None if d == -1 else d for d in shape), x.dtype
    if -1 in shape:
        if prod == 0 or n % prod:
            raise ShapeError(f"reshape: cannot reshape {show(x.shape)} into {shape}")
        return tuple(n // prod if d == -1 else d for d in shape), x.dtype
    if prod != n:
        raise ShapeError(f"reshape: cannot reshape {show(x.shape)} into {show(shape)}")
    return tuple(shape), x.dtype


register(OpDef(
    "reshape", infer=_reshape_infer, compute=_reshape,
    bprop=lambda out, g: (reshape_like(g, out.inputs[0]), None),
    views=True,
))


def broadcast_to(x, shape):
    shape = as_shape(shape, "broadcast_to shape")
    if not is_static(shape):
        raise ShapeError(f"broadcast_to: target shape {show(shape)} must be fully known")
    return apply("broadcast_to", [x], shape=shape)


def broadcast_like(x: Tensor, like: Tensor) -> Tensor:
    """x broadcast to the shape `like` has when the graph runs."""
    if x.shape == like.shape and is_static(x.shape):
        return x
    if is_static(like.shape):
        return apply("broadcast_to", [x], shape=like.shape)
    return apply("broadcast_to", [x, like], shape=None)


def _broadcast_to(x, like=None, *, shape=None):
    return np.broadcast_to(x, _like_shape(like, shape))


def _broadcast_infer(inputs, shape):
    x = inputs[0]
    target = inputs[1].shape if shape is None else shape
    lead = len(target) - x.ndim
    if lead < 0 or not all(d == 1 or dims_match(d, t) for d, t in zip(x.shape, target[lead:])):
        raise ShapeError(f"broadcast_to: cannot broadcast {show(x.shape)} to {show(target)}")
    return tuple(target), x.dtype


register(OpDef(
    "broadcast_to", infer=_broadcast_infer, compute=_broadcast_to,
    bprop=lambda out, g: (sum_like(g, out.inputs[0]), None),
    views=True,
))


def sum_like(x: Tensor, like: Tensor) -> Tensor:
    """x summed over broadcast dimensions down to the shape `like` has at run time."""
    if x.shape == like.shape and is_static(x.shape):
        return x
    if is_static(like.shape):
        return apply("sum_to", [x], shape=like.shape)
    return apply("sum_to", [x, like], shape=None)


def _sum_to(x, like=None, *, shape=None):
    """x fitted to `shape`: summed over the dimensions broadcasting added, then broadcast up
    where x is smaller (a gradient the derivative pass left unbroadcast)."""
    shape = _like_shape(like, shape)
    if x.shape == shape:
        return x
    if x.ndim > len(shape):  # dtype kept, as declared (NumPy would widen small integers)
        x = np.sum(x, axis=tuple(range(x.ndim - len(shape))), dtype=x.dtype)
    lead = len(shape) - x.ndim
    axes = tuple(i for i in range(x.ndim) if shape[lead + i] == 1 and x.shape[i] != 1)
    if axes:
        x = np.sum(x, axis=axes, keepdims=True, dtype=x.dtype)
    return x if x.shape == shape else np.broadcast_to(x, shape)


register(OpDef(
    "sum_to",
    infer=lambda inputs, shape: (inputs[1].shape if shape is None else shape, inputs[0].dtype),
    compute=_sum_to,
    bprop=lambda out, g: (sum_like(g, out.inputs[0]), None),  # fitting back is the adjoint
    views=True,
))


# -- adding and removing axes of length 1, moving axes -------------------------------------------
def expand_dims(x, axis) -> Tensor:
    """x with new axes of length 1 at `axis` (an int or a tuple: positions in the result)."""
    return apply("expand_dims", [x], axis=axis)


def _expand_normalize(inputs, axis):
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return {"axis": normalize_axes("expand_dims", axes, inputs[0].ndim + len(axes))}


def _expand_infer(inputs, axis):
    shape = list(inputs[0].shape)
    for a in axis:  # sorted: each position counts in the result built so far
        shape.insert(a, 1)
    return tuple(shape), inputs[0].dtype


register(OpDef(
    "expand_dims", infer=_expand_infer, compute=np.expand_dims, normalize=_expand_normalize,
    bprop=lambda out, g: (apply("sum", [g], axis=out.params["axis"], keepdims=False),),
    views=True,
))


def squeeze(x, axis=None) -> Tensor:
    """x without the axes of length 1 at `axis`; axis=None: every axis of static length 1."""
    return apply("squeeze", [x], axis=axis)


def _squeeze_normalize(inputs, axis=None):
    x = inputs[0]
    if axis is None:
        if not is_static(x.shape):  # NumPy would decide at run time, and so the rank
            raise ShapeError(f"squeeze: {x.label} of shape {show(x.shape)} has dimensions "
                             "known only at run time; name the axes to squeeze")
        return {"axis": tuple(i for i, d in enumerate(x.shape) if d == 1)}
    axes = normalize_axes("squeeze", axis, x.ndim)
    for a in axes:
        if x.shape[a] not in (1, None):
            raise ShapeError(f"squeeze: axis {a} of {x.label} of shape {show(x.shape)} has "
                             f"length {x.shape[a]}, not 1")
    return {"axis": axes}


register(OpDef(
    "squeeze",
    infer=lambda inputs, axis: (
        tuple(d for i, d in enumerate(inputs[0].shape) if i not in axis), inputs[0].dtype),
    compute=np.squeeze, normalize=_squeeze_normalize,
    bprop=lambda out, g: (expand_dims(g, out.params["axis"]),),
    views=True,
))


def swapaxes(x, axis1: int, axis2: int) -> Tensor:
    return apply("swapaxes", [x], axis1=axis1, axis2=axis2)


def _swapaxes_infer(inputs, axis1, axis2):
    shape = list(inputs[0].shape)
    shape[axis1], shape[axis2] = shape[axis2], shape[axis1]
    return tuple(shape), inputs[0].dtype


register(OpDef(
    "swapaxes", infer=_swapaxes_infer, compute=np.swapaxes,
    normalize=lambda inputs, axis1, axis2: {
        "axis1": normalize_axis("swapaxes", axis1, inputs[0].ndim),
        "axis2": normalize_axis("swapaxes", axis2, inputs[0].ndim)},
    bprop=lambda out, g: (swapaxes(g, out.params["axis1"], out.params["axis2"]),),
    views=True,
))


def moveaxis(x, source, destination) -> Tensor:
    """x with the axes at `source` moved to `destination` (ints or sequences), as NumPy's."""
    return apply("moveaxis", [x], source=source, destination=destination)


def _moveaxis_normalize(inputs, source, destination):
    ndim = inputs[0].ndim
    src = _axis_tuple("moveaxis", source, ndim)
    dst = _axis_tuple("moveaxis", destination, ndim)
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source!r} and destination {destination!r} differ "
                         "in length")
    return {"source": src, "destination": dst}


def _axis_tuple(op, axis, ndim):
    """Axes in the order given (not sorted), non-negative, without repeats."""
    axes = tuple(normalize_axis(op, a, ndim)
                 for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return axes


def _moveaxis_infer(inputs, source, destination):
    x = inputs[0]
    order = [a for a in range(x.ndim) if a not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return tuple(x.shape[a] for a in order), x.dtype


register(OpDef(
    "moveaxis", infer=_moveaxis_infer, compute=np.moveaxis, normalize=_moveaxis_normalize,
    bprop=lambda out, g: (moveaxis(g, out.params["destination"], out.params["source"]),),
    views=True,
))


# -- joining -------------------------------------------------------------------------------------
def concatenate(tensors, axis=0):
    return apply("concatenate", list(tensors), axis=axis)


def stack(tensors, axis=0):
    return apply("stack", list(tensors), axis=axis)


def _join_normalize(name, extra):
    def normalize(inputs, axis=0):
        if not inputs:
            raise ShapeError(f"{name} needs at least one tensor")
        ndims = {t.ndim for t in inputs}
        if len(ndims) != 1:
            shapes = ", ".join(show(t.shape) for t in inputs)
            raise ShapeError(f"{name}: tensors of different ranks: {shapes}")
        return {"axis": normalize_axis(name, axis, ndims.pop() + extra)}
    return normalize


def _merged_dims(name, inputs, skip):
    """The shape all inputs share, axis `skip` aside; None dims take a known size if any."""
    shapes = [t.shape for t in inputs]
    merged = list(shapes[0])
    for s in shapes[1:]:
        for i, d in enumerate(s):
            if i == skip:
                continue
            if not dims_match(merged[i], d):
                raise ShapeError(f"{name}: shapes {', '.join(show(s) for s in shapes)} differ")
            merged[i] = d if merged[i] is None else merged[i]
    return merged, promote(t.dtype for t in inputs)


def _concatenate_infer(inputs, axis):
    merged, dtype = _merged_dims("concatenate", inputs, axis)
    sizes = [t.shape[axis] for t in inputs]
    merged[axis] = None if None in sizes else sum(sizes)
    return tuple(merged), dtype


def _stack_infer(inputs, axis):
    merged, dtype = _merged_dims("stack", inputs, -1)
    merged.insert(axis, len(inputs))
    return tuple(merged), dtype


def _concat_part(g, *parts, index, axis):
    start = sum(p.shape[axis] for p in parts[:index])
    return g[(slice(None),) * axis + (slice(start, start + parts[index].shape[axis]),)]


def _concat_part_infer(inputs, index, axis):
    shape = list(inputs[0].shape)
    shape[axis] = inputs[1 + index].shape[axis]
    return tuple(shape), inputs[0].dtype


def _concat_part_bprop(out, g):
    _, *parts = out.inputs
    index, axis = out.params["index"], out.params["axis"]
    pieces = [g if i == index else zeros_like(p).astype(g.dtype) for i, p in enumerate(parts)]
    return (concatenate(pieces, axis),) + (None,) * len(parts)


register(OpDef(
    "concatenate", infer=_concatenate_infer, compute=lambda *xs, axis: np.concatenate(xs, axis),
    normalize=_join_normalize("concatenate", 0),
    bprop=lambda out, g: tuple(
        apply("concat_part", [g, *out.inputs], index=i, axis=out.params["axis"])
        for i in range(len(out.inputs))),
))
register(OpDef(  # the slice of a concatenation's gradient that belongs to input `index`
    "concat_part", infer=_concat_part_infer, compute=_concat_part, bprop=_concat_part_bprop,
    views=True,
))
register(OpDef(
    "stack", infer=_stack_infer, compute=lambda *xs, axis: np.stack(xs, axis),
    normalize=_join_normalize("stack", 1),
    bprop=lambda out, g: tuple(
        getitem(g, (slice(None),) * out.params["axis"] + (i,)) for i in range(len(out.inputs))),
))


# -- one output of a multi-output node -----------------------------------------------------------
register(OpDef(
    "output",
    infer=lambda inputs, index: inputs[0]._a["outputs"][index],
    compute=lambda t, *, index: t[index],
    bprop=lambda out, g: (tuple(g if i == out.params["index"] else None
                                for i in range(len(out.inputs[0]._a["outputs"]))),),
    views=True,
))
