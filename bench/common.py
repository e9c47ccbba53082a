"""Helpers shared by the benchmarks in bench/: timing, reporting, the book's example network.

Importing this module puts the repository's root first on sys.path, so that the scripts measure
the repo's symgrad even when it is not installed (`python bench/evaluator.py`: the script's folder
is on sys.path, so `from common import ...` finds this file).
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repo's symgrad, uninstalled

import symgrad as sg  # noqa: E402

LAM = 1e-4  # weight decay of the book's example network
N, D, HID, K = 256, 784, 512, 10  # batch, inputs, hidden units, classes
CHAIN_STEPS = 500  # y = tanh(y) * 0.9 + 0.1 * sin(y): 5 elementwise ops a step


# -- timing --------------------------------------------------------------------------------------
def interleaved(sides: dict[str, Callable[[], object]], rounds: int, number: int,
                warmup: float = 0.2, warmup_rounds: int = 3) -> dict[str, list[float]]:
    """Seconds per call of each side, `rounds` samples each, the sides alternating every round.

    Each sample times `number` calls back to back; the order of the sides flips every round so
    that none always runs first (caches, CPU frequency). The garbage collector is off meanwhile.

    Before timing, each side is warmed up for at least `warmup_rounds` calls and at least `warmup`
    seconds, in alternating rounds like the timed ones. These measure steady-state throughput:
    first-call costs are measured separately (the gradients benchmark's [5], the evaluator's
    "sg.function to 1st result"), and a single warm-up call is not enough to reach the steady
    state: the first ~0.5 s of a process running the MLP was observed 10-15% slower, glibc's
    malloc raising its mmap threshold only after the first large blocks are freed.
    """
    names = list(sides)
    samples: dict[str, list[float]] = {n: [] for n in names}
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        spent = dict.fromkeys(names, 0.0)
        r = 0
        while r < warmup_rounds or min(spent.values()) < warmup:
            for name in names if r % 2 == 0 else reversed(names):
                if r < warmup_rounds or spent[name] < warmup:
                    t0 = time.perf_counter()
                    sides[name]()
                    spent[name] += time.perf_counter() - t0
            r += 1
        for r in range(rounds):
            for name in names if r % 2 == 0 else reversed(names):
                fn = sides[name]
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - t0) / number)
    finally:
        if gc_was_on:
            gc.enable()
    return samples


def interleaved_for(sides: dict[str, Callable[[], object]], seconds: float,
                    min_rounds: int = 5, max_rounds: int = 40, warmup: float = 0.2,
                    warmup_rounds: int = 3) -> dict[str, list[float]]:
    """interleaved() with `number` and `rounds` chosen from one call of each side, so that a
    sample of the fastest side takes at least ~2 ms and all rounds about `seconds` in all."""
    once = {}
    for name, fn in sides.items():
        t0 = time.perf_counter()
        fn()
        once[name] = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(2e-3 / min(once.values())))
    per_round = number * sum(once.values())
    rounds = min(max_rounds, max(min_rounds, int(seconds / per_round)))
    return interleaved(sides, rounds, number, warmup=warmup, warmup_rounds=warmup_rounds)


def ratios(samples: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float]:
    """a/b: of the minima, of the medians, and the median of the per-round ratios."""
    x, y = samples[a], samples[b]
    return (min(x) / min(y), statistics.median(x) / statistics.median(y),
            statistics.median(p / q for p, q in zip(x, y)))


def show_ratios(samples: dict[str, list[float]], a: str, b: str, goal: str) -> float:
    """Print the three ratios a/b and the goal; return the median of the per-round ratios."""
    r = ratios(samples, a, b)
    print(f"    ratio {a}/{b}: {r[0]:.3f} (of minima), {r[1]:.3f} (of medians), {r[2]:.3f} "
          f"(median of per-round ratios); goal {goal}")
    return r[2]


def faults_per_call(fn: Callable[[], object], calls: int = 10) -> float | None:
    """Minor page faults (fresh memory's first touch) per call of fn; None without `resource`.

    A new array of more than malloc's mmap threshold (128 KB, raised as large blocks are
    freed) costs one per 4 KB; whether a process's malloc hands out fresh pages or reuses its
    heap depends on what the process did before, so they are printed beside the times."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def fmt_time(s: float) -> str:
    if s >= 1.0:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


def show_samples(samples: dict[str, list[float]], width: int | None = None) -> None:
    """Minimum and median of each side; names padded to `width` (default: the longest name)."""
    if width is None:
        width = max(len(n) for n in samples)
    for name, ts in samples.items():
        low, mid = fmt_time(min(ts)), fmt_time(statistics.median(ts))
        print(f"  {name:<{width}} min {low:>11}   median {mid:>11}   ({len(ts)} samples)")


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    """Largest difference relative to the largest magnitude of `want`."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


# -- the book's example network (Deep Learning, 6.5.7) -------------------------------------------
def mlp_graph(dtype: str = "float64", n: int | None = N) -> dict[str, sg.Tensor]:
    """X @ W1 -> relu -> @ W2 -> softmax cross-entropy (int labels), mean, + weight decay.

    Placeholders X, y (batches of `n` rows; None: any), W1, W2, and V1, V2 (directions for
    Hessian-vector products), and "loss"."""
    g = sg.Graph()
    t = {"X": g.placeholder("X", (n, D), dtype), "y": g.placeholder("y", (n,), "int64"),
         "W1": g.placeholder("W1", (D, HID), dtype), "W2": g.placeholder("W2", (HID, K), dtype),
         "V1": g.placeholder("V1", (D, HID), dtype), "V2": g.placeholder("V2", (HID, K), dtype)}
    logits = sg.relu(t["X"] @ t["W1"]) @ t["W2"]
    t["loss"] = (sg.softmax_cross_entropy(logits, t["y"]).mean()
                 + LAM * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum()))
    return t


def mlp_data(dtype: str = "float64") -> tuple[np.ndarray, ...]:
    """X, y, W1, W2, V1, V2: fixed random values (seed 657), labels int64."""
    rng = np.random.default_rng(657)
    X = rng.standard_normal((N, D)).astype(dtype)
    y = rng.integers(0, K, size=N)
    W1 = (rng.standard_normal((D, HID)) * np.sqrt(2 / D)).astype(dtype)
    W2 = (rng.standard_normal((HID, K)) * np.sqrt(2 / HID)).astype(dtype)
    V1 = rng.standard_normal((D, HID)).astype(dtype)
    V2 = rng.standard_normal((HID, K)).astype(dtype)
    return X, y, W1, W2, V1, V2


def mlp_numpy(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> float:
    """The loss by hand, with symgrad's log-sum-exp (shift by the finite row maximum)."""
    z = np.maximum(X @ W1, 0) @ W2
    m = z.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    nll = lse - z[np.arange(len(y)), y]
    return nll.mean() + LAM * (np.sum(W1 ** 2) + np.sum(W2 ** 2))


def mlp_grad_numpy(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss, dloss/dW1, dloss/dW2 by hand-written back-propagation (symgrad's log-sum-exp:
    shift by the finite row maximum)."""
    n = X.shape[0]
    rows = np.arange(n)
    Z = X @ W1
    H = np.maximum(Z, 0)
    logits = H @ W2
    m = logits.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    E = np.exp(logits - m)
    s = E.sum(axis=1, keepdims=True)
    lse = np.log(s) + m
    loss = (lse[:, 0] - logits[rows, y]).mean() + LAM * (np.sum(W1 * W1) + np.sum(W2 * W2))
    G = E / s  # softmax probabilities
    G[rows, y] -= 1
    G /= n
    gW2 = H.T @ G + (2 * LAM) * W2
    gH = G @ W2.T
    gH *= Z > 0  # relu'
    gW1 = X.T @ gH + (2 * LAM) * W1
    return loss, gW1, gW2


def mlp_hvp_numpy(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray,
                  V1: np.ndarray, V2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H v by hand: the directional derivative along (V1, V2) of mlp_grad_numpy's back-propagation
    (Pearlmutter's R-operator; relu'' = 0)."""
    n = X.shape[0]
    rows = np.arange(n)
    Z = X @ W1
    mask = Z > 0
    H = np.maximum(Z, 0)
    RH = (X @ V1) * mask
    logits = H @ W2
    Rlogits = RH @ W2 + H @ V2
    m = logits.max(axis=1, keepdims=True)
    E = np.exp(logits - np.where(np.isfinite(m), m, 0))
    P = E / E.sum(axis=1, keepdims=True)
    RG = P * (Rlogits - (P * Rlogits).sum(axis=1, keepdims=True))
    RG /= n
    G = P
    G[rows, y] -= 1
    G /= n
    hv2 = RH.T @ G + H.T @ RG + (2 * LAM) * V2
    RgZ = RG @ W2.T + G @ V2.T
    RgZ *= mask
    hv1 = X.T @ RgZ + (2 * LAM) * V1
    return hv1, hv2


# -- the fourth derivative of tanh (scalar) --------------------------------------------------------
def tanh_derivative(order: int) -> tuple[sg.Tensor, sg.Tensor]:
    """x (scalar) and d^order tanh(x) / dx^order as sg.grad builds it."""
    g = sg.Graph()
    x = g.placeholder("x")
    d = sg.tanh(x)
    for _ in range(order):
        d = sg.grad(d, x)
    return x, d


# -- chains of small elementwise ops -------------------------------------------------------------
def chain_graph(steps: int = CHAIN_STEPS, summed: bool = False) -> tuple[sg.Tensor, sg.Tensor]:
    """x (16,) and y after `steps` steps of y = tanh(y) * 0.9 + 0.1 * sin(y) (y.sum() if
    `summed`)."""
    g = sg.Graph()
    x = g.placeholder("x", (16,))
    y = x
    for _ in range(steps):
        y = sg.tanh(y) * 0.9 + 0.1 * sg.sin(y)
    return x, y.sum() if summed else y


def chain_grad_numpy(x: np.ndarray, steps: int = CHAIN_STEPS) -> np.ndarray:
    """d sum(y)/dx by hand: the forward loop keeps y and tanh(y) of each step, then backward."""
    saved = []
    y = x
    for _ in range(steps):
        t = np.tanh(y)
        saved.append((y, t))
        y = t * 0.9 + 0.1 * np.sin(y)
    g = np.ones_like(y)
    for y, t in reversed(saved):
        g = g * (0.9 * (1.0 - t * t) + 0.1 * np.cos(y))
    return g


def first_gradient(steps: int, v: np.ndarray, simplify: bool = True) -> dict:
    """Build the chain, sg.gradients, sg.function, first call: seconds of each, and the result."""
    gc.collect()
    t0 = time.perf_counter()
    x, loss = chain_graph(steps, summed=True)
    t1 = time.perf_counter()
    (gx,) = sg.gradients(loss, [x])
    t2 = time.perf_counter()
    f = sg.function([x], gx, simplify=simplify)
    t3 = time.perf_counter()
    value = f(v)
    t4 = time.perf_counter()
    return {"build": t1 - t0, "gradients": t2 - t1, "function": t3 - t2, "call": t4 - t3,
            "total": t4 - t0, "f": f, "value": value}


# -- report ----------------------------------------------------------------------------------------
def blas_note() -> None:
    """NumPy and Python versions, the OpenBLAS variables, and the BLAS in use (threadpoolctl)."""
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print("numpy", np.__version__, "| python", sys.version.split()[0], "|",
          ", ".join(f"{k}={v}" if v is not None else f"{k} unset" for k, v in env.items()))
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("BLAS kernel: threadpoolctl not installed, not reported")
        return
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            print(f"BLAS: {info.get('internal_api')} {info.get('version')}, "
                  f"kernel {info.get('architecture')}, {info.get('num_threads')} threads")


def git_describe() -> str | None:
    """The commit measured, `-dirty` when the working tree differs from it; None without git."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_note() -> None:
    """Print the commit measured, and whether the working tree differs from it."""
    described = git_describe()
    if described:
        print(f"symgrad at {described}")


# glibc's malloc, pinned in the processes that benchmarks start: arrays under 32 MB come from a
# heap that is not given back between calls. By default whether hand NumPy's arrays page-fault on
# every call (2,500 faults a call of the MLP gradient, several microseconds each here) depends on
# what the process did before, so the reference each ratio divides by moved by 40% between the
# peer benchmark's processes.
MALLOC = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"


def glibc_tunables() -> str:
    """GLIBC_TUNABLES for a child process: this one's own if it has them, else MALLOC."""
    return os.environ.get("GLIBC_TUNABLES", MALLOC)


def machine_note() -> str:
    """CPU model, cores and memory of this machine (Linux /proc; what is unknown says so)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    return f"{model}, {os.cpu_count()} cores, {memory}"


Row = tuple[str, str, str, str, str, bool | None]


def print_summary(title: str, rows: Sequence[Row]) -> None:
    """A blank line, `title`, then the table of rows (measure, symgrad, reference, ratio, goal,
    met?); met? is shown as yes / NO, or - when None (no goal)."""
    head = ("measure", "symgrad", "reference", "ratio", "goal", "met?")
    table = [head] + [(*r[:5], "-" if r[5] is None else "yes" if r[5] else "NO") for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print(f"\n{title}")
    for k, r in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            print("-+-".join("-" * w for w in widths))
