"""ops/nn.py: softmax, log_softmax and softmax_cross_entropy (probabilities or class indices)."""

import numpy as np
import pytest

import symgrad as sg

from .cases import DTYPES, OpCase, check_dtype, index, normal, probs


def _log_softmax(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _sce(z, labels):
    if labels.dtype.kind in "iu":
        return -np.take_along_axis(_log_softmax(z), labels[..., None], -1)[..., 0]
    return -np.sum(labels * _log_softmax(z), axis=-1)


CASES = [
    OpCase("softmax", [normal((3, 4))], reference=_softmax),
    OpCase("softmax", [normal((3, 4))], {"axis": 0}, _softmax, label="axis0"),
    OpCase("log_softmax", [normal((3, 4))], reference=_log_softmax),
    OpCase("log_softmax", [normal((2, 3, 4))], {"axis": 1}, _log_softmax, label="axis1"),
    OpCase("softmax", [normal((2, 3, 4))], {"axis": (0, 2)}, _softmax, label="axes"),
    OpCase("softmax", [normal((3, 4))], {"axis": None}, _softmax, label="all"),
    OpCase("log_softmax", [normal((2, 3, 4))], {"axis": (-1, 1)}, _log_softmax, label="axes"),
    OpCase("log_softmax", [normal((3, 4))], {"axis": None}, _log_softmax, label="all"),
    OpCase("softmax_cross_entropy", [normal((4, 5)), probs((4, 5))], reference=_sce),
    OpCase("softmax_cross_entropy", [normal((2, 3, 4)), probs((2, 3, 4))], reference=_sce,
           label="batch"),
    OpCase("softmax_cross_entropy", [normal((4, 5)), index((4,), 5)], reference=_sce,
           label="indices"),
    OpCase("softmax_cross_entropy", [normal((4, 5)), index((4,), 5, "int32")], reference=_sce,
           label="int32-indices"),
    OpCase("one_hot", [index((4,), 3), normal((4, 3))],
           reference=lambda labels, like: (labels[:, None] == np.arange(3)).astype(like.dtype),
           builder=lambda labels, like: sg.apply("one_hot", [labels, like])),
]


def test_softmax_is_stable_for_large_logits():
    g = sg.Graph()
    z = g.placeholder("z", (2, 3))
    v = np.array([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
    p, lp, ce = sg.evaluate([sg.softmax(z), sg.log_softmax(z),
                             sg.softmax_cross_entropy(z, np.array([0, 0]))], {z: v})
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(lp[0], [-np.log(2), -np.log(2), -1000 - np.log(2)])
    np.testing.assert_allclose(ce, [np.log(2), 2000.0])


def test_integer_logits_softmax_is_float():
    g = sg.Graph()
    z = g.placeholder("z", (3,), "int64")
    assert sg.softmax(z).dtype == np.float64
    np.testing.assert_allclose(sg.evaluate(sg.softmax(z), {z: [1, 2, 3]}),
                               _softmax(np.array([1.0, 2, 3])))


@pytest.mark.parametrize("z_shape, labels", [
    ((4, 5), ((4, 4), "float64")),      # probabilities of another shape
    ((4, 5), ((5,), "int64")),          # indices of the wrong length
    ((4, 5), ((4, 5), "int64")),        # indices with the class axis
    ((), ((), "float64")),              # logits need an axis
])
def test_cross_entropy_shape_errors(z_shape, labels):
    g = sg.Graph()
    z = g.placeholder("z", z_shape)
    y = g.placeholder("y", *labels)
    with pytest.raises(sg.ShapeError, match="softmax_cross_entropy"):
        sg.softmax_cross_entropy(z, y)


def test_cross_entropy_with_none_batch(rng):
    g = sg.Graph()
    z = g.placeholder("z", (None, 3), "float32")
    y = g.placeholder("y", (None,), "int64")
    ce = sg.softmax_cross_entropy(z, y)
    assert ce.shape == (None,) and ce.dtype == np.float32
    vz, vy = rng.standard_normal((6, 3)).astype("float32"), rng.integers(0, 3, 6)
    np.testing.assert_allclose(sg.evaluate(ce, {z: vz, y: vy}), _sce(vz, vy), rtol=1e-5)


@pytest.mark.parametrize("bad", [-1, 3, 7])
def test_class_indices_out_of_range_are_an_error_naming_the_labels(bad, rng):
    g = sg.Graph()
    z = g.placeholder("z", (2, 3))
    y = g.placeholder("labels", (2,), "int64")
    loss = sg.softmax_cross_entropy(z, y).sum()
    dz = sg.grad(loss, z)
    zv, yv = rng.standard_normal((2, 3)), np.array([0, bad])
    f = sg.function([z, y], [loss, dz])
    for run in (lambda: sg.evaluate(loss, {z: zv, y: yv}), lambda: sg.evaluate(dz, {z: zv, y: yv}),
                lambda: f(zv, yv)):
        with pytest.raises(sg.FeedError, match=rf"labels.*\[0, 3\).*{bad}"):
            run()
    f(zv, np.array([0, 2]))  # in range: fine


@pytest.mark.parametrize("op", [sg.softmax, sg.log_softmax, sg.logsumexp])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "bool"])
def test_integer_inputs_do_not_wrap_around(op, dtype):
    g = sg.Graph()
    x = g.placeholder("x", (4,), dtype)
    info = np.iinfo(dtype) if dtype != "bool" else None
    v = (np.array([info.min, info.max, 0, 1], dtype=dtype) if info is not None
         else np.array([True, False, True, True]))
    t = op(x)
    got = sg.evaluate(t, {x: v})
    want = sg.evaluate(op(g.placeholder(f"f{dtype}", (4,))), {f"f{dtype}": v.astype(float)})
    assert got.dtype == t.dtype == np.float64
    np.testing.assert_allclose(got, want)
    assert np.isfinite(got).all()


BUILDS = {
    "softmax": lambda x: sg.softmax(x), "softmax-axes": lambda x: sg.softmax(x, axis=(0, 1)),
    "log_softmax-all": lambda x: sg.log_softmax(x, axis=None),
    "logsumexp-axes": lambda x: sg.logsumexp(x, axis=(1, 0), keepdims=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", list(BUILDS))
def test_declared_dtype_is_computed_dtype(op, dtype):
    got = check_dtype(BUILDS[op], 1, dtype)
    assert got is not None  # integers and booleans are taken as float64 (no wrap-around)


@pytest.mark.parametrize("axis", [(0, 2), (-1, 0), None])
def test_softmax_over_several_axes_normalises_them_together(axis, rng):
    g = sg.Graph()
    x = g.placeholder("x", (2, 3, 4), "float32")
    v = rng.standard_normal((2, 3, 4)).astype("float32") * 30
    p, lp = sg.evaluate([sg.softmax(x, axis), sg.log_softmax(x, axis)], {x: v})
    assert p.dtype == lp.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=axis), 1, rtol=1e-5)
    np.testing.assert_allclose(np.exp(lp), p, rtol=1e-5, atol=1e-30)
    assert sg.softmax(x, (2, 0)).params == sg.softmax(x, (0, -1)).params
    assert sg.softmax(x, (2,)).params == sg.softmax(x, -1).params
