"""shapes.py: shape normalising, broadcasting with None, axes, reductions, dtype promotion."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from symgrad.errors import ShapeError
from symgrad.shapes import (
    as_shape,
    broadcast,
    dims_match,
    float_dtype,
    normalize_axes,
    normalize_axis,
    promote,
    reduce_shape,
    scalar_dtype,
    show,
    size,
)


def test_as_shape():
    assert as_shape(3) == (3,)
    assert as_shape([None, np.int64(2)]) == (None, 2)
    assert as_shape(()) == ()
    assert all(type(d) is int for d in as_shape((np.int32(1), 2)))
    for bad in [(-1,), (1.0,), (True,), None, "ab"]:
        with pytest.raises(TypeError):
            as_shape(bad)


def test_show():
    assert show((None, 784)) == "(?, 784)"
    assert show((3,)) == "(3,)"
    assert show(()) == "()"


@pytest.mark.parametrize("shapes, want", [
    (((2, 3), (3,)), (2, 3)),
    (((None, 3), (3,)), (None, 3)),
    (((None, 3), (4, 3)), (4, 3)),
    (((None,), (1,)), (None,)),
    (((1,), (None,)), (None,)),
    (((None,), (None,)), (None,)),
    (((5, 1), (None,)), (5, None)),
    (((), (None, 2)), (None, 2)),
    (((2, 1, 3), (4, 1), (1,)), (2, 4, 3)),
])
def test_broadcast_examples(shapes, want):
    assert broadcast("op", *shapes) == want


@pytest.mark.parametrize("shapes", [((2,), (3,)), ((3,), (None,), (4,)), ((2, 3), (3, 2))])
def test_broadcast_errors_name_op_and_shapes(shapes):
    with pytest.raises(ShapeError) as e:
        broadcast("myop", *shapes)
    assert "myop" in str(e.value)
    for s in shapes:
        assert show(s) in str(e.value)


@settings(max_examples=150, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=4),
       st.data())
def test_broadcast_agrees_with_numpy_whatever_dims_are_unknown(problem, data):
    shapes, result = problem
    assert broadcast("op", *shapes) == result
    masked = [tuple(None if data.draw(st.booleans()) else d for d in s) for s in shapes]
    static = broadcast("op", *masked)  # must not raise: these values do broadcast
    assert len(static) == len(result)
    assert all(d is None or d == r for d, r in zip(static, result)), (masked, static, result)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(1, 3), max_size=3), min_size=2, max_size=3))
def test_broadcast_raises_exactly_when_numpy_does(shapes):
    shapes = [tuple(s) for s in shapes]
    try:
        want = np.broadcast_shapes(*shapes)
    except ValueError:
        with pytest.raises(ShapeError):
            broadcast("op", *shapes)
    else:
        assert broadcast("op", *shapes) == want


def test_dims_match():
    assert dims_match(None, 3) and dims_match(3, None) and dims_match(3, 3)
    assert not dims_match(2, 3)


def test_normalize_axis_and_axes():
    assert normalize_axis("op", -1, 3) == 2
    assert normalize_axis("op", np.int64(1), 3) == 1
    with pytest.raises(ShapeError, match="op"):
        normalize_axis("op", 3, 3)
    with pytest.raises(ShapeError):
        normalize_axis("op", 0, 0)
    with pytest.raises(TypeError):
        normalize_axis("op", 1.0, 3)
    assert normalize_axes("op", None, 3) is None
    assert normalize_axes("op", (2, -3), 3) == (0, 2)
    assert normalize_axes("op", [1], 3) == (1,)
    assert normalize_axes("op", (), 3) == ()
    with pytest.raises(ShapeError):
        normalize_axes("op", (1, -2), 3)


@settings(max_examples=100, deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3), st.data())
def test_reduce_shape_agrees_with_numpy(shape, data):
    ndim = len(shape)
    axes = data.draw(st.none() | st.lists(st.integers(0, max(ndim - 1, 0)), unique=True,
                                          max_size=ndim).map(lambda a: tuple(sorted(a))))
    keepdims = data.draw(st.booleans())
    want = np.sum(np.ones(shape), axis=axes, keepdims=keepdims).shape
    assert reduce_shape(shape, axes, keepdims) == want


def test_size():
    assert size((2, 3)) == 6 and size(()) == 1 and size((0, 4)) == 0
    assert size((None, 3)) is None


def test_dtypes():
    f32, f64, i32 = np.dtype("float32"), np.dtype("float64"), np.dtype("int32")
    assert promote([f32, f64]) == f64
    assert promote([i32, f32]) == f64
    assert promote([np.dtype(bool), np.dtype("int8")]) == np.dtype("int8")
    assert float_dtype(f32) == f32 and float_dtype(i32) == f64
    assert float_dtype(np.dtype(bool)) == f64
    assert scalar_dtype(1.5, [f32]) == f32          # NEP 50: a Python float is weak
    assert scalar_dtype(2, [i32]) == i32
    assert scalar_dtype(1.5, [i32]) == f64
    assert scalar_dtype(1.5, []) == f64
