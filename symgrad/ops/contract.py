"""Tensor contractions: outer, tensordot and einsum (ellipsis, implicit output, broadcasting).

einsum's derivative for an operand is another einsum (the output's subscripts and the other
operands' in, the operand's out). A letter repeated within one operand (a diagonal, 'ii->i')
needs the internal op `einsum_embed`, which writes values back onto that diagonal.
"""

from __future__ import annotations

import string
from functools import lru_cache

import numpy as np

from ..errors import ShapeError
from ..shapes import broadcast, dims_match, normalize_axis, promote, show, size
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, register
from .linalg import matmul
from .shape import expand_dims, reshape, reshape_like, sum_like, transpose


# -- outer ---------------------------------------------------------------------------------------
def outer(a, b) -> Tensor:
    """The outer product of the flattened a and b (np.outer): shape (a.size, b.size)."""
    return apply("outer", [a, b])


def _outer_bprop(out, g, wanted):
    a, b = out.inputs
    ga = reshape_like(matmul(g, reshape(b, (-1,))), a) if wanted[0] else None
    gb = reshape_like(matmul(reshape(a, (-1,)), g), b) if wanted[1] else None
    return ga, gb


register(OpDef(
    "outer", infer=lambda inputs: ((size(inputs[0].shape), size(inputs[1].shape)),
                                   promote(t.dtype for t in inputs)),
    compute=np.outer, bprop=_outer_bprop, bprop_wanted=True,
))


# -- tensordot -----------------------------------------------------------------------------------
def tensordot(a, b, axes=2) -> Tensor:
    """Sum of products over a's and b's `axes` (np.tensordot: an int N, the last N axes of a
    with the first N of b, or a pair of axis sequences)."""
    return apply("tensordot", [a, b], axes=axes)


def _tensordot_normalize(inputs, axes=2):
    a, b = inputs
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: cannot contract {n} axes of {show(a.shape)} and "
                             f"{show(b.shape)}")
        pairs = (tuple(range(a.ndim - n, a.ndim)), tuple(range(n)))
    else:
        try:
            left, right = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair, got {axes!r}") from None
        left = left if isinstance(left, (tuple, list)) else (left,)
        right = right if isinstance(right, (tuple, list)) else (right,)
        pairs = (tuple(normalize_axis("tensordot", i, a.ndim) for i in left),
                 tuple(normalize_axis("tensordot", i, b.ndim) for i in right))
    if len(pairs[0]) != len(pairs[1]) or any(len(set(p)) != len(p) for p in pairs):
        raise ShapeError(f"tensordot: axes {axes!r} do not pair up")
    for i, j in zip(*pairs):
        if not dims_match(a.shape[i], b.shape[j]):
            raise ShapeError(f"tensordot: shapes {show(a.shape)} and {show(b.shape)} differ "
                             f"on contracted axes {i} and {j}")
    return {"axes": pairs}


def _tensordot_infer(inputs, axes):
    a, b = inputs
    shape = (tuple(d for i, d in enumerate(a.shape) if i not in axes[0])
             + tuple(d for j, d in enumerate(b.shape) if j not in axes[1]))
    return shape, dtype_of("tensordot", np.tensordot, inputs, axes=axes)


def _ordered(t: Tensor, src: list[int]) -> Tensor:
    """t, whose axes stand for axes `src` of an input, put in that input's order."""
    perm = tuple(int(i) for i in np.argsort(src))
    return t if perm == tuple(range(len(perm))) else transpose(t, perm)


def _tensordot_bprop(out, g, wanted):
    a, b = out.inputs
    ax_a, ax_b = out.params["axes"]
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [j for j in range(b.ndim) if j not in ax_b]
    n = len(free_a)
    ga = gb = None
    if wanted[0]:  # g's b-part against b's free axes; b's contracted axes stay, in b's order
        t = tensordot(g, b, (tuple(range(n, g.ndim)), tuple(free_b)))
        ga = _ordered(t, free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)])
    if wanted[1]:
        t = tensordot(a, g, (tuple(free_a), tuple(range(n))))
        gb = _ordered(t, [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b)
    return ga, gb


register(OpDef("tensordot", infer=_tensordot_infer, compute=np.tensordot,
               normalize=_tensordot_normalize, bprop=_tensordot_bprop, bprop_wanted=True))


# -- einsum --------------------------------------------------------------------------------------
def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation as np.einsum: 'ij,jk->ik', '...ij,...jk->...ik', implicit 'ij,jk'."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {subscripts!r}")
    if not operands:
        raise TypeError("einsum needs at least one operand")
    return apply("einsum", list(operands), subscripts=subscripts)


_LETTERS = string.ascii_letters


def _parse_term(subscripts: str, term: str) -> tuple[list[str], int | None]:
    """A term's letters and where its ellipsis stands (None: no ellipsis)."""
    before, ellipsis, after = term.partition("...")
    letters = before + after
    if any(c not in _LETTERS for c in letters):
        raise ShapeError(f"einsum: bad subscripts {subscripts!r}: letters, ',', '->' and "
                         "'...' only")
    return list(letters), len(before) if ellipsis else None


@lru_cache(maxsize=1024)
def canonical_subscripts(subscripts: str, ndims: tuple[int, ...]) -> str:
    """subscripts for operands of these ranks with the ellipsis spelled out in letters, the
    output explicit and the letters renamed in order of appearance, so that equal
    contractions have equal params: 'ij,jk', 'xy,yz->xz' and '...j,jk' (2-D) are all
    'ab,bc->ac'."""
    text = subscripts.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    terms = [_parse_term(subscripts, t) for t in lhs.split(",")]
    if len(terms) != len(ndims):
        raise ShapeError(f"einsum: {subscripts!r} names {len(terms)} operand(s), got "
                         f"{len(ndims)}")
    spare = [c for c in _LETTERS if c not in text]
    width = 0
    for i, ((letters, at), nd) in enumerate(zip(terms, ndims)):
        if nd < len(letters) or (nd > len(letters) and at is None):
            raise ShapeError(f"einsum: operand {i} has {nd} dimension(s), {subscripts!r} "
                             f"names {len(letters)}")
        width = max(width, nd - len(letters))
    if width > len(spare):
        raise ShapeError(f"einsum: too many dimensions for {subscripts!r}")
    broadcast_letters = spare[:width]  # the ellipsis' dimensions, right-aligned as NumPy does
    expanded = []
    for (letters, at), nd in zip(terms, ndims):
        k = nd - len(letters)
        ell = broadcast_letters[width - k:] if k else []
        expanded.append(letters if at is None else letters[:at] + ell + letters[at:])
    if arrow:
        letters, at = _parse_term(subscripts, rhs)
        if at is None and width:
            raise ShapeError(f"einsum: {subscripts!r}: the output needs '...' for the "
                             "dimensions the operands' '...' stand for")
        output = letters if at is None else letters[:at] + broadcast_letters + letters[at:]
    else:  # implicit: letters used once, in alphabetical order, after the ellipsis' dimensions
        every = [c for t in expanded for c in t if c not in broadcast_letters]
        output = broadcast_letters + sorted(c for c in set(every) if every.count(c) == 1)
    used = {c for t in expanded for c in t}
    if len(set(output)) != len(output) or not set(output) <= used:
        raise ShapeError(f"einsum: {subscripts!r}: output letters must be distinct and appear "
                         "among the operands'")
    rename: dict[str, str] = {}
    for c in (c for t in expanded for c in t):
        rename.setdefault(c, _LETTERS[len(rename)])
    spell = lambda letters: "".join(rename[c] for c in letters)  # noqa: E731
    return ",".join(spell(t) for t in expanded) + "->" + spell(output)


def _terms(subscripts: str) -> tuple[list[str], str]:
    lhs, _, rhs = subscripts.partition("->")
    return lhs.split(","), rhs


def _einsum(*operands, subscripts):
    # Contracting by BLAS (optimize=True) pays only beyond small operands: about 15 us of path
    # search against NumPy's own loop, which is far slower for large products.
    big = len(operands) > 2 or (len(operands) == 2 and operands[0].size * operands[1].size
                                > 1 << 16)
    return np.einsum(subscripts, *operands, optimize=big)


def _einsum_infer(inputs, subscripts):
    terms, output = _terms(subscripts)
    sizes: dict[str, list] = {}
    for term, x in zip(terms, inputs):
        for c, d in zip(term, x.shape):
            sizes.setdefault(c, []).append((d,))
    try:  # one letter, one length: NumPy broadcasts a length 1 against it
        dims = {c: broadcast("einsum", *ds)[0] for c, ds in sizes.items()}
    except ShapeError:
        shapes = ", ".join(show(x.shape) for x in inputs)
        raise ShapeError(f"einsum: operands of shapes {shapes} do not fit {subscripts!r}"
                         ) from None
    return tuple(dims[c] for c in output), dtype_of("einsum", _einsum, inputs,
                                                    subscripts=subscripts)


def _einsum_normalize(inputs, subscripts):
    return {"subscripts": canonical_subscripts(subscripts, tuple(t.ndim for t in inputs))}


def _einsum_bprop(out, g, wanted):
    terms, output = _terms(out.params["subscripts"])
    operands = out.inputs
    grads = []
    for i, x in enumerate(operands):
        if not wanted[i]:
            grads.append(None)
            continue
        others = [t for j, t in enumerate(terms) if j != i]
        letters = "".join(dict.fromkeys(terms[i]))  # each letter of x once, in order
        reached = set(output).union(*others)
        kept = "".join(c for c in letters if c in reached)
        if others or kept != output:
            term = einsum(",".join([output, *others]) + "->" + kept, g,
                          *[t for j, t in enumerate(operands) if j != i])
        else:
            term = g
        lost = tuple(k for k, c in enumerate(letters) if c not in reached)
        if lost:  # summed over in x alone: the gradient is the same along them
            term = expand_dims(term, lost)
        if len(letters) < len(terms[i]):  # back onto the diagonal, summed where x broadcast
            diagonal = f"{terms[i]}->{letters}"
            term = sum_like(term, einsum(diagonal, x))
            term = apply("einsum_embed", [term, x], subscripts=diagonal)
        grads.append(term)
    return grads


def _einsum_embed(u, like, *, subscripts):
    """Zeros shaped like `like`, with u on the diagonal that `subscripts` ('ii->i') takes."""
    z = np.zeros(like.shape, u.dtype)
    np.einsum(subscripts, z)[...] = u  # einsum returns a writeable view when it only selects
    return z


register(OpDef("einsum", infer=_einsum_infer, compute=_einsum, normalize=_einsum_normalize,
               bprop=_einsum_bprop, bprop_wanted=True,
    views=True,
))
register(OpDef(  # adjoint of the diagonal a letter repeated in one einsum operand takes
    "einsum_embed",
    infer=lambda inputs, subscripts: (inputs[1].shape, inputs[0].dtype),
    compute=_einsum_embed,
    bprop=lambda out, g: (einsum(out.params["subscripts"], g), None),
))
