"""io.py under mutation: valid files with bytes, JSON values or structure changed load as a valid
graph or raise FormatError, never another exception. Bounded and derandomized (a fixed seed)."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad as sg
from tests.test_io import assert_same_graph, rich_graph

FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _valid_files() -> list[bytes]:
    """A graph with every kind of node, and a small one (mutations hit a larger share of it)."""
    out = []
    with tempfile.TemporaryDirectory() as d:
        g, _ = rich_graph()
        small = sg.Graph()
        x = small.placeholder("x", (2,))
        m, _ = sg.max_and_argmax(x * np.array([1.0, -2.0]), axis=0)
        sg.grad(sg.sigmoid(m) + x.sum(), x)
        for graph in (g, small):
            sg.save(graph, Path(d) / "g.json")
            out.append((Path(d) / "g.json").read_bytes())
    return out


FILES = _valid_files()
DOCS = [json.loads(f) for f in FILES]

# Values a file might plausibly hold by mistake: the right kinds in the wrong places.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.integers() | st.floats(allow_nan=False)
    | st.sampled_from(["x", "", "float64", "int8", "object", "<f8", "AAAA", "placeholder",
                       "constant", "output", "add", "exp", "sum", "max_and_argmax", "gradient",
                       "symgrad.graph"] + sorted(sg.OPS)) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["float", "index", "axis", "dtype", "shape", "data", "id"]), inner,
        max_size=2),
    max_leaves=6)


def _paths(value, prefix=()):
    """Every place in a JSON document: tuples of keys and indices."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def check_outcome(raw: bytes) -> None:
    """Loads `raw`: FormatError, or a graph that saves and loads again unchanged."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.json"
        path.write_bytes(raw)
        try:
            graph = sg.load(path)
        except sg.FormatError as e:
            assert str(path) in str(e)
            return
        sg.save(graph, path)
        assert_same_graph(graph, sg.load(path))


@FUZZ
@given(data=st.data())
def test_mutated_bytes_load_or_raise_format_error(data):
    raw = bytearray(data.draw(st.sampled_from(FILES)))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        kind = data.draw(st.sampled_from(["set", "delete", "insert", "truncate"]))
        if kind == "set" and at < len(raw):
            raw[at] = data.draw(st.sampled_from(b'0129-."[]{},:eE\\ \x00\xff')
                                | st.integers(0, 255))
        elif kind == "delete":
            del raw[at:at + data.draw(st.integers(1, 8))]
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del raw[at:]
    check_outcome(bytes(raw))


def _large_file() -> bytes:
    """A constant whose base64 (107 KB) the loader takes out of the JSON before parsing it."""
    with tempfile.TemporaryDirectory() as d:
        g = sg.Graph()
        x = g.placeholder("x", (10_000,))
        sg.grad((x * np.random.default_rng(0).standard_normal(10_000)).sum(), x)
        sg.save(g, Path(d) / "g.json")
        return (Path(d) / "g.json").read_bytes()


LARGE_FILE = _large_file()
_DATA_AT = LARGE_FILE.index(b'"data": "')


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_mutated_bytes_of_a_large_constant_load_or_raise_format_error(data):
    raw = bytearray(LARGE_FILE)
    end = raw.index(b'"', _DATA_AT + 9)
    for _ in range(data.draw(st.integers(1, 2))):  # near the base64's edges, or anywhere
        at = data.draw(st.sampled_from([_DATA_AT, end]).flatmap(
            lambda edge: st.integers(edge - 12, edge + 12)) | st.integers(0, len(raw) - 1))
        kind = data.draw(st.sampled_from(["set", "delete", "insert"]))
        if kind == "set":
            raw[at] = data.draw(st.sampled_from(b'"\\=A/+ \n\x00\xff') | st.integers(0, 255))
        elif kind == "delete":
            del raw[at:at + data.draw(st.integers(1, 4))]
        else:
            raw[at:at] = data.draw(st.sampled_from([b'"', b"\\", b"\\u0041", b"==", b"AAAA"]))
    check_outcome(bytes(raw))


@FUZZ
@given(data=st.data())
def test_mutated_json_values_load_or_raise_format_error(data):
    doc = json.loads(json.dumps(data.draw(st.sampled_from(DOCS))))
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(list(_paths(doc))[1:]))
        parent, key = _at(doc, path[:-1]), path[-1]
        old = parent[key]
        if isinstance(old, int) and not isinstance(old, bool) and data.draw(st.booleans()):
            parent[key] = old + data.draw(st.sampled_from([-1, 1, -100, 2**40]))  # near misses
        else:
            parent[key] = data.draw(JSON_VALUES)
    check_outcome(json.dumps(doc).encode())


@FUZZ
@given(data=st.data())
def test_mutated_structure_loads_or_raises_format_error(data):
    doc = json.loads(json.dumps(data.draw(st.sampled_from(DOCS))))
    for _ in range(data.draw(st.integers(1, 2))):
        containers = [p for p in _paths(doc) if isinstance(_at(doc, p), (dict, list))
                      and _at(doc, p)]
        target = _at(doc, data.draw(st.sampled_from(containers)))
        kind = data.draw(st.sampled_from(["drop", "duplicate", "swap", "add key"]))
        if isinstance(target, dict):
            key = data.draw(st.sampled_from(sorted(target)))
            if kind == "drop":
                del target[key]
            elif kind == "add key":
                target[data.draw(st.sampled_from(["value", "outputs", "grad_of", "x"]))] = (
                    target[key])
            else:
                other = data.draw(st.sampled_from(sorted(target)))
                target[key], target[other] = target[other], target[key]
        else:
            i = data.draw(st.integers(0, len(target) - 1))
            j = data.draw(st.integers(0, len(target) - 1))
            if kind == "drop":
                del target[i]
            elif kind == "duplicate":
                target.insert(j, json.loads(json.dumps(target[i])))
            else:
                target[i], target[j] = target[j], target[i]
    check_outcome(json.dumps(doc).encode())


@pytest.mark.parametrize("raw", [*FILES, LARGE_FILE], ids=["rich", "small", "large"])
def test_the_unmutated_files_load(raw):
    check_outcome(raw)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "f.json").write_bytes(raw)
        assert isinstance(sg.load(Path(d) / "f.json"), sg.Graph)
