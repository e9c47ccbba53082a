"""Functional updates: `set_at(x, index, v)` and `add_at(x, index, v)`, JAX's x.at[index].set(v)
and .add(v): a new tensor, x unchanged. The index is any index `x[index]` takes.

Where an integer index repeats, add_at adds every value; set_at keeps the one NumPy's
assignment writes last (JAX leaves the choice to the implementation), and only that value gets
a gradient, as JAX's rule does: `set_at_winners` (internal) marks those values.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..shapes import dims_match, show
from ..tensor import Tensor
from .base import OpDef, apply, lift, register
from .elementwise import no_grad, where
from .indexing import encode_index, index_shape, may_repeat, with_arrays


def set_at(x, index, v) -> Tensor:
    """x with x[index] replaced by v (broadcast to it), as JAX's `x.at[index].set(v)`."""
    encoded, arrays = encode_index(index)
    return _update("set_at", x, v, arrays, encoded)


def add_at(x, index, v) -> Tensor:
    """x with v added at x[index], repeated indices adding up, as JAX's `x.at[index].add(v)`."""
    encoded, arrays = encode_index(index)
    return _update("add_at", x, v, arrays, encoded)


def _update(name, x, v, arrays, index):
    x, v = lift(name, [x, v])  # a Python number takes x's dtype, not the index arrays'
    return apply(name, [x, v, *arrays], index=index)


def _fits(v: tuple, region: tuple) -> bool:
    """Whether values of shape v broadcast to the region x[index] (JAX's rule: no extra axes)."""
    return len(v) <= len(region) and all(
        d == 1 or dims_match(d, r) for d, r in zip(v[::-1], region[::-1]))


def _update_infer(name):
    def infer(inputs, index):
        x, v, *arrays = inputs
        region = index_shape(name, x, arrays, index)
        if not _fits(v.shape, region):
            raise ShapeError(f"{name}: values {v.label} of shape {show(v.shape)} do not fit "
                             f"x[index] of shape {show(region)} ({x.label} {show(x.shape)})")
        if not np.can_cast(v.dtype, x.dtype, "same_kind"):
            raise ShapeError(f"{name}: values {v.label} of dtype {v.dtype} cannot be written "
                             f"into {x.label} of dtype {x.dtype}")
        return x.shape, x.dtype
    return infer


def _set_at(x, v, *arrays, index):
    z = x.copy()
    try:
        z[with_arrays(index, arrays)] = v
    except IndexError as e:  # an index value out of range: ValueError names the node
        raise ValueError(str(e)) from None
    return z


def _add_at(x, v, *arrays, index):
    z = x.copy()
    try:
        if may_repeat(arrays):
            np.add.at(z, with_arrays(index, arrays), v)  # repeated indices accumulate
        else:
            z[with_arrays(index, arrays)] += v
    except IndexError as e:
        raise ValueError(str(e)) from None
    return z


def _set_at_bprop(out, g, wanted):
    x, v, *arrays = out.inputs
    index = out.params["index"]
    gx = gv = None
    if wanted[0]:  # what was overwritten does not reach the result
        gx = _update("set_at", g, 0, arrays, index)
    if wanted[1]:
        gv = apply("getitem", [g, *arrays], index=index)
        if may_repeat(arrays):  # a value overwritten by a later one does not either
            gv = where(apply("set_at_winners", [x, *arrays], index=index), gv, 0)
    return (gx, gv, *[None] * len(arrays))


def _add_at_bprop(out, g, wanted):
    _, _, *arrays = out.inputs
    gv = apply("getitem", [g, *arrays], index=out.params["index"]) if wanted[1] else None
    return (g, gv, *[None] * len(arrays))


def _set_at_winners(like, *arrays, index):
    """True for each element of like[index] whose value set_at keeps: ids written the same way
    as the values, then read back."""
    idx = with_arrays(index, arrays)
    written = np.full(like.shape, -1, np.intp)
    shape = written[idx].shape
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    written[idx] = ids
    return written[idx] == ids


register(OpDef("set_at", infer=_update_infer("set_at"), compute=_set_at, bprop=_set_at_bprop,
               bprop_wanted=True))
register(OpDef("add_at", infer=_update_infer("add_at"), compute=_add_at, bprop=_add_at_bprop,
               bprop_wanted=True))
register(OpDef(
    "set_at_winners",
    infer=lambda inputs, index: (index_shape("set_at", inputs[0], inputs[1:], index),
                                 np.dtype(bool)),
    compute=_set_at_winners, bprop=no_grad,
))
