"""simplify/pattern.py and driver.py: the pattern language, the one driver, trace, count_nodes."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.simplify.pattern import Const
from tests.graphs import tanh_derivative


@pytest.fixture
def g():
    return sg.Graph()


def _ops(t):
    g = t.graph
    return sorted(g.nx.nodes[n]["op"] for n in g.ancestors([t.id])
                  if g.nx.nodes[n]["op"] not in ("placeholder", "constant"))


# -- the pattern language ----------------------------------------------------------------------
def test_a_variable_matches_the_same_node_wherever_it_appears(g):
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    rule = sg.Rule("double", ("add", "a", "a"), ("multiply", "a", 2.0))
    assert _ops(sg.simplify(sg.sin(x) + sg.sin(x), rules=[rule])) == ["multiply", "sin"]
    assert _ops(sg.simplify(sg.sin(x) + sg.sin(y), rules=[rule])) == ["add", "sin", "sin"]


def test_a_number_matches_constants_whose_entries_all_equal_it(g):
    x = g.placeholder("x", (3,))
    rule = sg.Rule("times_one", ("multiply", "a", 1), "a")
    for one, kept in ((1.0, False), (np.ones(3), False), (np.array([1.0, 1.0, 2.0]), True)):
        out = sg.simplify(x * g.constant(one), rules=[rule])
        assert (out.op == "multiply") == kept


def test_commutative_ops_match_both_orders_and_others_do_not(g):
    x = g.placeholder("x", (3,))
    times = sg.Rule("times_one", ("multiply", "a", 1), "a")
    minus = sg.Rule("minus_zero", ("subtract", "a", 0), "a")
    assert sg.simplify(1.0 * x, rules=[times]) == x
    assert sg.simplify(x * 1.0, rules=[times]) == x
    assert sg.simplify(0.0 - x, rules=[minus]).op == "subtract"


@pytest.mark.parametrize("write", [lambda x, y: x + 3.0 * x, lambda x, y: 3.0 * x + x,
                                   lambda x, y: x * 3.0 + x, lambda x, y: x + x * 3.0,
                                   lambda x, y: 2.0 * x + x * 3.0])
def test_a_variable_shared_by_two_inputs_matches_in_every_order(g, write):
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    rules = [r for r in sg.DEFAULT_RULES if r.name in ("collect_term", "collect_terms")]
    got = sg.simplify(write(x, y), rules=rules)
    assert got.op == "multiply" and _ops(got).count("multiply") == 1  # (a + b) * x
    assert _ops(sg.simplify(y + 3.0 * x, rules=rules)) == ["add", "multiply"]  # x is not y


def test_rules_needing_shared_inputs_are_tried_wherever_the_inputs_meet(g):
    # the driver skips such rules only where the two inputs share nothing at distance one
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    pythagoras = sg.Rule("pythagoras", ("add", ("square", ("sin", "a")),
                                        ("square", ("cos", "a"))), lambda m: sg.ones_like(m["a"]))
    both = sg.Rule("both", ("add", ("sin", "a"), ("cos", "a")), lambda m: 2.0 * m["a"])
    inner = sg.Rule("inner", ("add", "a", ("sin", "a")), lambda m: 3.0 * m["a"])
    plus_zero = sg.Rule("plus_zero", ("add", "a", 0), "a")
    rules = [both, inner, pythagoras, plus_zero]
    assert _ops(sg.simplify(sg.sin(x) + sg.cos(x), rules=rules)) == ["multiply"]
    assert _ops(sg.simplify(sg.cos(x) + sg.sin(x), rules=rules)) == ["multiply"]
    assert _ops(sg.simplify(x + sg.sin(x), rules=rules)) == ["multiply"]
    assert _ops(sg.simplify(sg.sin(x) + x, rules=rules)) == ["multiply"]
    # the shared variable two levels down: that rule does its own matching
    got = sg.simplify(sg.square(sg.sin(x)) + sg.square(sg.cos(x)), rules=rules)
    assert _ops(got) == ["ones_like"]
    assert _ops(sg.simplify(sg.sin(x) + sg.cos(y), rules=rules)) == ["add", "cos", "sin"]
    assert sg.simplify(x + 0.0, rules=rules) == x  # a rule sharing nothing: always tried


def test_params_match_by_value_or_bind_a_variable(g):
    x = g.placeholder("x", (2, 3))
    seen = []

    def record(m):
        seen.append((m["ax"], m["k"]))
        return None  # declines: nothing changes

    sg.simplify(x.sum(axis=1, keepdims=True) + x.sum(axis=0),
                rules=[sg.Rule("see", ("sum", "x", {"axis": "ax", "keepdims": "k"}), record)])
    assert sorted(seen) == [((0,), False), ((1,), True)]
    only_kept = sg.Rule("kept", ("sum", "x", {"keepdims": True}), lambda m: m.node * 1.0)
    trace = []
    sg.simplify([x.sum(axis=1, keepdims=True), x.sum(axis=0)], rules=[only_kept], trace=trace)
    assert [r.rule for r in trace] == ["kept"]


def test_const_variables_match_constants_only(g):
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    seen = []
    rule = sg.Rule("c", ("multiply", "a", Const("c")), lambda m: seen.append(m["c"].op))
    sg.simplify([x * y, x * 2.0], rules=[rule])
    assert seen == ["constant"]


def test_when_conditions_and_declining_replacements(g):
    x = g.placeholder("x", (3,), "float32")
    halve = sg.Rule("halve", ("multiply", "a", 2), ("divide", "a", 0.5),
                    when=lambda m: m["a"].dtype == np.float64)
    assert sg.simplify(x * 2.0, rules=[halve]).op == "multiply"  # float32: when says no
    assert sg.simplify(x * 2.0, rules=[sg.Rule("no", ("multiply", "a", 2), lambda m: None)]
                       ).op == "multiply"


def test_bad_rules_are_clear_errors():
    with pytest.raises(sg.SymgradError, match="tuple"):
        sg.Rule("bad", "x", "x")
    with pytest.raises(sg.SymgradError, match="neither"):
        sg.Rule("bad", ("add", "x", [1]), "x")
    with pytest.raises(sg.SymgradError, match="number"):
        sg.Rule("bad", ("add", "x", 0), 0)
    with pytest.raises(sg.SymgradError, match="both"):
        sg.Rule("bad", ("sum", "x", {"axis": "x"}), "x")
    with pytest.raises(TypeError):
        sg.Rule("", ("add", "x", 0), "x")
    with pytest.raises(TypeError, match="Rule"):
        sg.simplify(sg.Graph().placeholder("x"), rules=["not a rule"])


# -- the driver ----------------------------------------------------------------------------------
def test_a_replacement_of_another_shape_or_dtype_is_refused_naming_the_rule(g):
    x = g.placeholder("x", (3, 1))
    before = set(g.nx.nodes)
    y = x * g.constant(np.ones(4))
    wrong = sg.Rule("too_small", ("multiply", "a", 1), "a")  # (3, 1), not (3, 4)
    with pytest.raises(sg.SymgradError, match="too_small.*shape and dtype"):
        sg.simplify(y, rules=[wrong])
    assert set(g.nx.nodes) == before | {y.id, y.inputs[1].id}  # nothing left behind
    cast = sg.Rule("to_float32", ("multiply", "a", 1), lambda m: m["a"].astype("float32"))
    with pytest.raises(sg.SymgradError, match="to_float32"):
        sg.simplify(g.placeholder("z", (3,)) * 1.0, rules=[cast])


def test_x_times_zero_keeps_the_broadcast_shape_and_dtype(g):
    x = g.placeholder("x", (3, 1), "float32")
    y = x * g.constant(np.zeros((1, 4), "float32"))
    z = sg.simplify(y)
    assert (z.shape, z.dtype) == ((3, 4), np.float32)
    np.testing.assert_array_equal(sg.evaluate(z, {x: np.ones((3, 1))}), np.zeros((3, 4)))
    n = g.placeholder("n", (None, 3))
    assert sg.simplify(n * 0.0).shape == (None, 3)


def test_rules_that_undo_each_other_are_a_clear_error(g):
    x = g.placeholder("x", (3,))
    there = sg.Rule("there", ("multiply", "a", 2), ("add", "a", "a"))
    back = sg.Rule("back", ("add", "a", "a"), ("multiply", "a", 2.0))
    before = set(g.nx.nodes)
    y = sg.sin(x) * 2.0
    with pytest.raises(sg.SymgradError, match="'there'.*'back'|'back'.*'there'"):
        sg.simplify(y, rules=[there, back])
    assert set(g.nx.nodes) == before | set(g.ancestors([y.id]))


def test_equal_computations_merge_without_rules(g):
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    a = (x * y + sg.exp(x)) * (y * x + sg.exp(x))
    out = sg.simplify(a, rules=[])
    assert sg.count_nodes(out) == 4  # x*y, exp, add, multiply
    c1, c2 = g.constant(2.0), g.constant(2.0)
    assert sg.count_nodes(sg.simplify(x * c1 + x * c2, rules=[])) == 2


def test_params_equal_by_value_but_not_by_type_do_not_merge(g):
    x = g.placeholder("x", (3,))
    out = sg.simplify([sg.leaky_relu(x, 0.0), sg.leaky_relu(x, -0.0)], rules=[])
    assert out[0] != out[1]


def test_trace_records_each_rewrite_with_its_node_count(g):
    x = g.placeholder("x", (3,))
    y = sg.log(sg.exp(x * 1.0)) + 0.0
    trace = []
    out = sg.simplify(y, trace=trace)
    assert out == x
    assert [r.rule for r in trace] == ["mul_one", "log_exp", "add_zero"]
    assert [r.nodes_after for r in trace] == [3, 1, 0]
    assert trace[0].node == y.inputs[0].inputs[0].inputs[0].id and trace[-1].replacement == x.id
    assert sg.count_nodes(y) == 4


def test_the_nodes_a_trace_names_stay_in_the_graph_to_be_looked_at():
    g, x, y = tanh_derivative(3)
    first_new = g.next_id
    trace = ["an earlier record"]
    sg.simplify(y, trace=trace)
    records = trace[1:]
    assert any(r.node >= first_new for r in records)  # nodes the driver itself made
    for r in records:
        before, after = g.tensor(r.node), g.tensor(r.replacement)
        assert before.shape == after.shape and sg.debugprint(before)
        np.testing.assert_allclose(*sg.evaluate([before, after], {x: 0.3}), rtol=1e-12)
    g2, _, y2 = tanh_derivative(3)
    sg.simplify(y2)  # without a trace only what the result needs stays
    assert g2.nx.number_of_nodes() < g.nx.number_of_nodes()


def test_held_tensors_keep_working_and_prune_drops_what_is_left(g):
    x = g.placeholder("x", (3,))
    h = sg.exp(x) * 1.0
    y = sg.log(h) + 0.0
    out = sg.simplify(y)
    v = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(sg.evaluate([h, y, out], {x: v}), [np.exp(v), v, v])
    g.prune([out])
    assert set(g.nx.nodes) == {x.id}
    with pytest.raises(sg.GraphError, match="pruned"):
        sg.evaluate(h, {x: v})


def test_simplify_returns_the_structure_it_was_given(g):
    x = g.placeholder("x")
    assert isinstance(sg.simplify(x * 1.0), sg.Tensor)
    assert isinstance(sg.simplify([x * 1.0]), list)
    assert isinstance(sg.simplify((x * 1.0, x + 0.0)), tuple)


def test_fed_intermediates_are_not_looked_into(g):
    x = g.placeholder("x", (3,))
    h = sg.exp(x)
    y = sg.log(h)  # log(exp(x)) -> x, unless h is fed: then x has no value
    f = sg.function([h], y)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), np.log([1.0, 2.0, 3.0]))
    assert sg.function([x], y).plan.steps == []


def test_count_nodes_counts_operations_only(g):
    x = g.placeholder("x", (3,))
    m, i = sg.max_and_argmax(x * 2.0 + g.constant(1.0), 0)
    assert sg.count_nodes([m, i]) == 3  # multiply, add, max_and_argmax
    assert sg.count_nodes(x) == 0 and sg.count_nodes([]) == 0


def test_function_simplifies_by_default_and_leaves_the_graph_as_it_was(g):
    x = g.placeholder("x", (3,))
    y = sg.log(sg.exp(x * 1.0))
    before = set(g.nx.nodes)
    f = sg.function([x], y)
    assert f.plan.steps == [] and set(g.nx.nodes) == before
    raw = sg.function([x], y, simplify=False)
    assert len(raw.plan.steps) == 3
    v = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(f(v), raw(v))
    sg.evaluate(y, {x: v})
    assert set(g.nx.nodes) == before


def test_a_large_replacement_and_a_deep_graph_need_no_deep_recursion(g):
    x = g.placeholder("x", (2,))

    def long_chain(m):
        t = m["a"]
        for _ in range(5000):
            t = sg.sin(t)
        return t - sg.sin(m["a"]) + sg.sin(m["a"])  # a new node of the node's shape

    rule = sg.Rule("grow", ("cos", "a"), long_chain)
    out = sg.simplify(sg.cos(x), rules=[rule])
    assert sg.count_nodes(out) == 5002  # the chain, - and +; its first sin(a) is merged
    y = x
    for _ in range(20_000):
        y = sg.tanh(y) * 1.0
    assert sg.count_nodes(sg.simplify(y)) == 20_000


def test_a_run_that_changes_nothing_hands_its_walk_to_the_planner(g):
    from symgrad.plan import make_plan
    from symgrad.simplify.driver import simplify_ids

    x = g.placeholder("x", (3,))
    unused = g.placeholder("unused", (3,))
    y = sg.tanh(x) * sg.sin(x) + sg.cos(x)
    order: list[int] = []
    assert simplify_ids(g, [y.id], stop=[x.id], order=order) == [y.id]
    assert order == g.topo_order([y.id], stop=[x.id])
    walked, reused = make_plan(g, [y], [x, unused]), make_plan(g, [y], [x, unused], order)
    assert [s.nid for s in reused.steps] == [s.nid for s in walked.steps]
    assert [s.args for s in reused.steps] == [s.args for s in walked.steps]

    order.clear()  # a run that rewrote something leaves the walk to the planner
    z = sg.tanh(x) * 1.0
    assert simplify_ids(g, [z.id], stop=[x.id], order=order) != [z.id] and order == []
    order.clear()  # so does one that merged equal computations
    w = sg.sin(x) + sg.sin(x)
    simplify_ids(g, [w.id], stop=[x.id], rules=[], order=order)
    assert order == []


def test_a_rule_over_an_op_registered_after_it_matches_both_orders_once_the_op_commutes(g):
    # the pattern is compiled before the op exists: whether it commutes is read when matching
    rule = sg.Rule("mix_self", ("test_mix", "x", ("sin", "x")), lambda m: m["x"] * 2.0)
    both = lambda inputs: (inputs[0].shape, inputs[0].dtype)  # noqa: E731
    sg.register(sg.OpDef("test_mix", both, np.add, commutative=True))
    try:
        x = g.placeholder("x", (3,))
        swapped = sg.apply("test_mix", [sg.sin(x), x])
        assert sg.simplify(swapped, rules=[rule]).op == "multiply"
        assert sg.simplify(sg.apply("test_mix", [sg.sin(x), sg.cos(x)]), rules=[rule]).op == \
            "test_mix"
    finally:
        del sg.OPS["test_mix"]
