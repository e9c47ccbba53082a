"""ops/indexing.py: basic indexing, take, and their adjoints scatter and scatter_add."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, index, normal


def _scatter_ref(g, like, *, index):
    z = np.zeros(like.shape, g.dtype)
    z[index] = g
    return z


def _scatter_add_ref(g, like, idx, *, axis):
    z = np.zeros(like.shape, g.dtype)
    for pos in np.ndindex(idx.shape):  # repeated indices add up
        z[:, idx[pos]] += g[(slice(None), *pos)]
    return z


def _getitem_case(idx, shape, label):
    return OpCase("getitem", [normal(shape)], {"index": idx}, lambda x, index: x[index],
                  builder=lambda x, index: x[index], label=label)


CASES = [
    _getitem_case((slice(None), 1), (3, 4), "column"),
    _getitem_case((-1,), (3, 4), "last-row"),
    _getitem_case((1, 2), (3, 4), "element"),
    _getitem_case((slice(1, None, 2), None), (5, 2), "step-newaxis"),
    _getitem_case((Ellipsis, slice(None, None, -1)), (2, 3, 4), "ellipsis-reverse"),
    _getitem_case((None,), (3,), "newaxis"),
    _getitem_case((slice(-3, -1), Ellipsis, 0), (4, 2, 3), "negative-slice"),
    OpCase("scatter", [normal((3,)), normal((3, 4))], {"index": (slice(None), 1)},
           _scatter_ref, label="column",
           builder=lambda g, like, index: sg.apply(
               "scatter", [g, like], index=(("slice", None, None, None), 1))),
    OpCase("take", [normal((3, 5)), index((2, 2), 5)], {"axis": 1}, np.take),
    OpCase("take", [normal((3, 5)), index((4,), 15)], reference=np.take, label="flat"),
    OpCase("take", [normal((4, 2)), index((3,), 4)], {"axis": -2}, np.take, label="negative"),
    OpCase("scatter_add", [normal((3, 2, 2)), normal((3, 5)), index((2, 2), 3)], {"axis": 1},
           _scatter_add_ref,  # few classes, four indices: repeats
           builder=lambda g, like, idx, axis: sg.apply("scatter_add", [g, like, idx], axis=axis)),
]


def _x(shape=(2, 3), dtype="float64"):
    return sg.Graph().placeholder("x", shape, dtype)


def test_indexing_a_none_dimension():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    assert x[1:].shape == (None, 3) and x[:, 1].shape == (None,) and x[0].shape == (3,)
    v = np.arange(12.0).reshape(4, 3)
    got = sg.evaluate([x[1:], x[:, 1], x[-1]], {x: v})
    for a, b in zip(got, [v[1:], v[:, 1], v[-1]]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("index, error", [
    ((0, 0, 0), sg.ShapeError),                 # too many indices
    ((3,), sg.ShapeError),                      # out of range
    ((slice(None), -4), sg.ShapeError),
    ((Ellipsis, Ellipsis), sg.ShapeError),
    ((1.5,), TypeError),
    (([0, 1],), TypeError),                     # advanced indexing: use sg.take
    ((slice(0.5, 2),), TypeError),
    ((True,), TypeError),
])
def test_bad_indices_raise(index, error):
    with pytest.raises(error):
        _x((3, 3))[index]


def test_zero_slice_step_raises():
    with pytest.raises(ValueError):
        _x((3, 3))[::0]


def test_take_with_float_index_array_raises_type_error():
    with pytest.raises(TypeError):
        sg.take(_x(), [0.5, 1.0])


def test_take_with_a_python_list_and_a_tensor_index(rng):
    g = sg.Graph()
    x = g.placeholder("x", (4, 3))
    i = g.placeholder("i", (None,), "int32")
    a, b = sg.take(x, [3, 0, 3], axis=0), sg.take(x, i, axis=1)
    assert a.shape == (3, 3) and b.shape == (4, None)
    v, vi = rng.standard_normal((4, 3)), np.array([2, 2, 0, -1], "int32")
    got_a, got_b = sg.evaluate([a, b], {x: v, i: vi})
    np.testing.assert_array_equal(got_a, v[[3, 0, 3]])
    np.testing.assert_array_equal(got_b, v[:, vi])
