"""The derivative pass: the book's examples, higher orders, policies, errors and cost."""

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.testing import check_grads, numeric_grad


def test_repeated_input_counts_twice():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    (gx,) = sg.gradients((x * x).sum(), x)
    np.testing.assert_allclose(sg.evaluate(gx, {x: [1.0, 2.0, -3.0]}), [2.0, 4.0, -6.0])


def test_nodes_join_the_same_graph_marked_as_gradient():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = sg.tanh(x).sum()
    before = set(g.nx.nodes)
    gx = sg.grad(y, x)
    assert gx.graph is g
    new = set(g.nx.nodes) - before
    assert new and gx.id in new
    for n in new:
        attrs = g.nx.nodes[n]
        assert attrs["origin"] == "gradient"
        assert attrs["grad_of"] in before | new
    assert g.nx.nodes[gx.id]["grad_of"] in before  # made by a forward node's rule


def test_unused_terms_are_not_left_in_the_graph():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    c = g.constant(np.arange(3.0))
    y = (x * c).sum()
    n = g.nx.number_of_nodes()
    sg.grad(y, x)
    # d/dx (x*c) = g*c; the term g*x for the constant is dropped again
    ops = [g.nx.nodes[k]["op"] for k in g.nx.nodes if k >= n]
    assert ops.count("multiply") == 1


def test_book_mlp_matches_the_hand_derivation(rng):
    # Deep Learning book 6.5.7: H = relu(X W1), U2 = H W2, J = cross_entropy + lam * weight decay
    g = sg.Graph()
    X = g.placeholder("X", (None, 6))
    y = g.placeholder("y", (None,), "int64")
    W1 = g.placeholder("W1", (6, 5))
    W2 = g.placeholder("W2", (5, 4))
    lam = 0.01
    H = sg.relu(X @ W1)
    U2 = H @ W2
    J = sg.softmax_cross_entropy(U2, y).sum() + lam * ((W1 * W1).sum() + (W2 * W2).sum())
    gW1, gW2 = sg.gradients(J, [W1, W2])
    feed = {X: rng.normal(size=(7, 6)), y: rng.integers(0, 4, 7),
            W1: rng.normal(size=(6, 5)), W2: rng.normal(size=(5, 4))}
    got1, got2 = sg.evaluate([gW1, gW2], feed)

    Xv, W1v, W2v = feed[X], feed[W1], feed[W2]
    U1 = Xv @ W1v
    Hv = np.maximum(U1, 0)
    U = Hv @ W2v
    P = np.exp(U - U.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    G = P - np.eye(4)[feed[y]]                      # gradient on U2 from cross_entropy
    G1 = (G @ W2v.T) * (U1 > 0)                     # G': relu zeroes entries with U1 < 0
    np.testing.assert_allclose(got1, Xv.T @ G1 + 2 * lam * W1v, rtol=1e-10)
    np.testing.assert_allclose(got2, Hv.T @ G + 2 * lam * W2v, rtol=1e-10)


SCALAR_FUNCTIONS = [
    (lambda x: sg.sin(x) * sg.exp(x), lambda s: sympy.sin(s) * sympy.exp(s)),
    (lambda x: sg.log1p(x * x) / (1 + x), lambda s: sympy.log(1 + s**2) / (1 + s)),
    (lambda x: sg.tanh(x) ** 3 + sg.sqrt(x), lambda s: sympy.tanh(s) ** 3 + sympy.sqrt(s)),
    (lambda x: sg.sigmoid(x) * sg.cos(2 * x), lambda s: sympy.cos(2 * s) / (1 + sympy.exp(-s))),
    (lambda x: sg.softplus(x) - sg.square(x), lambda s: sympy.log(1 + sympy.exp(s)) - s**2),
]


@pytest.mark.parametrize("case", range(len(SCALAR_FUNCTIONS)))
def test_third_and_fourth_derivatives_match_sympy(case):
    build, reference = SCALAR_FUNCTIONS[case]
    g = sg.Graph()
    x = g.placeholder("x")
    s = sympy.Symbol("x")
    d = build(x)
    ds = reference(s)
    for order in range(1, 5):
        d = sg.grad(d, x)
        ds = sympy.diff(ds, s)
        if order >= 3:
            for at in (0.3, 1.7):
                want = float(ds.subs(s, at))
                got = float(sg.evaluate(d, {x: at}))
                assert got == pytest.approx(want, rel=1e-8, abs=1e-8), (order, at)


def test_hvp_matches_finite_differences_of_the_gradient(rng):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    A = g.constant(rng.normal(size=(4, 4)))
    y = sg.logsumexp(A @ sg.tanh(x)) + (x**3).sum()
    v = rng.normal(size=4)
    (hv,) = sg.hvp(y, x, v)
    x0 = rng.normal(size=4)
    gx = sg.grad(y, x)
    eps = 1e-6
    fd = (sg.evaluate(gx, {x: x0 + eps * v}) - sg.evaluate(gx, {x: x0 - eps * v})) / (2 * eps)
    np.testing.assert_allclose(sg.evaluate(hv, {x: x0}), fd, rtol=1e-6, atol=1e-8)


def test_hvp_does_not_differentiate_a_v_made_by_the_graph(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = (x**3).sum()
    v = sg.sin(x)  # depends on x, yet H v treats it as a constant vector
    (hv,) = sg.hvp(y, x, v)
    x0 = rng.normal(size=3)
    np.testing.assert_allclose(sg.evaluate(hv, {x: x0}), 6 * x0 * np.sin(x0), rtol=1e-12)


def test_hessian_of_a_quadratic_form(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    A = rng.normal(size=(3, 3))
    y = (x * (g.constant(A) @ x)).sum()
    H = sg.hessian(y, x)
    assert H.shape == (3, 3)
    np.testing.assert_allclose(sg.evaluate(H, {x: rng.normal(size=3)}), A + A.T, rtol=1e-12)


def test_jacobian_and_jvp_agree(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    W = g.constant(rng.normal(size=(2, 3)))
    y = sg.tanh(W @ x) * sg.sum(x * x)
    J = sg.jacobian(y, x)
    assert J.shape == (2, 3)
    v = rng.normal(size=3)
    (jv,) = sg.jvp(y, x, v)
    x0 = rng.normal(size=3)
    Jv = sg.evaluate(J, {x: x0})
    np.testing.assert_allclose(sg.evaluate(jv, {x: x0}), Jv @ v, rtol=1e-10)
    eps = 1e-6
    fd = (sg.evaluate(y, {x: x0 + eps * v}) - sg.evaluate(y, {x: x0 - eps * v})) / (2 * eps)
    np.testing.assert_allclose(Jv @ v, fd, rtol=1e-6)


def test_every_added_node_is_marked_gradient(rng):
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    y = (sg.sin(x) ** 2).sum()
    before = set(g.nx.nodes)
    sg.hvp(y, x, np.ones(2))
    sg.jvp(y, x, np.ones(2))
    sg.hessian(y, x)
    sg.jacobian(sg.sin(x), x)
    x_user = {n for n in g.nx.nodes if n not in before and g.nx.nodes[n]["origin"] != "gradient"}
    # jacobian's forward sin(x) was built by the user line above; everything else is gradient
    assert all(g.nx.nodes[n]["op"] == "sin" for n in x_user)


def test_gradient_of_a_dimension_known_only_at_run_time(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    b = g.placeholder("b", (None, 3))
    y = (sg.tanh(x + b) * 2).sum()
    gx, gb = sg.gradients(y, [x, b])
    xv, bv = rng.normal(size=(5, 3)), rng.normal(size=(1, 3))  # b broadcasts at run time
    got_x, got_b = sg.evaluate([gx, gb], {x: xv, b: bv})
    d = 2 * (1 - np.tanh(xv + bv) ** 2)
    np.testing.assert_allclose(got_x, d)
    np.testing.assert_allclose(got_b, d.sum(0, keepdims=True))
    assert got_b.shape == (1, 3)


def test_take_with_repeated_indices_accumulates():
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    y = sg.take(x, [1, 1, 3, 1]).sum()
    np.testing.assert_allclose(sg.evaluate(sg.grad(y, x), {x: np.zeros(4)}), [0, 3, 0, 1])


def test_float32_stays_float32():
    g = sg.Graph()
    x = g.placeholder("x", (3,), "float32")
    y = (sg.exp(x) * 0.5 + sg.softplus(x) / 3.0).mean()
    gx = sg.grad(y, x)
    assert gx.dtype == np.float32
    assert sg.evaluate(gx, {x: np.ones(3, np.float32)}).dtype == np.float32
    (hv,) = sg.hvp(y, x, np.ones(3, np.float32))
    assert hv.dtype == np.float32


# -- kinks: one convention table, docs/conventions.md ------------------------------------------
KINKS = [
    ("abs at 0", lambda x: sg.abs(x), 0.0, 0.0),
    ("relu at 0", lambda x: sg.relu(x), 0.0, 0.0),
    ("sqrt at 0", lambda x: sg.sqrt(x), 0.0, np.inf),
    ("maximum tie", lambda x: sg.maximum(x, x * 0 + 1.0), 1.0, 0.5),
    ("minimum tie", lambda x: sg.minimum(x, x * 0 + 1.0), 1.0, 0.5),
    ("max reduction tie", lambda x: sg.stack([x, x * 0 + 1.0, x * 0]).max(), 1.0, 0.5),
    ("sign anywhere", lambda x: sg.sign(x), 0.3, 0.0),
    ("floor, ceil, round, trunc", lambda x: sg.floor(x) + sg.ceil(x) + sg.round(x)
     + sg.trunc(x), 2.0, 0.0),
    ("mod in x", lambda x: sg.mod(x, 2.0), 4.0, 1.0),
    ("mod in y at a jump", lambda x: sg.mod(x * 0 + 4.0, x), 2.0, -2.0),
    ("clip at lo", lambda x: sg.clip(x, 0.0, 1.0), 0.0, 1.0),
    ("clip at hi", lambda x: sg.clip(x, 0.0, 1.0), 1.0, 1.0),
    ("clip's bound at x", lambda x: sg.clip(x * 0 + 1.0, x, 2.0), 1.0, 0.0),
    ("leaky_relu at 0", lambda x: sg.leaky_relu(x, 0.2), 0.0, 0.2),
    ("elu at 0", lambda x: sg.elu(x, 0.5), 0.0, 0.5),
    ("hypot at the origin", lambda x: sg.hypot(x, x * 0), 0.0, 0.0),
    ("arctan2 at the origin", lambda x: sg.arctan2(x, x * 0), 0.0, 0.0),
    ("norm at 0", lambda x: sg.norm(sg.stack([x, x * 0])), 0.0, 0.0),
    ("std with no spread", lambda x: sg.std(sg.stack([x, x * 0 + 0.3])), 0.3, 0.0),
    ("prod with a zero", lambda x: sg.prod(sg.stack([x, x * 0 + 2.0, x * 0 + 3.0])), 0.0, 6.0),
    ("cumprod with a zero", lambda x: sg.cumprod(sg.stack([x * 0 + 2.0, x, x * 0 + 3.0])).sum(),
     0.0, 8.0),
    ("logaddexp of equal infinities", lambda x: sg.logaddexp(x, x), -np.inf, 1.0),  # 1/2 + 1/2
    ("power in y at a zero base", lambda x: (x * 0) ** 2.0 + x.graph.constant(0.0) ** x, 2.0,
     0.0),
    ("power x**0 at 0", lambda x: x ** 0.0, 0.0, 0.0),
    ("power x**0 at a subnormal", lambda x: x ** 0.0, 5e-324, 0.0),
    ("power 0**x in x at 0", lambda x: x.graph.constant(0.0) ** x, 0.0, 0.0),
    ("arcsin at 1", lambda x: sg.arcsin(x), 1.0, np.inf),
    ("arccosh at 1", lambda x: sg.arccosh(x), 1.0, np.inf),
]


@pytest.mark.parametrize("name,f,at,want", KINKS, ids=[k[0] for k in KINKS])
def test_kink_conventions(name, f, at, want):
    g = sg.Graph()
    x = g.placeholder("x")
    with np.errstate(divide="ignore", invalid="ignore"):  # branches where() does not take
        assert float(sg.evaluate(sg.grad(f(x), x), {x: at})) == want


# -- policies and errors -----------------------------------------------------------------------
def test_unconnected_policies():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    z = g.placeholder("z", (2,))
    y = x.sum()
    gz0 = sg.gradients(y, z)[0]
    np.testing.assert_array_equal(sg.evaluate(gz0, {z: [1.0, 2.0]}), [0.0, 0.0])
    assert sg.gradients(y, [x, z], unconnected="none")[1] is None
    with pytest.raises(sg.GradientError, match="no path"):
        sg.gradients(y, z, unconnected="raise")
    with pytest.raises(ValueError, match="unconnected"):
        sg.gradients(y, z, unconnected="ignore")


@pytest.mark.parametrize("block,why", [
    (lambda x: sg.argmax(x).astype("float64"), "argmax"),
    (lambda x: sg.cast(x > 0, "float64").sum(), "greater"),
    (lambda x: sg.stop_gradient(x).sum(), "stop_gradient"),
    (lambda x: sg.cast(x, "int64").astype("float64").sum(), "cast"),
])
def test_raise_says_which_node_blocks(block, why):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    with pytest.raises(sg.GradientError, match=why) as info:
        sg.gradients(block(x), x, unconnected="raise")
    assert "x" in str(info.value)


def test_integer_x_counts_as_unconnected():
    g = sg.Graph()
    i = g.placeholder("i", (3,), "int64")
    y = (i * 2.0).sum()
    with pytest.raises(sg.GradientError, match="int64"):
        sg.gradients(y, i, unconnected="raise")


def test_non_scalar_y_needs_grad_ys(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    with pytest.raises(ValueError, match="grad_ys"):
        sg.gradients(sg.sin(x), x)
    u = rng.normal(size=3)
    (gx,) = sg.gradients(sg.sin(x), x, grad_ys=u)
    np.testing.assert_allclose(sg.evaluate(gx, {x: np.zeros(3)}), u)


def test_several_ys_add_up():
    g = sg.Graph()
    x = g.placeholder("x")
    (gx,) = sg.gradients([x * x, 3 * x], x)
    assert float(sg.evaluate(gx, {x: 2.0})) == 7.0


def test_op_without_rule_raises_naming_op_and_node():
    sg.register(sg.OpDef("no_rule_op", lambda inputs: (inputs[0].shape, inputs[0].dtype),
                         lambda x: x * 1.0))
    try:
        g = sg.Graph()
        x = g.placeholder("x")
        y = sg.apply("no_rule_op", [x])
        y.name = "mystery"
        with pytest.raises(sg.GradientError, match="no_rule_op.*mystery"):
            sg.grad(y * 2, x)
    finally:
        del sg.OPS["no_rule_op"]


def test_multi_output_max_and_argmax():
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    m, i = sg.max_and_argmax(x, axis=1)
    y = (m * m).sum() + i.astype("float64").sum()
    xv = np.array([[1.0, 5.0, 2.0], [-1.0, -3.0, 0.5]])
    got = sg.evaluate(sg.grad(y, x), {x: xv})
    np.testing.assert_allclose(got, [[0, 10, 0], [0, 0, 1]])


def test_softmax_cross_entropy_gradient_reaches_probabilities(rng):
    g = sg.Graph()
    z = g.placeholder("z", (2, 3))
    p = g.placeholder("p", (2, 3))
    y = sg.softmax_cross_entropy(z, p).sum()
    zv = rng.normal(size=(2, 3))
    pv = rng.dirichlet(np.ones(3), size=2)
    check_grads(y, [z, p], {z: zv, p: pv}, order=2)


# -- cost ----------------------------------------------------------------------------------------
def _exponential_paths(depth):
    g = sg.Graph()
    x = g.placeholder("x")
    y = x
    for _ in range(depth):  # each level doubles the number of paths from x to y
        a, b = sg.sin(y), sg.cos(y)
        y = a * b + a
    return g, x, y


def test_gradient_of_exponentially_many_paths_has_linear_size():
    sizes = []
    for depth in (10, 20, 40):
        g, x, y = _exponential_paths(depth)
        n = g.nx.number_of_nodes()
        gx = sg.grad(y, x)
        sizes.append(g.nx.number_of_nodes() - n)
    assert sizes[2] - sizes[1] == 2 * (sizes[1] - sizes[0])  # exactly linear in depth
    g, x, y = _exponential_paths(6)
    gx = sg.grad(y, x)
    num = numeric_grad(lambda v: sg.evaluate(y, {x: v}), np.array(0.4))
    assert float(sg.evaluate(gx, {x: 0.4})) == pytest.approx(float(num), rel=1e-6)


def test_a_long_chain_does_not_recurse():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    y = x
    for _ in range(20_000):
        y = sg.sin(y)
    gx = sg.grad(y.sum(), x)
    f = sg.function([x], gx)
    assert f(np.array([0.1, 0.2])).shape == (2,)


@pytest.mark.parametrize("shape", [(4, 3), (None, 3)])
def test_a_sums_gradient_is_broadcast_only_where_needed(rng, shape):
    g = sg.Graph()
    W = g.placeholder("W", shape)
    b = g.placeholder("b", (3,))
    y = 0.5 * (W**2).sum() + (W + b).sum() + (W.mean(axis=0) * b).sum()
    gW, gb = sg.gradients(y, [W, b])
    Wv, bv = rng.normal(size=(4, 3)), rng.normal(size=3)
    got_W, got_b = sg.evaluate([gW, gb], {W: Wv, b: bv})
    np.testing.assert_allclose(got_W, Wv + 1 + bv / 4)
    np.testing.assert_allclose(got_b, 4 + Wv.mean(axis=0))
    if shape == (4, 3):  # W**2's rule scales the scalar gradient before touching W
        ops = [g.nx.nodes[a]["op"] for a in g.ancestors([gW.id]) if a > y.id]
        assert "power" not in ops


def test_jacobian_and_hessian_need_static_shapes():
    g = sg.Graph()
    x = g.placeholder("x", (None,))
    with pytest.raises(sg.ShapeError, match="static shape"):
        sg.jacobian(sg.sin(x), x)
    with pytest.raises(sg.ShapeError, match="static shape"):
        sg.hessian(sg.sin(x).sum(), x)


def test_hvp_over_several_xs(rng):
    g = sg.Graph()
    a = g.placeholder("a", (2,))
    b = g.placeholder("b", (2,))
    y = (a * a * b).sum()  # H = [[2 diag(b), 2 diag(a)], [2 diag(a), 0]]
    va, vb = rng.normal(size=2), rng.normal(size=2)
    ha, hb = sg.hvp(y, [a, b], [va, vb])
    av, bv = rng.normal(size=2), rng.normal(size=2)
    got_a, got_b = sg.evaluate([ha, hb], {a: av, b: bv})
    np.testing.assert_allclose(got_a, 2 * bv * va + 2 * av * vb)
    np.testing.assert_allclose(got_b, 2 * av * va)


# -- guarantees (issue 6) --------------------------------------------------------------------
@pytest.mark.parametrize("base, exponent, wrt, want", [
    (0.0, 2.0, "p", 0.0),        # d(x^p)/dp = x^p log x: 0 at x = 0 (log 0 taken as log 1)
    (0.0, 0.5, "p", 0.0),
    (0.0, 0.0, "x", 0.0),        # d(x^0)/dx = 0, also at x = 0
    (5e-324, 0.0, "x", 0.0),     # and at a subnormal, where x^-1 overflows
    (0.0, 0.0, "p", 0.0),
    (0.0, 1.5, "x", 0.0),
    (0.0, 1.0, "x", 1.0),
    (2.0, 3.0, "x", 12.0),
    (2.0, 3.0, "p", 8 * np.log(2.0)),
])
def test_power_conventions_where_the_naive_rule_gives_nan(base, exponent, wrt, want):
    g = sg.Graph()
    x, p = g.placeholder("x"), g.placeholder("p")
    d = sg.grad(x ** p, x if wrt == "x" else p)
    with np.errstate(all="raise"):  # the rule itself must not divide by zero or make a NaN
        got = sg.evaluate(d, {x: base, p: exponent})
    assert got == pytest.approx(want)


def test_power_conventions_for_constant_exponents_and_bases():
    g = sg.Graph()
    x = g.placeholder("x")
    for y, at, want in [(x ** 0, 0.0, 0.0), (x ** 0, 5e-324, 0.0),
                        (g.constant(0.0) ** x, 1.5, 0.0), (g.constant(0.0) ** x, 0.0, 0.0)]:
        with np.errstate(all="raise"):
            assert sg.evaluate(sg.grad(y, x), {x: at}) == want


def test_differentiating_with_respect_to_an_inner_node_runs_no_rule_of_its_own():
    sg.register(sg.OpDef("test_no_rule", lambda inputs: (inputs[0].shape, inputs[0].dtype),
                         lambda x: x * 2.0))
    try:
        g = sg.Graph()
        x = g.placeholder("x", (2,))
        h = sg.apply("test_no_rule", [x])
        y = (sg.sin(h) * 3).sum()
        np.testing.assert_allclose(sg.evaluate(sg.grad(y, h), {x: np.ones(2)}),
                                   3 * np.cos(2.0) * np.ones(2))
        with pytest.raises(sg.GradientError, match="test_no_rule"):
            sg.gradients(y, [x, h])  # x needs the rule h lacks
    finally:
        del sg.OPS["test_no_rule"]


def test_unconnected_zero_needs_no_value_for_a_static_x():
    g = sg.Graph()
    x, w = g.placeholder("x", (2, 3)), g.placeholder("w", (3,))
    y = (w * 2).sum()
    dx, dw = sg.gradients(y, [x, w])
    got = sg.evaluate([dx, dw], {w: np.ones(3)})  # x not fed
    np.testing.assert_array_equal(got[0], np.zeros((2, 3)))
    got[0][...] = 1  # the caller's own array
    assert sg.function([w], dx)(np.ones(3)).shape == (2, 3)
    d = g.placeholder("d", (None,))
    with pytest.raises(sg.FeedError, match="'d'"):  # its shape is known only when fed
        sg.evaluate(sg.gradients(y, d)[0], {w: np.ones(3)})


def test_jvp_is_differentiable_in_its_tangents(rng):
    g = sg.Graph()
    x, t = g.placeholder("x", (3,)), g.placeholder("t", (3,))
    j = sg.jvp(sg.sin(x), x, t)[0]
    feed = {x: rng.standard_normal(3), t: rng.standard_normal(3)}
    got = sg.evaluate(sg.gradients(j.sum(), t)[0], feed)
    np.testing.assert_allclose(got, np.cos(feed[x]))
    np.testing.assert_allclose(sg.evaluate(j, feed), np.cos(feed[x]) * feed[t])
    check_grads(j.sum(), [x, t], feed, order=2)


def test_jvp_of_a_jvp_is_a_second_directional_derivative(rng):
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    v, w = rng.standard_normal(3), rng.standard_normal(3)
    y = (sg.sin(x) * x).sum()
    second = sg.jvp(sg.jvp(y, x, v)[0], x, w)[0]
    xv = rng.standard_normal(3)
    hess = sg.evaluate(sg.hessian(y, x), {x: xv})
    assert sg.evaluate(second, {x: xv}) == pytest.approx(v @ hess @ w)


def test_a_failing_derivative_pass_leaves_the_graph_as_it_was():
    sg.register(sg.OpDef("test_no_rule2", lambda inputs: (inputs[0].shape, inputs[0].dtype),
                         lambda x: x))
    try:
        g = sg.Graph()
        x = g.placeholder("x", (2,))
        y = (sg.exp(sg.apply("test_no_rule2", [sg.sin(x) * 2.0])) * 3.0).sum()
        before = dict(g.nx.nodes(data=True)), set(g.nx.edges), g.next_id, g.grad_passes
        for fail in (lambda: sg.gradients(y, x), lambda: sg.hvp(y, x, np.ones(2)),
                     lambda: sg.hessian(y, x), lambda: sg.jvp(y, x, np.ones(2)),
                     lambda: sg.jacobian(y, x)):
            with pytest.raises(sg.GradientError):
                fail()
            assert (dict(g.nx.nodes(data=True)), set(g.nx.edges), g.next_id,
                    g.grad_passes) == before
        np.testing.assert_allclose(sg.evaluate(sg.grad((x * x).sum() * 3.0, x), {x: np.ones(2)}), 6)
    finally:
        del sg.OPS["test_no_rule2"]


@pytest.mark.parametrize("bad, error", [
    ([None], TypeError), (1j, TypeError), (np.array([1j, 2j]), TypeError),
    (np.ones(3), sg.ShapeError)])
def test_bad_grad_ys_are_clear_errors(bad, error):
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    y = sg.sin(x)
    before = g.next_id
    with pytest.raises(error, match="grad_ys"):
        sg.gradients([y] if isinstance(bad, list) else y, x, grad_ys=bad)
    assert g.next_id == before


def test_hvp_with_a_wrongly_shaped_vector_names_x():
    g = sg.Graph()
    x = g.placeholder("weights", (3,))
    y = (x * x).sum()
    for v in (np.ones(4), np.ones((3, 1)), np.ones(())):
        with pytest.raises(sg.ShapeError, match="weights.*(3,)"):
            sg.hvp(y, x, v)
    with pytest.raises(TypeError, match="weights"):
        sg.hvp(y, x, None)


def test_a_rule_with_a_defaulted_third_parameter_or_a_partial_works():
    import functools

    def bp(out, g, scale=2.0):  # a parameter of its own, not the pass's `wanted`
        return (g * scale,)

    def bp_partial(out, g, scale):
        return (g * scale,)

    same = lambda inputs: (inputs[0].shape, inputs[0].dtype)  # noqa: E731
    sg.register(sg.OpDef("test_scaled", same, lambda x: 2.0 * x, bprop=bp))
    sg.register(sg.OpDef("test_scaled_p", same, lambda x: 3.0 * x,
                         bprop=functools.partial(bp_partial, scale=3.0)))
    try:
        g = sg.Graph()
        x = g.placeholder("x", (2,))
        for op, want in (("test_scaled", 2.0), ("test_scaled_p", 3.0)):
            d = sg.grad(sg.apply(op, [x]).sum(), x)
            np.testing.assert_array_equal(sg.evaluate(d, {x: np.ones(2)}), [want, want])
    finally:
        del sg.OPS["test_scaled"], sg.OPS["test_scaled_p"]


def test_each_pass_is_numbered_and_its_results_recorded():
    g = sg.Graph()
    w = g.placeholder("W", (3,))
    loss = (sg.tanh(w) ** 2).sum()
    (hv,) = sg.hvp(loss, w, np.ones(3))
    passes = {a.get("grad_pass") for _, a in g.nx.nodes(data=True) if a["origin"] == "gradient"}
    assert passes == {1, 2} and g.grad_passes == 2
    assert all("grad_pass" not in a for _, a in g.nx.nodes(data=True) if a["origin"] == "user")
    assert g.grad_results[-1] == (hv.id, g.grad_results[-1][1], w.id, 2)
    assert g.grad_results[0][1:] == ((loss.id,), w.id, 1)
