"""io.py: save and load round trips (attributes, params, constants bit for bit), what a loaded
graph can do, every kind of bad file, and atomic writes."""

import base64
import json
import math
import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad import b64, io
from tests.ops.cases import all_cases, by_id


def rich_graph():
    """Names, None dimensions, float32, a two-output node, params, constants, two passes."""
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    w = g.placeholder("w", (3,), "float32")
    m, i = sg.max_and_argmax(x, axis=1)
    m.name = "m"
    h = sg.tanh(x @ w.astype("float64")) * 2.0 + m
    c = g.constant(np.array([np.nan, -0.0, np.inf, 5e-324]), name="c")
    loss = (h.sum() + sg.exp(c[1:2]).sum()) * sg.where(i.sum() > 0, 1.0, -1.0)
    loss.name = "loss"
    dx, dw = sg.gradients(loss, [x, w])
    sg.gradients(dw.sum(), x)
    g.constant(np.arange(3, dtype=np.int16))  # used by nothing: saved with the whole graph
    return g, loss


def assert_same_graph(a, b, nids=None):
    """Every node attribute equal, of the same Python type; values bit for bit."""
    nids = sorted(a.nx.nodes) if nids is None else nids
    assert sorted(b.nx.nodes) == nids
    for n in nids:
        x, y = a.nx.nodes[n], b.nx.nodes[n]
        assert set(x) == set(y), n
        for key in x:
            if key == "value":
                assert x[key].dtype == y[key].dtype and x[key].shape == y[key].shape, n
                assert x[key].tobytes() == y[key].tobytes(), n
            else:
                assert same(x[key], y[key]), (n, key, x[key], y[key])
    assert set(b.nx.edges) == {(i, n) for n in nids for i in b.nx.nodes[n]["inputs"]}


def same(a, b) -> bool:
    """Equal and of the same type all the way down (1, 1.0 and True differ; NaN bits compared)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


def test_round_trip_keeps_every_attribute_and_the_gradient_record(tmp_path):
    g, loss = rich_graph()
    sg.save(g, tmp_path / "g.json")
    h = sg.load(tmp_path / "g.json")
    assert_same_graph(g, h)
    assert h.grad_passes == g.grad_passes == 2
    assert h.grad_results == g.grad_results
    assert h.next_id == max(g.nx.nodes) + 1
    assert [p.name for p in h.placeholders()] == ["x", "w"]


def test_the_file_is_json_with_format_and_version_and_no_code(tmp_path):
    g, _ = rich_graph()
    sg.save(g, str(tmp_path / "g.json"))
    raw = (tmp_path / "g.json").read_bytes()
    doc = json.loads(raw)  # strict JSON: it would refuse NaN
    assert doc["format"] == "symgrad.graph" and doc["version"] == 1
    assert raw.isascii() and b"pickle" not in raw and b"NaN" not in raw
    value = next(n["value"] for n in doc["nodes"] if n["name"] == "c")
    assert value["dtype"] == "<f8" and value["shape"] == [4]


def test_a_loaded_graph_takes_new_nodes_gradients_functions_and_saves_again(tmp_path, rng):
    g, loss = rich_graph()
    sg.save(g, tmp_path / "g.json")
    h = sg.load(tmp_path / "g.json")
    x, w, hl = h.tensor("x"), h.tensor("w"), h.tensor("loss")
    X, W = rng.standard_normal((4, 3)), rng.standard_normal(3).astype("float32")
    assert sg.evaluate(hl, {"x": X, "w": W}) == sg.evaluate(loss, {"x": X, "w": W})
    first_new = h.next_id
    d = sg.grad(hl * 3.0, x)
    assert min(n for n in h.nx.nodes if n >= first_new) == first_new  # ids continue
    assert {a["grad_pass"] for n, a in h.nx.nodes(data=True)
            if n >= first_new and a["origin"] == "gradient"} == {3}  # passes go on counting
    want = sg.function([g.tensor("x"), g.tensor("w")], sg.grad(loss * 3.0, g.tensor("x")))(X, W)
    np.testing.assert_allclose(sg.function([x, w], d)(X, W), want)
    with pytest.raises(sg.GraphError, match="already has a placeholder named 'x'"):
        h.placeholder("x")
    sg.save(h, tmp_path / "again.json")
    assert_same_graph(h, sg.load(tmp_path / "again.json"))


def test_a_loaded_graph_shares_scalar_constants_like_the_original(tmp_path):
    g = sg.Graph()
    x = g.placeholder("x")
    y = x * 2.0 + 1
    sg.save(g, tmp_path / "g.json")
    h = sg.load(tmp_path / "g.json")
    hx = h.tensor("x")
    assert (hx * 2.0).inputs[1].id == y.inputs[0].inputs[1].id  # the saved 2.0, reused
    assert (hx + 1).inputs[1].id == y.inputs[1].id
    assert (hx + 7.5).inputs[1].id > max(g.nx.nodes)  # a new value: a new node


def test_saving_tensors_saves_their_ancestors_only(tmp_path):
    g, loss = rich_graph()
    sg.save([loss], tmp_path / "loss.json")
    h = sg.load(tmp_path / "loss.json")
    wanted = sorted(g.ancestors([loss.id]))
    assert_same_graph(g, h, wanted)
    assert h.next_id == loss.id + 1
    assert h.grad_results == []  # no derivative result is among the ancestors of the loss
    dw = g.tensor(g.grad_results[1][0])
    sg.save(dw, tmp_path / "dw.json")
    assert sg.load(tmp_path / "dw.json").grad_results == [g.grad_results[1]]


@pytest.mark.parametrize("value", [
    np.array(3.5), np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 2.2e-308]),
    np.array([0x7FF0000000000001, 0xFFF8000000000abc], np.uint64).view(np.float64),  # NaN payloads
    np.array([0x7FC00001, 0x00000001, 0x80000000], np.uint32).view(np.float32),
    np.array([0x7E01, 0x0001, 0x8000, 0x7C00], np.uint16).view(np.float16),
    *[np.array([np.iinfo(t).min, 0, np.iinfo(t).max], t) for t in (
        np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)],
    np.array([[True, False], [False, True]]),
    np.array([1 + 2j, complex(np.nan, -0.0)], np.complex64),
    np.array([complex(np.inf, 5e-324)], np.complex128),
    np.zeros((2, 0, 3)), np.arange(12.0).reshape(3, 4).T,  # empty; not C-contiguous
    np.arange(6, dtype=">i4"),  # big-endian in memory: stored little-endian, loaded native
], ids=lambda v: f"{v.dtype.str}{list(v.shape)}")
def test_constants_come_back_bit_for_bit(tmp_path, value):
    g = sg.Graph()
    c = g.constant(value, name="c")
    sg.save(c, tmp_path / "c.json")
    got = sg.load(tmp_path / "c.json").tensor("c")
    loaded = got.graph.nx.nodes[got.id]["value"]
    assert loaded.dtype == value.dtype.newbyteorder("=") and loaded.shape == value.shape
    assert loaded.tobytes() == np.ascontiguousarray(value, loaded.dtype).tobytes()
    assert not loaded.flags.writeable


def param_values():
    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.floats(
        allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1.0, 1, True])
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3).map(tuple),
                        max_leaves=8)


@pytest.fixture(scope="module")
def echo():
    """An op that takes any params and passes its input through, for this module's tests."""
    name = "test_io_echo"
    sg.register(sg.OpDef(name, lambda inputs, **p: (inputs[0].shape, inputs[0].dtype),
                         lambda x, **p: x))
    yield name
    del sg.OPS[name]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(params=st.dictionaries(st.from_regex(r"p[a-z]{0,3}", fullmatch=True), param_values(),
                               max_size=3))
def test_params_keep_their_exact_types_and_bits(echo, tmp_path_factory, params):
    g = sg.Graph()
    y = sg.apply(echo, [g.placeholder("x")], **params)
    path = tmp_path_factory.mktemp("p") / "g.json"
    sg.save(y, path)
    got = sg.load(path).nx.nodes[y.id]["params"]
    assert same(got, y.graph.nx.nodes[y.id]["params"]), (got, params)


@by_id(all_cases())
def test_every_op_and_its_derivatives_survive_a_round_trip(case, tmp_path, rng):
    g = sg.Graph()
    xs = case.placeholders(g)
    out = case.build(xs)
    outs = [out]
    if case.wrt and out.dtype.kind == "f" and sg.OPS[case.op].bprop is not None:
        outs += sg.gradients(out.sum(), [xs[i] for i in case.wrt])
    sg.save(g, tmp_path / "g.json")
    h = sg.load(tmp_path / "g.json")
    assert_same_graph(g, h)
    arrays = case.sample(rng)
    want = sg.evaluate(outs, dict(zip(xs, arrays)))
    got = sg.evaluate([h.tensor(t.id) for t in outs], dict(zip([x.name for x in xs], arrays)))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


# -- large constants: base64 spliced out of the JSON, coded in chunks ---------------------------
@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3000 bytes (4000 characters): a 64 KB payload crosses many boundaries."""
    monkeypatch.setattr(b64, "CHUNK", 3000)


def _large(dtype, n):
    return np.random.default_rng(n).integers(0, 256, n * np.dtype(dtype).itemsize,
                                             dtype=np.uint8).view(dtype)


LARGE = [  # each over io._LARGE characters of base64; byte counts 0, 1 and 2 modulo 3
    _large(np.float64, 12_301), _large(np.float32, 25_001), _large(np.int16, 50_003),
    _large(np.float16, 49_999), _large(np.complex64, 9_000), _large(np.uint8, 100_001),
    np.random.default_rng(0).random(70_001) < 0.5, _large(">f8", 12_000).reshape(40, 300),
]


@pytest.mark.parametrize("value", LARGE, ids=lambda v: f"{v.dtype.str}{list(v.shape)}")
def test_large_constants_come_back_bit_for_bit_in_the_same_format(tmp_path, small_chunks,
                                                                   value):
    g = sg.Graph()
    g.constant(value, name="c")
    g.constant(np.zeros((0, 5)), name="empty")
    sg.save(g, tmp_path / "c.json")
    raw = np.ascontiguousarray(value, value.dtype.newbyteorder("<")).tobytes()
    stored = node(json.loads((tmp_path / "c.json").read_text()), "constant")["value"]
    assert stored["data"] == base64.b64encode(raw).decode()  # one string, as if in one piece
    assert len(stored["data"]) >= io._LARGE
    loaded = sg.load(tmp_path / "c.json").tensor("c")
    array = loaded.graph.nx.nodes[loaded.id]["value"]
    assert array.dtype == value.dtype.newbyteorder("=") and array.shape == value.shape
    assert array.tobytes() == np.ascontiguousarray(value, array.dtype).tobytes()
    assert not array.flags.writeable


def large_file(tmp_path) -> tuple[Path, bytes, int]:
    """A saved large constant: the path, the file's bytes, and where its base64 starts."""
    g = sg.Graph()
    g.constant(LARGE[0], name="c")
    path = tmp_path / "large.json"
    sg.save(g, path)
    raw = path.read_bytes()
    return path, raw, raw.index(b'"data": "') + len(b'"data": "')


@pytest.mark.parametrize("offset, bad, message", [
    (0, b"!", "not base64"), (1, b"*", "not base64"), (3999, b"\\", "Invalid \\\\escape"),
    (4000, b" ", "not base64"), (4001, b"=", "not base64"), (6002, b"==", "not base64"),
    (40_001, b"-", "not base64"), (65_000, b"\xc3\xa9", "not base64"),
    (-1, b"A", "not base64"),  # -1: the padding, at the end
])
def test_a_bad_byte_in_large_base64_is_a_format_error(tmp_path, small_chunks, offset, bad,
                                                      message):
    path, raw, start = large_file(tmp_path)
    i = start + offset if offset >= 0 else raw.index(b'"', start) + offset
    path.write_bytes(raw[:i] + bad + raw[i + len(bad):])
    with pytest.raises(sg.FormatError, match=message) as e:
        sg.load(path)
    assert str(path) in str(e.value)


def test_large_base64_written_with_json_escapes_still_loads(tmp_path, small_chunks):
    path, raw, start = large_file(tmp_path)
    i = start + 5000
    path.write_bytes(raw[:i] + b"\\u%04x" % raw[i] + raw[i + 1:])  # the same text, as JSON
    assert_same_graph(sg.load(tmp_path / "large.json"), sg.load(path))


def test_a_long_string_param_named_data_is_not_taken_for_base64(echo, tmp_path):
    g = sg.Graph()
    sg.apply(echo, [g.placeholder("x")], data="A" * 70_000)  # read back as "@0" once
    sg.save(g, tmp_path / "g.json")
    assert_same_graph(g, sg.load(tmp_path / "g.json"))


def test_a_constant_cannot_borrow_the_base64_of_another(tmp_path):
    g = sg.Graph()
    g.constant(LARGE[0], name="large")
    g.constant(np.zeros_like(LARGE[0]), name="other")
    sg.save(g, tmp_path / "g.json")
    doc = json.loads((tmp_path / "g.json").read_text())
    doc["nodes"][1]["value"]["data"] = "@0"  # the mark the loader gives node 0's base64
    (tmp_path / "g.json").write_text(json.dumps(doc))
    with pytest.raises(sg.FormatError, match="node 1 .constant.: 2 base64 characters cannot hold"):
        sg.load(tmp_path / "g.json")


def test_a_large_file_is_synced_while_it_is_written(tmp_path, small_chunks, monkeypatch):
    synced = []
    real = getattr(os, "fdatasync", os.fsync)
    monkeypatch.setattr(io, "_SYNC_EVERY", 20_000)
    monkeypatch.setattr(io.os, "fdatasync", lambda fd: synced.append(fd) or real(fd),
                        raising=False)
    path, _, _ = large_file(tmp_path)
    assert synced  # the early syncs ran, and the file is whole
    assert sg.load(path).nx.nodes[0]["value"].tobytes() == LARGE[0].tobytes()


def test_a_failed_early_sync_fails_the_save_and_leaves_the_old_file(tmp_path, small_chunks,
                                                                    monkeypatch):
    path, before, _ = large_file(tmp_path)

    def failing(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(io, "_SYNC_EVERY", 20_000)
    monkeypatch.setattr(io.os, "fdatasync", failing, raising=False)
    g = sg.Graph()
    g.constant(LARGE[1], name="other")
    with pytest.raises(OSError, match="Input/output error") as e:
        sg.save(g, path)
    assert e.value.filename == str(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.json"]


# -- files that are not right --------------------------------------------------------------------
def small_file(tmp_path) -> tuple[Path, dict]:
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    m, _ = sg.max_and_argmax(x, axis=1)
    y = sg.exp(x).sum(axis=0) + 1.0
    sg.save([y, m], tmp_path / "ok.json")
    return tmp_path / "ok.json", json.loads((tmp_path / "ok.json").read_text())


def node(doc, op):
    return next(n for n in doc["nodes"] if n["op"] == op)


def edit(fn):
    def apply(doc):
        fn(doc)
        return doc
    return apply


BAD_DOCUMENTS = {
    "list at the top": (lambda d: [d], "no 'format' field"),
    "unknown format": (edit(lambda d: d.update(format="other.graph")), "unknown format"),
    "newer version": (edit(lambda d: d.update(version=2)), "newer than this symgrad reads"),
    "version as text": (edit(lambda d: d.update(version="1")), "'version' must be"),
    "unknown top key": (edit(lambda d: d.update(extra=1)), "unknown ['extra']"),
    "no nodes": (edit(lambda d: d.pop("nodes")), "missing ['nodes']"),
    "unknown op": (edit(lambda d: node(d, "exp").update(op="__import__('os')")), "unknown op"),
    "missing input": (edit(lambda d: d["nodes"].pop(0)), "input 0 is missing"),
    "input not smaller": (edit(lambda d: node(d, "exp").update(inputs=[node(d, "exp")["id"]])),
                          "not smaller than the node's id"),
    "cycle": (edit(lambda d: node(d, "placeholder").update(inputs=[node(d, "sum")["id"]])),
              "a cycle?"),
    "duplicate id": (edit(lambda d: d["nodes"].insert(1, d["nodes"][0])), "two nodes have id"),
    "ids out of order": (edit(lambda d: d["nodes"].insert(0, node(d, "constant"))),
                         "ids must increase"),
    "two placeholders named x": (edit(lambda d: d["nodes"].append(dict(
        d["nodes"][0], id=d["nodes"][-1]["id"] + 1))), "a second placeholder named 'x'"),
    "shape as text": (edit(lambda d: node(d, "exp").update(shape="(2, 3)")), "must be a list"),
    "unknown dtype": (edit(lambda d: node(d, "placeholder").update(dtype="object")), "dtype"),
    "name not text": (edit(lambda d: node(d, "exp").update(name=5)), "'name' must be a string"),
    "bad origin": (edit(lambda d: node(d, "exp").update(origin="alien")), "origin 'alien'"),
    "bool id": (edit(lambda d: node(d, "exp").update(id=True)), "'id' must be an integer"),
    "params as list": (edit(lambda d: node(d, "sum").update(params=[])), "must be an object"),
    "bad param value": (edit(lambda d: node(d, "sum").update(params={"axis": {"x": 1},
                                                                     "keepdims": False})),
                        "not a param value"),
    "grad_pass beyond passes": (edit(lambda d: node(d, "exp").update(grad_pass=3)),
                                "grad_pass 3, yet the file records 0 passes"),
    "bad base64": (edit(lambda d: node(d, "constant")["value"].update(data="!!!!!!!!!!!!")),
                   "not base64"),
    "base64 with a space": (edit(lambda d: node(d, "constant")["value"].update(
        data="AAAA AAAAAA=")), "not base64"),
    "base64 not ascii": (edit(lambda d: node(d, "constant")["value"].update(
        data="AAAAAAAAAA\u00e9=")), "not base64"),
    "base64 too short": (edit(lambda d: node(d, "constant")["value"].update(data="AAAA")),
                         "cannot hold 8 bytes"),
    "value dtype disagrees": (edit(lambda d: node(d, "constant")["value"].update(dtype=">f8")),
                              "the node says <f8"),
    "value shape disagrees": (edit(lambda d: node(d, "constant")["value"].update(shape=[1])),
                              "of shape [1]"),
    "constant without value": (edit(lambda d: node(d, "constant").pop("value")),
                               "every constant, carry a 'value'"),
    "shape disagrees with infer": (edit(lambda d: node(d, "exp").update(shape=[3, 2])),
                                   "its op infers shape (2, 3) dtype float64"),
    "dtype disagrees with infer": (edit(lambda d: node(d, "exp").update(dtype="float32")),
                                   "dtype float32, its op infers"),
    "outputs disagree": (edit(lambda d: node(d, "max_and_argmax")["outputs"][1].__setitem__(
        1, "int8")), "its op infers"),
    "output index out of range": (edit(lambda d: node(d, "output").update(params={"index": 2})),
                                  "has no output 2"),
    "multi-output read directly": (edit(lambda d: node(d, "exp").update(
        inputs=[node(d, "max_and_argmax")["id"]])), "read only through 'output' nodes"),
    "ufunc given two inputs": (edit(lambda d: node(d, "exp").update(inputs=[0, 0])),
                               "takes 1 inputs"),
    "function given two inputs": (edit(lambda d: node(d, "sum").update(
        inputs=[0, node(d, "exp")["id"]])), "do not fit"),
    "params not canonical": (edit(lambda d: node(d, "sum")["params"].update(axis=-2)),
                             "not in canonical form"),
    "params refused": (edit(lambda d: node(d, "sum")["params"].update(axis="rows")),
                       "does not fit its inputs"),
    "grad result not in file": (edit(lambda d: d.update(grad_passes=1, grad_results=[
        [99, [0], 0, 1]])), "result node 99 is not in the file"),
}


@pytest.mark.parametrize("name", BAD_DOCUMENTS)
def test_inconsistent_files_raise_format_error_naming_file_and_fault(tmp_path, name):
    path, doc = small_file(tmp_path)
    mutate, message = BAD_DOCUMENTS[name]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(mutate(doc)))
    with pytest.raises(sg.FormatError) as info:
        sg.load(bad)
    assert str(bad) in str(info.value) and message in str(info.value), str(info.value)


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"), (b"  \n", "the file is empty"),
    (b"hello", "not JSON"), (b"\xff\xfe{}", "not UTF-8"), (b"[1, 2", "not JSON"),
    (b'{"format": "symgrad.graph", "format": 1}', "appears twice"),
    (b'{"format": "symgrad.graph", "version": 1, "grad_passes": NaN}', "NaN is not JSON"),
    (b'{"format": "symgrad.graph", "version": 1' + b"9" * 5000 + b"}", "not JSON"),
    (b"[" * 100000, "nested too deeply"),
])
def test_malformed_bytes_raise_format_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(sg.FormatError, match=message) as info:
        sg.load(path)
    assert str(path) in str(info.value)


def test_a_truncated_file_says_so(tmp_path):
    path, _ = small_file(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(sg.FormatError, match="truncated"):
        sg.load(path)


def test_format_error_is_a_symgrad_error_and_a_value_error():
    assert issubclass(sg.FormatError, sg.SymgradError) and issubclass(sg.FormatError, ValueError)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        sg.load(tmp_path / "nothing.json")


# -- writing -------------------------------------------------------------------------------------
def test_a_failing_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path, _ = small_file(tmp_path)
    before = path.read_bytes()
    g = sg.Graph()
    g.constant(np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]), name="record")
    with pytest.raises(sg.FormatError, match="cannot save node record: dtype"):
        sg.save(g, path)
    g2 = sg.Graph()
    sg.apply("cast", [g2.placeholder("x")], dtype=np.float64)  # a param NumPy's type, not JSON
    with pytest.raises(sg.FormatError, match="is of type"):
        sg.save(g2, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]


def test_a_write_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path, _ = small_file(tmp_path)
    before = path.read_bytes()
    g, _ = rich_graph()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        sg.save(g, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.json"]


def test_a_save_that_cannot_write_names_the_users_file(tmp_path):
    g, _ = rich_graph()
    path = tmp_path / "missing" / "graph.json"
    with pytest.raises(FileNotFoundError) as e:
        sg.save(g, path)
    assert e.value.filename == str(path) and "save:" in str(e.value)
    (tmp_path / "taken.json").mkdir()
    with pytest.raises(IsADirectoryError) as e:
        sg.save(g, tmp_path / "taken.json")
    assert e.value.filename == str(tmp_path / "taken.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.json"]


def test_saving_over_a_file_keeps_its_permissions_and_follows_a_symlink(tmp_path):
    path, _ = small_file(tmp_path)
    os.chmod(path, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    g, _ = rich_graph()
    sg.save(g, link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert_same_graph(g, sg.load(path))


def test_save_refuses_what_is_not_a_graph_or_tensors(tmp_path):
    with pytest.raises(TypeError):
        sg.save([1.0], tmp_path / "x.json")
    with pytest.raises(sg.GraphError, match="no tensors"):
        sg.save([], tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


def test_non_finite_params_are_stored_as_their_bits(echo, tmp_path):
    g = sg.Graph()
    y = sg.apply(echo, [g.placeholder("x")], lo=-math.inf, nan=math.nan)
    sg.save(y, tmp_path / "g.json")
    doc = json.loads((tmp_path / "g.json").read_text())
    assert node(doc, echo)["params"] == {"lo": {"float": "fff0000000000000"},
                                         "nan": {"float": "7ff8000000000000"}}
