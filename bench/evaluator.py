"""Benchmark of the evaluator: sg.function against hand-written NumPy, in one run.

Measures (1) the Deep Learning book's example network (6.5.7) forward pass, (2) the per-op
overhead of a long chain of small elementwise ops, plus build and first-call times, and (3) the
peak extra memory of a chain of elementwise ops on a large array (sg.function and sg.evaluate).
Prints a table and the ratios measured in this run; reports, never fails (exit code 0).

    python bench/evaluator.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from common import (
    CHAIN_STEPS,
    LAM,
    blas_note,
    chain_graph,
    fmt_time,
    git_note,
    interleaved,
    mlp_data,
    mlp_graph,
    mlp_numpy,
    print_summary,
    show_ratios,
    show_samples,
)

import symgrad as sg  # bench/common.py put the repo root first on sys.path


# -- 1. the book's example network ---------------------------------------------------------------
def mlp_function() -> sg.Function:
    t = mlp_graph()
    return sg.function([t["X"], t["y"], t["W1"], t["W2"]], t["loss"])


def bench_mlp(quick: bool) -> dict:
    print("\n[1] Deep Learning book 6.5.7 network, forward pass (loss)")
    print("    X 256x784 @ W1 784x512 -> relu -> @ W2 512x10 -> softmax cross-entropy (int labels),"
          f" mean, + {LAM} * (sum W1^2 + sum W2^2)")
    X, y, W1, W2, _, _ = mlp_data()
    f = mlp_function()
    t = mlp_graph()  # the same, checking every value (runs step by step)
    checked = sg.function([t["X"], t["y"], t["W1"], t["W2"]], t["loss"], check_finite=True)
    got, want = f(X, y, W1, W2), mlp_numpy(X, y, W1, W2)
    agree = bool(np.allclose(got, want))
    print(f"    loss: symgrad {float(got):.15g}, numpy {float(want):.15g} (relative difference "
          f"{abs(float(got) / float(want) - 1):.1e}); np.allclose: {agree}")
    rounds, number = (3, 1) if quick else (60, 5)
    samples = interleaved({"symgrad": lambda: f(X, y, W1, W2),
                           "numpy": lambda: mlp_numpy(X, y, W1, W2),
                           "check_finite": lambda: checked(X, y, W1, W2)}, rounds, number)
    show_samples(samples, width=12)
    sg_t, np_t = (statistics.median(samples[k]) for k in ("symgrad", "numpy"))
    ratio = show_ratios(samples, "symgrad", "numpy", "<= 1.05")
    # off (the default) runs the compiled code of before; on, what checking costs
    checking = show_ratios(samples, "check_finite", "symgrad", "(a cost, no goal)")
    return {"sg": sg_t, "ref": np_t, "ratio": ratio, "agree": agree, "checking": checking,
            "checked": statistics.median(samples["check_finite"])}


# -- 2. per-op overhead --------------------------------------------------------------------------
def chain_numpy(y: np.ndarray) -> np.ndarray:
    for _ in range(CHAIN_STEPS):
        y = np.tanh(y) * 0.9 + 0.1 * np.sin(y)
    return y


def bench_overhead(quick: bool) -> dict:
    print(f"\n[2] Overhead: {CHAIN_STEPS} steps of y = tanh(y) * 0.9 + 0.1 * sin(y) "
          f"({5 * CHAIN_STEPS} elementwise ops) on a length-16 float64 vector")
    v = np.linspace(-2.0, 2.0, 16)
    builds, firsts = [], []
    for _ in range(1 if quick else 5):  # fresh graph each time; the first one is the cold one
        t0 = time.perf_counter()
        x, y = chain_graph()
        t1 = time.perf_counter()
        f = sg.function([x], y)
        got = f(v)
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        firsts.append(t2 - t1)
    print(f"    graph build: {', '.join(fmt_time(t) for t in builds)}")
    print(f"    sg.function(...) to first result: {', '.join(fmt_time(t) for t in firsts)} "
          f"(the first is cold; the summary shows the slowest); goal < 0.2 s")
    print(f"    first call: tier {f.tier!r}; np.allclose with numpy: "
          f"{bool(np.allclose(got, chain_numpy(v)))}")
    f(v)  # the second call compiles the plan
    print(f"    plan: {len(f.plan.steps)} steps, then tier {f.tier!r}: "
          f"{len(f.source.splitlines())} lines of generated code")
    rounds, number = (3, 2) if quick else (60, 20)
    samples = interleaved({"symgrad": lambda: f(v), "numpy": lambda: chain_numpy(v)},
                          rounds, number)
    show_samples(samples, width=10)
    sg_t, np_t = (statistics.median(samples[k]) for k in ("symgrad", "numpy"))
    ratio = show_ratios(samples, "symgrad", "numpy", "<= 1.3")
    print(f"    per op: symgrad {fmt_time(sg_t / (5 * CHAIN_STEPS))}, "
          f"numpy {fmt_time(np_t / (5 * CHAIN_STEPS))}")
    return {"sg": sg_t, "ref": np_t, "ratio": ratio,
            "first": max(firsts), "build": statistics.median(builds)}


# -- 3. memory -----------------------------------------------------------------------------------
MEM_GROUPS = 10  # 5 elementwise ops a group: 50 ops


def mem_chain(y, groups: int, sin, tanh, cos, square):
    """5 ops a group, for symgrad's builders or NumPy's functions alike; each group reads y twice,
    so y lives while the group's temporaries are made."""
    for i in range(groups):
        if i % 2 == 0:
            y = (tanh(sin(y) * 0.7) + y) * 0.5
        else:
            y = (cos(y * 1.3) + square(y)) * 0.25
    return y


def peak_extra(call: Callable[[], object]) -> tuple[int, int]:
    """Peak and retained bytes allocated during `call()`, beyond what was held before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - base, current - base


def bench_memory(quick: bool) -> dict:
    n = 400_000 if quick else 4_000_000
    nbytes = 8 * n
    print(f"\n[3] Memory: {5 * MEM_GROUPS} elementwise ops (sin tanh cos square, * const, + y) "
          f"on {n:,} float64 ({nbytes / 1e6:.0f} MB an array)")
    print("    peak extra bytes / one array, by tracemalloc: the input (allocated before) is not "
          "counted, the output is")
    g = sg.Graph()
    x = g.placeholder("x", (n,))
    y = mem_chain(x, MEM_GROUPS, sg.sin, sg.tanh, sg.cos, sg.square)
    v = np.linspace(-3.0, 3.0, n)
    want = mem_chain(v, MEM_GROUPS, np.sin, np.tanh, np.cos, np.square)
    ok = bool(np.allclose(sg.function([x], y)(v), want))
    ok = ok and bool(np.allclose(sg.evaluate(y, {x: v}), want))
    del want
    # a Function not called yet: the buffers it keeps between calls are made by its first call,
    # and count in its peak and in what it holds afterwards
    f = sg.function([x], y)
    results = {}
    for name, call in [("function", lambda: f(v)), ("evaluate", lambda: sg.evaluate(y, {x: v})),
                       ("numpy", lambda: mem_chain(v, MEM_GROUPS, np.sin, np.tanh, np.cos,
                                                   np.square))]:
        peak, kept = peak_extra(call)
        results[name] = peak / nbytes
        held = f" and {kept / nbytes - 1:4.2f} held by the function" if name == "function" else ""
        print(f"  {name:<10} peak {peak / nbytes:5.2f} arrays ({peak / 1e6:7.1f} MB), "
              f"left after the call {kept / nbytes:5.2f}: the result{held}")
    print(f"    results agree with numpy (np.allclose): {ok}; goal < 5 arrays")

    m = 100_000 if quick else 1_000_000
    print(f"\n    48 ops alternating sin, sin, sigmoid on {m:,} float64 (ufuncs writing in place "
          "between calls that are not ufuncs)")
    g = sg.Graph()
    x = g.placeholder("x", (m,))
    y = x
    for k in range(48):
        y = (sg.sin, sg.sin, sg.sigmoid)[k % 3](y)
    f = sg.function([x], y)  # not called yet, as above
    v = np.linspace(-3.0, 3.0, m)
    for name, call in [("function", lambda: f(v)), ("evaluate", lambda: sg.evaluate(y, {x: v}))]:
        peak, _ = peak_extra(call)
        results[f"sigmoid {name}"] = peak / (8 * m)
        print(f"  {name:<10} peak {peak / (8 * m):5.2f} arrays")
    return results


# -- report ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"symgrad evaluator benchmark{' (--quick)' if args.quick else ''}")
    blas_note()
    git_note()
    mlp = bench_mlp(args.quick)
    ovh = bench_overhead(args.quick)
    mem = bench_memory(args.quick)

    rows = [
        ("1. MLP forward time (book 6.5.7)", fmt_time(mlp["sg"]), fmt_time(mlp["ref"]),
         f"{mlp['ratio']:.3f}", "<= 1.05", mlp["ratio"] <= 1.05),
        ("1. MLP loss agrees (np.allclose)", "", "", "", "True", mlp["agree"]),
        ("1. MLP forward, check_finite=True / off", fmt_time(mlp["checked"]),
         fmt_time(mlp["sg"]), f"{mlp['checking']:.3f}", "", None),
        ("2. chain of 2500 ops, call time", fmt_time(ovh["sg"]), fmt_time(ovh["ref"]),
         f"{ovh['ratio']:.3f}", "<= 1.3", ovh["ratio"] <= 1.3),
        ("2. sg.function to 1st result (max)", fmt_time(ovh["first"]), "", "", "< 0.2 s",
         ovh["first"] < 0.2),
        ("2. graph build (2500 ops, median)", fmt_time(ovh["build"]), "", "", "", None),
        ("3. memory, sg.function (arrays)", f"{mem['function']:.2f}", f"{mem['numpy']:.2f}",
         f"{mem['function'] / mem['numpy']:.3f}", "< 5", mem["function"] < 5),
        ("3. memory, sg.evaluate (arrays)", f"{mem['evaluate']:.2f}", f"{mem['numpy']:.2f}",
         f"{mem['evaluate'] / mem['numpy']:.3f}", "< 5", mem["evaluate"] < 5),
        ("3. memory, 48-op sin/sigmoid chain, function", f"{mem['sigmoid function']:.2f}", "",
         "", "< 4", mem["sigmoid function"] < 4),
        ("3. memory, 48-op sin/sigmoid chain, evaluate", f"{mem['sigmoid evaluate']:.2f}", "",
         "", "< 4", mem["sigmoid evaluate"] < 4),
    ]
    print_summary("Summary (reference: hand-written NumPy; times: medians, ratio: median of "
                  "per-round ratios;\n         memory in arrays' worth, output counted, input not)",
                  rows)
    print(f"\n(took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
