"""fuse.py: regions of elementwise steps in a plan, and the plan with them as compiled loops,
giving the NumPy plan's values (a few ulp apart), dtypes, infs, NaNs and warnings."""

import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgrad as sg
from symgrad import fuse
from symgrad.evaluate import simplified_plan
from symgrad.plan import make_plan
from tests.strategies import programs

pytest.importorskip("llvmlite", reason="the fast extra is not installed")
STATIC_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 1), (2, 1))]


def plan_of(inputs, outputs):
    return simplified_plan(list(outputs), list(inputs), True, False)


def chain(steps=40, n=16):
    g = sg.Graph()
    x = g.placeholder("x", (n,))
    y = x
    for _ in range(steps):
        y = sg.tanh(y) * 0.9 + 0.1 * sg.sin(y)
    return x, y


def ops_of(plan, region):
    return [plan.steps[k].attrs["op"] for k in region.steps]


def test_a_chain_and_its_gradient_are_one_region_each():
    x, y = chain()
    for out in (y, sg.grad(y.sum(), x)):
        plan = plan_of([x], [out])
        (region,) = fuse.find_regions(plan)
        assert len(region.steps) == len(plan.steps) and region.shape == (16,)
        assert region.arrays == [0] and region.scalars == [] and region.outputs == plan.outputs


def test_regions_end_at_other_steps_and_values_read_elsewhere_are_outputs():
    g = sg.Graph()
    x, w = g.placeholder("x", (4, 3)), g.placeholder("w", (3, 3))
    h = sg.tanh(x @ w) * 2.0 + 1.0        # after the matmul: a region
    s = h.sum()                            # a reduction: outside, reads h
    y = sg.exp(h) * s - h                  # exp(h) needs no s: it joins the first region
    plan = plan_of([x, w], [y, s])
    first, second = fuse.find_regions(plan)
    assert ops_of(plan, first) == ["tanh", "multiply", "add", "exp"]
    assert ops_of(plan, second) == ["multiply", "subtract"]
    assert len(first.outputs) == 2 and set(first.outputs) == set(second.arrays)
    assert len(second.scalars) == 1 and second.outputs == [plan.outputs[0]]
    assert first.shape == second.shape == (4, 3) and first.dtype == np.float64


def test_no_region_of_one_op_of_broadcasting_or_of_integers():
    g = sg.Graph()
    a, b = g.placeholder("a", (3, 1)), g.placeholder("b", (1, 4))
    n = g.placeholder("n", (3,), "int64")
    plan = plan_of([a, b, n], [sg.tanh(a) + b, n * 2 + 1, sg.sin(n) * 2.0])
    assert fuse.find_regions(plan) == []


@pytest.mark.parametrize("n, steps, fused", [(fuse.LARGE, 2, True), (fuse.LARGE + 1, 2, False),
                                              (fuse.LARGE + 1, fuse.LARGE_MIN_OPS, True)])
def test_short_regions_on_large_arrays_are_left_to_numpy(n, steps, fused):
    g = sg.Graph()
    x = g.placeholder("x", (n,))
    y = x
    for _ in range(steps // 2):
        y = sg.tanh(y) * 0.5
    assert len(fuse.find_regions(plan_of([x], [y]))) == (1 if fused else 0)


def test_regions_reading_one_value_merge():
    g = sg.Graph()
    w = g.placeholder("w", (5, 5))
    plan = plan_of([w], [(w * w).sum(), sg.tanh(w) * 3.0])
    (region,) = fuse.find_regions(plan, min_ops=1)
    assert sorted(ops_of(plan, region)) == ["multiply", "multiply", "tanh"]
    assert len(region.outputs) == 2 and region.arrays == [0]


def assert_like_numpy(plan, arrays, rtol=None):
    fused = fuse.build(plan)
    want = plan.run(arrays)
    got = fused.run(*arrays)
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        tol = rtol or (1e-5 if b.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max(initial=0)),
                                   equal_nan=True)
    return fused


def no_region_waits_for_itself(plan, regions):
    """No path from a region's steps back into it through steps outside it."""
    made = {}
    for r, region in enumerate(regions):
        for k in region.steps:
            made[plan.steps[k].out] = r
    inside = {k: r for r, region in enumerate(regions) for k in region.steps}
    reaches: dict[int, set[int]] = {}  # slot -> regions it was made from, leaving them
    for k, step in enumerate(plan.steps):
        got = set()
        for a in step.args:
            got |= reaches.get(a, set())
            if a in made and inside.get(k) != made[a]:
                got.add(made[a])
        assert inside.get(k) not in got, (k, inside.get(k))
        reaches[step.out] = got


@given(prog=programs(max_steps=8, shapes=STATIC_SHAPES), seed=st.integers(0, 2**16),
       grad=st.booleans())
def test_random_programs_and_gradients_give_numpy_values(prog, seed, grad):
    g, xs, pool = prog.build()
    outs = [t for t in pool[len(xs):] if t.shape is not None]
    floats = [t for t in outs if t.dtype.kind == "f"]
    if grad and floats:
        outs += [t for t in sg.gradients(sum(t.sum() for t in floats), xs,
                                         unconnected="zero") if t is not None]
    plan = plan_of(xs, outs)
    with mock.patch.object(fuse, "MIN_OPS", 1):
        regions = fuse.find_regions(plan)
        no_region_waits_for_itself(plan, regions)
        arrays = [np.asarray(v) for v in prog.values(seed)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if regions:
                assert_like_numpy(plan, arrays, rtol=1e-9 if "float32" not in str(prog) else 1e-3)


def test_the_mlp_with_float32_stays_float32(rng):
    g = sg.Graph()
    X, W = g.placeholder("X", (8, 5), "float32"), g.placeholder("W", (5, 6), "float32")
    h = sg.relu(X @ W)
    loss = (sg.sigmoid(h) * h).mean() + 1e-4 * (W * W).sum()
    plan = plan_of([X, W], [loss, *sg.gradients(loss, [W])])
    arrays = [rng.standard_normal((8, 5)).astype(np.float32),
              rng.standard_normal((5, 6)).astype(np.float32)]
    fused = assert_like_numpy(plan, arrays)
    assert fused.regions and all(r.dtype == np.float32 for r in fused.regions)
    assert [np.asarray(v).dtype for v in fused.run(*arrays)] == [np.float32] * 2


def test_outputs_go_into_dying_buffers_but_never_into_views_inputs_or_results(rng):
    g = sg.Graph()
    x, w = g.placeholder("x", (6, 6)), g.placeholder("w", (6, 6))
    a = x @ w                       # fresh, dies in the region: its buffer takes the result
    y = sg.tanh(a) * 2.0 + x
    b = x @ w.T                     # fresh, but its transpose is read after the region
    z = sg.sin(b) * 3.0 - b
    out = z + sg.transpose(b) + y @ w
    plan = plan_of([x, w], [out, a * 1.5 - w])
    xv, wv = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    keep = xv.copy(), wv.copy()
    fused = assert_like_numpy(plan, [xv, wv])
    fused.run(xv, wv)
    np.testing.assert_array_equal(xv, keep[0])
    np.testing.assert_array_equal(wv, keep[1])
    (first, second), (loop1, loop2) = fused.regions, fused.loops
    made = {step.out: step for step in plan.steps}
    assert made[first.arrays[loop1.into[0]]].attrs["op"] == "matmul"   # a's buffer
    viewed = next(s.args[0] for s in plan.steps  # b, read as it is and as its transpose
                  if s.attrs["op"] == "transpose" and s.out in second.arrays)
    assert viewed in second.arrays and loop2.into != [None]
    assert all(second.arrays[j] != viewed for j in loop2.into if j is not None)
    assert not set(first.outputs + second.outputs) & set(first.arrays + second.arrays)


def test_infs_and_nans_run_numpy_from_their_block_with_numpys_warnings():
    g = sg.Graph()
    x = g.placeholder("x", (10_000,))
    plan = plan_of([x], [sg.log(x) * 2.0 + 1.0, sg.relu(x - 3.0) * x])
    fused = fuse.build(plan)
    v = np.linspace(0.5, 8.0, 10_000)
    v[9000], v[9500] = -1.0, np.nan
    with warnings.catch_warnings(record=True) as got_warned:
        warnings.simplefilter("always")
        got = fused.run(v)
    with warnings.catch_warnings(record=True) as numpy_warned:
        warnings.simplefilter("always")
        want = plan.run([v])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13, equal_nan=True)
    assert [str(w.message) for w in got_warned] == [str(w.message) for w in numpy_warned]
    assert numpy_warned and fused.counts[0].nonfinite == 1


def test_a_region_meeting_nans_in_most_calls_stops_trying_its_loop():
    g = sg.Graph()
    x = g.placeholder("x", (100,))
    plan = plan_of([x], [sg.tanh(x) * 2.0 + 1.0])
    fused = fuse.build(plan)
    v = np.full(100, np.nan)
    for _ in range(fuse._NONFINITE_LIMIT):
        fused.run(v)
    (counts,) = fused.counts
    assert counts.off and counts.nonfinite == fuse._NONFINITE_LIMIT
    np.testing.assert_array_equal(fused.run(np.zeros(100))[0], np.ones(100))
    assert counts.nonfinite == fuse._NONFINITE_LIMIT  # NumPy ran: no loop, nothing counted


def test_arrays_not_in_c_order_or_not_writeable_run_numpy(rng):
    g = sg.Graph()
    x = g.placeholder("x", (5, 4))
    plan = plan_of([x], [sg.exp(x) * 2.0 - x])
    fused = fuse.build(plan)
    base = rng.standard_normal((4, 5))
    for v in (base.T, np.asfortranarray(base.T), rng.standard_normal((10, 4))[::2]):
        assert not v.flags.c_contiguous
        np.testing.assert_allclose(fused.run(v)[0], np.exp(v) * 2.0 - v, rtol=1e-14)


def test_booleans_and_scalars_inside_regions(rng):
    g = sg.Graph()
    x, s = g.placeholder("x", (7,)), g.placeholder("s")
    flag = g.placeholder("flag", (7,), "bool")
    mask = x > s
    y = sg.where(mask, x * s, -x) + sg.where(flag, 1.0, 0.0)
    plan = plan_of([x, s, flag], [y, mask])
    fused = assert_like_numpy(plan, [rng.standard_normal(7), np.asarray(0.2),
                                     rng.random(7) < 0.5])
    (region,) = fused.regions
    assert len(region.scalars) == 1 and len(region.arrays) == 2


def test_every_stage_is_timed():
    x, y = chain(5)
    fused = fuse.build(plan_of([x], [y]))
    assert set(fused.seconds) == {"regions", "llvm", "python"}
    assert all(t >= 0 for t in fused.seconds.values())
    assert fuse.build(make_plan(x.graph, [x * 2.0], [x])) is None  # one op: nothing to fuse


def test_a_buffer_read_after_its_region_is_not_written_into(rng):
    g = sg.Graph()
    x, w = g.placeholder("x", (5, 5)), g.placeholder("w", (5, 5))
    a = x @ w                                # fresh; read by the region, then by the matmul
    y = sg.tanh(a) * 2.0 + 1.0
    plan = plan_of([x, w], [(y @ a).sum() + sg.transpose(a).sum()])
    fused = assert_like_numpy(plan, [rng.standard_normal((5, 5)), rng.standard_normal((5, 5))])
    (loop,) = fused.loops
    assert loop.into == [None]
