"""ops/base.py: OpDef records, the OPS registry, register() and apply(); every op has a case."""

import numpy as np
import pytest

import symgrad as sg

from .cases import all_cases, by_id

# Ops no API.md builder reaches and no case builds by itself, with the test that covers each.
EXEMPT = {
    "output": "built by every max_and_argmax case; tests/ops/test_reductions.py",
}


def test_every_op_has_a_case():
    covered = {c.op for c in all_cases()}
    missing = sorted(n for n in sg.OPS if n not in covered and n not in EXEMPT)
    assert not missing, f"ops without a forward test case: {missing}"
    assert not set(EXEMPT) & covered, "an exempt op has a case: drop it from EXEMPT"


def test_every_builder_of_the_api_has_a_case():
    covered = {c.op for c in all_cases()}
    builders = set(sg.ops.__all__) - {"OPS", "OpDef", "apply", "register", "getitem"}
    assert builders <= covered, sorted(builders - covered)
    assert "getitem" in covered


def test_case_ids_are_unique():
    ids = [c.id for c in all_cases()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_case_reads_its_op_from_the_registry():
    for c in all_cases():
        assert isinstance(sg.OPS[c.op], sg.OpDef), c.id
        assert sg.OPS[c.op].name == c.op


@pytest.fixture
def cube():
    """A custom op, registered for one test and removed after it."""
    name = "test_cube"
    opdef = sg.OpDef(
        name=name,
        infer=lambda inputs, scale: (inputs[0].shape, inputs[0].dtype),
        compute=lambda x, *, scale: scale * x**3,
        bprop=lambda out, g: (g * out.params["scale"] * 3 * out.inputs[0] ** 2,),
    )
    assert sg.register(opdef) is opdef
    yield opdef
    del sg.OPS[name]


def test_custom_op_through_register_and_apply(cube, rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 2))
    y = sg.apply("test_cube", [x], scale=2.0)
    assert isinstance(y, sg.Tensor) and y.op == "test_cube" and y.shape == (None, 2)
    assert g.nx.nodes[y.id]["inputs"] == (x.id,) and y.params == {"scale": 2.0}
    assert g.get_operation(y) is cube
    v = rng.standard_normal((3, 2))
    np.testing.assert_allclose(sg.evaluate(y + 1, {x: v}), 2 * v**3 + 1)
    np.testing.assert_allclose(sg.function([x], y)(v), 2 * v**3)
    z = sg.apply("test_cube", [np.ones(2), x], scale=1.0)  # arrays are lifted to constants
    assert z.inputs[0].op == "constant"


def test_registering_an_existing_name_raises(cube):
    with pytest.raises(ValueError, match="test_cube"):
        sg.register(sg.OpDef("test_cube", cube.infer, cube.compute))
    with pytest.raises(ValueError, match="add"):
        sg.register(sg.OpDef("add", cube.infer, cube.compute))
    assert sg.OPS["test_cube"] is cube
    assert sg.OPS["add"].compute is np.add


def test_register_needs_an_opdef_and_apply_a_known_op():
    with pytest.raises(TypeError):
        sg.register({"name": "x"})
    x = sg.Graph().placeholder("x")
    with pytest.raises(ValueError, match="no_such_op"):
        sg.apply("no_such_op", [x])
    with pytest.raises(TypeError):
        sg.apply("add", [1.0, 2.0])           # no tensor: no graph to put the node in


def test_params_must_be_hashable(cube):
    x = sg.Graph().placeholder("x")
    with pytest.raises(TypeError, match="hashable"):
        sg.apply("test_cube", [x], scale=[1.0])


def test_apply_rejects_tensors_of_two_graphs():
    x, y = sg.Graph().placeholder("x"), sg.Graph().placeholder("y")
    with pytest.raises(sg.GraphError):
        sg.apply("add", [x, y])


def test_python_numbers_take_the_dtype_of_the_tensors_beside_them():
    g = sg.Graph()
    x32, i32 = g.placeholder("x", (), "float32"), g.placeholder("i", (), "int32")
    assert sg.apply("add", [x32, 1.5]).dtype == np.float32
    assert sg.apply("add", [1, i32]).dtype == np.int32
    assert sg.apply("add", [i32, 1.5]).dtype == np.float64
    assert sg.apply("add", [x32, np.float64(1.5)]).dtype == np.float64  # NumPy scalar: strong


@by_id(all_cases())
def test_an_op_whose_compute_returns_a_view_says_so(case, rng):
    g = sg.Graph()
    xs = case.placeholders(g, False)
    out = case.build(xs)
    node = out if out.op == case.op else next(t for t in out.inputs if t.op == case.op)
    feed = dict(zip(xs, case.sample(rng)))
    ins = [sg.evaluate(t, feed) for t in node.inputs]
    got = sg.OPS[node.op].compute(*ins, **dict(node.params))
    results = got if isinstance(got, tuple) else (got,)
    if any(isinstance(r, np.ndarray) and np.shares_memory(r, a) for r in results for a in ins):
        assert sg.OPS[node.op].views, f"{case.id} returned a view of its input: views=True"
