"""ops/updates.py: set_at and add_at (JAX's x.at[index].set/add), repeated indices included."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, boolean, index, normal


def _set_ref(x, v, *arrays, index):
    z = x.copy()
    z[_numpy_index(index, arrays)] = v
    return z


def _add_ref(x, v, *arrays, index):
    z = x.copy()
    np.add.at(z, _numpy_index(index, arrays), v)
    return z


def _numpy_index(index, arrays):
    it = iter(arrays)
    return tuple(next(it) if i == "array" else i for i in index)


def _case(op, x, v, arrays, index, label):
    """index: items as NumPy takes them, "array" standing for the next of `arrays`."""
    def build(x, v, *arrays, index):
        return getattr(sg, op)(x, _numpy_index(index, arrays), v)
    ref = _set_ref if op == "set_at" else _add_ref
    return OpCase(op, [x, v, *arrays], {"index": index}, ref, build, label)


CASES = [
    _case("set_at", normal((4, 3)), normal((3,)), [], (1,), "row"),
    _case("set_at", normal((4, 3)), normal((2, 1)), [], (slice(1, 3), slice(None)), "slice"),
    _case("set_at", normal((5, 3)), normal((4, 3)), [index((4,), 5)], ("array",), "repeats"),
    _case("set_at", normal((3, 4)), normal(()), [boolean((3, 4))], ("array",), "mask"),
    _case("set_at", normal((3, 4)), normal((2,)), [index((2,), 3)], ("array", 1), "mixed"),
    _case("add_at", normal((5, 3)), normal((6, 3)), [index((6,), 5)], ("array",), "repeats"),
    _case("add_at", normal((3, 4)), normal((3,)), [], (slice(None), 2), "column"),
    _case("add_at", normal((3, 4)), normal(()), [boolean((3, 4))], ("array",), "mask"),
    _case("add_at", normal((3, 4, 2)), normal((4, 2)),
          [index((4,), 3), index((4,), 4)], ("array", "array"), "pairs"),
    OpCase("set_at_winners", [normal((3,)), index((5,), 3)], {"index": ("array",)},
           lambda like, idx, index: _winners_ref(like.shape, idx),
           builder=lambda like, idx, index: sg.apply("set_at_winners", [like, idx],
                                                     index=(("array", 0),))),
]


def _winners_ref(shape, idx):
    last = {}
    for k, i in enumerate(idx % shape[0]):
        last[i] = k
    return np.array([last[i] == k for k, i in enumerate(idx % shape[0])])


def test_repeated_indices_add_up_in_add_at_and_the_last_stays_in_set_at():
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    v = g.placeholder("v", (3,))
    idx = np.array([2, 0, 2])
    added, put = sg.add_at(x, idx, v), sg.set_at(x, idx, v)
    vx, vv = np.zeros(4), np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(sg.evaluate(added, {x: vx, v: vv}), [2.0, 0.0, 4.0, 0.0])
    np.testing.assert_array_equal(sg.evaluate(put, {x: vx, v: vv}), [2.0, 0.0, 3.0, 0.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0])  # a weight per element of the result
    gx, gv = sg.gradients((added * w).sum(), [x, v])
    np.testing.assert_array_equal(sg.evaluate(gx, {x: vx, v: vv}), w)
    np.testing.assert_array_equal(sg.evaluate(gv, {x: vx, v: vv}), [100.0, 1.0, 100.0])
    gx, gv = sg.gradients((put * w).sum(), [x, v])
    np.testing.assert_array_equal(sg.evaluate(gx, {x: vx, v: vv}), [0.0, 10.0, 0.0, 1000.0])
    # the first value written at 2 is overwritten: no gradient reaches it
    np.testing.assert_array_equal(sg.evaluate(gv, {x: vx, v: vv}), [0.0, 1.0, 100.0])


def test_set_at_with_a_scalar_value_over_repeated_indices(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3, 2))
    v = g.placeholder("v", ())
    y = sg.set_at(x, [1, 1, 2], v)
    gv = sg.evaluate(sg.grad((y * np.arange(6.0).reshape(3, 2)).sum(), v), {x: np.ones((3, 2)),
                                                                            v: 5.0})
    assert gv == 2 + 3 + 4 + 5  # rows 1 and 2 hold v; the repeat counts once


def test_updates_leave_x_alone_and_take_tensors_as_indices(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    i = g.placeholder("i", (None,), "int32")
    y = sg.add_at(x, (i, 0), 1.0)
    z = sg.set_at(x, x > 0, 0.0)  # a boolean tensor as the mask: relu by hand
    assert y.shape == z.shape == (None, 3)
    vx = rng.standard_normal((4, 3))
    got_y, got_z, got_x = sg.evaluate([y, z, x], {x: vx, i: np.array([3, 3, -4], "int32")})
    want = vx.copy()
    want[3, 0] += 2.0
    want[0, 0] += 1.0
    np.testing.assert_allclose(got_y, want)
    np.testing.assert_array_equal(got_z, np.minimum(vx, 0.0))
    np.testing.assert_array_equal(got_x, vx)


def test_a_python_number_takes_the_dtype_of_x():
    g = sg.Graph()
    x = g.placeholder("x", (3,), "float32")
    y = sg.set_at(x, np.array([0, 1], dtype=np.int64), 2.5)
    assert y.dtype == np.float32 and y.inputs[1].dtype == np.float32


@pytest.mark.parametrize("build, words", [
    (lambda x: sg.set_at(x, 0, np.ones(4)), ["set_at", "(4,)", "(3,)"]),
    (lambda x: sg.add_at(x, (slice(None), 0), np.ones((1, 2))), ["add_at", "(1, 2)"]),
    (lambda x: sg.set_at(x.astype("int32"), 0, 1.5), ["set_at", "float64", "int32"]),
    (lambda x: sg.set_at(x, 5, 1.0), ["set_at", "out of range"]),
    (lambda x: sg.add_at(x, np.ones((2, 2), bool), 1.0), ["add_at", "mask"]),
])
def test_bad_updates_raise_shape_errors(build, words):
    with pytest.raises(sg.ShapeError) as e:
        build(sg.Graph().placeholder("x", (2, 3)))
    for w in words:
        assert w in str(e.value)


def test_an_index_out_of_range_at_run_time_names_the_node():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    i = g.placeholder("i", (2,), "int64")
    y = sg.add_at(x, i, 1.0)
    y.name = "bump"
    with pytest.raises(sg.ShapeError, match="bump"):
        sg.evaluate(y, {x: np.zeros(3), i: np.array([0, 7])})
