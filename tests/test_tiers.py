"""tiers.py: a Function runs NumPy first, compiles its fused plan in the background from its
second call and says "fused" once that runs; a failed compile, or fused code failing, warns once
and stays on NumPy; SYMGRAD_FUSED=0 or no llvmlite: no fused tier."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import fuse, kernels, tiers
from symgrad.backends.numpy import _CompileOnReuse

WAIT = 120  # seconds at most for a background compile (a loaded machine); never reached when fine


def chain(steps=30, n=16, dtype="float64"):
    g = sg.Graph()
    x = g.placeholder("x", (n,), dtype)
    y = x
    for _ in range(steps):
        y = sg.tanh(y) * 0.9 + 0.1 * sg.sin(y)
    return x, y


def reference(x, y):
    """The same function on NumPy alone (the fused tier off)."""
    tiers_on, tiers.ENABLED = tiers.ENABLED, False
    try:
        return sg.function([x], [y, sg.grad(y.sum(), x)])
    finally:
        tiers.ENABLED = tiers_on


def test_first_calls_run_numpy_and_the_second_starts_the_compile(fused, rng):
    x, y = chain(10)
    f = sg.function([x], [y, sg.grad(y.sum(), x)])
    runner = f._run
    assert isinstance(runner, tiers.FusingRunner)
    v = rng.standard_normal(16)
    want = reference(x, y)(v)
    first = f(v)
    assert f.tier == "compiled" and not runner._started  # one call: nothing compiled
    f(v)
    assert runner._started  # the second call started it, and did not wait for it
    tiers._WORKER.join(WAIT)
    assert f.tier == "fused" and runner.fused is not None and runner.note == ""
    got = f(v)
    for a, b, c in zip(first, got, want):
        np.testing.assert_array_equal(a, c)  # the first call ran NumPy's plan
        assert b.dtype == c.dtype == np.float64
        np.testing.assert_allclose(b, c, rtol=1e-12, atol=1e-12)


def test_a_function_called_once_never_compiles(fused, rng):
    x, y = chain(5)
    f = sg.function([x], y)
    f(rng.standard_normal(16))
    assert f.tier == "compiled" and f._run.note == "not compiled yet"


def test_a_large_plan_interprets_first_then_compiles_then_fuses(fused, rng):
    x, y = chain(60)  # 600 steps with the gradient: interpreted at its first call
    f = sg.function([x], [y, sg.grad(y.sum(), x)])
    assert isinstance(f._run.compiled, _CompileOnReuse) and f.tier == "interpreted"
    v = rng.standard_normal(16)
    want = reference(x, y)(v)
    f(v)
    assert f.tier == "interpreted"
    f(v)
    assert f.tier in ("compiled", "fused")  # the background compile may be done already
    assert f.wait_fused(WAIT) and f.tier == "fused"
    for a, b in zip(f(v), want):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_float32_stays_float32_through_the_fused_mlp(fused, rng):
    g = sg.Graph()
    X, W = g.placeholder("X", (32, 20), "float32"), g.placeholder("W", (20, 10), "float32")
    h = sg.tanh(X @ W) * 0.5 + 0.5
    loss = (h * h).mean() + 1e-3 * (W * W).sum()
    outs = [loss, *sg.gradients(loss, [W])]
    f = sg.function([X, W], outs)
    args = (rng.standard_normal((32, 20)).astype(np.float32),
            rng.standard_normal((20, 10)).astype(np.float32))
    want = f(*args)
    assert f.wait_fused(WAIT) and f.tier == "fused"
    for a, b in zip(f(*args), want):
        assert np.asarray(a).dtype == np.asarray(b).dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_failed_compile_warns_once_and_stays_on_numpy(fused, rng, monkeypatch):
    def broken(loops):
        raise RuntimeError("LLVM said no")
    monkeypatch.setattr(kernels, "compile_loops", broken)
    x, y = chain(5)
    f = sg.function([x], y)
    v = rng.standard_normal(16)
    with pytest.warns(RuntimeWarning, match="could not compile.*LLVM said no") as got:
        assert not f.wait_fused(WAIT)
    assert len(got) == 1 and f.tier == "compiled" and "LLVM said no" in f._run.note
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        for _ in range(3):
            np.testing.assert_array_equal(f(v), reference(x, y)(v)[0])
    assert f.tier == "compiled"


def test_fused_code_failing_where_numpy_does_not_warns_once_and_goes_back(fused, rng,
                                                                           monkeypatch):
    build = fuse.build

    def failing(plan):
        made = build(plan)
        def run(*arrays):
            raise MemoryError("no room")
        made.run = run
        return made
    monkeypatch.setattr(fuse, "build", failing)
    x, y = chain(5)
    f = sg.function([x], y)
    v = rng.standard_normal(16)
    assert f.wait_fused(WAIT) and f.tier == "fused"
    with pytest.warns(RuntimeWarning, match="failed where NumPy did not.*no room") as got:
        result = f(v)
    assert len(got) == 1 and f.tier == "compiled"
    np.testing.assert_array_equal(result, reference(x, y)(v)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(v)


def test_errors_of_the_users_values_name_the_node_on_every_tier(fused):
    g = sg.Graph()
    x = g.placeholder("x", (4,))
    y = sg.tanh(x) * 2.0 + 1.0
    f = sg.function([x], y)
    assert f.wait_fused(WAIT) and f.tier == "fused"
    with pytest.raises(sg.FeedError, match="x"):
        f(np.ones(5))
    assert f.tier == "fused"


def test_nothing_to_fuse_or_no_llvmlite_no_fusing_runner(fused, monkeypatch):
    g = sg.Graph()
    a, b = g.placeholder("a", (3, 3)), g.placeholder("b", (3, 3))
    assert not isinstance(sg.function([a, b], a @ b)._run, tiers.FusingRunner)
    assert not isinstance(sg.function([a], a * 2.0)._run, tiers.FusingRunner)  # one op
    monkeypatch.setattr(tiers, "_HAS_LLVMLITE", False)
    f = sg.function([a, b], sg.tanh(a) * b + 1.0)
    assert not tiers.available() and not isinstance(f._run, tiers.FusingRunner)
    assert not f.wait_fused(0) and f.tier == "compiled"


def test_symgrad_fused_0_turns_the_tier_off(fused):
    code = ("import symgrad as sg, numpy as np\n"
            "from symgrad import tiers\n"
            "g = sg.Graph(); x = g.placeholder('x', (8,))\n"
            "f = sg.function([x], sg.tanh(x) * 2.0 + 1.0)\n"
            "f(np.ones(8)); f(np.ones(8))\n"
            "print(tiers.available(), f.wait_fused(0), f.tier)\n")
    env = dict(os.environ, SYMGRAD_FUSED="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "compiled"]


def test_the_first_call_imports_neither_fuse_nor_llvmlite(fused):
    code = ("import sys, symgrad as sg, numpy as np\n"
            "g = sg.Graph(); x = g.placeholder('x', (8,))\n"
            "f = sg.function([x], sg.tanh(x) * 2.0 + 1.0)\n"
            "f(np.ones(8))\n"
            "print(type(f._run).__name__, *[m in sys.modules for m in "
            "('symgrad.fuse', 'symgrad.kernels', 'llvmlite')])\n")
    env = {k: v for k, v in os.environ.items() if k != "SYMGRAD_FUSED"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["FusingRunner", "False", "False", "False"]
