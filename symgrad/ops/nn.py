"""Network operations: softmax, log_softmax and softmax_cross_entropy (probabilities or indices).

softmax and log_softmax normalise over one axis, several (a tuple) or all (None), as logsumexp.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..shapes import dims_match, float_dtype, is_float, normalize_axes, promote, show
from .base import BadInput, OpDef, apply, dtype_of, register
from .elementwise import exp, no_grad
from .reductions import _logsumexp
from .shape import expand_dims


def softmax(x, axis=-1):
    return apply("softmax", [x], axis=axis)


def log_softmax(x, axis=-1):
    return apply("log_softmax", [x], axis=axis)


def softmax_cross_entropy(logits, labels):
    """Cross-entropy of softmax(logits) over the last axis, against probabilities or indices."""
    return apply("softmax_cross_entropy", [logits, labels])


def _as_float(x):
    """Integers and booleans as float64 first: x - max(x) must not wrap around. (No
    np.asarray: any array with NumPy's methods, a dask array too, stays what it is.)"""
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


def _softmax(x, *, axis):
    x = _as_float(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, *, axis):
    x = _as_float(x)
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _same_shape(name, compute):
    # the dtype NumPy's exp gives: integers to a float (int8 to float16), float32 stays
    return lambda inputs, axis: (inputs[0].shape, dtype_of(name, compute, inputs, axis=axis))


def _normalize_axis(name):
    def normalize(inputs, axis=-1):
        axes = normalize_axes(name, axis, inputs[0].ndim)  # None: all axes
        return {"axis": axes[0] if axes is not None and len(axes) == 1 else axes}
    return normalize


def _softmax_bprop(out, g):
    axis = out.params["axis"]
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


def _log_softmax_bprop(out, g):
    axis = out.params["axis"]
    return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


register(OpDef("softmax", _same_shape("softmax", _softmax), _softmax, _softmax_bprop,
               normalize=_normalize_axis("softmax")))
register(OpDef("log_softmax", _same_shape("log_softmax", _log_softmax), _log_softmax,
               _log_softmax_bprop, normalize=_normalize_axis("log_softmax")))


def _is_index(labels) -> bool:
    return labels.dtype.kind in "iu"


def _check_labels(labels, classes: int, position: int) -> None:
    """Class indices must lie in [0, classes): NumPy's negative indexing would pick a class
    for -1 in the loss while the gradient's one-hot picked none."""
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)]
        raise BadInput(position, f"class indices must lie in [0, {classes}), got "
                                 f"{bad.ravel()[:5].tolist()}")


def _sce(z, labels):
    lse = _logsumexp(z, axis=-1, keepdims=True)
    if _is_index(labels):
        _check_labels(labels, z.shape[-1], 1)
        if z.ndim == 2:  # a batch of rows: plain fancy indexing is twice as fast
            return lse[:, 0] - z[np.arange(len(z)), labels]
        return (lse - np.take_along_axis(z, labels[..., None], -1))[..., 0]
    return np.sum(labels * (lse - z), axis=-1)


def _sce_infer(inputs):
    z, labels = inputs
    if z.ndim == 0 or not is_float(z.dtype):
        raise ShapeError(f"softmax_cross_entropy: logits {z.label} must be floats with at least "
                         f"one dimension, got {show(z.shape)} {z.dtype}")
    want = z.shape[:-1] if _is_index(labels) else z.shape
    if labels.ndim != len(want) or not all(map(dims_match, labels.shape, want)):
        kind = "class indices" if _is_index(labels) else "probabilities"
        raise ShapeError(f"softmax_cross_entropy: logits {show(z.shape)} need {kind} of shape "
                         f"{show(want)}, got {show(labels.shape)}")
    shape = tuple(a if a is not None else b for a, b in zip(z.shape[:-1], labels.shape))
    dtype = z.dtype if _is_index(labels) else promote((z.dtype, float_dtype(labels.dtype)))
    return shape, dtype


def _sce_bprop(out, g):
    z, labels = out.inputs
    g = expand_dims(g, (z.ndim - 1,))
    if _is_index(labels):
        return g * (softmax(z) - apply("one_hot", [labels, z])), None
    # J = sum(p) lse(z) - sum(p z): dJ/dz = softmax(z) sum(p) - p, dJ/dp = lse(z) - z
    return (g * (softmax(z) * labels.sum(axis=-1, keepdims=True) - labels),
            -(g * log_softmax(z)))


def _one_hot(labels, like):
    _check_labels(labels, like.shape[-1], 0)
    return (labels[..., None] == np.arange(like.shape[-1])).astype(like.dtype)


register(OpDef("softmax_cross_entropy", _sce_infer, _sce, _sce_bprop))
register(OpDef(  # class indices as rows of zeros and ones, as wide and typed as `like`
    "one_hot",
    infer=lambda inputs: (inputs[0].shape + inputs[1].shape[-1:], inputs[1].dtype),
    compute=_one_hot, bprop=no_grad,
))
