"""Static shapes and dtypes: broadcasting with unknown (None) dimensions, axes, promotion.

Pure functions on tuples and numpy dtypes; knows nothing of graphs or operations.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np

from .errors import ShapeError

Shape = tuple  # tuple[int | None, ...]; None is a dimension fixed only when values are fed


def as_shape(shape: object, what: str = "shape") -> Shape:
    """Checks and normalises a user's shape: an int or a sequence of non-negative ints or None."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be a tuple of ints or None, got {shape!r}") from None
    out = []
    for d in dims:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            out.append(int(d))
        else:
            raise TypeError(f"{what} must be a tuple of non-negative ints or None, got {shape!r}")
    return tuple(out)


def show(shape: Shape) -> str:
    """A shape as users write it, with '?' for an unknown dimension: (?, 784)."""
    inner = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def broadcast(op: str, *shapes: Shape) -> Shape:
    """NumPy's broadcasting on static shapes; a None dimension may turn out 1 or anything."""
    if len(shapes) == 2:  # the common cases first: equal shapes, or one scalar
        a, b = shapes
        if a == b or not b:
            return a
        if not a:
            return b
    elif len(shapes) == 1:
        return shapes[0]
    ndim = max([len(s) for s in shapes])
    out = []
    for i in range(-ndim, 0):
        dim: int | None = 1
        for s in shapes:
            d = s[i] if -i <= len(s) else 1
            if d == 1 or d == dim:
                continue
            if dim == 1:
                dim = d
            elif d is None:
                continue  # None meets a known size: it must be 1 or that size at run time
            elif dim is None:
                dim = d
            else:
                raise ShapeError(
                    f"{op}: shapes {', '.join(show(s) for s in shapes)} do not broadcast"
                )
        out.append(dim)
    return tuple(out)


def dims_match(a: int | None, b: int | None) -> bool:
    """Whether two dimensions can be equal at run time."""
    return a is None or b is None or a == b


def normalize_axis(op: str, axis: object, ndim: int) -> int:
    """One axis as a non-negative int, NumPy's negative counting included."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def normalize_axes(op: str, axis: object, ndim: int) -> tuple[int, ...] | None:
    """None, an int or a tuple of ints as a sorted tuple of non-negative axes (None: all)."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(sorted(normalize_axis(op, a, ndim) for a in axes))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return out


def reduce_shape(shape: Shape, axes: tuple[int, ...] | None, keepdims: bool) -> Shape:
    """The shape left by a reduction over `axes` (None: all axes)."""
    if axes is None:
        axes = tuple(range(len(shape)))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def size(shape: Shape) -> int | None:
    """Number of elements, or None when a dimension is unknown."""
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind in "fc"


@cache
def _promote(dtypes: tuple[np.dtype, ...]) -> np.dtype:
    return np.result_type(*dtypes)


def promote(dtypes: Iterable[np.dtype]) -> np.dtype:
    """NumPy's promotion of array dtypes (Python scalars are lifted to a dtype before this)."""
    return _promote(tuple(dtypes))


def float_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a float function returns: float32 stays, integers and booleans go to float64."""
    return dtype if is_float(dtype) else np.dtype(np.float64)


def scalar_dtype(value: bool | int | float | complex, dtypes: Iterable[np.dtype]) -> np.dtype:
    """The dtype a Python number takes beside arrays: NumPy 2's weak scalar rule (NEP 50)."""
    return np.result_type(*dtypes, value)
