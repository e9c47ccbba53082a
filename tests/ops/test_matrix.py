"""ops/matrix.py: diagonal trace tril triu, and diagonal's adjoint embed_diagonal."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, normal


def _embed_ref(g, like, *, offset, axis1, axis2):
    z = np.zeros(like.shape, g.dtype)
    zm = np.moveaxis(z, (axis1, axis2), (-2, -1))
    for k in range(g.shape[-1]):
        zm[..., k + max(-offset, 0), k + max(offset, 0)] = g[..., k]
    return z


CASES = [
    OpCase("diagonal", [normal((3, 3))], reference=np.diagonal),
    OpCase("diagonal", [normal((2, 3, 4))], {"offset": 1, "axis1": -1, "axis2": 0},
           np.diagonal, label="offset-axes"),
    OpCase("diagonal", [normal((4, 3))], {"offset": -2}, np.diagonal, label="below"),
    OpCase("embed_diagonal", [normal((3, 1)), normal((2, 3, 4))],
           {"offset": 1, "axis1": 2, "axis2": 0}, _embed_ref,
           builder=lambda g, like, **p: sg.apply("embed_diagonal", [g, like], **p)),
    OpCase("trace", [normal((3, 3))], reference=np.trace),
    OpCase("trace", [normal((2, 3, 4))], {"offset": -1, "axis1": 1, "axis2": 2}, np.trace,
           label="batch"),
    OpCase("tril", [normal((3, 4))], reference=np.tril),
    OpCase("tril", [normal((2, 3, 3))], {"k": -1}, np.tril, label="batch"),
    OpCase("triu", [normal((4, 3))], reference=np.triu),
    OpCase("triu", [normal((2, 3, 3))], {"k": 1}, np.triu, label="batch"),
]


@pytest.mark.parametrize("build, error", [
    (lambda x: sg.diagonal(x), sg.ShapeError),
    (lambda x: sg.trace(x), sg.ShapeError),
    (lambda x: sg.tril(x), sg.ShapeError),
    (lambda x: sg.triu(x), sg.ShapeError),
])
def test_vectors_are_refused(build, error):
    with pytest.raises(error) as e:
        build(sg.Graph().placeholder("v", (3,)))
    assert "(3,)" in str(e.value) and "2 or more" in str(e.value)


def test_bad_axes_and_offsets():
    x = sg.Graph().placeholder("x", (3, 3))
    with pytest.raises(sg.ShapeError, match="both 1"):
        sg.diagonal(x, 0, 1, -1)
    with pytest.raises(TypeError):
        sg.trace(x, offset=0.5)
    with pytest.raises(TypeError):
        sg.tril(x, k=True)


def test_diagonal_of_unknown_dimensions(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 4, 3))
    d = sg.diagonal(x, 1, 1, 2)
    assert d.shape == (None, 2)
    assert sg.diagonal(g.placeholder("y", (None, 3))).shape == (None,)
    v = rng.standard_normal((2, 4, 3))
    np.testing.assert_array_equal(sg.evaluate(d, {x: v}), np.diagonal(v, 1, 1, 2))
