"""ops/rearrange.py: flip roll tile repeat pad split, and the adjoints sum_tiles, sum_repeats."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, normal


def _piece(i):
    """split's output i (the case checks one output; the others get no gradient)."""
    return lambda x, **p: sg.split(x, **p)[i]


def _sum_tiles_ref(g, *, reps, ndim):
    dims = [n // r for n, r in zip(g.shape, reps)]
    out = np.zeros(dims, g.dtype)
    for pos in np.ndindex(*reps):
        out += g[tuple(slice(p * d, (p + 1) * d) for p, d in zip(pos, dims))]
    return out.reshape(out.shape[len(reps) - ndim:])


def _sum_repeats_ref(g, *, repeats, axis):
    counts = [repeats] * (g.shape[axis] // repeats) if isinstance(repeats, int) else repeats
    bounds = np.cumsum([0, *counts])
    return np.stack([np.take(g, range(a, b), axis).sum(axis) for a, b in
                     zip(bounds, bounds[1:])], axis)


CASES = [
    OpCase("flip", [normal((2, 3))], reference=np.flip),
    OpCase("flip", [normal((2, 3, 4))], {"axis": (0, -1)}, np.flip, label="axes"),
    OpCase("roll", [normal((2, 3))], {"shift": 2}, np.roll, label="flat"),
    OpCase("roll", [normal((2, 3, 4))], {"shift": (1, -2), "axis": (0, 2)}, np.roll),
    OpCase("roll", [normal((3, 4))], {"shift": (1, 2), "axis": 1}, np.roll, label="summed"),
    OpCase("tile", [normal((2, 3))], {"reps": (2, 1)}, np.tile),
    OpCase("tile", [normal((3,))], {"reps": (2, 1, 2)}, np.tile, label="more-reps"),
    OpCase("tile", [normal((2, 1, 3))], {"reps": 2}, np.tile, label="fewer-reps"),
    OpCase("sum_tiles", [normal((2, 6))], {"reps": (2, 3), "ndim": 1}, _sum_tiles_ref,
           builder=lambda g, **p: sg.apply("sum_tiles", [g], **p)),
    OpCase("repeat", [normal((2, 3))], {"repeats": 2}, np.repeat, label="flat"),
    OpCase("repeat", [normal((2, 3))], {"repeats": 3, "axis": 0}, np.repeat),
    OpCase("repeat", [normal((2, 3))], {"repeats": (1, 0, 2), "axis": -1}, np.repeat,
           label="counts"),
    OpCase("sum_repeats", [normal((2, 6))], {"repeats": 3, "axis": 1}, _sum_repeats_ref,
           builder=lambda g, **p: sg.apply("sum_repeats", [g], **p)),
    OpCase("sum_repeats", [normal((3, 2))], {"repeats": (2, 0, 1), "axis": 0}, _sum_repeats_ref,
           builder=lambda g, **p: sg.apply("sum_repeats", [g], **p), label="counts"),
    OpCase("pad", [normal((2, 3))], {"pad_width": 1}, np.pad),
    OpCase("pad", [normal((2, 3))], {"pad_width": ((0, 2), (1, 0)), "constant_values": 1.5},
           np.pad, label="pairs"),
    OpCase("split", [normal((6, 2))], {"indices_or_sections": 3},
           lambda x, **p: np.split(x, **p)[1], _piece(1)),
    OpCase("split", [normal((2, 7))], {"indices_or_sections": (2, 5), "axis": -1},
           lambda x, **p: np.split(x, **p)[2], _piece(2), label="indices"),
]


def _x(shape=(2, 3), dtype="float64"):
    return sg.Graph().placeholder("x", shape, dtype)


def test_split_is_one_node_with_an_output_per_piece(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 6))
    a, b, c = sg.split(x, (1, 4), axis=1)
    assert {t.op for t in (a, b, c)} == {"output"} and a.inputs == b.inputs == c.inputs
    assert [t.shape for t in (a, b, c)] == [(None, 1), (None, 3), (None, 2)]
    loss = (a.sum() * 1.0 + (b * b).sum() * 2.0 + c.sum() * 3.0)
    v = rng.standard_normal((4, 6))
    got = sg.evaluate(sg.grad(loss, x), {x: v})
    want = np.concatenate([np.ones((4, 1)), 4.0 * v[:, 1:4], 3.0 * np.ones((4, 2))], axis=1)
    np.testing.assert_allclose(got, want)
    pieces = sg.split(g.placeholder("y", (None,)), 2)  # unknown length: pieces of unknown length
    assert [p.shape for p in pieces] == [(None,), (None,)]
    with pytest.raises(sg.ShapeError, match="split"):
        sg.evaluate(pieces[0], {"y": np.ones(3)})  # 3 does not split in 2: NumPy's error


def test_split_of_an_unused_piece_sends_zeros(rng):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    first, _ = sg.split(x, 2)
    got = sg.evaluate(sg.grad((first * first).sum(), x), {x: np.arange(4.0)})
    np.testing.assert_array_equal(got, [0.0, 2.0, 0.0, 0.0])


def test_tile_and_repeat_with_zero_copies_have_zero_gradients():
    x = _x((2, 3))
    for y in (sg.tile(x, (0, 2)), sg.repeat(x, 0, axis=1)):
        assert 0 in y.shape
        grad = sg.gradients(y, x, grad_ys=np.zeros(y.shape))[0]
        np.testing.assert_array_equal(sg.evaluate(grad, {x: np.ones((2, 3))}), np.zeros((2, 3)))


@pytest.mark.parametrize("build, error, words", [
    (lambda x: sg.split(x, 4, axis=1), sg.ShapeError, ["split", "(2, 3)", "4"]),
    (lambda x: sg.split(x, 0), sg.ShapeError, ["split"]),
    (lambda x: sg.split(x, 2.5), TypeError, ["split"]),
    (lambda x: sg.tile(x, (-1,)), sg.ShapeError, ["tile"]),
    (lambda x: sg.tile(x, 1.5), TypeError, ["tile"]),
    (lambda x: sg.repeat(x, (1, 2), axis=1), sg.ShapeError, ["repeat", "2 repeats", "3"]),
    (lambda x: sg.repeat(x, -1), sg.ShapeError, ["repeat"]),
    (lambda x: sg.pad(x, ((1, 2), (3, 4), (5, 6))), sg.ShapeError, ["pad", "2 axes"]),
    (lambda x: sg.pad(x, -1), sg.ShapeError, ["pad", "negative"]),
    (lambda x: sg.pad(x, 1, mode="reflect"), sg.ShapeError, ["pad", "reflect"]),
    (lambda x: sg.pad(x, 0.5), TypeError, ["pad"]),
    (lambda x: sg.roll(x, (1, 2)), sg.ShapeError, ["roll"]),
    (lambda x: sg.roll(x, (1, 2, 3), axis=(0, 1)), sg.ShapeError, ["roll"]),
    (lambda x: sg.flip(x, 2), sg.ShapeError, ["flip", "out of range"]),
])
def test_bad_arguments_raise_naming_the_op(build, error, words):
    with pytest.raises(error) as e:
        build(_x())
    for w in words:
        assert w in str(e.value)


def test_repeat_counts_must_match_a_run_time_length():
    g = sg.Graph()
    x = g.placeholder("x", (None,))
    y = sg.repeat(x, (1, 2))
    assert y.shape == (3,)
    np.testing.assert_array_equal(sg.evaluate(y, {x: [5.0, 7.0]}), [5.0, 7.0, 7.0])
    with pytest.raises(sg.ShapeError, match="repeat"):
        sg.evaluate(y, {x: [1.0, 2.0, 3.0]})
