"""ops/indexing.py: basic and advanced indexing (integer arrays, boolean masks), take, and the
adjoints scatter and scatter_add."""

import itertools

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, boolean, index, normal


def _scatter_ref(g, like, *, index):
    z = np.zeros(like.shape, g.dtype)
    z[index] = g
    return z


def _scatter_ref_arrays(g, like, i, *, index):
    z = np.zeros(like.shape, g.dtype)
    np.add.at(z, i, g)
    return z


def _scatter_add_ref(g, like, idx, *, axis):
    z = np.zeros(like.shape, g.dtype)
    for pos in np.ndindex(idx.shape):  # repeated indices add up
        z[:, idx[pos]] += g[(slice(None), *pos)]
    return z


def _getitem_case(idx, shape, label):
    return OpCase("getitem", [normal(shape)], {"index": idx}, lambda x, index: x[index],
                  builder=lambda x, index: x[index], label=label)


def _advanced_case(shape, arrays, items, label, **kw):
    """x[items] where "array" in items stands for the next of the `arrays` (placeholders)."""
    def numpy_index(arrays, items):
        it = iter(arrays)
        return tuple(next(it) if i == "array" else i for i in items)
    return OpCase("getitem", [normal(shape), *arrays], {"items": items},
                  lambda x, *a, items: x[numpy_index(a, items)],
                  builder=lambda x, *a, items: x[numpy_index(a, items)], label=label, **kw)


CASES = [
    _getitem_case((slice(None), 1), (3, 4), "column"),
    _getitem_case((-1,), (3, 4), "last-row"),
    _getitem_case((1, 2), (3, 4), "element"),
    _getitem_case((slice(1, None, 2), None), (5, 2), "step-newaxis"),
    _getitem_case((Ellipsis, slice(None, None, -1)), (2, 3, 4), "ellipsis-reverse"),
    _getitem_case((None,), (3,), "newaxis"),
    _getitem_case((slice(-3, -1), Ellipsis, 0), (4, 2, 3), "negative-slice"),
    _advanced_case((5, 3), [index((4,), 5)], ("array",), "int-array"),
    _advanced_case((5, 3), [index((2, 2), 3)], (slice(1, None), "array"), "int-array-2d"),
    _advanced_case((3, 4, 5), [index((2,), 3), index((2,), 5)], ("array", slice(None),
                   "array"), "apart"),  # split by a slice: the indexed axis goes first
    _advanced_case((3, 4, 5), [index((2,), 4)], (0, slice(None, 2), "array"), "int-apart"),
    _advanced_case((3, 4), [boolean((3, 4))], ("array",), "mask", sized_by_values=True),
    _advanced_case((3, 4, 2), [boolean((4,))], (slice(None), "array"), "mask-axis",
                   sized_by_values=True),
    _advanced_case((3, 4), [boolean((3,)), index((1,), 4)], ("array", "array"), "mask-int",
                   sized_by_values=True),
    OpCase("scatter", [normal((4, 3)), normal((5, 3)), index((4,), 5)],
           {"index": (("array", 0),)}, _scatter_ref_arrays, label="repeats",
           builder=lambda g, like, i, index: sg.apply("scatter", [g, like, i], index=index)),
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
    (([0.5, 1],), TypeError),                   # an index array of floats
    ((np.array(True),), TypeError),
    ((slice(0.5, 2),), TypeError),
    ((np.ones(3, bool), np.ones(2, bool)), sg.ShapeError),  # two masks that do not broadcast
    ((np.ones((3, 2), bool),), sg.ShapeError),  # the mask's shape is not x's
    ((np.ones((2, 2), int), np.ones(3, int)), sg.ShapeError),
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


def _index_forms():
    """Index tuples for an array of shape (3, 4, 5): each item one of these."""
    items = [0, -1, slice(None), slice(1, None, 2), None, Ellipsis, np.array([2, 0, 2]),
             np.array([[1], [0]]), np.array([True, False, True])]
    for n in (1, 2, 3):
        for combo in itertools.product(items, repeat=n):
            if sum(i is Ellipsis for i in combo) <= 1:
                yield combo


def test_static_shapes_follow_numpy_for_every_mix_of_basic_and_advanced_items(rng):
    """Where the advanced dimensions go (in place when side by side, else first) and what each
    item consumes, against NumPy on a few thousand index tuples."""
    v = rng.standard_normal((3, 4, 5))
    x = sg.Graph().placeholder("x", (3, 4, 5))
    checked = 0
    for combo in _index_forms():
        try:
            want = v[combo].shape
        except IndexError:  # refused at once, or (a mask's count) when the values are there
            with pytest.raises((sg.ShapeError, TypeError)):
                sg.evaluate(x[combo], {x: v})
            continue
        got = x[combo].shape
        masked = any(getattr(i, "dtype", None) == np.dtype(bool) for i in combo)
        assert len(got) == len(want) and all(
            g == w or (g is None and masked) for g, w in zip(got, want)), (combo, got, want)
        checked += 1
    assert checked > 500


def test_advanced_indexing_values_and_gradients(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    i = g.placeholder("i", (None,), "int64")
    m = g.placeholder("m", (None, 3), "bool")
    rows, picked = x[i], x[m]
    assert rows.shape == (None, 3) and picked.shape == (None,)
    assert x[[0, 2], 1:].shape == (2, 2) and x[[]].shape == (0, 3)
    vx, vi = rng.standard_normal((4, 3)), np.array([3, 0, 3])
    vm = vx > 0
    feed = {x: vx, i: vi, m: vm}
    got_rows, got_picked = sg.evaluate([rows, picked], feed)
    np.testing.assert_array_equal(got_rows, vx[vi])
    np.testing.assert_array_equal(got_picked, vx[vm])
    gx = sg.evaluate(sg.grad(rows.sum() + 10 * picked.sum(), x), feed)
    want = np.zeros((4, 3))
    np.add.at(want, vi, 1.0)  # row 3 taken twice: its gradient counts twice
    np.testing.assert_array_equal(gx, want + 10 * vm)


def test_index_values_out_of_range_fail_at_run_time_naming_the_node():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = x[g.placeholder("i", (2,), "int64")]
    y.name = "picked"
    with pytest.raises(sg.ShapeError, match="picked"):
        sg.evaluate(y, {x: np.zeros(3), "i": np.array([0, 3])})


def test_index_arrays_are_inputs_and_params_stay_plain():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    y = x[np.array([0, 2]), 1:]
    assert y.params == {"index": (("array", 0), ("slice", 1, None, None))}
    assert y.inputs[1].op == "constant" and y.inputs[1].dtype.kind == "i"
    with pytest.raises(TypeError, match="stack"):
        x[[g.placeholder("i", (), "int64")]]
