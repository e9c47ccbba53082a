"""Diagonals and triangles of matrices (batched over the other axes): diagonal trace tril triu.

`embed_diagonal` (internal) is the adjoint of `diagonal`: its values put on the diagonal of
zeros shaped like the input.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..shapes import normalize_axis, show
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, register
from .shape import expand_dims


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of x over (axis1, axis2), `offset` above it (np.diagonal): those two axes
    go, the diagonal becomes the last axis."""
    return apply("diagonal", [x], offset=offset, axis1=axis1, axis2=axis2)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal (np.trace)."""
    return apply("trace", [x], offset=offset, axis1=axis1, axis2=axis2)


def _diagonal_normalize(name):
    def normalize(inputs, offset=0, axis1=0, axis2=1):
        x = inputs[0]
        if x.ndim < 2:
            raise ShapeError(f"{name}: {x.label} of shape {show(x.shape)} needs 2 or more "
                             "dimensions")
        if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
            raise TypeError(f"{name}: offset must be an int, got {offset!r}")
        a1, a2 = normalize_axis(name, axis1, x.ndim), normalize_axis(name, axis2, x.ndim)
        if a1 == a2:
            raise ShapeError(f"{name}: axis1 and axis2 are both {a1}")
        return {"offset": int(offset), "axis1": a1, "axis2": a2}
    return normalize


def _diagonal_length(d1, d2, offset):
    if d1 is None or d2 is None:
        return None
    return max(0, min(d1, d2 - offset) if offset >= 0 else min(d1 + offset, d2))


def _rest(shape, axis1, axis2):
    return tuple(d for i, d in enumerate(shape) if i not in (axis1, axis2))


def _diagonal_infer(inputs, offset, axis1, axis2):
    x = inputs[0]
    n = _diagonal_length(x.shape[axis1], x.shape[axis2], offset)
    return _rest(x.shape, axis1, axis2) + (n,), x.dtype


def _diagonal_bprop(out, g):
    return (apply("embed_diagonal", [g, out.inputs[0]], **out.params),)


def _embed_diagonal(g, like, *, offset, axis1, axis2):
    """Zeros shaped like `like`, with g (broadcast against the diagonal) on the diagonal."""
    z = np.zeros(like.shape, g.dtype)
    n = _diagonal_length(like.shape[axis1], like.shape[axis2], offset)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    np.moveaxis(z, (axis1, axis2), (-2, -1))[..., rows, cols] = g  # a view: writes into z
    return z


register(OpDef(
    "diagonal", infer=_diagonal_infer, compute=np.diagonal, bprop=_diagonal_bprop,
    normalize=_diagonal_normalize("diagonal"),
    views=True,
))
register(OpDef(  # adjoint of diagonal; also trace's, given g with a last axis of length 1
    "embed_diagonal",
    infer=lambda inputs, offset, axis1, axis2: (inputs[1].shape, inputs[0].dtype),
    compute=_embed_diagonal,
    bprop=lambda out, g: (diagonal(g, **out.params), None),
))
register(OpDef(
    "trace",
    infer=lambda inputs, offset, axis1, axis2: (
        _rest(inputs[0].shape, axis1, axis2),
        dtype_of("trace", np.trace, inputs, offset=offset, axis1=axis1, axis2=axis2)),
    compute=np.trace, normalize=_diagonal_normalize("trace"),
    bprop=lambda out, g: (apply("embed_diagonal", [expand_dims(g, -1), out.inputs[0]],
                                **out.params),),
))


# -- triangles -----------------------------------------------------------------------------------
def tril(x, k: int = 0) -> Tensor:
    """x with the elements above the k-th diagonal of its last two axes zeroed (np.tril)."""
    return apply("tril", [x], k=k)


def triu(x, k: int = 0) -> Tensor:
    """x with the elements below the k-th diagonal of its last two axes zeroed (np.triu)."""
    return apply("triu", [x], k=k)


def _triangle_normalize(name):
    def normalize(inputs, k=0):
        x = inputs[0]
        if x.ndim < 2:  # NumPy would broadcast a vector to a matrix; JAX refuses it too
            raise ShapeError(f"{name}: {x.label} of shape {show(x.shape)} needs 2 or more "
                             "dimensions")
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"{name}: k must be an int, got {k!r}")
        return {"k": int(k)}
    return normalize


def _same(inputs, k):
    return inputs[0].shape, inputs[0].dtype


register(OpDef("tril", infer=_same, compute=np.tril, normalize=_triangle_normalize("tril"),
               bprop=lambda out, g: (tril(g, out.params["k"]),)))
register(OpDef("triu", infer=_same, compute=np.triu, normalize=_triangle_normalize("triu"),
               bprop=lambda out, g: (triu(g, out.params["k"]),)))
