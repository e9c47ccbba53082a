"""tensor.py: the handle: attributes, identity semantics, operators, methods, other graphs."""

import numpy as np
import pytest

import symgrad as sg


@pytest.fixture
def g():
    return sg.Graph()


def test_attributes(g):
    x = g.placeholder("x", (None, 3), "float32")
    assert x.graph is g and isinstance(x.id, int)
    assert (x.name, x.op, x.shape, x.ndim, x.dtype) == ("x", "placeholder", (None, 3), 2,
                                                         np.dtype("float32"))
    assert isinstance(x.dtype, np.dtype)
    s = x.sum()
    assert s.shape == () and s.ndim == 0 and s.name is None and s.op == "sum"
    assert "x" in repr(x) and "float32" in repr(x)


def test_bool_raises_type_error(g):
    x = g.placeholder("x")
    with pytest.raises(TypeError):
        bool(x)
    with pytest.raises(TypeError):
        if x > 0:
            pass
    with pytest.raises(TypeError):
        x and x  # noqa: B018
    with pytest.raises(TypeError):
        0 < x < 1  # noqa: B015 - a chained comparison calls bool()


def test_iteration_raises_type_error_and_len_needs_a_static_first_dimension(g):
    x = g.placeholder("x", (3, None))
    with pytest.raises(TypeError):
        list(x)
    assert len(x) == 3
    with pytest.raises(TypeError, match="run time"):
        len(x.T)
    with pytest.raises(TypeError, match="0-d"):
        len(x.sum())
    with pytest.raises(TypeError, match="several outputs"):
        len(sg.linalg.slogdet(g.placeholder("a", (2, 2)))[0].inputs[0])


def test_a_tensor_is_no_numpy_array(g):
    x = g.placeholder("x", (3,))
    n = g.nx.number_of_nodes()
    for convert in (np.asarray, lambda t: np.array([t, t]), lambda t: g.constant(t)):
        with pytest.raises(TypeError, match="evaluate"):
            convert(x)
    assert g.nx.number_of_nodes() == n


def test_equality_is_identity_and_tensors_are_dict_keys(g):
    x, y = g.placeholder("x", (2,)), g.placeholder("y", (2,))
    assert (x == x) is True and (x != x) is False
    assert (x == y) is False and (x != y) is True
    assert (x == 1.0) is False and (x != 1.0) is True
    assert (x == np.ones(2)) is False
    again = g.tensor(x.id)
    assert again is not x and again == x and hash(again) == hash(x)
    table = {x: "x", y: "y"}
    assert table[again] == "x"
    assert len({x, again, y}) == 2
    assert x in [y, again]


def test_same_id_in_two_graphs_is_not_equal():
    a, b = sg.Graph().placeholder("x"), sg.Graph().placeholder("x")
    assert a.id == b.id and a != b and len({a, b}) == 2


@pytest.mark.parametrize("build", [
    lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x @ y, lambda x, y: sg.maximum(x, y),
    lambda x, y: sg.where(x > 0, x, y), lambda x, y: sg.concatenate([x, y]),
    lambda x, y: sg.stack([y, x]), lambda x, y: sg.softmax_cross_entropy(x, y),
])
def test_tensors_of_two_graphs_never_mix(build):
    x, y = sg.Graph().placeholder("x", (2, 2)), sg.Graph().placeholder("y", (2, 2))
    with pytest.raises(sg.GraphError):
        build(x, y)


def test_graph_error_is_a_symgrad_error_and_a_value_error():
    for cls in (sg.GraphError, sg.ShapeError, sg.GradientError, sg.FeedError, sg.FormatError):
        assert issubclass(cls, sg.SymgradError) and issubclass(cls, ValueError)


def test_evaluating_or_feeding_across_graphs_raises(g):
    x, y = g.placeholder("x"), sg.Graph().placeholder("y")
    with pytest.raises(sg.GraphError):
        sg.evaluate([x, y], {x: 1.0, y: 1.0})
    with pytest.raises(sg.GraphError):
        sg.evaluate(x + 1, {y: 1.0, x: 1.0})
    with pytest.raises(sg.GraphError):
        sg.function([y], x)
    with pytest.raises(sg.GraphError):
        sg.function([x], [x, y])


@pytest.mark.parametrize("build, op, order", [
    (lambda x: x + 2.0, "add", "tc"), (lambda x: 2.0 + x, "add", "ct"),
    (lambda x: x - 2.0, "subtract", "tc"), (lambda x: 2.0 - x, "subtract", "ct"),
    (lambda x: x * 2.0, "multiply", "tc"), (lambda x: 2.0 * x, "multiply", "ct"),
    (lambda x: x / 2.0, "divide", "tc"), (lambda x: 2.0 / x, "divide", "ct"),
    (lambda x: x ** 2.0, "power", "tc"), (lambda x: 2.0 ** x, "power", "ct"),
    (lambda x: np.full(3, 2.0) + x, "add", "ct"), (lambda x: np.float64(2.0) * x, "multiply", "ct"),
    (lambda x: x < 2.0, "less", "tc"), (lambda x: 2.0 < x, "greater", "tc"),
])
def test_numbers_and_arrays_mix_in_as_constants(g, build, op, order, rng):
    x = g.placeholder("x", (3,))
    t = build(x)
    assert isinstance(t, sg.Tensor) and t.op == op
    kinds = "".join("t" if i == x else "c" for i in t.inputs)
    assert kinds == order
    assert t.inputs[order.index("c")].op == "constant"
    v = rng.uniform(0.5, 2, 3)
    np.testing.assert_allclose(sg.evaluate(t, {x: v}), build(v))


def test_float32_stays_float32_beside_python_numbers(g, rng):
    x = g.placeholder("x", (3,), "float32")
    v = rng.standard_normal(3).astype("float32")
    for t in [x + 1.5, 1.5 * x, x / 3, 2 - x, x ** 2, (x * x) ** 0.5, -x, sg.maximum(x, 0.0),
              (x * 0.1 + 1e-3).sum(), x.mean(), sg.sqrt(x * x + 1.0), sg.relu(x) * 3.0]:
        assert t.dtype == np.float32, t
        got = sg.evaluate(t, {x: v})
        assert got.dtype == np.float32, t
    assert (x + np.ones(3)).dtype == np.float64          # an array is not a Python number
    assert (x + g.placeholder("y", (3,))).dtype == np.float64
    assert (g.placeholder("i", (3,), "int32") + 1).dtype == np.int32
    assert (g.placeholder("j", (3,), "int32") + 1.5).dtype == np.float64


def test_methods(g, rng):
    x = g.placeholder("x", (2, 3, 4))
    v = rng.standard_normal((2, 3, 4))
    pairs = [
        (x.sum(), v.sum()), (x.sum(axis=1), v.sum(axis=1)),
        (x.sum(axis=(0, 2), keepdims=True), v.sum(axis=(0, 2), keepdims=True)),
        (x.mean(axis=-1), v.mean(axis=-1)), (x.max(axis=0, keepdims=True), v.max(0, keepdims=True)),
        (x.reshape((6, 4)), v.reshape(6, 4)), (x.reshape(4, -1), v.reshape(4, -1)),
        (x.reshape(24), v.reshape(24)), (x.flatten(), v.flatten()),
        (x[:1].squeeze(), v[:1].squeeze()), (x[:, :1].squeeze(1), v[:, :1].squeeze(1)),
        (x.transpose(), v.transpose()),
        (x.transpose((1, 0, 2)), v.transpose(1, 0, 2)), (x.T, v.T),
        (x.astype("float32"), v.astype("float32")), (x[1, ::2, None], v[1, ::2, None]),
        (x[..., -1], v[..., -1]),
    ]
    got = sg.evaluate([t for t, _ in pairs], {x: v})
    for (t, want), a in zip(pairs, got):
        assert t.shape == want.shape and t.dtype == want.dtype
        np.testing.assert_allclose(a, want, rtol=1e-6)
        assert a.dtype == want.dtype


def test_reshape_needs_a_shape(g):
    with pytest.raises(TypeError, match="shape"):
        g.placeholder("x", (2, 3)).reshape()


def test_array_on_the_left_defers_to_the_tensor(g):
    x = g.placeholder("x", (3,))
    t = np.ones(3) * x
    assert isinstance(t, sg.Tensor) and t.op == "multiply"
    assert isinstance(np.ones((2, 3)) @ x.reshape((3, 1)), sg.Tensor)
    assert isinstance(np.ones(3) < x, sg.Tensor)


def test_numpy_conversions_and_functions_are_clear_type_errors(g):
    x = g.placeholder("x", (3,))
    for use in (lambda: np.asarray(x), lambda: np.sum(x), lambda: np.mean(x),
                lambda: np.concatenate([x, x])):
        with pytest.raises(TypeError, match="x"):
            use()


def test_casts_to_non_numbers_and_huge_reshapes_fail_when_built(g):
    x = g.placeholder("x", (None,))
    for dtype in ("U5", "O", "M8[s]"):
        with pytest.raises(TypeError, match="cast"):
            x.astype(dtype)
    with pytest.raises(sg.ShapeError, match="int64"):
        x.reshape((2**40, 2**40))
