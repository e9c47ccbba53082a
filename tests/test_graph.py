"""graph.py: the networkx.DiGraph, node attributes (the IR), look-ups, prune, origin context."""

import networkx as nx
import numpy as np
import pytest

import symgrad as sg


@pytest.fixture
def g():
    return sg.Graph()


def test_nx_is_a_digraph_of_int_nodes_with_the_ir_attributes(g):
    x = g.placeholder("x", shape=(None, 784))
    w = g.placeholder("W", shape=(784, 10), dtype="float32")
    c = g.constant(np.eye(3), name="I")
    y = sg.relu(x @ w.astype("float64") + 1.0).sum()
    assert isinstance(g.nx, nx.DiGraph)
    assert all(isinstance(n, int) for n in g.nx.nodes)
    for n, a in g.nx.nodes(data=True):
        assert {"op", "inputs", "shape", "dtype", "name", "origin"} <= set(a), n
        assert a["origin"] == "user"
        assert isinstance(a["inputs"], tuple)
        assert set(g.nx.predecessors(n)) == set(a["inputs"])
    xa = g.nx.nodes[x.id]
    assert (xa["op"], xa["inputs"], xa["shape"], xa["dtype"], xa["name"]) == (
        "placeholder", (), (None, 784), np.dtype("float64"), "x")
    assert g.nx.nodes[w.id]["dtype"] == np.dtype("float32")
    ca = g.nx.nodes[c.id]
    assert ca["op"] == "constant" and ca["name"] == "I" and ca["shape"] == (3, 3)
    np.testing.assert_array_equal(ca["value"], np.eye(3))
    ya = g.nx.nodes[y.id]
    assert ya["op"] == "sum" and ya["shape"] == () and ya["name"] is None
    assert nx.is_directed_acyclic_graph(g.nx)
    assert list(nx.topological_sort(g.nx))[-1] == y.id


@pytest.mark.parametrize("build, op", [
    (lambda x, y: x + y, "add"), (lambda x, y: x - y, "subtract"), (lambda x, y: x * y, "multiply"),
    (lambda x, y: x / y, "divide"), (lambda x, y: x ** y, "power"), (lambda x, y: -x, "negative"),
    (lambda x, y: x @ y, "matmul"), (lambda x, y: x < y, "less"), (lambda x, y: x <= y,
    "less_equal"), (lambda x, y: x > y, "greater"), (lambda x, y: x >= y, "greater_equal"),
    (lambda x, y: x[0], "getitem"), (lambda x, y: x.T, "transpose"),
])
def test_operators_make_nodes_of_numpy_names(g, build, op):
    x, y = g.placeholder("x", (2, 2)), g.placeholder("y", (2, 2))
    t = build(x, y)
    assert t.op == op and g.nx.nodes[t.id]["op"] == op


def test_repeated_input_is_kept_in_inputs_but_one_edge(g):
    x = g.placeholder("x", (3,))
    y = sg.multiply(x, x)
    assert g.nx.nodes[y.id]["inputs"] == (x.id, x.id)
    assert y.inputs == (x, x)
    assert g.nx.number_of_edges(x.id, y.id) == 1
    assert list(g.nx.in_edges(y.id)) == [(x.id, y.id)]
    assert g.get_inputs(y) == [x, x]
    assert g.get_consumers(x) == [y]


def test_get_inputs_consumers_operation(g):
    x, w = g.placeholder("x", (2, 3)), g.placeholder("w", (3,))
    a = x * w
    b = sg.exp(a)
    c = a - b
    assert g.get_inputs(a) == [x, w]
    assert g.get_inputs(c) == [a, b]
    assert g.get_inputs(x) == []
    assert set(g.get_consumers(a)) == {b, c}
    assert g.get_consumers(c) == []
    assert g.get_operation(b) is sg.OPS["exp"]
    assert g.get_operation(c).name == "subtract"


def test_inputs_are_in_argument_order(g):
    x, y = g.placeholder("x"), g.placeholder("y")
    assert g.nx.nodes[(y - x).id]["inputs"] == (y.id, x.id)
    t = 2.0 - x
    assert t.inputs[1] == x and t.inputs[0].op == "constant"
    assert sg.where(x > y, y, x).inputs[1:] == (y, x)


def test_placeholders_and_tensor_lookup(g):
    x = g.placeholder("x", (2,))
    c = g.constant([1.0, 2.0], name="c")
    y = g.placeholder("y", (2,), "int32")
    s = x + c
    assert g.placeholders() == [x, y]
    assert g.tensor("x") == x and g.tensor("c") == c
    assert g.tensor(s.id) == s and g.tensor(s.id).op == "add"
    s.name = "total"
    assert g.tensor("total") == s and s.name == "total"
    with pytest.raises(sg.GraphError, match="nope"):
        g.tensor("nope")
    with pytest.raises(sg.GraphError):
        g.tensor(10_000)
    (x * 2).name = "twice"
    (x * 3).name = "twice"
    with pytest.raises(sg.GraphError, match="twice"):
        g.tensor("twice")


def test_placeholder_names_are_unique_and_fixed(g):
    x = g.placeholder("x")
    with pytest.raises(sg.GraphError, match="x"):
        g.placeholder("x")
    with pytest.raises(TypeError):
        g.placeholder("")
    with pytest.raises(sg.GraphError):
        x.name = "z"


@pytest.mark.parametrize("shape", [(-1,), (2.0,), "ab", (True,)])
def test_bad_placeholder_shapes(g, shape):
    with pytest.raises(TypeError):
        g.placeholder("x", shape)


def test_int_shape_and_none(g):
    assert g.placeholder("a", 3).shape == (3,)
    assert g.placeholder("b", [None, np.int64(2)]).shape == (None, 2)
    assert g.placeholder("c").shape == ()


def test_constant_keeps_its_own_read_only_copy(g):
    v = np.arange(3.0)
    c = g.constant(v)
    v[0] = 99.0
    stored = g.nx.nodes[c.id]["value"]
    assert stored[0] == 0.0 and not stored.flags.writeable
    assert c.dtype == np.float64 and c.shape == (3,) and c.name is None
    assert g.constant(2).dtype == np.array(2).dtype
    with pytest.raises(TypeError):
        g.constant(object())


def test_prune_keeps_what_the_outputs_need(g):
    x, y, z = g.placeholder("x"), g.placeholder("y"), g.placeholder("z")
    a = x * y
    b = sg.exp(a)
    unused = sg.log(z) + a
    g.prune(b)
    assert set(g.nx.nodes) == {x.id, y.id, a.id, b.id}
    assert unused.id not in g.nx and z.id not in g.nx
    assert g.placeholders() == [x, y]
    assert g.get_consumers(a) == [b]
    z2 = g.placeholder("z")                        # the name is free again
    assert z2.id not in (x.id, y.id, z.id)
    assert sg.evaluate(b, {"x": 2.0, "y": 0.5}) == pytest.approx(np.e)


def test_prune_keeps_several_and_refuses_other_graphs(g):
    x = g.placeholder("x")
    a, b, c = x + 1, x + 2, x + 3
    g.prune([a, c])
    assert set(g.nx.nodes) >= {a.id, c.id} and b.id not in g.nx
    with pytest.raises(sg.GraphError):
        g.prune(sg.Graph().placeholder("y"))


def test_origin_context_marks_nodes(g):
    x = g.placeholder("x")
    with g.origin("gradient", grad_of=x.id):
        d = x * 2
    e = x * 3
    assert g.nx.nodes[d.id]["origin"] == "gradient" and g.nx.nodes[d.id]["grad_of"] == x.id
    assert g.nx.nodes[e.id]["origin"] == "user" and "grad_of" not in g.nx.nodes[e.id]
    with pytest.raises(ValueError):
        with g.origin("other"):
            pass


def test_node_ids_increase_so_ids_are_a_topological_order(g):
    x = g.placeholder("x")
    t = x
    for _ in range(5):
        t = sg.sin(t) + x
    assert all(i < n for n in g.nx.nodes for i in g.nx.nodes[n]["inputs"])
    assert g.topo_order([t.id]) == sorted(g.nx.nodes)


def test_a_pruned_tensor_is_a_clear_graph_error_everywhere(g):
    x = g.placeholder("x", (2,))
    h = sg.sin(x)
    y = sg.exp(x)
    total = y.sum()
    g.prune([total])
    count = g.nx.number_of_nodes()
    for use in (lambda: h + 1, lambda: sg.evaluate(h, {x: np.ones(2)}),
                lambda: sg.function([x], h), lambda: sg.gradients(h.sum(), x),
                lambda: sg.grad(total, h), lambda: sg.evaluate(y, {h: np.ones(2)}),
                lambda: sg.stack([y, h])):
        with pytest.raises(sg.GraphError, match="pruned"):
            use()
        assert g.nx.number_of_nodes() == count
        list(nx.topological_sort(g.nx))  # no half-written node left behind


def test_a_failing_builder_leaves_no_constant_behind(g):
    x = g.placeholder("x", (2, 3))
    before = set(g.nx.nodes)
    with pytest.raises(sg.ShapeError):
        x + np.ones((4, 5))
    with pytest.raises(sg.ShapeError):
        x @ np.ones((4, 5))
    assert set(g.nx.nodes) == before


def test_graphs_cannot_be_copied_by_copy(g):
    import copy

    g.placeholder("x")
    for fn in (copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot be copied"):
            fn(g)


def test_advance_id_sets_the_next_id_and_never_goes_back(g):
    g.placeholder("x")
    g.advance_id(10)
    assert g.constant(1.0).id == 10 and g.next_id == 11
    with pytest.raises(sg.GraphError, match="node id 5 is taken"):
        g.advance_id(5)
    assert g.next_id == 11


def test_remember_scalars_files_unnamed_scalar_constants_under_their_numbers(g):
    two = g.constant(np.float64(2.0))
    g.constant(np.float64(3.0), name="three")  # named: a user's handle, not shared
    half = g.constant(np.float32(0.5))
    nan = g.constant(np.array([0x7FF0000000000001], np.uint64).view(np.float64).reshape(()))
    g.remember_scalars()
    f64, f32 = np.dtype("float64"), np.dtype("float32")
    assert g.scalar(2.0, f64) == two and g.scalar(2, f64) == two
    assert g.scalar(0.5, f32) == half
    assert g.scalar(3.0, f64).name is None
    assert g.scalar(float("nan"), f64) != nan  # NaNs are not shared: payloads differ
    with g.origin("gradient"):
        assert g.scalar(2.0, f64) != two  # the cache keeps origins apart, as before
