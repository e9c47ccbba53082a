"""Backends: ways of running a plan. One per run, not per op: the same plan (the same graph,
simplified and merged once) runs on NumPy arrays or on another array library.

A backend feeds values (checks each against its placeholder), turns a plan into a runner, and
hands back results. "numpy" is built in (numpy.py); others are imported when first asked for,
so that their libraries stay optional. Knows plans and arrays, not ops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..errors import SymgradError

if TYPE_CHECKING:
    from ..plan import Plan
    from ..tensor import Tensor

# name -> (module, what to pip install for it)
KNOWN = {"numpy": ("symgrad.backends.numpy", None), "dask": ("symgrad.backends.dask", "dask")}


class Backend(ABC):
    """How one kind of array runs plans: the three steps of a call (abstract), and running a
    plan once."""

    name = ""

    @abstractmethod
    def feed(self, t: Tensor, value: Any) -> Any:
        """`value` as the backend's array for input t; FeedError naming t when it cannot be."""

    @abstractmethod
    def runner(self, plan: Plan, check_finite: bool) -> tuple[Callable[[list], list], str]:
        """A function of the fed arrays (a list) returning the outputs (a list), and the tier
        it runs on (Function.tier: "compiled", "interpreted", ...)."""

    def run(self, plan: Plan, arrays: list, check_finite: bool) -> list:
        """Runs a plan once (`evaluate`): step by step, not worth compiling."""
        return plan.run(arrays, check_finite)

    @abstractmethod
    def results(self, values: Sequence[Any], fed: Sequence[Any]) -> list[Any]:
        """What the caller gets: arrays of its own (sharing memory with no input, no other
        result and no constant)."""

    def direct(self, plan: Plan, call: Callable[..., Any], single: bool
               ) -> tuple[Callable[..., Any], str] | None:
        """Optionally, a faster way to make a whole call (feeding and results included) for
        some plans, and its tier; `call(*values)` is the usual way, for it to fall back on."""
        return None


_LOADED: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend of that name; SymgradError saying how to install what it needs."""
    backend = _LOADED.get(name)
    if backend is not None:
        return backend
    if name not in KNOWN:
        raise SymgradError(f"unknown backend {name!r}; choose one of {sorted(KNOWN)}")
    module, extra = KNOWN[name]
    try:
        backend = import_module(module).BACKEND
    except ImportError as e:
        if extra is None:
            raise
        raise SymgradError(f"backend={name!r} needs {extra}, which is not installed ({e}): "
                           f"pip install 'symgrad[{extra}]'") from None
    _LOADED[name] = backend
    return backend
