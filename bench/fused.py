"""Benchmark of the fused tier (`pip install symgrad[fast]`): tiers compiled and fused against
hand-written NumPy, in one run.

Measures, after warm-up, (1) W2 of the peer benchmark: the 500-step chain y = tanh(y) * 0.9 +
0.1 * sin(y) on a 16-vector, forward and gradient, and (2) the Deep Learning book's MLP
(784-512-10, batch 256) loss and gradients; for each, the seconds the background compile took
and the time to the first result with the tier on and off, as a user meets it: a fresh process
(SYMGRAD_FUSED=1 or 0, alternating) that imports symgrad, builds the graph and the function and
calls it once, timed whole (median of several). Prints a table and the ratios measured in this
run; reports, never fails (exit code 0).

    python bench/fused.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
from common import (
    CHAIN_STEPS,
    blas_note,
    chain_grad_numpy,
    chain_graph,
    faults_per_call,
    fmt_time,
    git_note,
    interleaved,
    machine_note,
    mlp_data,
    mlp_grad_numpy,
    mlp_graph,
    print_summary,
    rel_err,
    show_ratios,
    show_samples,
)
from peers_workloads import QUICK_CHAIN_STEPS, chain_numpy  # W2 as the peer benchmark has it

import symgrad as sg  # bench/common.py put the repo root first on sys.path
from symgrad import tiers

WAIT = 600.0  # seconds at most for a background compile


def make(build: Callable[[], tuple[sg.Function, Callable[[], object]]], fused: bool
         ) -> tuple[sg.Function, float]:
    """The Function `build` makes with the fused tier on or off, and seconds from building it
    to the first result (`build` returns the Function and its first call)."""
    was, tiers.ENABLED = tiers.ENABLED, fused
    try:
        t0 = time.perf_counter()
        f, first = build()
        first()
        return f, time.perf_counter() - t0
    finally:
        tiers.ENABLED = was


def compare(title: str, workload: str, steps: int, call: Callable[[sg.Function], object],
            hand: Callable[[], object], rounds: int, number: int, repeats: int) -> dict:
    """Times the compiled and fused Functions of a workload (BUILDS) and `hand` in alternating
    rounds; their agreement with `hand`, compile seconds, and seconds to the first result in
    fresh processes (medians of `repeats` each, tier off and on alternating)."""
    print(f"\n{title}")
    build = BUILDS[workload](steps)
    firsts = fresh_first_results(workload, steps, repeats)
    first_off, first_on = statistics.median(firsts[False]), statistics.median(firsts[True])
    compiled, fused, on, waited = both_tiers(build, call)
    want = hand()
    out: dict = {"first_off": first_off, "first_on": first_on, "tier": fused.tier}
    for name, f in (("compiled", compiled), ("fused", fused)):
        got = call(f)
        err = max(rel_err(a, b) for a, b in zip(as_list(got), as_list(want)))
        out[f"err {name}"] = err
        print(f"    {name:<8}: tier {f.tier!r}, largest difference from hand NumPy (relative to "
              f"the largest magnitude) {err:.1e}")
    if on:
        stages = fused._run.fused.seconds
        out["compile"] = sum(stages.values())
        print(f"    fused compile: {out['compile']:.3f} s in the background thread "
              f"({', '.join(f'{k} {v:.3f} s' for k, v in stages.items())}; "
              f"{waited:.3f} s from the second call to swapped in); "
              f"{len(fused._run.fused.regions)} region(s)")
    else:
        print(f"    fused tier not running: {getattr(fused._run, 'note', 'not available here')}")
    print(f"    first result in a fresh process (import, build, sg.function, one call; "
          f"medians of {repeats}): {fmt_time(first_off)} without the tier, "
          f"{fmt_time(first_on)} with it")
    out.update(steady(compiled, fused if on else None, call, hand, rounds, number))
    return out


def both_tiers(build: Callable[[], tuple[sg.Function, Callable]],
               call: Callable[[sg.Function], object]
               ) -> tuple[sg.Function, sg.Function, bool, float]:
    """The workload's Function compiled, and with the fused tier; whether the fused one runs
    fused, and seconds from its second call until it did (or the wait gave up)."""
    compiled, _ = make(build, False)
    fused, _ = make(build, tiers.available())
    call(compiled)  # the compile-on-reuse runner compiles at its second call
    t0 = time.perf_counter()
    call(fused)  # the second call starts the background compile
    on = fused.wait_fused(WAIT)
    return compiled, fused, on, time.perf_counter() - t0


def steady(compiled: sg.Function, fused: sg.Function | None,
           call: Callable[[sg.Function], object], hand: Callable[[], object], rounds: int,
           number: int) -> dict:
    """After warm-up: medians of each side, ratios against `hand`, and page faults per call."""
    sides = {"compiled": lambda: call(compiled), "numpy": hand}
    if fused is not None:
        sides["fused"] = lambda: call(fused)
    samples = interleaved(sides, rounds, number)
    show_samples(samples, width=10)
    out: dict = {"faults": {name: faults_per_call(fn) for name, fn in sides.items()}}
    print("    page faults per call: " + ", ".join(
        f"{name} {n:.0f}" for name, n in out["faults"].items() if n is not None))
    for name in ("compiled", "fused") if fused is not None else ("compiled",):
        out[name] = statistics.median(samples[name])
        out[f"ratio {name}"] = show_ratios(samples, name, "numpy", "-")
    out["numpy"] = statistics.median(samples["numpy"])
    return out


def as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def chain_forward(steps: int) -> Callable[[], tuple[sg.Function, Callable]]:
    def build() -> tuple[sg.Function, Callable]:
        x, y = chain_graph(steps)
        f = sg.function([x], y)
        return f, lambda: f(CHAIN_INPUT)
    return build


def chain_gradient(steps: int) -> Callable[[], tuple[sg.Function, Callable]]:
    def build() -> tuple[sg.Function, Callable]:
        x, loss = chain_graph(steps, summed=True)
        f = sg.function([x], sg.gradients(loss, [x])[0])
        return f, lambda: f(CHAIN_INPUT)
    return build


def mlp_gradient(steps: int = 0) -> Callable[[], tuple[sg.Function, Callable]]:
    X, y, W1, W2, _, _ = mlp_data()

    def build() -> tuple[sg.Function, Callable]:
        t = mlp_graph()
        f = sg.function([t["X"], t["y"], t["W1"], t["W2"]],
                        [t["loss"], *sg.gradients(t["loss"], [t["W1"], t["W2"]])])
        return f, lambda: f(X, y, W1, W2)
    return build


CHAIN_INPUT = np.linspace(-2.0, 2.0, 16)
BUILDS = {"w2-forward": chain_forward, "w2-gradient": chain_gradient, "mlp": mlp_gradient}


def fresh_first_results(workload: str, steps: int, repeats: int) -> dict[bool, list[float]]:
    """Seconds of whole fresh processes that build the workload and call it once, with the
    tier off (False) and on (True), alternating; each checked to have run as asked."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for on in (False, True):  # "on" where this process may fuse: otherwise both are off
            env = {**os.environ, "SYMGRAD_FUSED": "1" if on and tiers.available() else "0"}
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--first-result", workload,
                                   "--steps", str(steps)], env=env, capture_output=True,
                                  text=True, check=True)
            times[on].append(time.perf_counter() - t0)
            if done.stdout.split() != ["first", "result", "tier", str(on and tiers.available())]:
                raise RuntimeError(f"the first-result process said {done.stdout!r}")
    return times


def first_result(workload: str, steps: int) -> int:
    """The child of fresh_first_results: one build and one call."""
    f, first = BUILDS[workload](steps)()
    first()
    print("first result tier", tiers.available())
    return 0


def bench_chain(steps: int, quick: bool) -> tuple[dict, dict]:
    v = CHAIN_INPUT
    rounds, number, repeats = (3, 2, 1) if quick else (40, 20, 11)
    fw = compare(f"[1] W2 forward: {steps} steps of y = tanh(y) * 0.9 + 0.1 * sin(y) on a "
                 "16-vector (float64)", "w2-forward", steps, lambda f: f(v),
                 lambda: chain_numpy(v, steps), rounds, number, repeats)
    gr = compare(f"[1] W2 gradient: d sum(y) / dx of the {steps}-step chain", "w2-gradient",
                 steps, lambda f: f(v), lambda: chain_grad_numpy(v, steps), rounds, number,
                 repeats)
    return fw, gr


def mlp_rounds(quick: bool) -> tuple[int, int, int]:
    return (3, 1, 1) if quick else (40, 3, 11)


def bench_mlp(quick: bool) -> tuple[dict, dict]:
    """The MLP here (after the W2 runs) and in a process of its own: the two may differ in
    whether malloc hands out fresh pages (page faults) for the large arrays."""
    X, y, W1, W2, _, _ = mlp_data()
    rounds, number, repeats = mlp_rounds(quick)
    here = compare("[2] MLP gradient (book 6.5.7): X 256x784, W1 784x512, W2 512x10, float64: "
                   "loss, dW1, dW2", "mlp", 0, lambda f: f(X, y, W1, W2),
                   lambda: mlp_grad_numpy(X, y, W1, W2), rounds, number, repeats)
    print("\n[2] the same, in a fresh process that runs nothing else (after warm-up)")
    done = subprocess.run([sys.executable, __file__, "--mlp-alone"] + ["--quick"] * quick,
                          capture_output=True, text=True, check=True)
    *shown, last = done.stdout.strip().splitlines()
    print("\n".join(shown))
    return here, json.loads(last)


def mlp_alone(quick: bool) -> int:
    """The child of bench_mlp: the steady-state part of compare() for the MLP, as JSON last."""
    X, y, W1, W2, _, _ = mlp_data()

    def call(f: sg.Function) -> object:
        return f(X, y, W1, W2)

    compiled, fused, on, _ = both_tiers(mlp_gradient(), call)
    rounds, number, _ = mlp_rounds(quick)
    out = steady(compiled, fused if on else None, call, lambda: mlp_grad_numpy(X, y, W1, W2),
                 rounds, number)
    print(json.dumps(out))
    return 0


def rows_of(name: str, r: dict, goal: float) -> list:
    rows = [(f"{name}, compiled", fmt_time(r["compiled"]), fmt_time(r["numpy"]),
             f"{r['ratio compiled']:.3f}", "-", None)]
    if "fused" in r:
        rows.append((f"{name}, fused", fmt_time(r["fused"]), fmt_time(r["numpy"]),
                     f"{r['ratio fused']:.3f}", f"<= {goal}", r["ratio fused"] <= goal))
    if "compile" in r:
        rows.append((f"{name}, fused compile (s)", f"{r['compile']:.3f}", "", "", "", None))
    if "first_on" in r:
        ratio = r["first_on"] / r["first_off"]  # 5% allowed: the noise of a cold call
        rows.append((f"{name}, first result (fresh process), tier on / off",
                     fmt_time(r["first_on"]), fmt_time(r["first_off"]), f"{ratio:.3f}",
                     "<= 1 (+5%)", ratio <= 1.05))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a 20-step chain, few repeats: a smoke test")
    parser.add_argument("--first-result", choices=sorted(BUILDS), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=CHAIN_STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--mlp-alone", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_result:
        return first_result(args.first_result, args.steps)
    if args.mlp_alone:
        return mlp_alone(args.quick)
    start = time.perf_counter()
    print(f"symgrad fused-tier benchmark{' (--quick)' if args.quick else ''}")
    print(machine_note())
    blas_note()
    git_note()
    print(f"fused tier available: {tiers.available()}"
          + ("" if tiers.available() else " (pip install symgrad[fast]; SYMGRAD_FUSED not 0)"))
    steps = QUICK_CHAIN_STEPS if args.quick else CHAIN_STEPS
    fw, gr = bench_chain(steps, args.quick)
    mlp, alone = bench_mlp(args.quick)
    rows = [*rows_of(f"W2 forward ({steps} steps)", fw, 0.3),
            *rows_of(f"W2 gradient ({steps} steps)", gr, 0.3),
            *rows_of("MLP gradient", mlp, 0.85),
            *rows_of("MLP gradient, a process of its own", alone, 0.85)]
    rows += [(f"{name}: page faults per call, symgrad fused / NumPy",
              f"{r['faults'].get('fused', r['faults']['compiled']):.0f}",
              f"{r['faults']['numpy']:.0f}", "", "", None)
             for name, r in (("MLP gradient", mlp), ("MLP gradient, a process of its own", alone))
             if r["faults"]["numpy"] is not None]
    print_summary("Summary (reference: hand-written NumPy; times: medians after warm-up, ratio: "
                  "median of per-round ratios)", rows)
    print(f"\n(took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
