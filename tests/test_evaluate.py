"""evaluate.py: evaluate and function: feeding, errors, pruning, merging, folding, memory."""

import importlib
import tracemalloc

import numpy as np
import pytest

import symgrad as sg

ev = importlib.import_module("symgrad.evaluate")  # sg.evaluate is the function


@pytest.fixture
def g():
    return sg.Graph()


@pytest.fixture
def counted():
    """A custom identity op that counts its runs, and one that always fails."""
    calls = []

    def count(x):
        calls.append(1)
        return x * 1.0

    def boom(x):
        raise RuntimeError("this branch must not run")

    same = lambda inputs: (inputs[0].shape, inputs[0].dtype)  # noqa: E731
    sg.register(sg.OpDef("test_count", same, count))
    sg.register(sg.OpDef("test_boom", same, boom))
    yield calls
    del sg.OPS["test_count"], sg.OPS["test_boom"]


# -- results ---------------------------------------------------------------------------------
def test_evaluate_one_tensor_or_a_list(g, rng):
    x = g.placeholder("x", (2, 3))
    y = sg.tanh(x) * 2
    v = rng.standard_normal((2, 3))
    one = sg.evaluate(y, {x: v})
    assert isinstance(one, np.ndarray)
    np.testing.assert_allclose(one, np.tanh(v) * 2)
    both = sg.evaluate([y, x], {"x": v})
    assert isinstance(both, list) and len(both) == 2
    np.testing.assert_allclose(both[0], one)
    np.testing.assert_array_equal(both[1], v)
    assert sg.evaluate((y,), {x: v})[0].shape == (2, 3)
    scalar = sg.evaluate(y.sum(), {x: v})
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()


def test_feed_accepts_lists_and_numbers(g):
    x, s = g.placeholder("x", (2,)), g.placeholder("s")
    np.testing.assert_array_equal(sg.evaluate(x * s, {x: [1, 2], s: 3}), [3.0, 6.0])


def test_feeding_an_intermediate_skips_its_ancestors(g, counted):
    x = g.placeholder("x", (2,))
    h = sg.apply("test_count", [x])
    y = h + 1
    np.testing.assert_array_equal(sg.evaluate(y, {h: np.array([1.0, 2.0])}), [2.0, 3.0])
    assert not counted


def test_only_ancestors_of_the_outputs_run(g, counted):
    x, unfed = g.placeholder("x", (2,)), g.placeholder("unfed", (2,))
    needed = sg.apply("test_count", [x]) * 2
    sg.apply("test_boom", [x]) + sg.log(unfed)      # a broken branch nobody asks for
    sg.apply("test_boom", [needed])
    np.testing.assert_array_equal(sg.evaluate(needed, {x: np.ones(2)}), [2.0, 2.0])
    assert len(counted) == 1
    f = sg.function([x], needed)
    f(np.ones(2))
    assert len(counted) == 2


def test_values_for_unneeded_placeholders_are_ignored(g):
    x, y = g.placeholder("x"), g.placeholder("y", (3,))
    assert sg.evaluate(x + 1, {x: 1.0, y: np.ones(3)}) == 2.0


def test_results_are_writeable_and_do_not_alias_inputs_or_constants(g, rng):
    x = g.placeholder("x", (2, 2))
    c = g.constant(np.eye(2))
    outs = [x, x.T, sg.stop_gradient(x), x[0], x.astype("float64"), c, c * 2,
            sg.broadcast_to(x[0], (3, 2)), sg.max_and_argmax(c, 0)[0], x + c]
    v = rng.standard_normal((2, 2))
    kept = v.copy()
    f = sg.function([x], outs)
    for results in (sg.evaluate(outs, {x: v}), f(v)):
        for r in results:
            assert isinstance(r, np.ndarray) and r.flags.writeable
            r[...] = 123.0
        np.testing.assert_array_equal(v, kept)      # the caller's input is untouched
    again = f(v)
    np.testing.assert_array_equal(again[5], np.eye(2))
    np.testing.assert_array_equal(again[6], 2 * np.eye(2))
    np.testing.assert_array_equal(sg.evaluate(c), np.eye(2))
    np.testing.assert_array_equal(g.nx.nodes[c.id]["value"], np.eye(2))


# -- feed errors -----------------------------------------------------------------------------
def test_missing_value_names_the_placeholder(g):
    x, y = g.placeholder("x"), g.placeholder("weights", (3,))
    with pytest.raises(sg.FeedError, match="weights"):
        sg.evaluate(x * y, {x: 1.0})
    with pytest.raises(sg.FeedError, match="weights"):
        sg.evaluate(y)
    with pytest.raises(sg.FeedError, match="weights"):
        sg.function([x], x * y)


@pytest.mark.parametrize("declared, given", [((2, 3), (3, 2)), ((2, 3), (2, 3, 1)),
                                             ((None, 3), (4, 2)), ((), (1,)), ((3,), ())])
def test_wrong_shape_names_placeholder_declared_and_given(g, declared, given):
    x = g.placeholder("inp", declared)
    for run in (lambda v: sg.evaluate(x * 2, {x: v}), sg.function([x], x * 2)):
        with pytest.raises(sg.FeedError) as e:
            run(np.zeros(given))
        msg = str(e.value)
        assert "inp" in msg and str(given) in msg, msg
        assert str(declared).replace("None", "?") in msg, msg


@pytest.mark.parametrize("declared, value", [
    ("int64", np.array([1.5, 2.0])), ("int32", [0.5, 1.0]), ("float64", np.array([1j, 2j])),
    ("bool", np.array([0, 1])), ("float32", np.array(["a", "b"])), ("uint8", np.array([1.0, 2]))])
def test_unsafe_dtype_names_placeholder_declared_and_given(g, declared, value):
    x = g.placeholder("counts", (2,), declared)
    given = np.asarray(value).dtype
    for run in (lambda v: sg.evaluate(x, {x: v}), sg.function([x], x)):
        with pytest.raises(sg.FeedError) as e:
            run(value)
        msg = str(e.value)
        assert "counts" in msg and declared in msg and str(given) in msg, msg


@pytest.mark.parametrize("declared, value", [
    ("float32", np.array([1.0, 2.0])), ("float32", [1, 2]), ("float64", np.array([1, 2], "int8")),
    ("int32", np.array([1, 2])), ("float64", [True, False]), ("float32", 3.5)])
def test_same_kind_values_are_cast_to_the_declared_dtype(g, declared, value):
    shape = np.shape(value)
    x = g.placeholder("x", shape, declared)
    for got in (sg.evaluate(x * 1, {x: value}), sg.function([x], x * 1)(value)):
        assert got.dtype == np.dtype(declared)
        np.testing.assert_array_equal(got, np.asarray(value).astype(declared))


def test_unknown_placeholder_name(g):
    x = g.placeholder("x")
    with pytest.raises(sg.FeedError, match="nosuch"):
        sg.evaluate(x, {"x": 1.0, "nosuch": 2.0})


def test_bad_feed_keys_and_double_feeds(g):
    x = g.placeholder("x")
    with pytest.raises(sg.FeedError):
        sg.evaluate(x, {3: 1.0})
    with pytest.raises(sg.FeedError, match="x"):
        sg.evaluate(x + 1, {"x": 1.0, x: 2.0})
    with pytest.raises(sg.FeedError):
        sg.function([x, x], x)


def test_function_arity_and_nothing_to_compute(g):
    x, y = g.placeholder("x"), g.placeholder("y")
    f = sg.function([x, y], x * y)
    assert f(2.0, 3.0) == 6.0
    with pytest.raises(TypeError, match="2"):
        f(1.0)
    with pytest.raises(ValueError):
        sg.evaluate([], {})


def test_run_time_errors_name_the_node(g):
    x, y = g.placeholder("x", (None,)), g.placeholder("y", (3,))
    s = x + y
    s.name = "the_sum"
    with pytest.raises(sg.ShapeError, match="the_sum"):
        sg.evaluate(s * 2, {x: np.ones(4), y: np.ones(3)})
    with pytest.raises(sg.ShapeError, match="the_sum"):
        sg.function([x, y], s * 2)(np.ones(4), np.ones(3))


# -- function: plan once, merge, fold ----------------------------------------------------------
def test_function_plans_once(g, monkeypatch, rng):
    x = g.placeholder("x", (3,))
    f = sg.function(x, sg.exp(x).sum(), simplify=False)
    calls = []
    monkeypatch.setattr(ev, "make_plan", lambda *a: calls.append(a))
    plan, source = f.plan, f.source
    for _ in range(3):
        v = rng.standard_normal(3)
        assert f(v) == pytest.approx(np.exp(v).sum())
    assert not calls and f.plan is plan and f.source == source
    assert "_run" in source
    assert isinstance(f, sg.Function) and "1 output" in repr(f)


def test_single_output_and_list_outputs(g):
    x = g.placeholder("x")
    assert isinstance(sg.function([x], x + 1)(1.0), np.float64)  # the scalar tier: NumPy scalars
    assert isinstance(sg.evaluate(x + 1, {x: 1.0}), np.ndarray)
    out = sg.function([x], [x + 1, x * 3])(2.0)
    assert isinstance(out, list) and [float(o) for o in out] == [3.0, 6.0]
    assert sg.function(x, [x + 1])(1.0)[0] == 2.0


def test_identical_sub_expressions_run_once(g, counted, rng):
    x, y = g.placeholder("x", (3,)), g.placeholder("y", (3,))
    cases = [
        ((x * y) + (x * y), 2),
        ((x * y) + (y * x), 2),                      # commutative: equal up to order
        (sg.exp(x) + sg.exp(x), 2),
        ((x + 1.0) * (x + 1.0), 2),                  # equal constants merge too
        (x.sum(axis=0) + x.sum(axis=-1), 2),         # equal after axis normalisation
        ((x - y) + (y - x), 3),                      # not commutative: both stay
        (sg.exp(sg.exp(x)) * sg.exp(sg.exp(x)), 3),
    ]
    v, w = rng.standard_normal(3), rng.standard_normal(3)
    for out, steps in cases:
        f = sg.function([x, y], out)
        assert len(f.plan.steps) == steps, (out, f.source)
        np.testing.assert_allclose(f(v, w), sg.evaluate(out, {x: v, y: w}))
    twice = sg.apply("test_count", [x]) + sg.apply("test_count", [x])
    sg.function([x], twice)(v)
    assert len(counted) == 1


def test_constants_are_folded(g, rng):
    c = g.constant(np.arange(3.0), name="c")
    only_constants = (c * 2 + sg.exp(c)).sum() + g.constant(1.0)
    f = sg.function([], only_constants)
    assert len(f.plan.steps) == 0
    assert f() == pytest.approx((np.arange(3.0) * 2 + np.exp(np.arange(3.0))).sum() + 1)
    x = g.placeholder("x", (3,))
    h = x * sg.sin(c + 1) - g.constant(2.0) * 3
    f = sg.function([x], h)
    assert len(f.plan.steps) == 2                  # multiply, subtract; the rest is folded
    v = rng.standard_normal(3)
    np.testing.assert_allclose(f(v), v * np.sin(np.arange(3.0) + 1) - 6)


def test_simplify_flag_is_accepted(g):
    x = g.placeholder("x")
    for flag in (True, False):
        assert sg.function([x], x * 2, simplify=flag)(2.0) == 4.0


# -- memory ----------------------------------------------------------------------------------
def _chain(x, n):
    """n elementwise ops, each value used by the next only (and once more in every third)."""
    t = x
    for k in range(n):
        t = sg.sin(t) if k % 3 else t * 0.5 + t
    return t


def _peak_bytes(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_intermediates_are_released(g):
    n_ops, size = 30, 10**6
    x = g.placeholder("x", (size,))
    y = _chain(x, n_ops)
    v = np.linspace(-1, 1, size)
    nbytes = v.nbytes
    f = sg.function([x], y)
    f(v)  # warm-up: caches and first-call allocations outside the measurement
    for run in (lambda: f(v), lambda: sg.evaluate(y, {x: v})):
        peak = _peak_bytes(run)
        assert peak < 5 * nbytes, f"peak {peak / nbytes:.1f} arrays for a chain of {n_ops}"


def test_plan_frees_each_slot_after_its_last_use(g):
    x = g.placeholder("x", (4,))
    y = _chain(x, 12)
    plan = sg.function([x], y).plan
    freed = [s for step in plan.steps for s in step.frees]
    assert len(freed) == len(set(freed))
    last = {}
    for k, step in enumerate(plan.steps):
        for a in step.args:
            last[a] = k
    for k, step in enumerate(plan.steps):
        for s in step.frees:
            assert last[s] == k and s not in plan.outputs


# -- deep graphs ---------------------------------------------------------------------------------
def test_deep_chains_compile_and_run(g):
    x = g.placeholder("x", (2,))
    t = x
    for k in range(3000):
        t = t + 1.0 if k % 2 else sg.negative(t)
    v = np.array([0.5, -2.0])
    want = v.copy()
    for k in range(3000):
        want = want + 1.0 if k % 2 else -want
    f = sg.function([x], t, simplify=False)
    assert len(f.plan.steps) == 3000
    np.testing.assert_allclose(f(v), want)
    np.testing.assert_allclose(sg.evaluate(t, {x: v}), want)
    f = sg.function([x], t)
    assert len(f.plan.steps) == 1500  # -(t) + 1 -> 1 - t
    np.testing.assert_allclose(f(v), want)


def test_deep_chain_with_shared_values(g):
    x = g.placeholder("x")
    t, ts = x, []
    for _ in range(3000):
        t = t * 0.999 + t * 0.001 + ts[-1] * 0 if ts else t + 0.0
        ts.append(t)
    f = sg.function([x], [t, ts[1500]])
    got = f(2.0)
    np.testing.assert_allclose([float(v) for v in got], [2.0, 2.0])


# -- guarantees (issue 6) --------------------------------------------------------------------
def test_outputs_never_alias_each_other(g, rng):
    x = g.placeholder("x", (2, 3))
    h = sg.tanh(x)
    v = rng.standard_normal((2, 3))
    f = sg.function([x], [h, h.T, sg.stop_gradient(h)])
    for results in (f(v), sg.evaluate([h, h.T, sg.stop_gradient(h)], {x: v}),
                    sg.evaluate([h, h], {x: v})):
        for k, r in enumerate(results):
            assert not any(np.may_share_memory(r, o) for o in results[:k])
        results[0][...] = 7.0
        np.testing.assert_allclose(results[1], np.tanh(v).T if results[1].shape == (3, 2)
                                   else np.tanh(v))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix, on purpose
def test_array_subclasses_become_plain_arrays_or_are_refused(g):
    x = g.placeholder("x", (2, 2))
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    got = sg.evaluate(x.sum(axis=0), {x: m})
    assert type(got) is np.ndarray and got.shape == (2,)
    np.testing.assert_array_equal(got, [4.0, 6.0])
    assert sg.function([x], x * 1.0)(m).shape == (2, 2)
    masked = np.ma.array([[1.0, 20.0], [0.0, 0.0]], mask=[[0, 1], [0, 0]])
    for run in (lambda: sg.evaluate(x.sum(), {x: masked}), lambda: sg.function([x], x)(masked)):
        with pytest.raises(sg.FeedError, match="'x'.*masked"):
            run()


def test_ragged_and_object_values_are_feed_errors(g):
    x = g.placeholder("x", (2,))
    with pytest.raises(sg.FeedError, match="'x'"):
        sg.evaluate(x, {x: [[1.0, 2.0], [3.0]]})
    with pytest.raises(sg.FeedError, match="'x'"):
        sg.evaluate(x, {x: [object(), object()]})


def test_a_multi_output_node_cannot_be_fed(g):
    x = g.placeholder("x", (3,))
    m, _ = sg.max_and_argmax(x, 0)
    multi = m.inputs[0]
    with pytest.raises(sg.FeedError, match="several outputs"):
        sg.evaluate(m, {multi: (1.0, 0)})
    with pytest.raises(sg.FeedError, match="several outputs"):
        sg.function([multi], m)


def test_user_op_errors_keep_their_type_and_name_the_node(g):
    class MyError(Exception):
        def __init__(self, a, b):  # not the (message) constructor the error path might assume
            super().__init__(f"{a}-{b}")

    def fails(x):
        raise MyError(1, 2)

    sg.register(sg.OpDef("test_fails", lambda inputs: (inputs[0].shape, inputs[0].dtype), fails))
    try:
        x = g.placeholder("x", (2,))
        y = sg.apply("test_fails", [x])
        y.name = "the_failing_node"
        f = sg.function([x], y * 2)
        for run in (lambda: sg.evaluate(y * 2, {x: np.ones(2)}), lambda: f(np.ones(2))):
            with pytest.raises(MyError) as info:
                run()
            assert any("the_failing_node" in n for n in info.value.__notes__)
        g.prune([x])  # the function's nodes are gone from the graph; its plan still runs
        with pytest.raises(MyError) as info:
            f(np.ones(2))
        assert any("the_failing_node" in n for n in info.value.__notes__)
    finally:
        del sg.OPS["test_fails"]


def test_params_that_compare_equal_but_compute_differently_are_not_merged(g):
    def scale(x, *, by):
        return x * np.divide(1.0, by) if isinstance(by, float) else x * by

    sg.register(sg.OpDef("test_scale", lambda inputs, by: (inputs[0].shape, np.dtype("float64")),
                         scale))
    try:
        x = g.placeholder("x")
        outs = [sg.apply("test_scale", [x], by=b) for b in (0.0, -0.0, 1, 1.0, True)]
        f = sg.function([x], outs)
        assert len(f.plan.steps) == 5
        with np.errstate(divide="ignore"):
            got = [float(v) for v in f(2.0)]
        assert got == [np.inf, -np.inf, 2.0, 2.0, 2.0]
        assert np.signbit(got[1])
        assert [k[0] for k in map(sg.ops.base.params_key, (1, 1.0, True))] == [int, float, bool]
    finally:
        del sg.OPS["test_scale"]


def test_check_finite_names_the_first_node_that_makes_a_nan(g):
    x = g.placeholder("x", (3,))
    r = sg.sqrt(x)
    r.name = "root"
    y = (r * 3.0 + 1.0).sum()
    v = np.array([1.0, -1.0, 4.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(sg.evaluate(y, {x: v}))  # off by default: no error
        for run in (lambda: sg.evaluate(y, {x: v}, check_finite=True),
                    lambda: sg.function([x], y, check_finite=True)(v)):
            with pytest.raises(sg.NonFiniteError, match=r"sqrt at node root .*origin user"):
                run()
    with pytest.raises(sg.NonFiniteError, match="'x'"):
        sg.evaluate(y, {x: np.array([np.nan, 1, 1])}, check_finite=True)


def test_check_finite_points_a_derivative_nan_at_its_forward_op(g):
    x = g.placeholder("x", (2,))
    s = sg.sqrt(x)
    s.name = "the_root"
    dx = sg.grad(s.sum(), x)
    with np.errstate(divide="ignore"):
        with pytest.raises(sg.NonFiniteError, match="origin gradient, from the derivative rule "
                                                    "of sqrt at node the_root"):
            sg.evaluate(dx, {x: np.array([0.0, 1.0])}, check_finite=True)
    # inf in, NaN out: the NaN is new there; constants are the user's own and not checked
    inf = g.constant(np.inf, name="big")
    y = (x + inf) - inf
    with np.errstate(invalid="ignore"):
        with pytest.raises(sg.NonFiniteError, match="subtract.*NaN"):
            sg.evaluate(y, {x: np.ones(2)}, check_finite=True)
    # what planning would fold is checked too: log(0) of constants only
    with np.errstate(divide="ignore"):
        with pytest.raises(sg.NonFiniteError, match="log"):
            sg.function([], sg.log(g.constant(0.0)), check_finite=True)()


def test_backend_is_numpy_and_unknown_backends_are_refused(g):
    x = g.placeholder("x")
    assert sg.evaluate(x + 1, {x: 1.0}, backend="numpy") == 2.0
    with pytest.raises(sg.SymgradError, match="torch"):  # dask: tests/backends/test_dask.py
        sg.function([x], x, backend="torch")
    with pytest.raises(sg.SymgradError, match="torch"):
        sg.evaluate(x, {x: 1.0}, backend="torch")


def test_compiled_functions_free_dead_temporaries(g):
    size = 10**6
    x = g.placeholder("x", (size,))
    t = x
    for k in range(48):  # ufuncs writing in place between calls that are not ufuncs
        t = (sg.sin, sg.sin, sg.sigmoid)[k % 3](t)
    v = np.linspace(-1, 1, size)
    f = sg.function([x], t)
    f(v)
    for run in (lambda: f(v), lambda: sg.evaluate(t, {x: v})):
        peak = _peak_bytes(run)
        assert peak < 4 * v.nbytes, f"peak {peak / v.nbytes:.1f} arrays"
