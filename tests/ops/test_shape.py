"""ops/shape.py: transpose reshape broadcast_to expand_dims squeeze swapaxes moveaxis concatenate
stack, and the internal ops derivative rules use (sum_to, concat_part), via sg.apply."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, normal


def _concat_part_ref(g, *parts, index, axis):
    bounds = np.cumsum([p.shape[axis] for p in parts])[:-1]
    return np.split(g, bounds, axis=axis)[index]


CASES = [
    OpCase("transpose", [normal((2, 3, 4))], reference=np.transpose),
    OpCase("transpose", [normal((2, 3, 4))], {"axes": (1, -1, 0)}, np.transpose, label="axes"),
    OpCase("reshape", [normal((2, 6))], {"shape": (3, -1)}, np.reshape),
    OpCase("reshape", [normal((2, 3))], {"shape": (6,)}, np.reshape, label="flat"),
    OpCase("reshape", [normal((1,))], {"shape": ()}, np.reshape, label="scalar"),
    OpCase("reshape", [normal((2, 6)), normal((4, 3))], reference=lambda x, like: x.reshape(
        like.shape), builder=lambda x, like: sg.apply("reshape", [x, like], shape=None),
        label="like"),
    OpCase("broadcast_to", [normal((3,))], {"shape": (2, 3)}, np.broadcast_to),
    OpCase("broadcast_to", [normal((3, 1))], {"shape": (2, 3, 4)}, np.broadcast_to,
           label="middle"),
    OpCase("broadcast_to", [normal((3, 1)), normal((2, 3, 4))],
           reference=lambda x, like: np.broadcast_to(x, like.shape),
           builder=lambda x, like: sg.apply("broadcast_to", [x, like], shape=None),
           label="like"),
    OpCase("sum_to", [normal((2, 3, 4))], {"shape": (3, 1)},
           lambda x, shape: x.sum(axis=0).sum(axis=1, keepdims=True),
           builder=lambda x, shape: sg.apply("sum_to", [x], shape=shape)),
    OpCase("sum_to", [normal((2, 3, 4)), normal((1, 4))],
           reference=lambda x, like: x.sum(axis=(0, 1))[None],
           builder=lambda x, like: sg.apply("sum_to", [x, like], shape=None), label="like"),
    OpCase("expand_dims", [normal((2, 3))], {"axis": (0, 2)}, np.expand_dims,
           builder=lambda x, axis: sg.apply("expand_dims", [x], axis=axis), label="internal"),
    OpCase("expand_dims", [normal((2, 3))], {"axis": -1}, np.expand_dims),
    OpCase("expand_dims", [normal((2, 3))], {"axis": (3, 0)}, np.expand_dims, label="tuple"),
    OpCase("squeeze", [normal((2, 1, 3, 1))], reference=np.squeeze, static_only=True),
    OpCase("squeeze", [normal((2, 1, 3, 1))], {"axis": -1}, np.squeeze, label="axis"),
    OpCase("squeeze", [normal((1, 3, 1))], {"axis": (0, 2)}, np.squeeze, label="tuple"),
    OpCase("swapaxes", [normal((2, 3, 4))], {"axis1": 0, "axis2": -1}, np.swapaxes),
    OpCase("moveaxis", [normal((2, 3, 4))], {"source": 0, "destination": -1}, np.moveaxis),
    OpCase("moveaxis", [normal((2, 3, 4, 5))], {"source": (0, 3), "destination": (2, 0)},
           np.moveaxis, label="tuple"),
    OpCase("concatenate", [normal((2, 3)), normal((4, 3))], {"axis": 0},
           lambda *xs, axis: np.concatenate(xs, axis),
           builder=lambda *xs, axis: sg.concatenate(xs, axis=axis)),
    OpCase("concatenate", [normal((2, 3)), normal((2, 1), "float32"), normal((2, 2))],
           {"axis": -1}, lambda *xs, axis: np.concatenate(xs, axis),
           builder=lambda *xs, axis: sg.concatenate(list(xs), axis), label="mixed"),
    OpCase("concat_part", [normal((5, 3)), normal((2, 3)), normal((3, 3))],
           {"index": 1, "axis": 0}, _concat_part_ref,
           builder=lambda g, *parts, index, axis: sg.apply(
               "concat_part", [g, *parts], index=index, axis=axis)),
    OpCase("stack", [normal((2, 3)), normal((2, 3))], {"axis": 1},
           lambda *xs, axis: np.stack(xs, axis), builder=lambda *xs, axis: sg.stack(xs, axis)),
    OpCase("stack", [normal((3,)), normal((3,)), normal((3,))], {"axis": -1},
           lambda *xs, axis: np.stack(xs, axis), builder=lambda *xs, axis: sg.stack(xs, axis),
           label="last"),
]


def _x(shape=(2, 3), dtype="float64"):
    return sg.Graph().placeholder("x", shape, dtype)


def test_tensor_methods_and_indexing_forms():
    x = _x((2, 3, 4))
    assert x.T.op == "transpose" and x.T.shape == (4, 3, 2)
    assert x.transpose((0, 2, 1)).shape == (2, 4, 3)
    assert x.reshape((4, -1)).shape == (4, 6)
    assert x.reshape(24).shape == (24,)
    assert x[0].shape == (3, 4)
    assert x[:, ::2].shape == (2, 2, 4)
    assert x[None].shape == (1, 2, 3, 4)
    assert x[..., None, 1].shape == (2, 3, 1)
    assert x[5:].shape == (0, 3, 4)
    assert x[0].op == "getitem"


@pytest.mark.parametrize("build, words", [
    (lambda x: x.reshape((4, 2)), ["reshape", "(2, 3)"]),
    (lambda x: x.reshape((4, -1)), ["reshape", "(2, 3)"]),
    (lambda x: x.reshape((-1, -1)), ["reshape"]),
    (lambda x: x.transpose((0, 0)), ["transpose", "(2, 3)"]),
    (lambda x: x.transpose((0, 2)), ["transpose"]),
    (lambda x: sg.broadcast_to(x, (3, 3)), ["broadcast_to", "(2, 3)", "(3, 3)"]),
    (lambda x: sg.broadcast_to(x, (3,)), ["broadcast_to", "(2, 3)", "(3,)"]),
    (lambda x: sg.broadcast_to(x, (None, 3)), ["broadcast_to"]),
    (lambda x: sg.concatenate([x, x.T], 0), ["concatenate", "(2, 3)", "(3, 2)"]),
    (lambda x: sg.concatenate([x, x[0]], 0), ["concatenate", "(2, 3)", "(3,)"]),
    (lambda x: sg.stack([x, x.T]), ["stack", "(2, 3)", "(3, 2)"]),
    (lambda x: sg.stack([x, x], axis=3), ["stack"]),
    (lambda x: sg.take(x, x.astype("float32")), ["take", "float32"]),
    (lambda x: sg.concatenate([x, x], axis=2), ["concatenate"]),
])
def test_shape_errors_at_construction_name_op_and_shapes(build, words):
    with pytest.raises(sg.ShapeError) as e:
        build(_x())
    for w in words:
        assert w in str(e.value)


def test_joining_merges_none_dims_with_known_ones(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    y = g.placeholder("y", (2, None))
    assert sg.concatenate([x, y], 0).shape == (None, 3)
    assert sg.concatenate([y, x], 1).shape == (2, None)
    assert sg.stack([x, y]).shape == (2, 2, 3)
    vx, vy = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_array_equal(sg.evaluate(sg.stack([x, y], 1), {x: vx, y: vy}),
                                  np.stack([vx, vy], 1))


def test_join_needs_a_tensor():
    with pytest.raises((ValueError, TypeError)):
        sg.concatenate([], 0)


def test_reshape_of_unknown_size():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    r = x.reshape((-1, 6))
    assert r.shape == (None, 6)
    v = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(sg.evaluate(r, {x: v}), v.reshape(-1, 6))


def test_reshape_accepts_numpy_integers():
    x = _x((2, 3))
    assert x.reshape((np.int64(3), np.int32(2))).shape == (3, 2)
    assert x.reshape(np.int64(6)).shape == (6,)


def test_broadcast_to_like_a_tensor_with_none_dims(rng):
    """The internal form for a shape known only at run time: shape=None, a second input."""
    g = sg.Graph()
    x = g.placeholder("x", (1, 3))
    like = g.placeholder("like", (None, 3))
    b = sg.apply("broadcast_to", [x, like], shape=None)
    s = sg.apply("sum_to", [b, x], shape=None)
    assert b.shape == (None, 3) and s.shape == (1, 3)
    vx = rng.standard_normal((1, 3))
    for rows in (4, 1):
        got_b, got_s = sg.evaluate([b, s], {x: vx, like: np.zeros((rows, 3))})
        np.testing.assert_array_equal(got_b, np.broadcast_to(vx, (rows, 3)))
        np.testing.assert_allclose(got_s, vx * rows)
    with pytest.raises(sg.ShapeError, match="broadcast_to"):
        sg.apply("broadcast_to", [like, g.placeholder("z", (2, 4))], shape=None)


@pytest.mark.parametrize("build, words", [
    (lambda x: sg.squeeze(x), ["squeeze", "(?, 1)", "axes"]),
    (lambda x: sg.squeeze(x, 2), ["squeeze", "out of range"]),
    (lambda x: sg.expand_dims(x, (0, 0)), ["expand_dims", "repeated"]),
    (lambda x: sg.expand_dims(x, 3), ["expand_dims", "out of range"]),
    (lambda x: sg.moveaxis(x, (0, 1), 0), ["moveaxis", "length"]),
    (lambda x: sg.moveaxis(x, (0, 0), (0, 1)), ["moveaxis", "repeated"]),
    (lambda x: sg.swapaxes(x, 0, 2), ["swapaxes", "out of range"]),
])
def test_axis_errors_name_the_op(build, words):
    x = sg.Graph().placeholder("x", (None, 1))
    with pytest.raises(sg.ShapeError) as e:
        build(x)
    for w in words:
        assert w in str(e.value)


def test_squeeze_of_an_unknown_dimension_is_checked_at_run_time(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    y = sg.squeeze(x, 0)
    assert y.shape == (3,) and sg.squeeze(g.placeholder("w", (None, 1)), 1).shape == (None,)
    np.testing.assert_array_equal(sg.evaluate(y, {x: np.ones((1, 3))}), np.ones(3))
    with pytest.raises(sg.ShapeError, match="squeeze"):
        sg.evaluate(y, {x: np.ones((2, 3))})
    with pytest.raises(sg.ShapeError, match="squeeze"):
        sg.squeeze(g.placeholder("z", (2, 3)), 0)


def test_expand_dims_and_squeeze_params_are_canonical():
    x = _x((2, 3))
    assert sg.expand_dims(x, -1).params == sg.expand_dims(x, (2,)).params == {"axis": (2,)}
    assert sg.expand_dims(x, [3, 0]).params == {"axis": (0, 3)}
    assert sg.squeeze(_x((1, 2, 1))).params == sg.squeeze(_x((1, 2, 1)), (-1, 0)).params
    assert sg.moveaxis(_x((2, 3, 4)), -1, 0).params == {"source": (2,), "destination": (0,)}


def test_transpose_and_getitem_params_are_canonical():
    x = _x((2, 3, 4))
    assert x.transpose((0, -1, 1)).params == x.transpose((0, 2, 1)).params
    assert x.T.params == x.transpose((2, 1, 0)).params
    assert sg.take(x, [0], axis=-1).params == sg.take(x, [0], axis=2).params
