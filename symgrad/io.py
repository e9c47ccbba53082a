"""Saving graphs to JSON files and loading them back (format "symgrad.graph", version 1).

Owns the file: its layout, atomic writes, and the check of every node before it joins the new
graph (values' JSON forms are jsonform.py's). Knows no individual op: each loaded node is checked
against its op record (arity, normalize, infer), as `apply` checks a new one.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import mmap
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any, BinaryIO

import numpy as np

from .errors import FormatError, GraphError
from .graph import CONSTANT, ORIGINS, PLACEHOLDER, Graph
from .jsonform import (
    Bad,
    canonical,
    dict_in,
    dtype_out,
    int_in,
    keys,
    list_in,
    param_in,
    param_out,
    short,
    signature_in,
    str_in,
    value_in,
    value_out,
)
from .ops.base import OPS, OpDef, output
from .shapes import show
from .tensor import Tensor, as_tensor_list

FORMAT = "symgrad.graph"
VERSION = 1
OUTPUT = "output"  # the node that holds one output of a multi-output node (API.md)

_NODE_KEYS = ("id", "op", "inputs", "shape", "dtype", "params", "name", "origin")
_OPTIONAL_KEYS = ("grad_of", "grad_pass", "outputs", "value")
_SAVED = frozenset(_NODE_KEYS[1:] + _OPTIONAL_KEYS + ("index",))  # "index": rebuilt by output()
_TOP_KEYS = ("format", "version", "grad_passes", "grad_results", "nodes")


# -- saving --------------------------------------------------------------------------------------
def save(ys_or_graph: Graph | Tensor | Sequence[Tensor], path: str | os.PathLike) -> None:
    """Writes a graph (all of it), or the tensors given and their ancestors, to a JSON file.

    The file is replaced atomically: a failed save leaves any old file as it was.
    Raises FormatError for what the format cannot hold (a constant of dtype object, say).
    """
    if isinstance(ys_or_graph, Graph):
        graph, nids = ys_or_graph, sorted(ys_or_graph.nx.nodes)
    else:
        ys = as_tensor_list(ys_or_graph, None, "save")
        if not ys:
            raise GraphError("save: no tensors given")
        graph = ys[0].graph
        nids = graph.topo_order(t.id for t in ys)
    _write_atomically(path, _encode(graph, nids))


def _encode(graph: Graph, nids: list[int]) -> Iterator[bytes]:
    """The file's bytes, in pieces: one node a line. Every node is checked here, before the
    file is opened; constants' base64 is encoded while the file is being written."""
    kept = set(nids)
    head = {"format": FORMAT, "version": VERSION, "grad_passes": graph.grad_passes,
            "grad_results": [[r, list(ys), x, p] for r, ys, x, p in graph.grad_results
                             if r in kept]}
    pieces: list[Iterable[bytes]] = [(json.dumps(head)[:-1].encode(), b', "nodes": [\n')]
    for i, nid in enumerate(nids):
        record, value = _node_record(graph, nid)
        line = json.dumps(record, allow_nan=False).encode()
        end = b",\n" if i + 1 < len(nids) else b"\n"
        if value is None:
            pieces.append((line, end))
        else:  # base64 spliced in: not worth a pass of the JSON encoder over megabytes
            meta, data = value_out(value)
            pieces += [(line[:-1], b', "value": ', json.dumps(meta)[:-1].encode(),
                        b', "data": "'), data, (b'"}}', end)]
    pieces.append((b"]}\n",))
    return itertools.chain.from_iterable(pieces)


def _node_record(graph: Graph, nid: int) -> tuple[dict, np.ndarray | None]:
    a = graph.nx.nodes[nid]
    what = f"node {graph.label(nid)}"
    unknown = sorted(set(a) - _SAVED)
    if unknown:
        raise FormatError(f"cannot save {what}: attributes {unknown} have no place in "
                          f"{FORMAT} version {VERSION}")
    if a["name"] is not None and not isinstance(a["name"], str):
        raise FormatError(f"cannot save {what}: its name {a['name']!r} is not a string")
    record = {"id": nid, "op": a["op"], "inputs": list(a["inputs"]),
              "shape": _shape_out(a["shape"]), "dtype": dtype_out(a["dtype"], what),
              "params": {k: param_out(v, f"{what}, param {k!r}") for k, v in a["params"]},
              "name": a["name"], "origin": a["origin"]}
    for key in ("grad_of", "grad_pass"):
        if key in a:
            record[key] = a[key]
    if "outputs" in a:
        record["outputs"] = [[_shape_out(s), dtype_out(d, what)] for s, d in a["outputs"]]
    return record, a.get("value")


def _shape_out(shape: tuple | None) -> list | None:
    return None if shape is None else list(shape)


def _write_atomically(path: str | os.PathLike, pieces: Iterable[bytes]) -> None:
    """Writes a temporary file beside the target, syncs it, and renames it over the target."""
    target = os.path.realpath(os.fsdecode(path))  # through a symlink, as open() would write
    directory, base = os.path.split(target)
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as e:
        raise _naming(e, path) from e
    try:
        with os.fdopen(fd, "wb") as f:
            _write_syncing(f, pieces)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # overwriting keeps the old permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _naming(e, path) from e
        raise
    if os.name == "posix":  # the rename itself survives a crash once the directory is synced
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


_SYNC_EVERY = 16 << 20  # bytes written between two early syncs of a large file


def _write_syncing(f: BinaryIO, pieces: Iterable[bytes]) -> None:
    """Writes the pieces; for a large file, the data written so far is synced on a helper
    thread now and then, so that the disk takes it while the rest is encoded and written, and
    the final fsync waits for the last megabytes only."""
    sync = getattr(os, "fdatasync", os.fsync)
    syncing: Future | None = None
    unsynced = 0
    # the helper thread starts with the first sync: a small file never makes one
    with ThreadPoolExecutor(1, thread_name_prefix="symgrad-sync") as syncer:
        for piece in pieces:
            f.write(piece)
            unsynced += len(piece)
            if unsynced >= _SYNC_EVERY and (syncing is None or syncing.done()):
                syncing = syncer.submit(sync, f.fileno())
                unsynced = 0
    if syncing is not None:
        syncing.result()  # an early sync that failed fails the save, as the final one would


def _naming(e: OSError, path: str | os.PathLike) -> OSError:
    """The error of the same kind (FileNotFoundError, PermissionError, ...) naming the user's
    file, not the temporary one that was being written."""
    return OSError(e.errno, f"save: {e.strerror}", os.fsdecode(path))


# -- loading -------------------------------------------------------------------------------------
def load(path: str | os.PathLike) -> Graph:
    """Reads a graph saved by `save`; FormatError naming the file and the fault otherwise.

    Everything is checked before use, and nothing in the file is run: it is data only.
    """
    name = os.fsdecode(path)
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _LARGE:
            return _load_bytes(name, f.read())
        # a large file is mapped, not read: its base64 is decoded from the page cache
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
            return _load_bytes(name, raw)


def _load_bytes(name: str, raw: Any) -> Graph:
    try:
        graph = _load_excised(raw)
        return graph if graph is not None else _build(*_parse(raw, excise=False))
    except Bad as e:
        fault = str(e)
    except RecursionError:
        fault = "nested too deeply"
    # raised out here, with no context: the fault's traceback, whose frames hold views of the
    # memory map (then impossible to close: BufferError), is gone by now
    raise FormatError(f"cannot load {name}: {fault}")


def _load_excised(raw: Any) -> Graph | None:
    """The graph, its large base64 strings decoded apart from the JSON; None when the file
    must be read as JSON, all of it: a long "data" string that is no constant's value, or one
    holding a JSON escape (save writes neither; strict base64 refuses a backslash)."""
    try:
        doc, payloads = _parse(raw)
        graph = _build(doc, payloads)
    except Bad:
        if raw.find(b"\\") >= 0:
            return None
        raise
    return graph if all(p is None for p in payloads) else None  # each taken by its constant


_DATA = b'"data": "'  # how save writes a constant's base64
_LARGE = 1 << 16  # characters: payloads this long are decoded without the JSON parser


def _excise(raw: bytes) -> tuple[bytes, list[memoryview | None]]:
    """raw with each long string after "data": taken out (as "@k") and the strings, so that
    the JSON parser does not scan megabytes nor make a str of them. Each is decoded as strict
    base64 by the constant that names it, and must be (see _load_excised)."""
    parts: list[bytes] = []
    payloads: list[memoryview | None] = []
    view = memoryview(raw)
    done = at = 0
    while (i := raw.find(_DATA, at)) >= 0:
        start = i + len(_DATA)
        end = raw.find(b'"', start)
        if end < 0:
            break
        if end - start >= _LARGE:
            parts += [raw[done:start], b"@%d" % len(payloads)]
            payloads.append(view[start:end])
            done = end
        at = end + 1
    if not payloads:
        return bytes(raw), []
    parts.append(raw[done:])
    text = b"".join(parts)
    if text.count(b'"@') != len(payloads):  # a string of the file's own starts with "@"
        return bytes(raw), []
    return text, payloads


def _parse(raw: Any, excise: bool = True) -> tuple[dict, list[memoryview | None]]:
    """The document of the file's bytes (or its memory map), and its large payloads."""
    raw, payloads = _excise(raw) if excise else (bytes(raw), [])
    if not raw or raw.isspace():  # not strip(): a copy of the whole file
        raise Bad("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad(f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        doc = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        end = " (the file ends early: truncated?)" if e.pos >= len(text.rstrip()) else ""
        raise Bad(f"not JSON: {e.msg} at line {e.lineno}, column {e.colno}{end}") from None
    except ValueError as e:  # an integer of thousands of digits
        raise Bad(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or "format" not in doc:
        raise Bad(f"not a {FORMAT} file: no 'format' field at the top")
    if doc["format"] != FORMAT:
        raise Bad(f"unknown format {short(doc['format'])}, not {FORMAT!r}")
    version = doc.get("version")
    if type(version) is not int or version < 1:
        raise Bad(f"'version' must be a positive integer, got {short(version)}")
    if version > VERSION:
        raise Bad(f"format version {version} is newer than this symgrad reads ({VERSION}): "
                  "upgrade symgrad")
    keys(doc, _TOP_KEYS, (), "the top level")
    return doc, payloads


def _object(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise Bad(f"key {dup!r} appears twice in one object")
    return out


def _no_constant(word: str) -> None:
    raise Bad(f"{word} is not JSON (non-finite numbers are stored as their bits)")


def _build(doc: dict, payloads: list[memoryview | None]) -> Graph:
    graph = Graph()
    passes = int_in(doc["grad_passes"], "'grad_passes'")
    nodes = list_in(doc["nodes"], "'nodes'")
    for i, record in enumerate(nodes):
        _load_node(graph, dict_in(record, f"nodes[{i}]"), passes, payloads)
    results = []
    for i, entry in enumerate(list_in(doc["grad_results"], "'grad_results'")):
        what = f"grad_results[{i}]"
        entry = list_in(entry, what)
        if len(entry) != 4:
            raise Bad(f"{what} must be [result, ys, x, pass], got {short(entry)}")
        r = int_in(entry[0], f"{what} result")
        if r not in graph.nx:
            raise Bad(f"{what}: result node {r} is not in the file")
        ys = tuple(int_in(y, f"{what} y", high=r - 1) for y in list_in(entry[1], f"{what} ys"))
        x = int_in(entry[2], f"{what} x", high=r - 1)
        results.append((r, ys, x, int_in(entry[3], f"{what} pass", low=1, high=passes)))
    graph.grad_passes = passes
    graph.grad_results = results
    graph.remember_scalars()
    return graph


def _load_node(graph: Graph, record: dict, passes: int, payloads: list[memoryview | None]
               ) -> None:
    nid = int_in(record.get("id"), "a node's 'id'")
    if nid in graph.nx:
        raise Bad(f"two nodes have id {nid}")
    if nid < graph.next_id:
        raise Bad(f"node ids must increase through the file: {nid} comes after "
                  f"{graph.next_id - 1}")
    where = f"node {nid}"
    keys(record, _NODE_KEYS, _OPTIONAL_KEYS, where)
    op = str_in(record["op"], f"{where} 'op'")
    where = f"node {nid} ({op})"
    if op not in (PLACEHOLDER, CONSTANT) and op not in OPS:
        raise Bad(f"{where}: unknown op {op!r} (not registered in this symgrad)")
    inputs = tuple(int_in(i, f"{where} input")
                   for i in list_in(record["inputs"], f"{where} inputs"))
    for i in inputs:
        if i >= nid:
            raise Bad(f"{where}: input {i} is not smaller than the node's id (inputs come "
                      "first; a cycle?)")
        if i not in graph.nx:
            raise Bad(f"{where}: input {i} is missing")
    name = record["name"]
    if name is not None:
        name = str_in(name, f"{where} 'name'")
    origin = record["origin"]
    if origin not in ORIGINS:
        raise Bad(f"{where}: origin {short(origin)} is not one of {ORIGINS}")
    grad_of = record.get("grad_of")
    if grad_of is not None:
        grad_of = int_in(grad_of, f"{where} 'grad_of'", high=nid - 1)
    grad_pass = record.get("grad_pass")
    if grad_pass is not None and int_in(grad_pass, f"{where} 'grad_pass'", low=1) > passes:
        raise Bad(f"{where}: grad_pass {grad_pass}, yet the file records {passes} passes")
    params = {k: param_in(v, f"{where} param {k!r}")
              for k, v in dict_in(record["params"], f"{where} params").items()}
    opdef = OPS.get(op)
    multi = opdef is not None and opdef.n_outputs != 1
    if ("value" in record) != (op == CONSTANT):
        raise Bad(f"{where}: only constants, and every constant, carry a 'value'")
    if ("outputs" in record) != multi:
        raise Bad(f"{where}: only multi-output nodes, and every one, list 'outputs'")
    if multi:
        if record["shape"] is not None or record["dtype"] is not None:
            raise Bad(f"{where}: a multi-output node has shape and dtype null")
        signature: Any = tuple(signature_in(s, f"{where} outputs")
                               for s in list_in(record["outputs"], f"{where} outputs"))
    else:
        signature = signature_in([record["shape"], record["dtype"]], where)
    graph.advance_id(nid)
    with graph.origin(origin, grad_of, grad_pass):
        if op in (PLACEHOLDER, CONSTANT):
            if inputs or params:
                raise Bad(f"{where}: a leaf has no inputs and no params")
            if op == PLACEHOLDER:
                _placeholder(graph, name, signature, where)
            else:
                value = value_in(record["value"], signature, where, payloads)
                # the array is the loader's own, read-only: kept, not copied as by constant()
                graph.add_node(CONSTANT, (), value.shape, value.dtype, name=name, value=value)
        elif op == OUTPUT:
            _output(graph, inputs, params, name, signature, where)
        else:
            _operation(graph, opdef, inputs, params, name, signature, where)


def _placeholder(graph: Graph, name: str | None, signature: tuple, where: str) -> None:
    if not name:
        raise Bad(f"{where}: a placeholder needs a non-empty name")
    try:
        graph.placeholder(name, *signature)
    except GraphError:
        raise Bad(f"{where}: a second placeholder named {name!r}") from None


def _output(graph: Graph, inputs: tuple, params: dict, name: str | None, signature: tuple,
            where: str) -> None:
    index = params.get("index")
    if len(inputs) != 1 or set(params) != {"index"} or type(index) is not int:
        raise Bad(f"{where}: an output node has one input and one int param 'index'")
    outputs = graph.nx.nodes[inputs[0]].get("outputs")
    if outputs is None or not 0 <= index < len(outputs):
        raise Bad(f"{where}: node {inputs[0]} has no output {index}")
    t = output(graph.tensor(inputs[0]), index)
    _same_signature(signature, (t.shape, t.dtype), False, where)
    t.name = name


def _operation(graph: Graph, opdef: OpDef, inputs: tuple, params: dict, name: str | None,
               signature: Any, where: str) -> None:
    """An op node, rebuilt through its record: arity, canonical params, inferred signature."""
    tensors = [graph.tensor(i) for i in inputs]
    if any(t.shape is None for t in tensors):
        raise Bad(f"{where}: a multi-output node is read only through '{OUTPUT}' nodes")
    _check_arity(opdef, len(inputs), params, where)
    try:
        if opdef.normalize is not None:
            normal = opdef.normalize(tensors, **params)
            if canonical(normal) != canonical(params):
                raise Bad(f"{where}: params {short(params)} are not in canonical form "
                          f"{short(normal)}")
        inferred = opdef.infer(tensors, **params)
    except Bad:
        raise
    except Exception as e:  # a record's own check, in whatever words it has
        raise Bad(f"{where} does not fit its inputs: {type(e).__name__}: {e}") from None
    _same_signature(signature, inferred, opdef.n_outputs != 1, where)
    extra = {"outputs": tuple(inferred)} if opdef.n_outputs != 1 else {}
    shape, dtype = (None, None) if extra else inferred
    graph.add_node(opdef.name, inputs, shape, dtype, tuple(params.items()), name, **extra)


def _check_arity(opdef: OpDef, n: int, params: dict, where: str) -> None:
    """The inputs and params must fit `compute`: a NumPy function takes an extra positional
    argument as its `out` and would write into an input's array."""
    compute = opdef.compute
    if isinstance(compute, np.ufunc):
        if n != compute.nin or params:
            raise Bad(f"{where}: takes {compute.nin} inputs and no params, the file gives "
                      f"{n} inputs and {sorted(params)}")
        return
    signature = _compute_signature(compute)
    if signature is None:
        return  # a builtin that states no signature: its infer is all there is
    try:
        bound = signature.bind(*range(n), **params)
    except TypeError as e:
        raise Bad(f"{where}: {n} inputs and params {sorted(params)} do not fit its "
                  f"computation ({e})") from None
    if "out" in bound.arguments:
        raise Bad(f"{where}: {n} inputs is one too many (the last would be NumPy's 'out')")


@cache
def _compute_signature(compute: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(compute)
    except (TypeError, ValueError):
        return None


def _same_signature(stored: Any, inferred: Any, multi: bool, where: str) -> None:
    stored, inferred = (tuple(stored), tuple(inferred)) if multi else ((stored,), (inferred,))
    if len(stored) != len(inferred) or not all(map(_pair_equal, stored, inferred)):
        raise Bad(f"{where}: the file says {_describe(stored)}, its op infers "
                  f"{_describe(inferred)}")


def _pair_equal(a: tuple, b: tuple) -> bool:
    (shape_a, dtype_a), (shape_b, dtype_b) = a, b
    return tuple(shape_a) == tuple(shape_b) and dtype_a == dtype_b


def _describe(pairs: tuple) -> str:
    return ", ".join(f"shape {show(tuple(s))} dtype {d}" for s, d in pairs)


