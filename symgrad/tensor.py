"""Tensor: the handle of one node. Operators and methods are one-line calls into `ops`.

A Tensor is (graph, node id); equality is node identity, so tensors serve as dict keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import GraphError

if TYPE_CHECKING:
    from .graph import Graph


class Tensor:
    """A symbolic value: one node of a Graph (or one output of a multi-output node)."""

    __slots__ = ("graph", "id", "_a", "_inputs")
    __array_ufunc__ = None  # so that `array + tensor` calls Tensor.__radd__

    def __init__(self, graph: Graph, nid: int) -> None:
        self.graph = graph
        self.id = nid
        self._a = graph._node[nid]  # the node's attribute dict in networkx, looked up once
        self._inputs: tuple[Tensor, ...] | None = None

    # -- what the node holds -------------------------------------------------------------------
    @property
    def op(self) -> str:
        return self._a["op"]

    @property
    def name(self) -> str | None:
        return self._a["name"]

    @name.setter
    def name(self, value: str | None) -> None:
        if self.op == "placeholder":
            raise GraphError(f"placeholder {self.name!r} cannot be renamed")
        self._a["name"] = value

    @property
    def shape(self) -> tuple:
        return self._a["shape"]

    @property
    def ndim(self) -> int:
        return len(self._a["shape"])

    @property
    def dtype(self) -> np.dtype:
        return self._a["dtype"]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._a["params"])

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        if self._inputs is None:
            g = self.graph
            self._inputs = tuple(Tensor(g, i) for i in self._a["inputs"])
        return self._inputs

    @property
    def is_leaf(self) -> bool:
        return self._a["op"] in ("placeholder", "constant")

    @property
    def label(self) -> str:
        """How errors and pictures name this node: its name, or op#id."""
        return self._a["name"] or f"{self._a['op']}#{self.id}"

    def __repr__(self) -> str:
        from .shapes import show

        shape = show(self.shape) if self.shape is not None else "multi-output"
        return f"<Tensor {self.label} {shape} {self.dtype}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """In Jupyter: a picture of this tensor and its ancestors (export/jupyter.py)."""
        from .export.jupyter import drawing  # late, as for ops: exporters build on Tensor

        return drawing(self)._repr_mimebundle_(include, exclude)

    # -- identity, not arithmetic --------------------------------------------------------------
    def __hash__(self) -> int:
        return hash((id(self.graph), self.id))

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, Tensor) and other.graph is self.graph and other.id == self.id

    def __ne__(self, other: object) -> bool:  # type: ignore[override]
        return not self.__eq__(other)

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of symbolic tensor {self.label} is unknown until it is evaluated; "
            "use sg.where for a symbolic choice"
        )

    def __iter__(self):
        raise TypeError(f"symbolic tensor {self.label} cannot be iterated; index it instead")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"symbolic tensor {self.label} has no value until it is evaluated; "
                        "use sg.evaluate or sg.function to get an array")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"NumPy's {func.__name__} cannot take symbolic tensor {self.label}; "
                        f"use symgrad's own (sg.{func.__name__}, or a Tensor method)")

    def __len__(self) -> int:
        """The static first dimension; TypeError when it is known only at run time."""
        shape = self._a["shape"]
        if not shape:
            what = "has several outputs" if shape is None else "is 0-d"
            raise TypeError(f"len() of symbolic tensor {self.label}, which {what}")
        if shape[0] is None:
            raise TypeError(f"len() of symbolic tensor {self.label}: its first dimension is "
                            "known only at run time; use .shape")
        return shape[0]


    # -- operators -----------------------------------------------------------------------------
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().divide(self, other)
    def __rtruediv__(self, other): return _ops().divide(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __rpow__(self, other): return _ops().power(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __neg__(self): return _ops().negative(self)
    def __lt__(self, other): return _ops().less(self, other)
    def __le__(self, other): return _ops().less_equal(self, other)
    def __gt__(self, other): return _ops().greater(self, other)
    def __ge__(self, other): return _ops().greater_equal(self, other)
    def __getitem__(self, index): return _ops().getitem(self, index)

    # -- methods -------------------------------------------------------------------------------
    @property
    def T(self) -> Tensor:
        return _ops().transpose(self)

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, *, ddof=0) -> Tensor:
        return _ops().var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims: bool = False, *, ddof=0) -> Tensor:
        return _ops().std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops().argmin(self, axis=axis, keepdims=keepdims)

    def clip(self, lo=None, hi=None) -> Tensor:
        return _ops().clip(self, lo, hi)

    def reshape(self, *shape) -> Tensor:
        """`t.reshape((2, 3))` or `t.reshape(2, 3)`, as NumPy takes both."""
        if not shape:
            raise TypeError(f"reshape of {self.label} needs a shape")
        return _ops().reshape(self, shape[0] if len(shape) == 1 else shape)

    def flatten(self) -> Tensor:
        return _ops().reshape(self, (-1,))

    def squeeze(self, axis=None) -> Tensor:
        return _ops().squeeze(self, axis)

    def transpose(self, axes=None) -> Tensor:
        return _ops().transpose(self, axes)

    def astype(self, dtype) -> Tensor:
        return _ops().cast(self, dtype)


_OPS_MODULE = None


def _ops():
    """The ops package, imported late: ops build on Tensor, so Tensor cannot import them first."""
    global _OPS_MODULE
    if _OPS_MODULE is None:
        from . import ops

        _OPS_MODULE = ops
    return _OPS_MODULE


def as_tensor_list(ts: Tensor | Iterable[Tensor], graph: Graph | None, what: str) -> list[Tensor]:
    """A tensor or a sequence of tensors as a list, all of one graph (that of `graph` if given)."""
    items = [ts] if isinstance(ts, Tensor) else list(ts)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: expected symgrad tensors, got {type(t).__name__}")
        if graph is None:
            graph = t.graph
        elif t.graph is not graph:
            raise GraphError(f"{what}: tensor {t.label} belongs to another graph")
        if t.id not in graph._node:
            raise GraphError(f"{what}: tensor #{t.id} ({t._a['op']}) was pruned from its graph "
                             "(Graph.prune removed its node)")
    return items
