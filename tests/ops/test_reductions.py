"""ops/reductions.py: sum mean max min logsumexp argmax and max_and_argmax against NumPy."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, distinct, index, normal


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _first(pair_builder):
    return lambda x, **p: pair_builder(x, **p)[0]


CASES = [
    OpCase("sum", [normal((2, 3, 4))], reference=np.sum),
    OpCase("sum", [normal((2, 3, 4))], {"axis": 1}, np.sum, label="axis"),
    OpCase("sum", [normal((2, 3, 4))], {"axis": (0, -1), "keepdims": True}, np.sum,
           label="axes-keepdims"),
    OpCase("sum", [index((3, 2), 5)], {"axis": 0}, np.sum, label="int"),
    OpCase("mean", [normal((2, 3, 4))], {"axis": -1}, np.mean),
    OpCase("mean", [normal((3, 4))], {"keepdims": True}, np.mean, label="all-keepdims"),
    OpCase("mean", [index((3, 4), 7)], {"axis": 1}, np.mean, label="int"),
    OpCase("max", [distinct((3, 4))], {"axis": 1}, np.max),           # no ties
    OpCase("max", [distinct((2, 3, 2))], {"axis": (0, 2), "keepdims": True}, np.max,
           label="axes"),
    OpCase("max", [distinct((5,))], reference=np.max, label="all"),
    OpCase("min", [distinct((3, 4))], {"axis": 0}, np.min),
    OpCase("min", [distinct((3, 4))], reference=np.min, label="all"),
    OpCase("logsumexp", [normal((3, 4))], {"axis": 1}, _logsumexp),
    OpCase("logsumexp", [normal((2, 3, 4))], {"axis": (0, 2), "keepdims": True}, _logsumexp,
           label="axes"),
    OpCase("logsumexp", [normal((3, 4))], reference=_logsumexp, label="all"),
    OpCase("argmax", [distinct((3, 4))], {"axis": 1}, np.argmax),
    OpCase("argmax", [distinct((3, 4))], {"axis": 0, "keepdims": True}, np.argmax,
           label="keepdims"),
    OpCase("argmax", [distinct((3, 4))], reference=np.argmax, label="all"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": 1}, np.max,
           builder=_first(sg.max_and_argmax), label="max"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": 0}, np.argmax,
           builder=lambda x, axis: sg.max_and_argmax(x, axis)[1], label="argmax"),
    OpCase("max_and_argmax", [distinct((3, 4))], {"axis": None}, np.max,
           builder=_first(sg.max_and_argmax), label="all"),
]


def test_argmax_is_integer_and_max_and_argmax_is_one_node_of_two_outputs(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 5), "float32")
    assert sg.argmax(x, axis=1).dtype == np.intp
    m, i = sg.max_and_argmax(x, axis=1)
    assert m.op == i.op == "output"
    assert m.dtype == np.float32 and i.dtype == np.intp
    assert m.shape == i.shape == (None,)
    (node,) = m.inputs
    assert i.inputs == (node,)
    assert node.op == "max_and_argmax" and node.shape is None
    assert g.nx.nodes[m.id]["index"] == 0 and g.nx.nodes[i.id]["index"] == 1  # API.md
    assert list(g.nx.successors(node.id)) == [m.id, i.id]
    v = rng.permutation(20).reshape(4, 5).astype("float32")
    got_m, got_i = sg.evaluate([m, i], {x: v})
    np.testing.assert_array_equal(got_m, v.max(axis=1))
    np.testing.assert_array_equal(got_i, v.argmax(axis=1))
    f = sg.function([x], [m, i])
    assert sum(s.nid == node.id for s in f.plan.steps) == 1  # the node runs once for both
    got_m, got_i = f(v)
    np.testing.assert_array_equal(got_i, v.argmax(axis=1))


def test_multi_output_node_itself_cannot_be_evaluated():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    m, _ = sg.max_and_argmax(x, 0)
    with pytest.raises(sg.GraphError):
        sg.evaluate(m.inputs[0], {x: np.ones(3)})


def test_argmax_takes_one_axis_only():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    with pytest.raises((TypeError, sg.ShapeError)):
        sg.argmax(x, axis=(0, 1))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "logsumexp", "argmax"])
def test_axis_out_of_range_raises_shape_error(op):
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    with pytest.raises(sg.ShapeError, match=op):
        getattr(sg, op)(x, axis=2)


def test_repeated_axis_raises_shape_error():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    with pytest.raises(sg.ShapeError, match="sum"):
        x.sum(axis=(1, -1))


def test_equivalent_axes_make_equal_params():
    g = sg.Graph()
    x = g.placeholder("x", (3, 4))
    assert x.sum(axis=-1).params == x.sum(axis=1).params
    assert x.sum(axis=(1, 0)).params == x.sum(axis=[0, 1]).params


def test_logsumexp_is_stable():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    v = np.array([[1000.0, 1000.0, -np.inf], [-np.inf, -np.inf, -np.inf]])
    got = sg.evaluate(sg.logsumexp(x, axis=1), {x: v})
    np.testing.assert_allclose(got, [1000 + np.log(2), -np.inf])


def test_reductions_of_booleans_follow_numpy(rng):
    g = sg.Graph()
    b = g.placeholder("b", (4,), "bool")
    v = rng.random(4) < 0.5
    for op in ("sum", "mean", "max"):
        out = getattr(sg, op)(b)
        want = getattr(np, op)(v)
        assert out.dtype == want.dtype, op
        got = sg.evaluate(out, {b: v})
        assert got.dtype == want.dtype and got == want
