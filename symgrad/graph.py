"""Graph: the networkx.DiGraph that holds nodes, their attributes (the IR), and walks over it.

Node ids are ints handed out in increasing order and a node's inputs always exist before it, so
sorting ids gives a topological order. Knows no operation beyond the two leaves.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from .errors import GraphError
from .shapes import as_shape

if TYPE_CHECKING:
    from .ops.base import OpDef
    from .tensor import Tensor

@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pauses Python's cycle collector around bulk work on a graph (derivative pass, planning):
    it makes many objects and no cycles, and each full collection would scan the whole graph
    again, making long passes grow faster than linearly."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


PLACEHOLDER = "placeholder"
CONSTANT = "constant"
ORIGINS = ("user", "gradient", "simplify")


class Graph:
    """A static computation graph; `nx` is the networkx.DiGraph (edges run input -> consumer)."""

    def __init__(self) -> None:
        self.nx = nx.DiGraph()
        self._next_id = 0
        self.current_origin = "user"  # what add_node stamps on new nodes (see `origin`)
        self.current_grad_of: int | None = None
        self.current_grad_pass: int | None = None  # stamped as "grad_pass" on new nodes
        self.grad_passes = 0  # derivative passes run on this graph so far (see new_grad_pass)
        # what each pass returned: (result node, ys' nodes, x's node, pass), for pictures (dJ/dW)
        self.grad_results: list[tuple[int, tuple[int, ...], int, int]] = []
        self._placeholder_names: dict[str, int] = {}
        self._scalars: dict[tuple, int] = {}  # (dtype, bytes, origin) -> constant node
        # networkx's own dicts, written directly when a node is added: add_node and add_edge
        # cost three times as much and node creation is the hot path of the derivative pass.
        self._node, self._succ, self._pred = self.nx._node, self.nx._succ, self.nx._pred
        self._nx_cache = getattr(self.nx, "__networkx_cache__", None)

    def __repr__(self) -> str:
        return f"<symgrad.Graph with {self.nx.number_of_nodes()} nodes>"

    def __copy__(self) -> Graph:
        raise TypeError("a symgrad Graph cannot be copied (its tensors would refer to the "
                        "original); build it again, or save and load it")

    def __deepcopy__(self, memo: dict) -> Graph:
        return self.__copy__()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """In Jupyter: a picture of the whole graph (export/jupyter.py)."""
        from .export.jupyter import drawing  # late: exporters build on graph and ops

        return drawing(self)._repr_mimebundle_(include, exclude)

    @property
    def next_id(self) -> int:
        """The id the next node will get: nodes added later have ids at least this."""
        return self._next_id

    # -- building ------------------------------------------------------------------------------
    def add_node(
        self,
        op: str,
        inputs: tuple[int, ...],
        shape: tuple | None,
        dtype: np.dtype | None,
        params: tuple = (),
        name: str | None = None,
        **extra: Any,
    ) -> int:
        """Adds one node and its edges; returns its id. Builders call this through ops.apply."""
        nid = self._next_id
        self._next_id = nid + 1
        attrs = {"op": op, "inputs": inputs, "shape": shape, "dtype": dtype, "params": params,
                 "name": name, "origin": self.current_origin}
        if extra:
            attrs.update(extra)
        if self.current_grad_of is not None:
            attrs["grad_of"] = self.current_grad_of
        if self.current_grad_pass is not None:
            attrs["grad_pass"] = self.current_grad_pass
        succ = self._succ
        self._node[nid] = attrs
        succ[nid] = {}
        self._pred[nid] = pred = {}
        for i in inputs:
            pred[i] = succ[i][nid] = {}
        if self._nx_cache:
            self._nx_cache.clear()  # networkx's cache of converted graphs is stale now
        return nid

    def rollback(self, mark: int, grad_passes: int | None = None) -> None:
        """Removes every node with id >= mark (what a failed call added) and forgets them."""
        self.discard_since(mark)
        self._next_id = mark
        if grad_passes is not None:
            self.grad_passes = grad_passes

    def discard_since(self, mark: int) -> None:
        """Removes the nodes with id >= mark (a function's private ones); ids are not reused."""
        doomed = [n for n in range(mark, self._next_id) if n in self._node]
        if doomed:
            self.nx.remove_nodes_from(doomed)
        self._scalars = {k: v for k, v in self._scalars.items() if v < mark}
        self._placeholder_names = {k: v for k, v in self._placeholder_names.items() if v < mark}
        self.grad_results = [r for r in self.grad_results if r[0] < mark]

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A failure inside leaves the graph as it was: the nodes added meanwhile are removed."""
        mark, passes = self._next_id, self.grad_passes
        try:
            yield
        except BaseException:
            self.rollback(mark, passes)
            raise

    def advance_id(self, nid: int) -> None:
        """Makes `nid` the next node's id; ids only grow. Loading a file keeps its ids this way."""
        if nid < self._next_id:
            raise GraphError(f"node id {nid} is taken: the next id is at least {self._next_id}")
        self._next_id = nid

    def new_grad_pass(self) -> int:
        """Numbers one more derivative pass (1, 2, ...): its nodes carry it as "grad_pass"."""
        self.grad_passes += 1
        return self.grad_passes

    @contextmanager
    def origin(self, origin: str, grad_of: int | None = None,
               grad_pass: int | None = None) -> Iterator[None]:
        """Nodes added inside get this origin, `grad_of` (the forward node they derive from) and
        `grad_pass` (the derivative pass that made them; for "gradient", the latest pass)."""
        if origin not in ORIGINS:
            raise GraphError(f"origin must be one of {ORIGINS}, got {origin!r}")
        if grad_pass is None and origin == "gradient" and self.grad_passes:
            grad_pass = self.grad_passes
        saved = self.current_origin, self.current_grad_of, self.current_grad_pass
        self.current_origin, self.current_grad_of = origin, grad_of
        self.current_grad_pass = grad_pass
        try:
            yield
        finally:
            self.current_origin, self.current_grad_of, self.current_grad_pass = saved

    def placeholder(self, name: str, shape: object = (), dtype: object = "float64") -> Tensor:
        """A value fed at run time; a None dimension is fixed only then."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"a placeholder needs a non-empty string name, got {name!r}")
        if name in self._placeholder_names:
            raise GraphError(f"this graph already has a placeholder named {name!r}")
        nid = self.add_node(PLACEHOLDER, (), as_shape(shape), np.dtype(dtype), name=name)
        self._placeholder_names[name] = nid
        return self._handle(nid)

    def constant(self, value: object, name: str | None = None) -> Tensor:
        """A constant node; it keeps its own read-only copy of `value`."""
        array = np.array(value)
        if array.dtype == object:
            raise TypeError(f"constant {name or ''}: cannot hold a value of type {type(value)}")
        array.flags.writeable = False
        nid = self.add_node(CONSTANT, (), array.shape, array.dtype, name=name, value=array)
        return self._handle(nid)

    def scalar(self, value: bool | int | float | complex, dtype: np.dtype) -> Tensor:
        """A 0-d constant, shared by every use of the same value, dtype and origin."""
        key = (repr(value), dtype, self.current_origin)  # repr tells -0.0 from 0.0
        nid = self._scalars.get(key)
        if nid is None or nid not in self._node:
            nid = self._scalars[key] = self.constant(np.asarray(value, dtype=dtype)).id
        return self._handle(nid)

    def remember_scalars(self) -> None:
        """Lets `scalar` reuse this graph's unnamed 0-d constants (for a graph built by loading):
        each is filed under the Python numbers that `scalar` would turn into the same bits."""
        for nid, a in self._node.items():
            value = a.get("value")
            if a["op"] != CONSTANT or a["name"] is not None or value.ndim != 0:
                continue
            item = value.item()
            if item != item:
                continue  # NaN: its repr, the cache's key, does not tell payloads apart
            numbers = [item]
            if isinstance(item, float) and item.is_integer():
                numbers.append(int(item))  # gradients' seeds ask for scalar(1, float64)
            for number in numbers:
                if np.asarray(number, dtype=value.dtype).tobytes() == value.tobytes():
                    self._scalars.setdefault((repr(number), value.dtype, a["origin"]), nid)

    # -- looking up ----------------------------------------------------------------------------
    def tensor(self, key: int | str) -> Tensor:
        """The tensor of a node id, or of the one node with that name."""
        if isinstance(key, str):
            found = [n for n, a in self.nx.nodes(data="name") if a == key]
            if len(found) != 1:
                what = "no node" if not found else f"{len(found)} nodes ({found})"
                raise GraphError(f"{what} named {key!r} in this graph")
            key = found[0]
        if key not in self.nx:
            raise GraphError(f"no node with id {key!r} in this graph")
        return self._handle(key)

    def placeholders(self) -> list[Tensor]:
        """The placeholder tensors, in the order they were made."""
        return [self._handle(n) for n in sorted(self.nx.nodes) if self.is_placeholder(n)]

    def is_placeholder(self, nid: int) -> bool:
        return self.nx.nodes[nid]["op"] == PLACEHOLDER

    def is_leaf(self, nid: int) -> bool:
        return self.nx.nodes[nid]["op"] in (PLACEHOLDER, CONSTANT)

    # The three subroutines of the book's section 6.5.6, one call each on the DiGraph.
    def get_inputs(self, t: Tensor) -> list[Tensor]:
        return [self._handle(i) for i in self.nx.nodes[t.id]["inputs"]]

    def get_consumers(self, t: Tensor) -> list[Tensor]:
        return [self._handle(c) for c in self.nx.successors(t.id)]

    def get_operation(self, t: Tensor) -> OpDef | None:
        """The op record computing t; None for a placeholder or a constant."""
        from .ops.base import OPS

        return OPS.get(self.nx.nodes[t.id]["op"])

    # -- walking -------------------------------------------------------------------------------
    def ancestors(self, nids: Iterable[int], stop: Iterable[int] = ()) -> set[int]:
        """`nids` and every node they are computed from; the walk does not pass `stop` nodes."""
        nodes = self._node
        stop = set(stop)
        seen: set[int] = set()
        todo = list(nids)
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n not in stop:
                todo.extend(nodes[n]["inputs"])
        return seen

    def topo_order(self, nids: Iterable[int], stop: Iterable[int] = ()) -> list[int]:
        """The ancestors of `nids` (themselves included), inputs before consumers."""
        return sorted(self.ancestors(nids, stop))

    def prune(self, keep: Iterable[Tensor] | Tensor) -> None:
        """Drops every node that is not needed to compute the tensors in `keep`."""
        from .tensor import as_tensor_list

        needed = self.ancestors(t.id for t in as_tensor_list(keep, self, "prune"))
        doomed = [n for n in self.nx.nodes if n not in needed]
        self.nx.remove_nodes_from(doomed)
        self._placeholder_names = {k: v for k, v in self._placeholder_names.items() if v in needed}

    def label(self, nid: int) -> str:
        """How errors name a node: its name, or op#id."""
        a = self.nx.nodes[nid]
        return a["name"] if a.get("name") else f"{a['op']}#{nid}"

    def _handle(self, nid: int) -> Tensor:
        global _Tensor
        if _Tensor is None:  # tensor.py builds on graph.py: the class is looked up on first use
            from .tensor import Tensor as _Tensor
        return _Tensor(self, nid)


_Tensor: Any = None
