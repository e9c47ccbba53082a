"""matmul with NumPy's semantics: 1-D operands promoted and dropped again, batch dims broadcast."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..shapes import broadcast, dims_match, promote, show
from .base import OpDef, apply, register
from .indexing import getitem
from .shape import transpose


def matmul(x, y):
    return apply("matmul", [x, y])


def _matmul_infer(inputs):
    x, y = inputs
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: operands must have 1 or more dimensions, got "
                         f"{show(x.shape)} and {show(y.shape)}")
    a = (1,) + x.shape if x.ndim == 1 else x.shape
    b = y.shape + (1,) if y.ndim == 1 else y.shape
    if not dims_match(a[-1], b[-2]):
        raise ShapeError(f"matmul: shapes {show(x.shape)} and {show(y.shape)} do not align: "
                         f"{a[-1]} != {b[-2]}")
    try:
        batch = broadcast("matmul", a[:-2], b[:-2])
    except ShapeError:
        raise ShapeError(f"matmul: the batch dimensions of {show(x.shape)} and {show(y.shape)} "
                         "do not broadcast") from None
    rows = () if x.ndim == 1 else (a[-2],)
    cols = () if y.ndim == 1 else (b[-1],)
    return batch + rows + cols, promote((x.dtype, y.dtype))


def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return transpose(t, tuple(axes))


def _matmul_bprop(out, g, wanted):
    x, y = out.inputs
    # Promote 1-D operands as NumPy does, take the 2-D rule, then drop the added axis again.
    x2 = getitem(x, (None, slice(None))) if x.ndim == 1 else x
    y2 = getitem(y, (slice(None), None)) if y.ndim == 1 else y
    g2 = g
    if x.ndim == 1:
        g2 = getitem(g2, (Ellipsis, None, slice(None)) if y.ndim > 1 else (Ellipsis, None))
    if y.ndim == 1:
        g2 = getitem(g2, (Ellipsis, None))
    gx = gy = None
    if wanted[0]:
        gx = matmul(g2, _swap_last(y2))
        if x.ndim == 1:
            gx = getitem(gx, (Ellipsis, 0, slice(None)))
    if wanted[1]:
        gy = matmul(_swap_last(x2), g2)
        if y.ndim == 1:
            gy = getitem(gy, (Ellipsis, 0))
    return gx, gy


register(OpDef("matmul", _matmul_infer, np.matmul, _matmul_bprop, bprop_wanted=True))
