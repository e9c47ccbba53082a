"""Random graphs over every op (tests/strategies.py): evaluation against straight NumPy,
function against evaluate, gradients against finite differences at orders 1 and 2, the adjoint
identity, and simplification keeping the values of first and second derivatives. Examples per
test: 60 in CI (tests/conftest.py); HYPOTHESIS_PROFILE=long runs 2,000."""

import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import symgrad as sg
from symgrad.export.sympy import SYMPY_OPS
from symgrad.testing import check_adjoint, check_grads
from tests.strategies import GENS, programs


def _close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy gives {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy gives {want.dtype}"
    tol = 2e-5 if got.dtype == np.float32 else 1e-9
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def _cost(pool, xs):
    """One float64 scalar from every float value the program made."""
    terms = [t.astype("float64").sum() for t in pool[len(xs):] if t.dtype.kind == "f"]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


@given(prog=programs(), seed=st.integers(0, 2**16))
def test_evaluation_matches_straight_numpy(prog, seed):
    g, xs, pool = prog.build()
    arrays = prog.values(seed)
    want = prog.reference(arrays)
    feed = dict(zip(xs, arrays))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = sg.evaluate(pool, feed)
        got_f = sg.function(xs, pool)(*arrays)
        got_raw = sg.function(xs, pool, simplify=False)(*arrays)
    for k, (t, a, b, c, w) in enumerate(zip(pool, got, got_f, got_raw, want)):
        assert t.dtype == w.dtype, f"value {k}: declared {t.dtype}, NumPy gives {w.dtype}"
        for r, how in ((a, "evaluate"), (b, "function"), (c, "function(simplify=False)")):
            _close(r, w, f"value {k} ({t.op}) by {how} in {prog}")


@given(prog=programs(smooth=True, dtypes=("float64",)), seed=st.integers(0, 2**16))
def test_gradients_match_finite_differences(prog, seed):
    g, xs, pool = prog.build()
    if len(pool) == len(xs):
        return
    y = _cost(pool, xs)
    feed = dict(zip(xs, prog.values(seed)))
    check_grads(y, xs, feed, order=2, rtol=1e-4, atol=1e-5)


@given(prog=programs(smooth=True, dtypes=("float64",)), seed=st.integers(0, 2**16))
def test_adjoint_identity(prog, seed):
    g, xs, pool = prog.build()
    y = pool[-1]
    if y.dtype.kind != "f" or len(pool) == len(xs):
        return
    check_adjoint(y, xs, dict(zip(xs, prog.values(seed))), np.random.default_rng(seed), 1e-8)


@given(prog=programs(), seed=st.integers(0, 2**16))
def test_simplify_keeps_values_of_first_and_second_derivatives(prog, seed):
    g, xs, pool = prog.build()
    if len(pool) == len(xs):
        return
    y = _cost(pool, xs)
    firsts = sg.gradients(y, xs)
    seconds = sg.gradients(sum((d * d).sum() for d in firsts), xs)
    outs = [y, *firsts, *seconds, *pool[len(xs):]]
    simple = sg.simplify(outs)
    if not any(g.nx.nodes[n]["op"] == "where" for n in g.ancestors(t.id for t in outs)):
        assert sg.count_nodes(simple) <= sg.count_nodes(outs)  # where's guards cost nodes
    arrays = prog.values(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = sg.function(xs, outs, simplify=False)(*arrays)
        got = sg.function(xs, simple, simplify=False)(*arrays)
    # rewriting reorders float arithmetic: agreement to rounding, in the least precision the
    # program computes in, scaled by the values' size (sums of terms cancel)
    single = any(d == "float32" for *_, d in prog.inputs)
    for k, (t, s, a, b) in enumerate(zip(outs, simple, raw, got)):
        assert (s.shape, s.dtype) == (t.shape, t.dtype), f"output {k} in {prog}"
        assert a.shape == b.shape and a.dtype == b.dtype
        finite = np.isfinite(a)
        if not finite.any():
            continue
        scale = max(1.0, float(np.max(np.abs(a[finite]))))
        tol = 1e-4 if single else 1e-7
        np.testing.assert_allclose(b[finite], a[finite], rtol=tol, atol=tol * scale,
                                   err_msg=f"output {k} ({t.op}) in {prog}")


def test_save_and_load_keep_every_node_and_value(prog, seed):
    g, xs, pool = prog.build()
    firsts = sg.gradients(_cost(pool, xs), xs) if len(pool) > len(xs) else []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.json"
        sg.save(g, path)
        h = sg.load(path)
    assert sorted(h.nx.nodes) == sorted(g.nx.nodes)
    for n, a in g.nx.nodes(data=True):
        b = h.nx.nodes[n]
        for key in ("op", "inputs", "shape", "dtype", "name", "origin", "params"):
            assert a[key] == b[key] and type(a[key]) is type(b[key]), (n, key, a[key], b[key])
        assert a.get("grad_of") == b.get("grad_of") and a.get("grad_pass") == b.get("grad_pass")
        if a["op"] == "constant":
            assert a["value"].tobytes() == b["value"].tobytes()
    outs = [t.id for t in pool + firsts]
    arrays = prog.values(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sg.evaluate([g.tensor(n) for n in outs], dict(zip(xs, arrays)))
        got = sg.evaluate([h.tensor(n) for n in outs],
                          {h.tensor(x.id): a for x, a in zip(xs, arrays)})
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)


test_save_and_load_keep_every_node_and_value = given(
    prog=programs(), seed=st.integers(0, 2**16))(test_save_and_load_keep_every_node_and_value)


SCALARS = [((), ())]


@given(prog=programs(shapes=SCALARS, dtypes=("float64",),
                     ops=lambda op: op in SYMPY_OPS and op != "cast"),  # SymPy has no float32
       seed=st.integers(0, 2**16))
def test_sympy_round_trip_of_scalar_graphs_and_their_gradients(prog, seed):
    g, xs, pool = prog.build()
    y = prog.scalar_total(pool)
    if y is None:
        return
    outs = [y, *sg.gradients(y, xs)]
    nodes = g.ancestors(t.id for t in outs)
    assume(all(g.nx.nodes[n]["op"] in SYMPY_OPS or g.nx.nodes[n]["op"] in
               ("placeholder", "constant") for n in nodes))
    arrays = prog.values(seed)
    feed = {x.name: float(a) for x, a in zip(xs, arrays)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [float(v) for v in sg.function(xs, outs, simplify=False)(*arrays)]
        for t, w in zip(outs, want):
            expr = sg.to_sympy(t)
            at = {s: feed[s.name] for s in expr.free_symbols}
            value = complex(expr.subs(at).evalf(n=30))
            if np.isfinite(w):
                assert value.imag == 0 and np.isclose(value.real, w, rtol=1e-9, atol=1e-12), (
                    expr, value, w, prog)
            back = sg.from_sympy(expr, g)
            again = float(sg.evaluate(back, {x: a for x, a in zip(xs, arrays)
                                             if x.name in {s.name for s in expr.free_symbols}}))
            if np.isfinite(w):
                assert np.isclose(again, w, rtol=1e-9, atol=1e-12), (expr, again, w, prog)


def test_the_strategy_covers_every_op():
    covered = {gen.op for gen in GENS}
    # ops a drawn graph reaches only as the derivative pass builds them (second derivatives
    # of these programs build each), or that need arguments of their own
    internal = {"output", "sum_to", "expand_dims", "scatter", "scatter_add", "concat_part",
                "one_hot", "tanh_grad", "sigmoid_grad", "greater", "einsum_embed",
                "embed_diagonal", "set_at_winners", "sum_repeats", "sum_tiles"}
    missing = sorted(set(sg.OPS) - covered - internal)
    assert not missing, f"ops no random graph draws: {missing}"
