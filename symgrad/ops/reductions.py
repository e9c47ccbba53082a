"""Reductions over axes: sum mean max min logsumexp argmax, and max_and_argmax (two outputs).

`max` and `min` share the gradient equally among tied maxima (docs/conventions.md).
"""

from __future__ import annotations

import numpy as np

from ..shapes import normalize_axes, reduce_shape, size
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, output, register
from .control import cast, ones_like
from .elementwise import equal, exp, no_grad
from .shape import broadcast_like, expand_dims


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's names, as API.md fixes them
    return apply("sum", [x], axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return apply("mean", [x], axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return apply("max", [x], axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return apply("min", [x], axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return apply("logsumexp", [x], axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return apply("argmax", [x], axis=axis, keepdims=keepdims)


def max_and_argmax(x, axis=None):
    """The maximum and its index along `axis`, from one node with two outputs (book 6.5.8)."""
    return apply("max_and_argmax", [x], axis=axis)


def _normalize(name):
    def normalize(inputs, axis=None, keepdims=False):
        return {"axis": normalize_axes(name, axis, inputs[0].ndim), "keepdims": bool(keepdims)}
    return normalize


def _normalize_one_axis(name):
    def normalize(inputs, axis=None, keepdims=False):
        axes = normalize_axes(name, axis, inputs[0].ndim)
        if axes is not None and len(axes) != 1:
            raise TypeError(f"{name}: axis must be None or one int, got {axis!r}")
        params = {"axis": None if axes is None else axes[0]}
        return params if name == "max_and_argmax" else {**params, "keepdims": bool(keepdims)}
    return normalize


def reduction(name, compute, bprop, one_axis=False):
    """Registers a reduction: `axis` None, an int or a tuple; `keepdims` as in NumPy."""

    def infer(inputs, axis, keepdims):
        x = inputs[0]
        shape = reduce_shape(x.shape, _axes(x, axis), keepdims)
        return shape, dtype_of(name, compute, inputs, axis=axis)

    normalize = _normalize_one_axis(name) if one_axis else _normalize(name)
    return register(OpDef(name, infer, compute, bprop, normalize=normalize))


def _axes(x: Tensor, axis) -> tuple[int, ...]:
    return tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis


def unreduce(g: Tensor, x: Tensor, axis, keepdims: bool) -> Tensor:
    """g, the gradient of a reduction of x, put back on x's shape (broadcast over the axes)."""
    return broadcast_like(g if keepdims else expand_dims(g, _axes(x, axis)), x)


def _count(x: Tensor, axis) -> Tensor | int:
    """How many elements a reduction over `axis` combines (a tensor if only known at run time)."""
    axes = _axes(x, axis)
    n = size(tuple(x.shape[a] for a in axes))
    return n if n is not None else ones_like(x).sum(axis=axes, keepdims=True)


def _sum_bprop(out, g):
    # g with the summed axes put back as length 1, not broadcast: the derivative pass
    # broadcasts it when a rule needs the full shape (x*x summed: 2 x g, one full-size pass)
    x, p = out.inputs[0], out.params
    if p["keepdims"] or g.shape == ():  # a 0-d gradient broadcasts as it is
        return (g,)
    return (expand_dims(g, _axes(x, p["axis"])),)


def _mean_bprop(out, g):
    (term,) = _sum_bprop(out, g)
    return (term / _count(out.inputs[0], out.params["axis"]),)


def _extreme_grad(x: Tensor, result: Tensor, g: Tensor, axis, keepdims: bool) -> Tensor:
    """max/min: g flows to the elements equal to the result, shared equally among ties."""
    hit = cast(equal(x, unreduce(result, x, axis, keepdims)), x.dtype)
    return hit / hit.sum(axis=_axes(x, axis), keepdims=True) * unreduce(g, x, axis, keepdims)


def _extreme_bprop(out, g):
    p = out.params
    return (_extreme_grad(out.inputs[0], out, g, p["axis"], p["keepdims"]),)


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float64)  # x - max(x) must not wrap around in integers
    m = x.max(axis=axis, keepdims=True)  # shift by the maximum: exp cannot overflow
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf): shift by 0, the sum says it
    s = np.exp(x - m).sum(axis=axis, keepdims=True)
    if s.all():
        out = np.log(s)
    else:
        with np.errstate(divide="ignore"):  # a row of -inf only: log 0 = -inf is the answer
            out = np.log(s)
    out += m
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_bprop(out, g):
    x, p = out.inputs[0], out.params
    lse = unreduce(out, x, p["axis"], p["keepdims"])
    return (unreduce(g, x, p["axis"], p["keepdims"]) * exp(x - lse),)  # g * softmax(x)


def _max_and_argmax(x, *, axis):
    i = np.argmax(x, axis=axis)
    if axis is None:
        return x.reshape(-1)[i], i
    return np.take_along_axis(x, np.expand_dims(i, axis), axis).squeeze(axis), i


def _max_and_argmax_infer(inputs, axis):
    x = inputs[0]
    shape = reduce_shape(x.shape, _axes(x, axis), False)
    return ((shape, x.dtype), (shape, np.dtype(np.intp)))


def _max_and_argmax_bprop(out, g):
    g_max, _ = g  # the index carries no gradient
    if g_max is None:
        return (None,)
    x, axis = out.inputs[0], out.params["axis"]
    return (_extreme_grad(x, output(out, 0), g_max, axis, False),)


reduction("sum", np.sum, _sum_bprop)
reduction("mean", np.mean, _mean_bprop)
reduction("max", np.max, _extreme_bprop)
reduction("min", np.min, _extreme_bprop)
reduction("logsumexp", _logsumexp, _logsumexp_bprop)
reduction("argmax", np.argmax, no_grad, one_axis=True)
register(OpDef(
    "max_and_argmax", infer=_max_and_argmax_infer, compute=_max_and_argmax,
    bprop=_max_and_argmax_bprop, normalize=_normalize_one_axis("max_and_argmax"), n_outputs=2,
))
