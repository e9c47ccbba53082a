"""Operations that rearrange or copy elements along axes: flip roll tile repeat pad split.

Also their internal adjoints: `sum_tiles` (tile's) and `sum_repeats` (repeat's), which add up the
copies of each element; each one's derivative is the forward op again.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..shapes import dims_match, normalize_axes, normalize_axis, show, size
from ..tensor import Tensor
from .base import OpDef, apply, output, register
from .control import zeros_like
from .indexing import getitem
from .shape import concatenate, reshape_like


def _ints(op: str, what: str, value) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of Python ints (params stay JSON-plain)."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for v in items:
        if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{op}: {what} must be ints, got {value!r}")
        out.append(int(v))
    return tuple(out)


# -- flip and roll: permutations of the elements along axes --------------------------------------
def flip(x, axis=None) -> Tensor:
    """x with the order of elements along `axis` (None: every axis) reversed."""
    return apply("flip", [x], axis=axis)


def _all_axes(op):
    def normalize(inputs, axis=None):
        ndim = inputs[0].ndim
        return {"axis": tuple(range(ndim)) if axis is None else normalize_axes(op, axis, ndim)}
    return normalize


register(OpDef(
    "flip", infer=lambda inputs, axis: (inputs[0].shape, inputs[0].dtype), compute=np.flip,
    normalize=_all_axes("flip"),
    bprop=lambda out, g: (flip(g, out.params["axis"]),),
    views=True,
))


def roll(x, shift, axis=None) -> Tensor:
    """x with its elements shifted by `shift` along `axis`, wrapping around (np.roll); with
    axis=None, over the flattened x."""
    return apply("roll", [x], shift=shift, axis=axis)


def _roll_normalize(inputs, shift, axis=None):
    shifts = _ints("roll", "shift", shift)
    if axis is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: axis=None takes one shift, got {shift!r}")
        return {"shift": shifts[0], "axis": None}
    axes = _ints("roll", "axis", axis)
    if len(shifts) == 1:
        shifts *= len(axes)
    elif len(axes) == 1:
        axes *= len(shifts)
    elif len(shifts) != len(axes):
        raise ShapeError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast")
    total: dict[int, int] = {}  # np.roll adds up the shifts given for one axis
    for s, a in zip(shifts, axes):
        a = normalize_axis("roll", a, inputs[0].ndim)
        total[a] = total.get(a, 0) + s
    keys = sorted(total)
    return {"shift": tuple(total[a] for a in keys), "axis": tuple(keys)}


def _negated(shift):
    return -shift if isinstance(shift, int) else tuple(-s for s in shift)


register(OpDef(
    "roll", infer=lambda inputs, shift, axis: (inputs[0].shape, inputs[0].dtype),
    compute=np.roll, normalize=_roll_normalize,
    bprop=lambda out, g: (roll(g, _negated(out.params["shift"]), out.params["axis"]),),
))


# -- tile and repeat: copies, and the sums of copies that are their adjoints ---------------------
def tile(x, reps) -> Tensor:
    """x repeated `reps` times along each axis (np.tile; reps an int or a tuple)."""
    return apply("tile", [x], reps=reps)


def _tile_normalize(inputs, reps):
    reps = _ints("tile", "reps", reps)
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: negative reps {reps}")
    return {"reps": reps}


def _tile_infer(inputs, reps):
    x = inputs[0]
    n = max(x.ndim, len(reps))
    shape = (1,) * (n - x.ndim) + x.shape
    reps = (1,) * (n - len(reps)) + reps
    return tuple(0 if r == 0 else None if d is None else d * r
                 for d, r in zip(shape, reps)), x.dtype


def _tile_bprop(out, g):
    x, reps = out.inputs[0], out.params["reps"]
    if 0 in reps:  # no copy of x is left in the result
        return (zeros_like(x),)
    n = max(x.ndim, len(reps))
    return (apply("sum_tiles", [g], reps=(1,) * (n - len(reps)) + reps, ndim=x.ndim),)


def _sum_tiles(g, *, reps, ndim):
    dims = [n // r for n, r in zip(g.shape, reps)]
    split = g.reshape([v for r, d in zip(reps, dims) for v in (r, d)])
    total = split.sum(axis=tuple(range(0, 2 * len(reps), 2)), dtype=g.dtype)  # ints stay
    return total.reshape(total.shape[len(reps) - ndim:])  # tile's leading axes of length 1


def _sum_tiles_infer(inputs, reps, ndim):
    g = inputs[0]
    dims = tuple(None if d is None else d // r for d, r in zip(g.shape, reps))
    return dims[len(reps) - ndim:], g.dtype


register(OpDef("tile", infer=_tile_infer, compute=np.tile, bprop=_tile_bprop,
               normalize=_tile_normalize))
register(OpDef(  # adjoint of tile: g cut into its tiles (every rep >= 1), added up
    "sum_tiles", infer=_sum_tiles_infer, compute=_sum_tiles,
    bprop=lambda out, g: (tile(g, out.params["reps"]),),
))


def repeat(x, repeats, axis=None) -> Tensor:
    """Each element of x repeated `repeats` times along `axis` (np.repeat: an int, or one
    count per element; axis=None repeats the elements of the flattened x)."""
    return apply("repeat", [x], repeats=repeats, axis=axis)


def _repeat_normalize(inputs, repeats, axis=None):
    counts = _ints("repeat", "repeats", repeats)
    if any(r < 0 for r in counts):
        raise ShapeError(f"repeat: negative repeats {repeats!r}")
    if axis is not None:
        axis = normalize_axis("repeat", axis, inputs[0].ndim)
    return {"repeats": counts[0] if len(counts) == 1 else counts, "axis": axis}


def _repeat_infer(inputs, repeats, axis):
    x = inputs[0]
    shape = (size(x.shape),) if axis is None else x.shape
    at = 0 if axis is None else axis
    d = shape[at]
    if isinstance(repeats, int):
        new = None if d is None else d * repeats
    elif not dims_match(d, len(repeats)):
        raise ShapeError(f"repeat: {len(repeats)} repeats for {d} elements of {x.label} of "
                         f"shape {show(x.shape)} along axis {axis}")
    else:
        new = sum(repeats)
    return shape[:at] + (new,) + shape[at + 1:], x.dtype


def _repeat_bprop(out, g):
    x, p = out.inputs[0], out.params
    if p["repeats"] == 0:
        return (zeros_like(x),)
    summed = apply("sum_repeats", [g], repeats=p["repeats"], axis=p["axis"] or 0)
    return (reshape_like(summed, x) if p["axis"] is None else summed,)


def _sum_repeats(g, *, repeats, axis):
    if isinstance(repeats, int):
        shape = g.shape[:axis] + (g.shape[axis] // repeats, repeats) + g.shape[axis + 1:]
        return g.reshape(shape).sum(axis=axis + 1, dtype=g.dtype)
    counts = np.asarray(repeats)
    out = np.zeros(g.shape[:axis] + (len(counts),) + g.shape[axis + 1:], g.dtype)
    kept = counts > 0  # reduceat would take an element for a count of zero
    if kept.any():
        starts = (np.cumsum(counts) - counts)[kept]
        out[(slice(None),) * axis + (kept,)] = np.add.reduceat(g, starts, axis=axis,
                                                                     dtype=g.dtype)
    return out


def _sum_repeats_infer(inputs, repeats, axis):
    g = inputs[0]
    d = g.shape[axis]
    if isinstance(repeats, int):
        d = None if d is None else d // repeats
    else:
        d = len(repeats)
    return g.shape[:axis] + (d,) + g.shape[axis + 1:], g.dtype


register(OpDef("repeat", infer=_repeat_infer, compute=np.repeat, bprop=_repeat_bprop,
               normalize=_repeat_normalize))
register(OpDef(  # adjoint of repeat along an axis: the copies of each element added up
    "sum_repeats", infer=_sum_repeats_infer, compute=_sum_repeats,
    bprop=lambda out, g: (repeat(g, out.params["repeats"], out.params["axis"]),),
))


# -- pad -----------------------------------------------------------------------------------------
def pad(x, pad_width, mode: str = "constant", constant_values=0) -> Tensor:
    """x with `pad_width` elements of value `constant_values` added before and after each axis
    (np.pad's pad_width forms: n, (before, after), or one pair per axis). Only mode
    "constant"."""
    if mode != "constant":
        raise ShapeError(f"pad: mode {mode!r} is not supported; only 'constant'")
    if isinstance(constant_values, np.generic):
        constant_values = constant_values.item()
    if type(constant_values) not in (bool, int, float):
        raise TypeError(f"pad: constant_values must be a number, got {constant_values!r}")
    return apply("pad", [x], pad_width=pad_width, constant_values=constant_values)


def _pad_normalize(inputs, pad_width, constant_values=0):
    ndim = inputs[0].ndim
    if ndim == 0:  # nothing to pad; () is also what normalizing gives, so it normalizes again
        return {"pad_width": (), "constant_values": constant_values}
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit {ndim} axes") from None
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be ints, got {pad_width!r}")
    if (widths < 0).any():
        raise ShapeError(f"pad: negative pad_width {pad_width!r}")
    return {"pad_width": tuple((int(b), int(a)) for b, a in widths),
            "constant_values": constant_values}


def _pad_infer(inputs, pad_width, constant_values):
    x = inputs[0]
    return tuple(None if d is None else d + b + a
                 for d, (b, a) in zip(x.shape, pad_width)), x.dtype


register(OpDef(
    "pad", infer=_pad_infer, normalize=_pad_normalize,
    compute=lambda x, *, pad_width, constant_values: np.pad(  # a 0-d x: nothing to pad
        x, pad_width, mode="constant", constant_values=constant_values) if pad_width
    else np.array(x),
    bprop=lambda out, g: (getitem(g, tuple(slice(b, -a if a else None)
                                           for b, a in out.params["pad_width"])),),
))


# -- split: one node, one output per piece -------------------------------------------------------
def split(x, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """x cut along `axis` into equal sections (an int) or at the given indices (np.split): a
    list of tensors, the outputs of one node."""
    return list(apply("split", [x], indices_or_sections=indices_or_sections, axis=axis))


def _split_normalize(inputs, indices_or_sections, axis=0):
    x = inputs[0]
    axis = normalize_axis("split", axis, x.ndim)
    if isinstance(indices_or_sections, (tuple, list, np.ndarray)):
        where = _ints("split", "indices", tuple(indices_or_sections))
    else:
        where = _ints("split", "sections", indices_or_sections)[0]
        if where <= 0:
            raise ShapeError(f"split: {where} sections")
        d = x.shape[axis]
        if d is not None and d % where:
            raise ShapeError(f"split: axis {axis} of {x.label} of shape {show(x.shape)} does "
                             f"not split into {where} equal sections")
    return {"indices_or_sections": where, "axis": axis}


def _split_infer(inputs, indices_or_sections, axis):
    x = inputs[0]
    d = x.shape[axis]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        lengths = [None if d is None else d // n] * n
    else:
        bounds = (0, *indices_or_sections, None)
        lengths = [None if d is None else len(range(d)[a:b])
                   for a, b in zip(bounds, bounds[1:])]
    return tuple((x.shape[:axis] + (n,) + x.shape[axis + 1:], x.dtype) for n in lengths)


def _split_bprop(out, g):
    pieces = [gi if gi is not None else zeros_like(output(out, i)) for i, gi in enumerate(g)]
    return (concatenate(pieces, out.params["axis"]),)


register(OpDef(
    "split", infer=_split_infer, normalize=_split_normalize, n_outputs=None,
    compute=lambda x, *, indices_or_sections, axis: tuple(np.split(x, indices_or_sections,
                                                                   axis)),
    bprop=_split_bprop,
    views=True,
))
