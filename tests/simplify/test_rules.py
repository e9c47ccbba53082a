"""simplify/rules.py: every default rule fires on a graph made for it and keeps its values.

RULE_CASES maps each rule's name to a function building, from placeholders a, b (3,), m (2, 3)
and s (), the tensors it rewrites. The test checks that the rule is in the trace, that shapes
and dtypes stay, and that the simplified values equal the raw graph's. A meta-test fails when a
rule of DEFAULT_RULES has no case.
"""

import warnings

import numpy as np
import pytest

import symgrad as sg
from tests.graphs import tanh_derivative


def _grad(y, x):
    return sg.grad(y, x)


def _cross_entropy_grads(kind):
    def build(a, b, m, s):
        p = sg.softmax(m * 0.5, axis=-1)
        losses = {"log_softmax": -(p * sg.log_softmax(m)).sum(-1),
                  "inside": (-(p * sg.log_softmax(m))).sum(-1),
                  "log_of_softmax": -(p * sg.log(sg.softmax(m))).sum(-1)}
        return [_grad(losses[kind].mean(), m)]
    return build


def _with_spread_scalar(op, left):
    def build(a, b, m, s):
        spread = sg.broadcast_to(m.graph.constant(2.0), (2, 3))
        return [getattr(sg, op)(spread, m) if left else getattr(sg, op)(m, spread)]
    return build


def _polynomial_case(op):
    return lambda a, b, m, s: [_polynomial_at(op, s)]


RULE_CASES = {
    "fold_constants": lambda a, b, m, s: [a * (a.graph.constant(2.0) + 3.0)],
    "fold_output": lambda a, b, m, s: [a + sg.max_and_argmax(a.graph.constant([1.0, 5.0, 2.0]),
                                                               0)[0]],
    "mul_one": lambda a, b, m, s: [a * 1.0],
    "mul_zero": lambda a, b, m, s: [m * 0.0],
    "add_zero": lambda a, b, m, s: [0.0 + a],
    "sub_zero": lambda a, b, m, s: [a - 0.0],
    "zero_sub": lambda a, b, m, s: [0.0 - a],
    "div_one": lambda a, b, m, s: [a / 1.0],
    "pow_one": lambda a, b, m, s: [a ** 1.0],
    "pow_zero": lambda a, b, m, s: [a ** 0.0],
    "pow_two": lambda a, b, m, s: [a ** 2],
    "neg_neg": lambda a, b, m, s: [sg.negative(sg.negative(a))],
    "mul_neg_one": lambda a, b, m, s: [a * -1.0],
    "sub_self": lambda a, b, m, s: [sg.sin(a) - sg.sin(a)],
    "add_self": lambda a, b, m, s: [sg.sin(a) + sg.sin(a)],
    "add_neg": lambda a, b, m, s: [a + (-b)],
    "sub_neg": lambda a, b, m, s: [a - (-b)],
    "log_exp": lambda a, b, m, s: [sg.log(sg.exp(a))],
    "exp_log": lambda a, b, m, s: [sg.exp(sg.log(a))],
    "cast_same": lambda a, b, m, s: [sg.apply("cast", [a], dtype="float64")],
    "collect_factors": lambda a, b, m, s: [2.0 * (3.0 * a)],
    "collect_terms": lambda a, b, m, s: [2.0 * a + 3.0 * a],
    "collect_term": lambda a, b, m, s: [a + 3.0 * a],
    "transpose_twice": lambda a, b, m, s: [m.T.T * 2.0],
    "transpose_identity": lambda a, b, m, s: [sg.transpose(m, (0, 1)) * 2.0],
    "reshape_same": lambda a, b, m, s: [m.reshape((2, 3)) + 1.0],
    "reshape_like_same": lambda a, b, m, s: [sg.apply("reshape", [a, b], shape=None) + 1.0],
    "reshape_twice": lambda a, b, m, s: [m.reshape((3, 2)).reshape((6,))],
    "broadcast_same": lambda a, b, m, s: [sg.broadcast_to(a, (3,)) * 2.0],
    "broadcast_like_same": lambda a, b, m, s: [sg.apply("broadcast_to", [a, b], shape=None)],
    "sum_to_same": lambda a, b, m, s: [sg.apply("sum_to", [a], shape=(3,)) * 2.0],
    "sum_to_like_same": lambda a, b, m, s: [sg.apply("sum_to", [a, b], shape=None) * 2.0],
    "expand_nothing": lambda a, b, m, s: [sg.apply("expand_dims", [a], axis=()) * 2.0],
    "sum_of_broadcast_scalar": lambda a, b, m, s: [sg.broadcast_to(s, (2, 3)).sum(axis=1)],
    "spread_scalar_expand_dims": lambda a, b, m, s: [
        sg.expand_dims(sg.broadcast_to(a.graph.constant(2.0), (3,)), 0) * m],
    "spread_scalar_reshape": lambda a, b, m, s: [
        sg.broadcast_to(a.graph.constant(2.0), (6,)).reshape((2, 3)) * m],
    "spread_scalar_transpose": lambda a, b, m, s: [
        sg.broadcast_to(a.graph.constant(2.0), (3, 2)).T * m],
    "spread_scalar_broadcast_to": lambda a, b, m, s: [
        sg.broadcast_to(sg.broadcast_to(a.graph.constant(2.0), (3,)), (2, 3)) * m],
    "spread_scalar_squeeze": lambda a, b, m, s: [
        sg.squeeze(sg.broadcast_to(a.graph.constant(2.0), (1, 3)), 0) * a],
    **{f"scalar_operand_{op}": _with_spread_scalar(op, left=False)
       for op in ("add", "subtract", "multiply", "divide", "maximum", "minimum")},
    **{f"scalar_operand_{op}_left": _with_spread_scalar(op, left=True)
       for op in ("subtract", "divide")},
    **{f"polynomial_{op}": _polynomial_case(op)
       for op in ("add", "subtract", "multiply", "divide", "negative")},
    "log_softmax": lambda a, b, m, s: [sg.log(sg.softmax(m, axis=-1))],
    "softmax_of_log_softmax": lambda a, b, m, s: [sg.exp(sg.log_softmax(m, axis=-1))],
    "cross_entropy": lambda a, b, m, s: [-(sg.softmax(m * 2.0) * sg.log_softmax(m)).sum(-1)],
    "cross_entropy_negated_inside": lambda a, b, m, s: [
        (-(sg.softmax(m * 2.0) * sg.log_softmax(m))).sum(-1)],
    "cross_entropy_grad": _cross_entropy_grads("log_softmax"),
    "softmax_grad_of_quotient": _cross_entropy_grads("log_of_softmax"),
    "cancel_quotient": lambda a, b, m, s: [(sg.sin(a) / sg.exp(b)) * sg.exp(b)],
    "neg_of_neg_product": lambda a, b, m, s: [-((-a) * b)],
    "neg_of_spread_scalar": lambda a, b, m, s: [-sg.broadcast_to(m.graph.constant(2.0), (2, 3))
                                                + m],
    "log1p": lambda a, b, m, s: [sg.log(1.0 + a)],
    "log_sigmoid": lambda a, b, m, s: [sg.log(sg.sigmoid(a))],
    "where_mul": lambda a, b, m, s: [sg.where(a > 1.0, a, 0.0) * sg.log(b)],
    "where_else_mul": lambda a, b, m, s: [sg.where(a > 1.0, 0.0, a) * sg.log(b)],
    "where_div": lambda a, b, m, s: [sg.where(a > 1.0, a, 0.0) / (b - 1.0)],
    "where_else_div": lambda a, b, m, s: [sg.where(a > 1.0, 0.0, a) / (b - 1.0)],
    "where_neg": lambda a, b, m, s: [-sg.where(a > 1.0, a, 0.0)],
    "where_else_neg": lambda a, b, m, s: [-sg.where(a > 1.0, 0.0, a)],
    "where_tanh_grad": lambda a, b, m, s: [sg.apply("tanh_grad", [b, sg.where(a > 1, a, 0.0)])],
    "where_else_tanh_grad": lambda a, b, m, s: [
        sg.apply("tanh_grad", [b, sg.where(a > 1, 0.0, a)])],
    "where_sigmoid_grad": lambda a, b, m, s: [
        sg.apply("sigmoid_grad", [b, sg.where(a > 1, a, 0.0)])],
    "where_else_sigmoid_grad": lambda a, b, m, s: [
        sg.apply("sigmoid_grad", [b, sg.where(a > 1, 0.0, a)])],
}


def _polynomial_at(op, s):
    """A scalar graph rooted at `op` that no local rule shrinks but its polynomial does."""
    q = s * (s + 1.0)  # s^2 + s
    return {
        "add": q + s,                          # s^2 + 2s -> s (s + 2)
        "subtract": q - s,                     # s^2
        "multiply": (s * 3.0) * (s * 2.0),     # 6 s^2
        "divide": (s * s + s * s) / 2.0,       # s^2
        "negative": -(s * s - s),              # s (1 - s)
    }[op]


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_fires_and_keeps_values(rule, rng):
    g = sg.Graph()
    a, b = g.placeholder("a", (3,)), g.placeholder("b", (3,))
    m, s = g.placeholder("m", (2, 3)), g.placeholder("s")
    outs = RULE_CASES[rule](a, b, m, s)
    trace = []
    simple = sg.simplify(outs, trace=trace)
    assert rule in {r.rule for r in trace}, [r.rule for r in trace]
    for t, u in zip(outs, simple):
        assert (u.shape, u.dtype) == (t.shape, t.dtype)
    feeds = [rng.uniform(0.5, 2.0, shape) for shape in ((3,), (3,), (2, 3), ())]
    xs = [a, b, m, s]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sg.function(xs, outs, simplify=False)(*feeds)
        got = sg.function(xs, simple, simplify=False)(*feeds)
    for w, v in zip(want, got):
        np.testing.assert_allclose(v, w, rtol=1e-10, atol=1e-12)


def test_every_default_rule_has_a_case_and_a_name_of_its_own():
    names = [r.name for r in sg.DEFAULT_RULES]
    assert len(names) == len(set(names)), "rule names repeat"
    missing = sorted(set(names) - set(RULE_CASES))
    assert not missing, f"rules without a test case: {missing}"
    assert not set(RULE_CASES) - set(names), "cases of rules that are gone"


def test_fourth_derivative_of_tanh_is_six_nodes():
    g, x, d = tanh_derivative(4)
    simple = sg.simplify(d)
    assert sg.count_nodes(d) >= 28 and sg.count_nodes(simple) == 6
    y = np.tanh(np.linspace(-2, 2, 9))
    want = (1 - y * y) * (16 * y - 24 * y ** 3)  # the closed form in y = tanh(x)
    f = sg.function([x], simple, simplify=False)
    np.testing.assert_allclose([f(v) for v in np.linspace(-2, 2, 9)], want, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("kind", ["sce", "log_softmax", "inside", "log_of_softmax"])
def test_every_spelling_of_cross_entropy_differentiates_to_the_books_form(kind, rng):
    # book 6.5.9: dJ/dz = softmax(z) sum(p) - p, times the gradient on each row
    g = sg.Graph()
    z, p = g.placeholder("z", (4, 3)), g.placeholder("p", (4, 3))
    loss = {"sce": sg.softmax_cross_entropy(z, p),
            "log_softmax": -(p * sg.log_softmax(z)).sum(-1),
            "inside": (-(p * sg.log_softmax(z))).sum(-1),
            "log_of_softmax": -(p * sg.log(sg.softmax(z))).sum(-1)}[kind].mean()
    dz = sg.simplify(sg.grad(loss, z))
    ops = sorted(g.nx.nodes[n]["op"] for n in g.ancestors([dz.id])
                 if g.nx.nodes[n]["op"] not in ("placeholder", "constant"))
    assert ops == ["multiply", "multiply", "softmax", "subtract", "sum"], ops
    zv, pv = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)
    e = np.exp(zv - zv.max(1, keepdims=True))
    want = (e / e.sum(1, keepdims=True) * pv.sum(1, keepdims=True) - pv) / 4
    np.testing.assert_allclose(sg.evaluate(dz, {z: zv, p: pv}), want, rtol=1e-12)


def test_book_mlp_loss_and_gradients_are_at_most_30_nodes():
    g = sg.Graph()
    X, y = g.placeholder("X", (256, 784)), g.placeholder("y", (256,), "int64")
    W1, W2 = g.placeholder("W1", (784, 512)), g.placeholder("W2", (512, 10))
    loss = (sg.softmax_cross_entropy(sg.relu(X @ W1) @ W2, y).mean()
            + 1e-4 * ((W1 * W1).sum() + (W2 * W2).sum()))
    outs = [loss, *sg.gradients(loss, [W1, W2])]
    assert sg.count_nodes(sg.simplify(outs)) <= 30 < sg.count_nodes(outs) + 1
