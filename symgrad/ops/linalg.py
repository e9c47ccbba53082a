"""Linear algebra: matmul with NumPy's semantics (1-D operands promoted and dropped again, batch
dims broadcast), and what `sg.linalg` offers: inv solve det slogdet cholesky solve_triangular,
batched over leading axes like numpy.linalg, in float32 and float64.

Singular (or, for cholesky, not positive definite) matrices fail at run time as NumPy fails:
ShapeError naming the node. So do the derivatives of det and slogdet there, which need the
inverse.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import ShapeError
from ..shapes import broadcast, dims_match, promote, show
from ..tensor import Tensor
from .base import OpDef, apply, register
from .indexing import getitem
from .matrix import tril, triu
from .shape import expand_dims, swapaxes, transpose


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


# -- shared by the numpy.linalg ops --------------------------------------------------------------
def _mT(t: Tensor) -> Tensor:
    """The matrix transpose over the last two axes."""
    return swapaxes(t, -1, -2)


def _check_square(name: str, a: Tensor) -> None:
    if a.ndim < 2 or not dims_match(a.shape[-1], a.shape[-2]):
        raise ShapeError(f"{name}: {a.label} of shape {show(a.shape)} is not a square matrix "
                         "(or a stack of them)")


def _float_dtype(name: str, tensors) -> np.dtype:
    """float32 stays, float64 stays, integers and booleans compute in float64 (as NumPy)."""
    dtypes = []
    for t in tensors:
        if t.dtype.kind in "biu":
            dtypes.append(np.dtype(np.float64))
        elif t.dtype in (np.float32, np.float64):
            dtypes.append(t.dtype)
        else:
            raise ShapeError(f"{name}: {t.label} is of dtype {t.dtype}; linear algebra takes "
                             "float32, float64, integers and booleans (as float64)")
    return promote(dtypes)


def _floats(*arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays in the dtype _float_dtype gives (what infer declared)."""
    dtype = np.result_type(*(np.float64 if a.dtype.kind in "biu" else a.dtype for a in arrays))
    return [a if a.dtype == dtype else a.astype(dtype) for a in arrays]


def _batched(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a and a stack of matrices b with their batch axes broadcast, so that NumPy 1 and 2 alike
    read b as matrices."""
    if a.shape[:-2] != b.shape[:-2]:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
    return a, b


def _square_infer(name, shape_of):
    def infer(inputs):
        a = inputs[0]
        _check_square(name, a)
        return shape_of(a.shape), _float_dtype(name, inputs)
    return infer


# -- inv, det, slogdet ---------------------------------------------------------------------------
def inv(a) -> Tensor:
    """The inverse of a (of each matrix of a stack)."""
    return apply("inv", [a])


def det(a) -> Tensor:
    """The determinant of a (of each matrix of a stack)."""
    return apply("det", [a])


def slogdet(a) -> tuple[Tensor, Tensor]:
    """(sign, log|det a|), two outputs of one node; at a singular matrix (0, -inf) as NumPy."""
    return apply("slogdet", [a])


def _logdet_grad(a: Tensor, g: Tensor) -> Tensor:
    """g times d log|det a| / da = inv(a)^T (Jacobi's formula); g has a's batch shape."""
    return expand_dims(g, (-2, -1)) * _mT(inv(a))


register(OpDef(
    "inv", infer=_square_infer("inv", lambda s: s),
    compute=lambda a: np.linalg.inv(*_floats(a)),
    bprop=lambda out, g: (-(_mT(out) @ g @ _mT(out)),),  # d inv(a) = -inv(a) da inv(a)
))
register(OpDef(
    "det", infer=_square_infer("det", lambda s: s[:-2]),
    compute=lambda a: np.linalg.det(*_floats(a)),
    bprop=lambda out, g: (_logdet_grad(out.inputs[0], g * out),),  # d det = det d log|det|
))


def _slogdet_infer(inputs):
    shape, dtype = _square_infer("slogdet", lambda s: s[:-2])(inputs)
    return ((shape, dtype), (shape, dtype))


def _slogdet_bprop(out, g):
    _, g_log = g  # the sign is piecewise constant
    return (None if g_log is None else _logdet_grad(out.inputs[0], g_log),)


register(OpDef(
    "slogdet", infer=_slogdet_infer, n_outputs=2, bprop=_slogdet_bprop,
    compute=lambda a: tuple(np.linalg.slogdet(*_floats(a))),
))


# -- solve and solve_triangular ------------------------------------------------------------------
def solve(a, b) -> Tensor:
    """x with a @ x = b. As NumPy 2: b is a vector only if 1-D, else a stack of matrices."""
    return apply("solve", [a, b])


def solve_triangular(a, b, lower: bool = False, trans=0, unit_diagonal: bool = False) -> Tensor:
    """x with a @ x = b (trans=0 or "N") or a.T @ x = b (1, "T", or "C" for real a), reading
    only a's lower (or upper) triangle, as scipy.linalg.solve_triangular; b as in solve."""
    return apply("solve_triangular", [a, b], lower=lower, trans=trans,
                 unit_diagonal=unit_diagonal)


def _solve_infer(name):
    def infer(inputs, **params):
        a, b = inputs
        _check_square(name, a)
        rows = b.shape[0] if b.ndim == 1 else b.shape[-2] if b.ndim >= 2 else None
        if b.ndim == 0 or not dims_match(a.shape[-1], rows):
            raise ShapeError(f"{name}: {a.label} of shape {show(a.shape)} and {b.label} of "
                             f"shape {show(b.shape)} do not fit")
        n = next((d for d in (a.shape[-1], a.shape[-2], rows) if d is not None), None)
        if b.ndim == 1:
            return a.shape[:-2] + (n,), _float_dtype(name, inputs)
        try:
            batch = broadcast(name, a.shape[:-2], b.shape[:-2])
        except ShapeError:
            raise ShapeError(f"{name}: the batch dimensions of {show(a.shape)} and "
                             f"{show(b.shape)} do not broadcast") from None
        return batch + (n, b.shape[-1]), _float_dtype(name, inputs)
    return infer


def _solve(a, b):
    a, b = _floats(a, b)
    vector = b.ndim == 1
    a, m = _batched(a, b[:, None] if vector else b)
    x = np.linalg.solve(a, m)
    return x[..., 0] if vector else x


def _as_matrices(b: Tensor, *ts: Tensor) -> list[Tensor]:
    """ts with a last axis of length 1 if b is a vector, so that the rule is one for both."""
    return [expand_dims(t, -1) if b.ndim == 1 else t for t in ts]


def _solve_bprop(out, g, wanted):
    a, b = out.inputs
    gm, xm = _as_matrices(b, g, out)
    gb = solve(_mT(a), gm)  # b's gradient, and a's is built from it: one solve, no inverse
    ga = -(gb @ _mT(xm)) if wanted[0] else None
    return ga, (getitem(gb, (Ellipsis, 0)) if b.ndim == 1 else gb) if wanted[1] else None


register(OpDef("solve", infer=_solve_infer("solve"), compute=_solve, bprop=_solve_bprop,
               bprop_wanted=True))


def _solve_triangular_normalize(inputs, lower=False, trans=0, unit_diagonal=False):
    codes = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}  # real matrices: conjugate = transpose
    if isinstance(trans, bool) or trans not in codes:
        raise ShapeError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                         f"{trans!r}")
    return {"lower": bool(lower), "trans": codes[trans], "unit_diagonal": bool(unit_diagonal)}


def _solve_triangular(a, b, *, lower, trans, unit_diagonal):
    import scipy.linalg  # here, not at the top: `import symgrad` need not load SciPy

    a, b = _floats(a, b)
    vector = b.ndim == 1
    a, m = _batched(a, b[:, None] if vector else b)
    solve = functools.partial(scipy.linalg.solve_triangular, trans=trans, lower=lower,
                              unit_diagonal=unit_diagonal, check_finite=False)
    if a.ndim == 2:
        x = solve(a, m).astype(a.dtype, copy=False)
    else:  # one matrix at a time: SciPy before 1.15 takes no batches
        x = np.empty(m.shape, a.dtype)
        for i in np.ndindex(a.shape[:-2]):
            x[i] = solve(a[i], m[i])
    return x[..., 0] if vector else x


def _solve_triangular_bprop(out, g, wanted):
    a, b = out.inputs
    p = out.params
    gm, xm = _as_matrices(b, g, out)
    gb = solve_triangular(a, gm, p["lower"], 1 - p["trans"], p["unit_diagonal"])
    ga = None
    if wanted[0]:  # as solve's, on the triangle read (the diagonal too unless it is unit)
        full = -(gb @ _mT(xm)) if p["trans"] == 0 else -(xm @ _mT(gb))
        k = 1 if p["unit_diagonal"] else 0
        ga = tril(full, -k) if p["lower"] else triu(full, k)
    return ga, (getitem(gb, (Ellipsis, 0)) if b.ndim == 1 else gb) if wanted[1] else None


register(OpDef(
    "solve_triangular", infer=_solve_infer("solve_triangular"), compute=_solve_triangular,
    normalize=_solve_triangular_normalize, bprop=_solve_triangular_bprop, bprop_wanted=True,
))


# -- cholesky ------------------------------------------------------------------------------------
def cholesky(a) -> Tensor:
    """The lower-triangular L with L @ L.T = a, reading only a's lower triangle (as NumPy)."""
    return apply("cholesky", [a])


def _cholesky_bprop(out, g):
    # Murray 2016 (arXiv:1602.07527): with Phi(X) the lower triangle of X, diagonal halved,
    # S = L^-T Phi(L^T g) L^-1 (two triangular solves, no inverse). NumPy reads only a's lower
    # triangle, so a's gradient is S + S^T below the diagonal, S on it, zero above.
    L = out
    lt_g = _mT(L) @ g
    phi = 0.5 * (tril(lt_g) + tril(lt_g, -1))
    left = solve_triangular(L, phi, lower=True, trans=1)
    s = _mT(solve_triangular(L, _mT(left), lower=True, trans=1))
    return (tril(_mT(s)) + tril(s, -1),)


register(OpDef(
    "cholesky", infer=_square_infer("cholesky", lambda s: s), bprop=_cholesky_bprop,
    compute=lambda a: np.linalg.cholesky(*_floats(a)),
))
