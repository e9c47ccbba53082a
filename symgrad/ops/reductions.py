"""Reductions over axes (sum mean prod max min var std norm logsumexp argmax argmin all any,
max_and_argmax with two outputs) and the running sums and products cumsum, cumprod.

Conventions (docs/conventions.md): max and min share the gradient equally among tied maxima;
prod and cumprod are exact where the input has zeros; norm and std have gradient 0 at zero.
"""

from __future__ import annotations

import numpy as np

from ..shapes import normalize_axes, normalize_axis, reduce_shape, size
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, output, register
from .control import cast, ones_like
from .elementwise import _safe, equal, exp, no_grad, where
from .shape import broadcast_like, expand_dims, reshape, reshape_like


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


def prod(x, axis=None, keepdims=False):
    return apply("prod", [x], axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False, *, ddof=0):
    return apply("var", [x], axis=axis, keepdims=keepdims, ddof=ddof)


def std(x, axis=None, keepdims=False, *, ddof=0):
    return apply("std", [x], axis=axis, keepdims=keepdims, ddof=ddof)


def norm(x, axis=None, keepdims=False):
    """The 2-norm of x over `axis` (all of it by default): sqrt(sum(x**2))."""
    return apply("norm", [x], axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return apply("all", [x], axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return apply("any", [x], axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum; over several axes, the index into those axes flattened (C order)."""
    return apply("argmax", [x], axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum; over several axes, as argmax."""
    return apply("argmin", [x], axis=axis, keepdims=keepdims)


def max_and_argmax(x, axis=None):
    """The maximum and its index along `axis`, from one node with two outputs (book 6.5.8)."""
    return apply("max_and_argmax", [x], axis=axis)


def cumsum(x, axis=None):
    """Running sums along `axis`; axis=None runs over x flattened, as NumPy does."""
    return apply("cumsum", [x], axis=axis, reverse=False)


def cumprod(x, axis=None):
    """Running products along `axis`; axis=None runs over x flattened, as NumPy does."""
    return apply("cumprod", [x], axis=axis)


def _cumsum_reversed(x, axis):
    """Sums from the far end: element j holds x_j + x_(j+1) + ... (the adjoint of cumsum)."""
    return apply("cumsum", [x], axis=axis, reverse=True)


def _normalize(name):
    def normalize(inputs, axis=None, keepdims=False):
        return {"axis": normalize_axes(name, axis, inputs[0].ndim), "keepdims": bool(keepdims)}
    return normalize


def _normalize_ddof(name):
    base = _normalize(name)

    def normalize(inputs, axis=None, keepdims=False, ddof=0):
        if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: ddof must be a number, got {ddof!r}")
        ddof = int(ddof) if float(ddof).is_integer() else float(ddof)  # 1.0 and 1: one node
        return {**base(inputs, axis, keepdims), "ddof": ddof}
    return normalize


def _normalize_arg(name):
    """argmax, argmin, max_and_argmax: one axis as an int, several as a tuple, all as None
    (the index into all axes flattened is argmax over axis=None)."""
    def normalize(inputs, axis=None, keepdims=False):
        ndim = inputs[0].ndim
        axes = normalize_axes(name, axis, ndim)
        if axes is not None and len(axes) == 1:
            axes = axes[0]
        elif axes is not None and len(axes) == ndim and ndim > 1:
            axes = None
        params = {"axis": axes}
        return params if name == "max_and_argmax" else {**params, "keepdims": bool(keepdims)}
    return normalize


def reduction(name, compute, bprop, normalize=None):
    """Registers a reduction: `axis` None, an int or a tuple; `keepdims` as in NumPy; other
    params (var's ddof) reach `compute` as keywords."""

    def infer(inputs, axis, keepdims, **extra):
        x = inputs[0]
        shape = reduce_shape(x.shape, _axes(x, axis), keepdims)
        return shape, dtype_of(name, compute, inputs, axis=axis, **extra)

    return register(OpDef(name, infer, compute, bprop, normalize=normalize or _normalize(name)))


def _axes(x: Tensor, axis) -> tuple[int, ...]:
    return tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis


def _kept(t: Tensor, x: Tensor, axis, keepdims: bool) -> Tensor:
    """t, a reduction of x, with the reduced axes as length 1 (broadcasts against x); a 0-d t
    broadcasts as it is."""
    return t if keepdims or t.shape == () else expand_dims(t, _axes(x, axis))


def unreduce(g: Tensor, x: Tensor, axis, keepdims: bool) -> Tensor:
    """g, the gradient of a reduction of x, put back on x's shape (broadcast over the axes)."""
    return broadcast_like(g if keepdims else expand_dims(g, _axes(x, axis)), x)


def _count(x: Tensor, axis) -> Tensor | int:
    """How many elements a reduction over `axis` combines (a tensor if only known at run time)."""
    axes = _axes(x, axis)
    n = size(tuple(x.shape[a] for a in axes))
    return n if n is not None else ones_like(x).sum(axis=axes, keepdims=True)


def _dof(x: Tensor, axis, ddof) -> Tensor | int | float:
    """The divisor of var and std: elements combined less ddof."""
    return _count(x, axis) - ddof


def _sum_bprop(out, g):
    # g with the summed axes put back as length 1, not broadcast: the derivative pass
    # broadcasts it when a rule needs the full shape (x*x summed: 2 x g, one full-size pass)
    x, p = out.inputs[0], out.params
    return (_kept(g, x, p["axis"], p["keepdims"]),)


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


def _prod_bprop(out, g):
    # d prod / dx_j is the product of the others: out / x_j where x_j != 0 (not out / x, which
    # is 0/0 at a zero); at the only zero of a slice, the product of the rest; 0 at two zeros
    x, p = out.inputs[0], out.params
    axes = _axes(x, p["axis"])
    zero = equal(x, 0)
    safe = where(zero, 1, x)
    rest = where(equal(zero.sum(axis=axes, keepdims=True), 1), prod(safe, axes, True), 0)
    others = where(zero, rest, _kept(out, x, p["axis"], p["keepdims"]) / safe)
    return (_kept(g, x, p["axis"], p["keepdims"]) * others,)


def _scale(d):
    """2 / d, for a divisor d known now (inf for 0, as NumPy's var) or only at run time."""
    if isinstance(d, Tensor):
        return 2 / d
    with np.errstate(divide="ignore"):
        return float(np.divide(2.0, d))


def _var_bprop(out, g):
    x, p = out.inputs[0], out.params  # d var = 2 (x - mean) dx / (n - ddof)
    centred = x - mean(x, _axes(x, p["axis"]), True)
    scale = _scale(_dof(x, p["axis"], p["ddof"]))
    return ((_kept(g, x, p["axis"], p["keepdims"]) * scale) * centred,)


def _std_bprop(out, g):
    # d std = (x - mean) dx / ((n - ddof) std); 0 where std = 0 (all elements equal), the
    # subgradient of this norm of x - mean, as for norm at 0
    x, p = out.inputs[0], out.params
    centred = x - mean(x, _axes(x, p["axis"]), True)
    spread = _safe(_kept(out, x, p["axis"], p["keepdims"])) * _dof(x, p["axis"], p["ddof"])
    return ((_kept(g, x, p["axis"], p["keepdims"]) / spread) * centred,)


def _norm(x, *, axis=None, keepdims=False):
    if x.dtype.kind != "f":  # as np.linalg.norm: integers squared as floats, no wrap-around
        x = x.astype(np.float64)
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _norm_bprop(out, g):
    # d |x| = x dx / |x|; 0 at x = 0 (a subgradient, as abs'(0) = 0; JAX's "safe norm")
    x, p = out.inputs[0], out.params
    length = _safe(_kept(out, x, p["axis"], p["keepdims"]))
    return ((_kept(g, x, p["axis"], p["keepdims"]) / length) * x,)


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


def _flat_arg(fn):
    """np.argmax or np.argmin, also over a tuple of axes: the index into those axes flattened."""
    def compute(x, *, axis, keepdims=False):
        if not isinstance(axis, tuple):
            return fn(x, axis=axis, keepdims=keepdims)
        kept = [a for a in range(x.ndim) if a not in axis]
        block = int(np.prod([x.shape[a] for a in axis]))
        i = fn(x.transpose(kept + list(axis)).reshape([x.shape[a] for a in kept] + [block]), -1)
        return np.expand_dims(i, axis) if keepdims else i
    compute.__name__ = fn.__name__
    return compute


_argmax, _argmin = _flat_arg(np.argmax), _flat_arg(np.argmin)


def _max_and_argmax(x, *, axis):
    if isinstance(axis, tuple):
        return np.max(x, axis=axis), _argmax(x, axis=axis)
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
reduction("prod", np.prod, _prod_bprop)
reduction("var", np.var, _var_bprop, _normalize_ddof("var"))
reduction("std", np.std, _std_bprop, _normalize_ddof("std"))
reduction("norm", _norm, _norm_bprop)
reduction("all", np.all, no_grad)
reduction("any", np.any, no_grad)
reduction("argmax", _argmax, no_grad, _normalize_arg("argmax"))
reduction("argmin", _argmin, no_grad, _normalize_arg("argmin"))
register(OpDef(
    "max_and_argmax", infer=_max_and_argmax_infer, compute=_max_and_argmax,
    bprop=_max_and_argmax_bprop, normalize=_normalize_arg("max_and_argmax"), n_outputs=2,
))


# -- running sums and products -------------------------------------------------------------------
def _cumsum(x, *, axis, reverse):
    if not reverse:
        return np.cumsum(x, axis=axis)
    if axis is None:
        x, axis = np.ravel(x), 0
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumsum_bprop(out, g):
    x, p = out.inputs[0], out.params  # the adjoint of a running sum runs the other way
    term = apply("cumsum", [g], axis=p["axis"], reverse=not p["reverse"])
    return (reshape_like(term, x) if p["axis"] is None else term,)


def _cumprod_bprop(out, g):
    x, axis = out.inputs[0], out.params["axis"]
    if axis is None:  # out runs over x flattened
        return (reshape_like(_cumprod_grad(reshape(x, (-1,)), out, g, 0), x),)
    return (_cumprod_grad(x, out, g, axis),)


def _cumprod_grad(x: Tensor, c: Tensor, g: Tensor, axis: int) -> Tensor:
    """sum over i >= j of g_i prod_{k <= i, k != j} x_k, for c = cumprod(x): exact at zeros."""
    zero = equal(x, 0)
    safe = where(zero, 1, x)
    apart = _cumsum_reversed(g * c, axis) / safe  # right wherever x_j != 0
    # at the first zero of a lane: the running products with that zero taken as 1; at later
    # zeros 0, since every product holds the first zero
    first = where(zero, equal(cumsum(zero, axis), 1), False)
    at_first = _cumsum_reversed(g * cumprod(where(first, 1, x), axis), axis)
    return where(zero, where(first, at_first, 0), apart)


def _cum_infer(name, compute):
    def infer(inputs, axis, **extra):
        x = inputs[0]
        shape = (size(x.shape),) if axis is None else x.shape  # axis=None: x flattened
        return shape, dtype_of(name, compute, inputs, axis=axis, **extra)
    return infer


def _cum_axis(name, inputs, axis):
    return None if axis is None else normalize_axis(name, axis, inputs[0].ndim)


register(OpDef(
    "cumsum", _cum_infer("cumsum", _cumsum), _cumsum, _cumsum_bprop,
    normalize=lambda inputs, axis=None, reverse=False: {
        "axis": _cum_axis("cumsum", inputs, axis), "reverse": bool(reverse)},
))
register(OpDef(
    "cumprod", _cum_infer("cumprod", np.cumprod), np.cumprod, _cumprod_bprop,
    normalize=lambda inputs, axis=None: {"axis": _cum_axis("cumprod", inputs, axis)},
))
