"""codegen.py: plans compiled to straight-line Python: values, liveness, nesting, edge cases."""

import re
import threading
import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad import codegen
from symgrad.codegen import _MAX_DEPTH, compile_plan


def _max_paren_depth(source: str) -> int:
    depth = best = 0
    for ch in source:
        depth += ch == "("
        depth -= ch == ")"
        best = max(best, depth)
    return best


def _variables(source: str) -> set[str]:
    return set(re.findall(r"^\s+(v\d+) = ", source, re.M))


def test_compile_plan_returns_a_function_of_the_inputs_and_its_source():
    g = sg.Graph()
    x, y = g.placeholder("x", (2,)), g.placeholder("y", (2,))
    f = sg.function([x, y], [x * y, sg.exp(x)])
    run, source = compile_plan(f.plan)
    assert source.startswith("def _run(a0, a1):")
    out = run(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert isinstance(out, tuple) and len(out) == 2
    np.testing.assert_allclose(out[0], [3.0, 8.0])
    compile(source, "<test>", "exec")


def test_single_use_chain_is_nested_within_the_parser_limit():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    t = x
    for _ in range(1000):
        t = sg.sin(t)
    f = sg.function([x], t)
    v = np.array([0.1, 1.0, 2.0])
    want = v
    for _ in range(1000):
        want = np.sin(want)
    assert f.tier == "interpreted" and f.source is None  # the first call runs step by step
    np.testing.assert_allclose(f(v), want)
    np.testing.assert_allclose(f(v), want)                  # the second compiles the plan
    assert f.tier == "compiled"
    assert _max_paren_depth(f.source) <= 3 * _MAX_DEPTH < 200
    assert len(f.source.splitlines()) < 1000 // 10          # most calls are written inline


def test_dead_values_are_deleted_or_overwritten():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    t = x
    for _ in range(40):
        t = t * t + t            # every value is used twice: no inlining, only liveness
    f = sg.function([x], t)
    assert len(f.plan.steps) == 80
    assert len(_variables(f.source)) <= 3, f.source
    assert "del " in f.source or "a0 = " in f.source
    v = np.array([-0.5, 0.01, -0.9])
    want = v
    for _ in range(40):
        want = want * want + want
    np.testing.assert_allclose(f(v), want)


def test_outputs_that_are_inputs_constants_or_repeated():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    c = g.constant([5.0, 6.0])
    h = x + 1
    f = sg.function([x], [x, c, h, h, h * 2])
    v = np.array([1.0, 2.0])
    got = f(v)
    for a, b in zip(got, [v, [5.0, 6.0], v + 1, v + 1, (v + 1) * 2]):
        np.testing.assert_array_equal(a, b)
    assert sg.function([], c)().tolist() == [5.0, 6.0]
    assert sg.function([x], x)(v).tolist() == [1.0, 2.0]


def test_unused_input_is_fine():
    g = sg.Graph()
    x, y = g.placeholder("x"), g.placeholder("y")
    f = sg.function([x, y], y * 2)
    assert f(np.nan, 3.0) == 6.0


# Hypothesis: random DAGs with shared values; compiled, interpreted and NumPy agree.
_UNARY = {"sin": np.sin, "tanh": np.tanh, "negative": np.negative,
          # views of their input: a ufunc must never write into a buffer one of them still shows
          "transpose": np.transpose, "stop_gradient": lambda x: x,
          "flip": lambda x: x[::-1], "reshape": lambda x: x.reshape(3, 3)}
_BINARY = {"add": np.add, "multiply": np.multiply, "subtract": np.subtract,
           "maximum": np.maximum}
_BUILDERS = {"flip": lambda t: t[::-1], "reshape": lambda t: t.reshape((9,)).reshape((3, 3))}


@st.composite
def _dag(draw):
    n_inputs = draw(st.integers(1, 3))
    nodes = []  # (op, input positions)
    for k in range(draw(st.integers(1, 30))):
        avail = n_inputs + k
        if draw(st.booleans()):
            arg = draw(st.integers(0, avail - 1))
            nodes.append((draw(st.sampled_from(sorted(_UNARY))), (arg,)))
        else:
            pair = draw(st.tuples(st.integers(0, avail - 1), st.integers(0, avail - 1)))
            nodes.append((draw(st.sampled_from(sorted(_BINARY))), pair))
    total = n_inputs + len(nodes)
    outputs = draw(st.lists(st.integers(0, total - 1), min_size=1, max_size=4))
    return n_inputs, nodes, outputs


def _build(dag, scale):
    """The DAG's graph, its outputs, and NumPy's values of every node for inputs times scale."""
    n_inputs, nodes, outputs = dag
    g = sg.Graph()
    ts = [g.placeholder(f"x{i}", (3, 3)) for i in range(n_inputs)]
    vals = [np.linspace(-1, 1, 9).reshape(3, 3) * (i + 1) * scale for i in range(n_inputs)]
    for op, args in nodes:
        ts.append((_BUILDERS.get(op) or getattr(sg, op))(*(ts[a] for a in args)))
        fn = _UNARY.get(op) or _BINARY[op]
        vals.append(fn(*(vals[a] for a in args)))
    return ts[:n_inputs], [ts[o] for o in outputs], vals


@settings(max_examples=150, deadline=None)
@given(_dag())
def test_random_graphs_compile_to_the_same_values(dag):
    inputs, outs, vals = _build(dag, 1.0)
    f = sg.function(inputs, outs)
    got = f(*vals[:len(inputs)])
    interpreted = sg.evaluate(outs, dict(zip(inputs, vals[:len(inputs)])))
    for o, a, b in zip(dag[2], got, interpreted):
        np.testing.assert_allclose(a, vals[o], rtol=1e-12)
        np.testing.assert_array_equal(a, b)


@settings(max_examples=150, deadline=None)
@given(_dag())
def test_buffers_kept_between_calls_never_reach_a_result(dag):
    # every fresh result gets a kept buffer here (not only large ones); the views among the
    # ops (transpose, flip, reshape, stop_gradient) must keep outputs out of them
    with mock.patch.object(codegen, "SCRATCH_MIN", 0), \
            mock.patch.object(codegen, "SCRATCH_PEAK", float("inf")):
        inputs, outs, vals = _build(dag, 1.0)
        f = sg.function(inputs, outs)
        first = f(*vals[:len(inputs)])
        held = [a.copy() for a in first]
        _, _, vals2 = _build(dag, -0.5)
        second = f(*vals2[:len(inputs)])
    for o, a, b, c in zip(dag[2], first, held, second):
        np.testing.assert_array_equal(a, b)  # the second call left the first's results alone
        np.testing.assert_allclose(c, vals2[o], rtol=1e-12)


def _big_function():
    g = sg.Graph()
    x, w = g.placeholder("x", (256, 300)), g.placeholder("w", (300, 200))
    h = sg.tanh(x @ w)
    outs = [sg.sum(h * h), h.T, x.T @ (1 - h * h)]
    return sg.function([x, w], outs), outs


def _big_values(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((256, 300)) * 0.1, rng.standard_normal((300, 200)) * 0.1


def _big_numpy(x, w):
    h = np.tanh(x @ w)
    return [np.sum(h * h), h.T, x.T @ (1 - h * h)]


def test_large_intermediates_are_written_into_buffers_kept_between_calls():
    f, _ = _big_function()
    a, b = _big_values(0), _big_values(1)
    first = f(*a)
    held = [r.copy() for r in first]
    second = f(*b)
    assert f.tier == "compiled" and "_pool.pop()" in f.source, f.source
    assert "out=_s" in f.source
    for got, was in zip(first, held):
        np.testing.assert_array_equal(got, was)
    for got, want in zip(second, _big_numpy(*b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_calls_from_several_threads_at_once_each_get_their_own_buffers():
    f, _ = _big_function()
    f(*_big_values(0))
    errors = []

    def work(seed):
        try:
            for k in range(15):
                vals = _big_values(seed * 100 + k)
                for got, want in zip(f(*vals), _big_numpy(*vals)):
                    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_a_call_that_fails_midway_leaves_the_next_one_right():
    g = sg.Graph()
    x, y = g.placeholder("x", (100, 100), "int64"), g.placeholder("y", (100, 100), "int64")
    f = sg.function([x, y], sg.sum((x * y) ** y) + 1)
    ones = np.ones((100, 100), np.int64)
    f(ones * 2, ones)
    assert "_pool.pop()" in f.source
    with pytest.raises(ValueError, match="negative integer powers"):
        f(ones * 2, -ones)
    assert f(ones * 3, ones * 2) == 36 * 100 * 100 + 1


def _peak_bytes(call):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_buffers_are_not_kept_where_they_would_raise_the_peak_memory():
    # every third op is not a ufunc: its arrays cannot go into kept buffers, which would sit
    # idle beside them (5 arrays at peak against 3)
    g = sg.Graph()
    x = g.placeholder("x", (200_000,))
    y = x
    for k in range(30):
        y = (sg.sin, sg.sin, sg.sigmoid)[k % 3](y)
    f = sg.function([x], y)
    v = np.linspace(-1.0, 1.0, 200_000)
    assert "_pool" not in f.source
    assert _peak_bytes(lambda: f(v)) <= 1.05 * _peak_bytes(lambda: sg.evaluate(y, {x: v}))


def test_kept_buffers_raise_the_peak_memory_at_most_as_documented():
    g = sg.Graph()
    x = g.placeholder("x", (200_000,))
    y = x
    for k in range(30):
        y = (sg.sin, sg.sin, sg.sigmoid)[k % 3](y) * 1.5
    f = sg.function([x], y)
    v = np.linspace(-1.0, 1.0, 200_000)
    peak = _peak_bytes(lambda: f(v))  # its first call: the buffers are made in it
    assert "_pool" in f.source
    assert peak <= codegen.SCRATCH_PEAK * _peak_bytes(lambda: sg.evaluate(y, {x: v}))


def test_kept_buffers_stop_at_the_limit():
    f, outs = _big_function()
    assert "_pool" in f.source
    with mock.patch.object(codegen, "SCRATCH_LIMIT", 0):
        g = sg.function(outs[0].graph.placeholders(), outs)
    assert "_pool" not in g.source
    for a, b in zip(f(*_big_values(2)), g(*_big_values(2))):
        np.testing.assert_array_equal(a, b)
