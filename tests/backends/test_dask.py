"""backends/dask.py: every op's cases on chunked dask arrays against the NumPy backend, the
book's MLP (gradients, HVPs) over chunked data, feeding, laziness, errors, and a real
dask.distributed cluster."""

import importlib
import os
import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the dask extra is not installed")

import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402

import symgrad as sg  # noqa: E402
from bench.common import mlp_data, mlp_graph  # noqa: E402
from tests.ops.cases import all_cases, assert_same, by_id, float32_cases  # noqa: E402

CASES = all_cases()


def refuse_to_compute(*args, **kwargs):
    """A dask scheduler that fails: building lazy results must never compute."""
    raise AssertionError("something computed while the results were being built")


def uneven(n: int) -> tuple[int, ...]:
    """Chunks of lengths 1, 2, 3, ... (the last one cut short) covering n."""
    chunks, k = [], 1
    while n > 0:
        chunks.append(min(k, n))
        n, k = n - k, k + 1
    return tuple(chunks) or (0,)


CHUNKINGS = {  # each a function of an input's shape
    "size 1": lambda shape: tuple((1,) * n or (0,) for n in shape),
    "uneven": lambda shape: tuple(uneven(n) for n in shape),
}


def run_lazily(f, values):
    """f's results, built with a scheduler that refuses to compute, as dask arrays."""
    with dask.config.set(scheduler=refuse_to_compute), warnings.catch_warnings():
        warnings.simplefilter("error")  # dask warns when it hands a function back to NumPy
        out = f(*values)
    for r in out if isinstance(out, list) else [out]:
        assert isinstance(r, da.Array), type(r)
    return out


def check_case_on_dask(case, rng, dynamic=False, chunkings=CHUNKINGS):
    g = sg.Graph()
    xs = case.placeholders(g, dynamic)
    if dynamic and case.static_only:
        return
    out = case.build(xs)
    arrays = case.sample(rng)
    want = sg.function(xs, out)(*arrays)
    f = sg.function(xs, out, backend="dask")
    assert f.tier == "dask"
    for name, chunks in chunkings.items():
        values = [da.from_array(a, chunks=chunks(a.shape)) for a in arrays]
        got = np.asarray(run_lazily(f, values).compute(scheduler="sync"))  # 0-d: a scalar
        assert_same(got, want, f"{case.id}, chunks {name}{', dynamic' if dynamic else ''}")


# -- every op's cases ----------------------------------------------------------------------------
@by_id(CASES)
def test_op_on_chunked_dask_arrays(case, rng):
    check_case_on_dask(case, rng)


@by_id(CASES)
def test_op_on_dask_with_unknown_dims(case, rng):
    check_case_on_dask(case, rng, dynamic=True, chunkings={"uneven": CHUNKINGS["uneven"]})


@by_id(float32_cases(CASES))
def test_op_on_dask_in_float32(case, rng):
    check_case_on_dask(case, rng, chunkings={"uneven": CHUNKINGS["uneven"]})


# -- the book's MLP over chunked data ------------------------------------------------------------
def mlp_function(backend, dtype="float64"):
    t = mlp_graph(dtype)
    loss = t["loss"]
    ws, vs = [t["W1"], t["W2"]], [t["V1"], t["V2"]]
    outputs = [loss, *sg.gradients(loss, ws), *sg.hvp(loss, ws, vs)]
    return sg.function([t[k] for k in ("X", "y", "W1", "W2", "V1", "V2")], outputs,
                       backend=backend)


@pytest.mark.parametrize("rows, cols", [((100, 1, 155), (784,)), ((64,) * 4, (300, 484)),
                                        ((255, 1), (1, 783))])
def test_mlp_gradients_and_hvps_over_chunked_data_equal_numpy(rows, cols):
    X, y, *rest = mlp_data()
    want = mlp_function("numpy")(X, y, *rest)
    values = [da.from_array(X, chunks=(rows, cols)), da.from_array(y, chunks=(rows,)), *rest]
    got = dask.compute(*run_lazily(mlp_function("dask"), values), scheduler="sync")
    for name, a, b in zip(["loss", "dW1", "dW2", "HVP W1", "HVP W2"], got, want):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_mlp_in_float32_on_threads():
    X, y, *rest = mlp_data("float32")
    want = mlp_function("numpy", "float32")(X, y, *rest)
    values = [da.from_array(X, chunks=((50, 100, 106), (784,))), y, *rest]  # y from NumPy
    got = dask.compute(*run_lazily(mlp_function("dask", "float32"), values),
                       scheduler="threads")
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)


def test_nothing_computes_until_asked(rng):
    computes = []

    class Count(Callback):
        def _start(self, dsk):
            computes.append(len(dsk))

    X, y, *rest = mlp_data()
    with Count():
        out = mlp_function("dask")(da.from_array(X, chunks=(100, 784)), y, *rest)
        assert computes == []
        dask.compute(*out, scheduler="sync")
    assert len(computes) == 1  # the callback does count computes


# -- feeding -------------------------------------------------------------------------------------
@pytest.fixture
def g():
    return sg.Graph()


def test_numpy_inputs_become_dask_arrays_chunked_along_the_first_axis(g):
    x = g.placeholder("x", (None, 8))
    seen = []
    f = sg.function([x], sg.exp(x), backend="dask")
    with dask.config.set({"array.chunk-size": "1KiB"}):  # 16 rows of 8 float64
        out = f(np.zeros((100, 8)))
        seen.append(f.backend.feed(x, np.zeros((100, 8))).chunks)
    assert seen == [((16,) * 6 + (4,), (8,))]
    assert out.chunks == seen[0]
    np.testing.assert_array_equal(out.compute(scheduler="sync"), np.ones((100, 8)))


def test_lists_numbers_and_casts_are_fed_lazily(g):
    x = g.placeholder("x", (3,), "float32")
    out = run_lazily(sg.function([x], x * 2, backend="dask"), [[1, 2, 3]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.compute(scheduler="sync"), [2, 4, 6])
    int_x = da.arange(3, chunks=2)  # int64 to float32: a lazy cast
    assert sg.evaluate(x * 2, {x: int_x}, backend="dask").dtype == np.float32


def test_a_memory_map_is_read_when_computed(g, tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(12.0).reshape(6, 2))
    x = g.placeholder("x", (None, 2))
    out = sg.evaluate(x.sum(), {x: np.load(path, mmap_mode="r")}, backend="dask")
    assert out.compute(scheduler="sync") == 66.0


@pytest.mark.parametrize("value, words", [
    (da.zeros((3, 4), chunks=2), "x.*(3, 2).*(3, 4)"),
    (da.zeros(3, dtype=complex, chunks=2), "x.*float64.*complex128"),
    (np.ma.masked_array([1.0, 2.0, 3.0]), "x.*masked"),
])
def test_bad_values_are_refused_naming_the_placeholder(g, value, words):
    x = g.placeholder("x", (3, 2) if "(3, 2)" in words else (3,))
    with pytest.raises(sg.FeedError, match=words):
        sg.evaluate(x + 1, {x: value}, backend="dask")


def test_chunks_of_unknown_size_are_refused_naming_the_placeholder(g):
    x = g.placeholder("x", (4,))
    v = da.arange(8, chunks=3)
    unknown = v[v % 2 == 0]  # four elements, which dask only knows once computed
    with pytest.raises(sg.FeedError, match="'x'.*compute_chunk_sizes"):
        sg.evaluate(x + 1, {x: unknown.astype(float)}, backend="dask")
    y = g.placeholder("y", (None,))  # a dimension declared unknown takes it
    out = sg.evaluate(y + 1, {y: unknown.astype(float)}, backend="dask")
    np.testing.assert_array_equal(out.compute(scheduler="sync"), [1, 3, 5, 7])


# -- results -------------------------------------------------------------------------------------
def test_results_are_distinct_dask_arrays(g):
    x = g.placeholder("x", (2,))
    h = sg.exp(x)
    outs = sg.evaluate([h, sg.stop_gradient(h), x, g.constant(np.ones(2))], {x: np.zeros(2)},
                       backend="dask")
    assert all(isinstance(o, da.Array) for o in outs)
    assert len({o.name for o in outs}) == 4
    got = dask.compute(*outs, scheduler="sync")
    for i, a in enumerate(got):
        for b in got[i + 1:]:
            assert not np.shares_memory(a, b)
    np.testing.assert_array_equal(got[0], np.ones(2))


def test_check_finite_is_numpy_only(g):
    x = g.placeholder("x", (2,))
    for call in (lambda: sg.function([x], sg.log(x), check_finite=True, backend="dask"),
                 lambda: sg.evaluate(sg.log(x), {x: np.ones(2)}, check_finite=True,
                                     backend="dask")):
        with pytest.raises(sg.SymgradError, match="NumPy backend only"):
            call()


def test_out_of_range_labels_raise_when_computed_naming_node_and_input():
    t = mlp_graph()
    X, y, W1, W2, *_ = mlp_data()
    y = y.copy()
    y[200] = 10  # classes 0..9
    f = sg.function([t["X"], t["y"], t["W1"], t["W2"]], sg.grad(t["loss"], t["W2"]),
                    backend="dask")
    out = run_lazily(f, [da.from_array(X, chunks=64), y, W1, W2])  # lazy: no error yet
    named = r"(one_hot|softmax_cross_entropy) at node .*: y: .*\[10\]"  # the fused gradient
    with pytest.raises(sg.FeedError, match=named):
        out.compute(scheduler="sync")


def test_a_shape_that_meets_only_at_run_time_names_the_node(g):
    x, y = g.placeholder("x", (None,)), g.placeholder("y", (None,))
    with pytest.raises(sg.ShapeError, match="add"):
        sg.evaluate(x + y, {x: np.ones(3), y: np.ones(4)}, backend="dask")


def test_without_dask_the_backend_says_how_to_install_it(monkeypatch, g):
    backends = importlib.import_module("symgrad.backends")
    monkeypatch.setattr(backends, "_LOADED", {})
    monkeypatch.delitem(sys.modules, "symgrad.backends.dask")
    for name in ("dask", "dask.array"):
        monkeypatch.setitem(sys.modules, name, None)  # import dask: ImportError
    x = g.placeholder("x")
    with pytest.raises(sg.SymgradError, match=r"pip install 'symgrad\[dask\]'"):
        sg.function([x], x + 1, backend="dask")
    with pytest.raises(sg.SymgradError, match=r"pip install 'symgrad\[dask\]'"):
        sg.evaluate(x + 1, {x: 1.0}, backend="dask")


# -- a real cluster ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit="1GiB", host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_gradients_on_a_local_cluster_of_two_processes(cluster_client):
    X, y, *rest = mlp_data()
    want = mlp_function("numpy")(X, y, *rest)
    out = run_lazily(mlp_function("dask"), [da.from_array(X, chunks=(60, 400)), y, *rest])
    got = cluster_client.gather(cluster_client.compute(out))
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    pids = cluster_client.run(os.getpid)  # worker address -> its process id
    assert len(set(pids.values()) - {os.getpid()}) == 2


def test_a_bad_label_on_a_worker_reaches_the_client_named(cluster_client):
    t = mlp_graph()
    X, y, W1, W2, *_ = mlp_data()
    y = y.copy()
    y[3] = -1
    f = sg.function([t["X"], t["y"], t["W1"], t["W2"]], t["loss"], backend="dask")
    out = f(da.from_array(X, chunks=100), y, W1, W2)
    with pytest.raises(sg.FeedError, match=r"softmax_cross_entropy at node .*: y: .*\[-1\]"):
        cluster_client.compute(out).result()
