"""The peer benchmark's workloads W1-W5: sizes, hand-written NumPy for each, and the loop that
checks one system's side of them against NumPy and then times it against NumPy in the same
process. Knows no system: each is an adapter module in bench/systems/ (see its __init__).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from types import ModuleType

import numpy as np
from common import (
    CHAIN_STEPS,
    chain_grad_numpy,
    faults_per_call,
    interleaved_for,
    mlp_data,
    mlp_grad_numpy,
    mlp_hvp_numpy,
    mlp_numpy,
    rel_err,
)
from systems import Unsupported

DIAMOND_DEPTH = 40  # y = sin(y) + cos(y), 40 times: 2^40 paths from x to y
DIAMOND_AT = 0.7
TANH_AT = 0.3
QUICK_CHAIN_STEPS = 20
FIRST_GRADIENT_STEPS = (1_000, 10_000)
QUICK_FIRST_GRADIENT_STEPS = (50,)
RTOL = {"float64": 1e-7, "float32": 2e-4}  # largest difference / largest value of NumPy's


# -- hand-written NumPy ----------------------------------------------------------------------------
def chain_numpy(x: np.ndarray, steps: int) -> np.ndarray:
    """W2's forward pass: y = tanh(y) * 0.9 + 0.1 * sin(y), `steps` times."""
    y = x
    for _ in range(steps):
        y = np.tanh(y) * 0.9 + 0.1 * np.sin(y)
    return y


def diamond_grad_numpy(x: np.float64, depth: int = DIAMOND_DEPTH) -> np.float64:
    """dy/dx of y = sin(y) + cos(y) applied `depth` times: forward keeps sin and cos of each
    level, backward multiplies the local derivatives cos(y) - sin(y)."""
    saved = []
    y = x
    for _ in range(depth):
        s, c = np.sin(y), np.cos(y)
        saved.append((s, c))
        y = s + c
    g = np.float64(1.0)
    for s, c in reversed(saved):
        g = g * (c - s)
    return g


def tanh4_numpy(x: np.float64) -> np.float64:
    """d^4 tanh(x)/dx^4 = 16t - 40t^3 + 24t^5 with t = tanh(x) (d tanh = 1 - t^2, four times)."""
    t = np.tanh(x)
    t2 = t * t
    return t * (16.0 + t2 * (-40.0 + 24.0 * t2))


# -- checking and timing -------------------------------------------------------------------------
def as_numpy(value: object) -> np.ndarray:
    """A system's output as a NumPy array: torch tensors, CasADi DMs, JAX arrays, numbers."""
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "full"):  # casadi.DM
        return np.asarray(value.full())
    return np.asarray(value)


def _outputs(value: object) -> list[np.ndarray]:
    return [as_numpy(v) for v in value] if isinstance(value, list | tuple) else [as_numpy(value)]


def check(run: Callable[[], object], want: object, dtype: str = "float64") -> dict:
    """Run once and compare with NumPy's `want`: relative error per output, output dtypes."""
    got, ref = _outputs(run()), _outputs(want)
    if len(got) != len(ref):
        return {"error": f"wrong result: {len(got)} outputs, NumPy has {len(ref)}"}
    err = max(rel_err(np.reshape(a, np.shape(b)), b) for a, b in zip(got, ref))
    out = {"err": err, "dtypes": sorted({str(a.dtype) for a in got})}
    if not err <= RTOL[dtype]:
        out["error"] = f"wrong result: relative error {err:.1e} > {RTOL[dtype]:.0e}"
    return out


def measure(run: Callable[[], object], ref: Callable[[], object], settings: dict,
            dtype: str = "float64") -> dict:
    """Check `run` against NumPy's `ref`; if it agrees, time both interleaved in this process:
    medians and the median of the per-round ratios run/ref."""
    out = check(run, ref(), dtype)
    if "error" in out:
        return out
    samples = interleaved_for({"system": run, "numpy": ref}, settings["seconds"],
                              min_rounds=settings["min_rounds"], warmup=settings["warmup"],
                              warmup_rounds=settings["warmup_rounds"])
    med = {k: statistics.median(v) for k, v in samples.items()}
    out.update(time=med["system"], numpy=med["numpy"], samples=len(samples["system"]),
               ratio=statistics.median(p / q for p, q in zip(samples["system"],
                                                            samples["numpy"])),
               faults={"system": faults_per_call(run), "numpy": faults_per_call(ref)})
    return out


def _attempt(make: Callable[[], object]) -> tuple[object | None, dict | None]:
    """What `make` returns, or the record of why the system cannot run this workload."""
    try:
        return make(), None
    except Unsupported as e:
        return None, {"unsupported": str(e)}
    except Exception as e:  # a peer's own failure is a result to report, not a crash
        return None, {"error": f"{type(e).__name__}: {e}"[:300]}


def _progress(system: str, what: str, record: dict, log: Callable[[str], None]) -> None:
    if "time" in record:
        faults = record.get("faults") or {}
        note = (f" (page faults a call: {faults['system']:.0f}, NumPy {faults['numpy']:.0f})"
                if faults.get("numpy") is not None else "")
        log(f"  {system} {what}: {record['time'] * 1e3:.4f} ms, {record['ratio']:.3f}x NumPy"
            + note)
    else:
        log(f"  {system} {what}: {record.get('unsupported') or record.get('error')}")


# -- the workloads -------------------------------------------------------------------------------
def run_times(side: ModuleType, quick: bool, log: Callable[[str], None],
              emit: Callable[[str, dict], None]) -> None:
    """W1 (float64, float32), W2, W4, W5 for one system: each checked, then timed against NumPy,
    and its record passed to `emit` at once (so that a run stopped midway keeps what it did)."""
    settings = ({"seconds": 0.1, "min_rounds": 2, "warmup": 0.0, "warmup_rounds": 1} if quick
                else {"seconds": 3.0, "min_rounds": 7, "warmup": 0.2, "warmup_rounds": 3})

    def record(key: str, run: Callable | None, ref: Callable, dtype: str = "float64",
               failed: dict | None = None, **extra: object) -> None:
        rec = dict(failed) if run is None else measure(run, ref, settings, dtype)
        rec.update(extra)
        emit(key, rec)
        _progress(side.NAME, key, rec, log)

    for dtype in ("float64", "float32"):
        X, y, W1, W2, V1, V2 = data = mlp_data(dtype)
        refs = {"forward": lambda X=X, y=y, W1=W1, W2=W2: mlp_numpy(X, y, W1, W2),
                "gradients": lambda X=X, y=y, W1=W1, W2=W2: mlp_grad_numpy(X, y, W1, W2),
                "hvp": lambda data=data: mlp_hvp_numpy(*data)}
        sides, failed = _attempt(lambda dtype=dtype, data=data: side.mlp(dtype, data))
        for part, ref in refs.items():
            run = None if sides is None else sides.get(part)
            miss = failed or {"unsupported": f"no {part} for this system"}
            record(f"W1 {dtype} {part}", run, ref, dtype, miss)
        del sides
        gc.collect()

    steps = QUICK_CHAIN_STEPS if quick else CHAIN_STEPS
    v = np.linspace(-2.0, 2.0, 16)
    sides, failed = _attempt(lambda: side.chain(steps, v))
    for part, ref in {"forward": lambda: chain_numpy(v, steps),
                      "gradient": lambda: chain_grad_numpy(v, steps)}.items():
        record(f"W2 {part}", None if sides is None else sides[part], ref, failed=failed,
               ops=5 * steps)

    x = np.float64(DIAMOND_AT)
    made, failed = _attempt(lambda: side.diamond(DIAMOND_DEPTH, x))
    record("W4", None if made is None else made[0], lambda: diamond_grad_numpy(x), failed=failed,
           nodes=None if made is None else made[1])

    x = np.float64(TANH_AT)
    made, failed = _attempt(lambda: side.tanh4(x))
    record("W5", None if made is None else made[0], lambda: tanh4_numpy(x), failed=failed,
           nodes=None if made is None else made[1])


def run_first_gradient(side: ModuleType, steps: int, log: Callable[[str], None]) -> dict:
    """W3 for one system in this (fresh) process: from building the chain of `steps` steps to
    its first gradient, the phases the system lets one separate, then the check against NumPy.

    The system's runtime is started first with a tiny unrelated computation (`side.warm`), so
    that one-time start-up (thread pools, a JIT's backend) is not counted as graph work."""
    v = np.linspace(-2.0, 2.0, 16)
    _, failed = _attempt(side.warm)
    if failed:
        return failed
    gc.collect()
    t0 = time.perf_counter()
    made, failed = _attempt(lambda: side.first_gradient(steps, v))
    total = time.perf_counter() - t0
    if failed:
        return failed
    phases, value = made
    t0 = time.perf_counter()
    want = chain_grad_numpy(v, steps)
    numpy_first = time.perf_counter() - t0
    out = check(lambda: value, want)
    out.update(total=total, phases=phases, numpy=numpy_first, ratio=total / numpy_first)
    log(f"  {side.NAME} W3 {steps:,} steps: {total:.3f} s "
        + ", ".join(f"{k} {t:.3f} s" for k, t in phases.items()))
    return out
