"""The NumPy backend: plans compiled to straight-line Python over NumPy calls (codegen.py), or
run step by step when they are large or checked (check_finite); with llvmlite, regions of
elementwise steps compiled to loops in the background (fuse.py, the "fused" tier).

Fed values become plain ndarrays of the declared dtype; results are the caller's own arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import FeedError
from ..graph import no_cycle_collection
from ..plan import COMPILE_LIMIT, Plan, what_fed
from ..shapes import show
from ..tensor import Tensor
from . import Backend


def check_value(t: Tensor, value: Any) -> np.ndarray:
    """A fed value as a plain ndarray of t's dtype, or FeedError naming t, declared and given.

    Subclasses become plain arrays (np.matrix, memmap), except masked arrays, which are
    refused: their mask cannot be honoured."""
    dtype, shape = t.dtype, t.shape
    if type(value) is np.ndarray:
        arr = value
    elif isinstance(value, np.ma.MaskedArray):
        raise FeedError(f"{what_fed(t)} was fed a masked array; symgrad computes on plain arrays "
                        "and would ignore the mask: pass value.filled(...) instead")
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise FeedError(f"{what_fed(t)} was fed a value NumPy cannot make an array of "
                            f"({type(value).__name__}): {e}") from None
    if arr.dtype != dtype:
        if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
            raise FeedError(f"{what_fed(t)} is declared {dtype}, got a value of dtype {arr.dtype}")
        arr = arr.astype(dtype)
    if arr.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, arr.shape)):
        raise FeedError(f"{what_fed(t)} is declared of shape {show(shape)}, "
                        f"got a value of shape {show(arr.shape)}")
    return arr


def as_output(value: Any, fed: Sequence[np.ndarray] = ()) -> np.ndarray:
    """An array the caller may keep and change: views of shared constants or of the caller's
    own input arrays (x, x.T, x[0], stop_gradient(x)) are copied."""
    arr = np.asarray(value)
    if arr.flags.writeable and not any(np.may_share_memory(arr, a) for a in fed):
        return arr
    return arr.copy()


def as_outputs(values: Sequence[Any], fed: Sequence[np.ndarray]) -> list[np.ndarray]:
    """as_output for each, and no two results share memory (h, h.T, stop_gradient(h))."""
    out: list[np.ndarray] = []
    for v in values:
        arr = as_output(v, fed)
        if any(np.may_share_memory(arr, o) for o in out):
            arr = arr.copy()
        out.append(arr)
    return out



class NumpyBackend(Backend):
    name = "numpy"

    def feed(self, t: Tensor, value: Any) -> np.ndarray:
        return check_value(t, value)

    def runner(self, plan: Plan, check_finite: bool) -> tuple[Callable[[list], list], str]:
        if check_finite:
            return (lambda arrays: plan.run(arrays, True)), "interpreted"
        if len(plan.steps) > COMPILE_LIMIT:  # Python's compiler costs ~5-10 us a step
            return plan.run, "interpreted"
        from ..tiers import runner  # with llvmlite: fused loops, compiled in the background

        run = runner(plan, _CompileOnReuse(plan))
        return run, run.tier

    def results(self, values: Sequence[Any], fed: Sequence[Any]) -> list[np.ndarray]:
        return as_outputs(values, fed)

    def direct(self, plan: Plan, call: Callable[..., Any], single: bool
               ) -> tuple[Callable[..., Any], str] | None:
        from ..scalar import compile_scalar

        run = compile_scalar(plan, call, single, self.feed)  # a plan of scalars: Python floats
        return None if run is None else (run, "scalar")


class _CompileOnReuse:
    """Runs a plan step by step until it is called a second time, then compiled: compiling
    costs ~10 us a step, more than interpreting one call, so a result that is wanted once
    comes sooner and one wanted often gets the compiled code. Small plans compile at once.
    `tier` says which runs."""

    AT_ONCE = 200  # steps: compiling this few costs less than a millisecond

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.compiled: Callable[..., tuple] | None = None
        self.tier = "interpreted"
        if len(plan.steps) <= self.AT_ONCE:
            self._compile()
        self.calls = 0

    def _compile(self) -> None:
        from ..codegen import compile_plan

        with no_cycle_collection():
            self.compiled, self.plan.source = compile_plan(self.plan)
        self.tier = "compiled"

    def __call__(self, arrays: list) -> list:
        if self.compiled is None:
            self.calls += 1
            if self.calls == 1:
                return self.plan.run(arrays)
            self._compile()
        try:
            return self.compiled(*arrays)  # type: ignore[misc]
        except Exception:
            self.plan.run(arrays)  # again, step by step, to name the node that failed
            raise
BACKEND = NumpyBackend()
