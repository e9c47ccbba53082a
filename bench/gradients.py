"""Benchmark of the derivative pass: sg.gradients / sg.hvp against hand-written NumPy, in one run.

Measures (1) the Deep Learning book's example network (6.5.7): the compiled loss-and-gradients
function against hand-written NumPy back-propagation, and against the compiled loss alone;
(2) the compiled Hessian-vector product against the compiled gradient; (3) that float32 stays
float32 through loss, gradients and HVP; (4) the time of the `sg.gradients` call itself on long
chains (microseconds per forward node, growth from 10k to 100k nodes); (5) a chain of small
elementwise ops: time from building the graph to the first gradient value, and the compiled
gradient against hand-written forward-and-backward NumPy loops.
Prints a table and the ratios measured in this run; reports, never fails (exit code 0).

    python bench/gradients.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time

import numpy as np
from common import (
    CHAIN_STEPS,
    HID,
    LAM,
    D,
    K,
    N,
    blas_note,
    chain_grad_numpy,
    chain_graph,
    first_gradient,
    fmt_time,
    git_note,
    interleaved,
    mlp_data,
    mlp_grad_numpy,
    mlp_graph,
    mlp_hvp_numpy,
    print_summary,
    rel_err,
    show_ratios,
    show_samples,
)

import symgrad as sg  # bench/common.py put the repo root first on sys.path


# -- the book's example network (graph, data and hand-written NumPy in bench/common.py) --------
def bench_mlp(quick: bool) -> dict:
    print("\n[1] Deep Learning book 6.5.7 network: loss and gradients")
    print(f"    X {N}x{D} @ W1 {D}x{HID} -> relu -> @ W2 {HID}x{K} -> softmax cross-entropy (int "
          f"labels), mean, + {LAM} * (sum W1^2 + sum W2^2)")
    t = mlp_graph()
    gW1, gW2 = sg.gradients(t["loss"], [t["W1"], t["W2"]])
    ins = [t["X"], t["y"], t["W1"], t["W2"]]
    f_grad = sg.function(ins, [t["loss"], gW1, gW2])
    f_loss = sg.function(ins, t["loss"])
    X, y, W1, W2, _, _ = mlp_data()
    got, want = f_grad(X, y, W1, W2), mlp_grad_numpy(X, y, W1, W2)
    agree = all(bool(np.allclose(a, b)) for a, b in zip(got, want))
    agree = agree and bool(np.allclose(f_loss(X, y, W1, W2), want[0]))
    print(f"    plan: {len(f_grad.plan.steps)} steps (loss only: {len(f_loss.plan.steps)})")
    print("    agreement with numpy (largest difference / largest value): " + ", ".join(
        f"{k} {rel_err(a, b):.1e}" for k, a, b in zip(("loss", "gW1", "gW2"), got, want))
        + f"; np.allclose: {agree}")
    rounds, number = (3, 1) if quick else (40, 3)
    samples = interleaved({"symgrad": lambda: f_grad(X, y, W1, W2),
                           "numpy": lambda: mlp_grad_numpy(X, y, W1, W2),
                           "symgrad loss only": lambda: f_loss(X, y, W1, W2)}, rounds, number)
    show_samples(samples)
    vs_numpy = show_ratios(samples, "symgrad", "numpy", "<= 1.05")
    vs_loss = show_ratios(samples, "symgrad", "symgrad loss only", "<= 3.5")
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {"sg": med["symgrad"], "ref": med["numpy"], "ratio": vs_numpy, "agree": agree,
            "loss": med["symgrad loss only"], "ratio_fwd": vs_loss}


# -- 2. Hessian-vector products ------------------------------------------------------------------
def bench_hvp(quick: bool) -> dict:
    print("\n[2] Hessian-vector product on the same network: sg.hvp(loss, [W1, W2], [V1, V2]), "
          "V1, V2 placeholders")
    t = mlp_graph()
    ws, vs = [t["W1"], t["W2"]], [t["V1"], t["V2"]]
    gW1, gW2 = sg.gradients(t["loss"], ws)
    hv1, hv2 = sg.hvp(t["loss"], ws, vs)
    f_grad = sg.function([t["X"], t["y"], *ws], [t["loss"], gW1, gW2])
    f_hvp = sg.function([t["X"], t["y"], *ws, *vs], [hv1, hv2])
    X, y, W1, W2, V1, V2 = mlp_data()
    got = f_hvp(X, y, W1, W2, V1, V2)
    want = mlp_hvp_numpy(X, y, W1, W2, V1, V2)
    errs = [rel_err(a, b) for a, b in zip(got, want)]
    agree = all(bool(np.allclose(a, b)) for a, b in zip(got, want))
    print(f"    plan: {len(f_hvp.plan.steps)} steps (gradient: {len(f_grad.plan.steps)}); against "
          f"hand-written NumPy (R-op): relative error {errs[0]:.1e}, {errs[1]:.1e}; np.allclose: "
          f"{agree}")
    rounds, number = (3, 1) if quick else (30, 3)
    samples = interleaved({"symgrad hvp": lambda: f_hvp(X, y, W1, W2, V1, V2),
                           "symgrad gradient": lambda: f_grad(X, y, W1, W2),
                           "numpy hvp": lambda: mlp_hvp_numpy(X, y, W1, W2, V1, V2)},
                          rounds, number)
    show_samples(samples)
    ratio = show_ratios(samples, "symgrad hvp", "symgrad gradient", "<= 2.0")
    vs_numpy = show_ratios(samples, "symgrad hvp", "numpy hvp", "none (for information)")
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {"sg": med["symgrad hvp"], "ref": med["symgrad gradient"], "ratio": ratio,
            "agree": agree, "numpy": med["numpy hvp"], "vs_numpy": vs_numpy}


# -- 3. float32 ----------------------------------------------------------------------------------
def bench_float32() -> dict:
    print("\n[3] float32 kept end to end: the same network with float32 placeholders")
    t = mlp_graph("float32")
    ws, vs = [t["W1"], t["W2"]], [t["V1"], t["V2"]]
    gW1, gW2 = sg.gradients(t["loss"], ws)
    hv1, hv2 = sg.hvp(t["loss"], ws, vs)
    outs = {"loss": t["loss"], "gW1": gW1, "gW2": gW2, "hvp W1": hv1, "hvp W2": hv2}
    f = sg.function([t["X"], t["y"], *ws, *vs], list(outs.values()))
    data32 = mlp_data("float32")
    values = f(*data32)
    symbolic = {k: str(v.dtype) for k, v in outs.items()}
    computed = {k: str(v.dtype) for k, v in zip(outs, values)}
    print("    declared: " + ", ".join(f"{k} {d}" for k, d in symbolic.items()))
    print("    computed: " + ", ".join(f"{k} {d}" for k, d in computed.items()))
    kept = all(d == "float32" for d in [*symbolic.values(), *computed.values()])
    want = mlp_grad_numpy(*(a.astype(np.float64) if a.dtype.kind == "f" else a
                            for a in data32[:4]))
    errs = [rel_err(a, b) for a, b in zip(values[:3], want)]
    print(f"    all float32: {kept}; against the float64 numpy gradient: relative error "
          + ", ".join(f"{e:.1e}" for e in errs))
    return {"kept": kept}


# -- chains of small elementwise ops -------------------------------------------------------------
LONG_STEPS = 10_000


def forward_nodes(graph: sg.Graph) -> int:
    """Nodes that are neither placeholders nor constants."""
    return sum(1 for _, op in graph.nx.nodes(data="op") if op not in ("placeholder", "constant"))


# -- 4. the gradient pass itself -----------------------------------------------------------------
def time_gradients_pass(steps: int) -> tuple[float, int, int]:
    """Seconds of the sg.gradients call alone on a fresh chain; forward nodes, nodes it added."""
    x, loss = chain_graph(steps, summed=True)
    graph = x.graph
    before = graph.nx.number_of_nodes()
    n_fwd = forward_nodes(graph)
    gc.collect()
    t0 = time.perf_counter()
    sg.gradients(loss, [x])
    elapsed = time.perf_counter() - t0
    added = graph.nx.number_of_nodes() - before
    del x, loss, graph
    gc.collect()
    return elapsed, n_fwd, added


def bench_pass(quick: bool) -> dict:
    small, large = (200, 2_000) if quick else (2_000, 20_000)
    print(f"\n[4] The sg.gradients call alone (graph built beforehand; gc.collect() before, the "
          f"bench disables nothing)\n    on the chain of [5]: {small:,} and {large:,} steps of "
          "y = tanh(y) * 0.9 + 0.1 * sin(y), loss y.sum()")
    repeats = 1 if quick else 3
    runs: dict[int, list[float]] = {small: [], large: []}
    info = {}
    for _ in range(repeats):  # interleaved: small, large, small, large, ...
        for steps in (small, large):
            elapsed, n_fwd, added = time_gradients_pass(steps)
            runs[steps].append(elapsed)
            info[steps] = n_fwd, added
    out = {}
    for steps in (small, large):
        n_fwd, added = info[steps]
        best = min(runs[steps])
        out[steps] = best, n_fwd
        print(f"    {n_fwd:>7,} forward nodes: {', '.join(fmt_time(t) for t in runs[steps])} "
              f"(min {fmt_time(best)}, {best / n_fwd * 1e6:.2f} us per forward node; "
              f"the pass added {added:,} nodes, {added / n_fwd:.2f} per forward node)")
    (t_s, n_s), (t_l, n_l) = out[small], out[large]
    growth = (t_l / n_l) / (t_s / n_s)
    print(f"    growth: time({n_l:,}) / ({n_l / n_s:.0f} x time({n_s:,})) = {growth:.2f} "
          "(linear: about 1); goal <= 10 us per forward node")
    return {"small": (t_s, n_s), "large": (t_l, n_l), "growth": growth}


# -- 5. build to first gradient, and the compiled gradient ---------------------------------------
def plan_note(f: sg.Function) -> str:
    """Steps of the plan, and how many lines of Python it compiled to (if it compiled it)."""
    source = getattr(f, "source", None)
    how = f"{len(source.splitlines())} lines of generated code" if source else "not compiled"
    return f"{len(f.plan.steps)} steps, {how}"


def show_first(runs: list[dict], goal: str) -> dict:
    keys = ("build", "gradients", "function", "call", "total")
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    for k in keys:
        label = {"function": "sg.function (plan, compile)", "call": "first call",
                 "gradients": "sg.gradients", "build": "graph build",
                 "total": "build to 1st gradient"}[k]
        extra = f"; goal {goal}" if k == "total" else ""
        print(f"    {label:<28} {', '.join(fmt_time(r[k]) for r in runs)} "
              f"(median {fmt_time(med[k])}){extra}")
    return med


def bench_chain(quick: bool) -> dict:
    print(f"\n[5] {CHAIN_STEPS} steps of y = tanh(y) * 0.9 + 0.1 * sin(y) ({5 * CHAIN_STEPS} "
          "elementwise ops) on a length-16 float64 vector, loss y.sum(), gradient wrt y0")
    v = np.linspace(-2.0, 2.0, 16)
    want = chain_grad_numpy(v)
    runs = [first_gradient(CHAIN_STEPS, v) for _ in range(1 if quick else 5)]
    print("    fresh graph each time, the first one is the cold one:")
    med = show_first(runs, "< 0.5 s")
    f = runs[-1]["f"]
    agree = all(bool(np.allclose(r["value"], want)) for r in runs)
    print(f"    plan: {plan_note(f)}; np.allclose with numpy: {agree}")
    rounds, number = (3, 2) if quick else (40, 10)
    samples = interleaved({"symgrad": lambda: f(v), "numpy": lambda: chain_grad_numpy(v)},
                          rounds, number)
    show_samples(samples)
    ratio = show_ratios(samples, "symgrad", "numpy", "<= 1.5")

    long_steps = 1_000 if quick else LONG_STEPS
    print(f"\n    the same chain at {long_steps:,} steps ({5 * long_steps:,} ops):")
    long_runs = [first_gradient(long_steps, v) for _ in range(1 if quick else 3)]
    long_med = show_first(long_runs, "<= 1.5 s")
    g = long_runs[-1]["f"]
    long_agree = bool(np.allclose(long_runs[-1]["value"], chain_grad_numpy(v, long_steps)))
    print(f"    plan: {plan_note(g)}; np.allclose with numpy: {long_agree}")
    del long_runs, g
    gc.collect()
    return {"first": med["total"], "sg": statistics.median(samples["symgrad"]),
            "ref": statistics.median(samples["numpy"]), "ratio": ratio, "agree": agree,
            "long": long_med, "long_steps": long_steps, "long_agree": long_agree}


# -- report ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small sizes: a smoke "
                        "test")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"symgrad gradients benchmark{' (--quick)' if args.quick else ''}")
    blas_note()
    git_note()
    mlp = bench_mlp(args.quick)
    hvp = bench_hvp(args.quick)
    f32 = bench_float32()
    gp = bench_pass(args.quick)
    ch = bench_chain(args.quick)

    (t_s, n_s), (t_l, n_l) = gp["small"], gp["large"]
    us_s, us_l = t_s / n_s * 1e6, t_l / n_l * 1e6
    lg = ch["long"]
    rows = [
        ("1. MLP loss+gradients time (book 6.5.7)", fmt_time(mlp["sg"]), fmt_time(mlp["ref"]),
         f"{mlp['ratio']:.3f}", "<= 1.05", mlp["ratio"] <= 1.05),
        ("1. MLP gradients agree (np.allclose)", "", "", "", "True", mlp["agree"]),
        ("1. MLP gradient/forward (sg loss only)", fmt_time(mlp["sg"]), fmt_time(mlp["loss"]),
         f"{mlp['ratio_fwd']:.3f}", "<= 3.5", mlp["ratio_fwd"] <= 3.5),
        ("2. MLP HVP/gradient (sg gradient)", fmt_time(hvp["sg"]), fmt_time(hvp["ref"]),
         f"{hvp['ratio']:.3f}", "<= 2.0", hvp["ratio"] <= 2.0),
        ("2. MLP HVP agrees (np.allclose)", "", "", "", "True", hvp["agree"]),
        ("2. MLP HVP time (vs hand-written NumPy)", fmt_time(hvp["sg"]), fmt_time(hvp["numpy"]),
         f"{hvp['vs_numpy']:.3f}", "", None),
        ("3. float32 loss, gradients, HVP", "float32" if f32["kept"] else "NOT float32", "",
         "", "float32", f32["kept"]),
        (f"4. gradients() pass, {n_s:,} nodes (us/node)", f"{us_s:.2f} us", "", "", "<= 10 us",
         us_s <= 10),
        (f"4. gradients() pass, {n_l:,} nodes (us/node)", f"{us_l:.2f} us", "", "", "<= 10 us",
         us_l <= 10),
        (f"4. gradients() pass growth ({n_l / n_s:.0f} x small)", fmt_time(t_l),
         fmt_time(t_s * n_l / n_s), f"{gp['growth']:.3f}", "about 1", None),
        (f"5. chain of {5 * CHAIN_STEPS} ops, build to 1st gradient", fmt_time(ch["first"]), "",
         "", "< 0.5 s", ch["first"] < 0.5),
        (f"5. chain of {5 * CHAIN_STEPS} ops, gradient call time", fmt_time(ch["sg"]),
         fmt_time(ch["ref"]), f"{ch['ratio']:.3f}", "<= 1.5", ch["ratio"] <= 1.5),
        (f"5. chain of {5 * ch['long_steps']:,} ops, build to 1st gradient",
         fmt_time(lg["total"]), "", "", "<= 1.5 s", lg["total"] <= 1.5),
    ]
    print_summary("Summary (reference: hand-written NumPy unless named; times: medians, [4] "
                  "minima; ratio: median of per-round ratios)", rows)
    print(f"    long chain breakdown (medians): build {fmt_time(lg['build'])}, sg.gradients "
          f"{fmt_time(lg['gradients'])}, sg.function {fmt_time(lg['function'])}, first call "
          f"{fmt_time(lg['call'])}")
    print(f"\n(took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
