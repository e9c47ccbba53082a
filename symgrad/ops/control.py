"""Operations that steer derivatives or dtypes: stop_gradient, cast, zeros_like, ones_like."""

from __future__ import annotations

import numpy as np

from ..shapes import is_float
from .base import OpDef, apply, register
from .elementwise import no_grad


def stop_gradient(x):
    return apply("stop_gradient", [x])


def cast(x, dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"cast: {dtype!r} is not a dtype: {e}") from None
    if dtype.kind not in "biufc":
        raise TypeError(f"cast: symgrad computes on numbers and booleans; cannot cast "
                        f"{getattr(x, 'label', x)} to {dtype}")
    return apply("cast", [x], dtype=dtype.name)


def zeros_like(x):
    return apply("zeros_like", [x])


def ones_like(x):
    return apply("ones_like", [x])


def _same(inputs):
    return inputs[0].shape, inputs[0].dtype


def _cast_bprop(out, g):
    x = out.inputs[0]
    return (cast(g, x.dtype) if is_float(x.dtype) else None,)


# the value, no derivative
register(OpDef("stop_gradient", _same, lambda x: x, bprop=no_grad, views=True))
register(OpDef(
    "cast",
    infer=lambda inputs, dtype: (inputs[0].shape, np.dtype(dtype)),
    compute=lambda x, *, dtype: x.astype(dtype, copy=False),
    bprop=_cast_bprop,
    views=True,
))
register(OpDef("zeros_like", _same, np.zeros_like, bprop=no_grad))
register(OpDef("ones_like", _same, np.ones_like, bprop=no_grad))
