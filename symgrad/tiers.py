"""Runners that change tier while they run: a plan's compiled NumPy code first, its fused plan
(fuse.py) once a background thread has compiled it; the tier says which runs.

The second call starts the compile (a function called once never pays for it); a failed
compile, or fused code failing where NumPy does not, warns once and stays on NumPy. One daemon
thread compiles, one plan at a time, and ends when it has nothing left to do.
"""

from __future__ import annotations

import atexit
import collections
import importlib.util
import os
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fuse import FusedPlan
    from .plan import Plan

ENABLED = os.environ.get("SYMGRAD_FUSED", "1") != "0"  # SYMGRAD_FUSED=0: never fuse
START_AFTER = 2  # calls: the second call starts compiling
MIN_OPS = 2  # a region of one op saves nothing: NumPy's ufunc is one loop already

_HAS_LLVMLITE: bool | None = None


def available() -> bool:
    """Whether the fused tier can run here (llvmlite installed, SYMGRAD_FUSED not 0); looks for
    llvmlite without importing it (that takes ~0.1 s, which the first call should not pay)."""
    global _HAS_LLVMLITE
    if not ENABLED:
        return False
    if _HAS_LLVMLITE is None:
        try:
            _HAS_LLVMLITE = importlib.util.find_spec("llvmlite") is not None
        except (ImportError, ValueError):  # ValueError: sys.modules holds None for it
            _HAS_LLVMLITE = False
    return _HAS_LLVMLITE


class FusingRunner:
    """A plan's runner (a function of the fed arrays returning the outputs): the NumPy plan's
    compiled code until the fused plan is ready, then that. The second call starts compiling
    it in the background; `tier` says which runs. A failed compile, or fused code failing where
    NumPy does not, warns once and stays on NumPy."""

    def __init__(self, plan: Plan, compiled: Callable[[list], list]) -> None:
        self.plan = plan
        self.compiled = compiled  # NumPy's runner: its tier is "compiled" or "interpreted"
        self._fused_on = False
        self.fused: FusedPlan | None = None
        self.note = "not compiled yet"  # why the tier is not "fused"
        self._run = compiled  # what a call runs: replaced by one assignment, atomic for Python
        self._calls = 0
        self._started = False
        self._lock = threading.Lock()
        self._done = threading.Event()

    @property
    def tier(self) -> str:
        """ "fused" once the fused plan runs, else the tier of NumPy's runner."""
        return "fused" if self._fused_on else getattr(self.compiled, "tier", "compiled")

    def __call__(self, arrays: list) -> Any:
        if not self._started:
            self._calls += 1
            if self._calls >= START_AFTER:
                self.start()
        return self._run(arrays)

    def start(self) -> None:
        """Starts compiling the fused plan in the background, if not started yet."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self.note = "compiling"
        _WORKER.submit(weakref.WeakMethod(self._build))  # a function dropped is not compiled

    def wait(self, timeout: float | None = None) -> bool:
        """Starts compiling if not started, waits at most `timeout` seconds for it to end;
        True when the fused plan runs."""
        self.start()
        self._done.wait(timeout)
        return self.tier == "fused"

    def _build(self) -> None:
        from .fuse import build

        try:
            fused = build(self.plan)
            if fused is None:
                self.note = "no region worth fusing"
                return
            run = fused.run

            def fused_run(arrays: list) -> Any:
                try:
                    return run(*arrays)
                except Exception as e:
                    return self._failed(arrays, e)
            self.fused = fused
            self.note = ""
            with self._lock:
                self._run = fused_run
                self._fused_on = True
        except Exception as e:
            self.note = f"compiling failed: {type(e).__name__}: {e}"
            warnings.warn(f"symgrad: the fused tier could not compile {describe(self.plan)} "
                          f"({self.note}); it runs on NumPy (tier {self.tier!r})",
                          RuntimeWarning, stacklevel=1)
        finally:
            self._done.set()

    def _failed(self, arrays: list, error: Exception) -> Any:
        result = self.compiled(arrays)  # an error of the user's raises here, naming its node
        with self._lock:
            if not self._fused_on:
                return result
            self._run, self._fused_on = self.compiled, False
            self.note = f"fused code failed: {type(error).__name__}: {error}"
        warnings.warn(f"symgrad: the fused code of {describe(self.plan)} failed where NumPy did "
                      f"not ({type(error).__name__}: {error}); it runs on NumPy again (tier "
                      f"{self.tier!r})", RuntimeWarning, stacklevel=2)
        return result


def describe(plan: Plan) -> str:
    """A plan as warnings name its function: inputs, outputs and steps."""
    ins = ", ".join(t.label for t in plan.inputs)
    return f"the function of ({ins}) -> {len(plan.outputs)} output(s), {len(plan.steps)} steps"


def runner(plan: Plan, compiled: Callable[[list], list]) -> Callable[[list], list]:
    """`compiled` itself where nothing may fuse or the tier is not available; else a
    FusingRunner around it."""
    if not available():
        return compiled
    if not may_fuse(plan):
        return compiled
    return FusingRunner(plan, compiled)


def may_fuse(plan: Plan) -> bool:
    """A quick look: at least MIN_OPS elementwise steps with a scalar form on arrays.
    Here, not in fuse.py, which the first call does not import (~10 ms with kernels.py): the
    background thread does."""
    from .ops.base import OPS

    n = 0
    for step in plan.steps:
        a = step.attrs
        opdef = OPS[a["op"]]
        if opdef.elementwise and opdef.scalar is not None and a["shape"]:
            n += 1
            if n >= MIN_OPS:
                return True
    return False


class _Worker:
    """One daemon thread running compile jobs one at a time; it ends when none is left, and
    takes no new one once the interpreter exits."""

    def __init__(self) -> None:
        self._jobs: collections.deque[Callable[[], Any]] = collections.deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stopping = False

    def submit(self, job: Callable[[], Any]) -> None:
        """Runs `job()()` in the thread (`job()` None: nothing to do)."""
        with self._lock:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="symgrad-fuse",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._jobs or self.stopping:
                    self._thread = None
                    return
                job = self._jobs.popleft()
            run = job()
            if run is not None:
                run()

    def join(self, timeout: float | None = None) -> None:
        """Waits until the thread has ended (no job left), at most `timeout` seconds."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


_WORKER = _Worker()


@atexit.register
def _stop_at_exit() -> None:
    # LLVM's own clean-up at exit must not run under a compile in flight: let that one end
    # (a second at most), start no other
    _WORKER.stopping = True
    _WORKER.join(1.0)
