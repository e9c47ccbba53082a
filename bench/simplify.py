"""Benchmark of the simplifier: node counts raw and simplified, run and build times it changes.

Measures (1) d4/dx4 tanh(x): nodes raw, simplified, and SymPy's cse of the same derivative;
(2) the book's MLP (6.5.7) loss and both gradients: nodes, and the compiled run time with
simplify=True against simplify=False; (3) its Hessian-vector product: nodes; (4) the 10,000-step
chain (50,000 forward ops) from building the graph to the first gradient, each run in a fresh
process, with simplify=True and simplify=False alternating; (5) simplification time per node on
gradient graphs of about 10k and 100k nodes. Ratios compare against references timed in the
same run. Prints a table; reports, never fails.

    python bench/simplify.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np
from common import (
    blas_note,
    chain_graph,
    first_gradient,
    fmt_time,
    git_note,
    interleaved,
    mlp_data,
    mlp_graph,
    print_summary,
    show_ratios,
    show_samples,
    tanh_derivative,
)

import symgrad as sg  # bench/common.py put the repo root first on sys.path
from symgrad.simplify.driver import simplify_ids

W3_STEPS = 10_000


# -- 1. the fourth derivative of tanh ----------------------------------------------------------
def bench_tanh() -> dict:
    import sympy

    print("\n[1] d4/dx4 tanh(x), scalar x")
    x, d = tanh_derivative(4)
    small = sg.simplify(d)
    s = sympy.Symbol("x")
    replacements, reduced = sympy.cse(sympy.diff(sympy.tanh(s), s, 4))
    cse_ops = sum(sympy.count_ops(e) for _, e in replacements) + sympy.count_ops(reduced[0])
    at = np.linspace(-2, 2, 9)
    want = [float(sympy.diff(sympy.tanh(s), s, 4).subs(s, v)) for v in at]
    f = sg.function([x], small, simplify=False)
    agree = bool(np.allclose([f(v) for v in at], want))
    raw, after = sg.count_nodes(d), sg.count_nodes(small)
    print(f"    nodes: {raw} raw, {after} simplified; SymPy's cse of the same derivative: "
          f"{cse_ops} operations; values agree with sympy.diff: {agree}")
    return {"raw": raw, "after": after, "cse": cse_ops, "agree": agree}


# -- 2. and 3. the book's MLP ---------------------------------------------------------------------
def bench_mlp(quick: bool) -> dict:
    print("\n[2] the book's MLP (6.5.7): loss and both weight gradients")
    t = mlp_graph()
    ins = [t["X"], t["y"], t["W1"], t["W2"]]
    outs = [t["loss"], *sg.gradients(t["loss"], [t["W1"], t["W2"]])]
    raw, after = sg.count_nodes(outs), sg.count_nodes(sg.simplify(outs))
    print(f"    nodes: {raw} raw, {after} simplified")
    f_simple = sg.function(ins, outs)
    f_raw = sg.function(ins, outs, simplify=False)
    X, y, W1, W2, _, _ = mlp_data()
    agree = all(np.allclose(a, b) for a, b in zip(f_simple(X, y, W1, W2), f_raw(X, y, W1, W2)))
    print(f"    plans: {len(f_simple.plan.steps)} steps simplified, {len(f_raw.plan.steps)} raw; "
          f"results agree: {agree}")
    rounds, number = (3, 1) if quick else (40, 3)
    samples = interleaved({"simplify=True": lambda: f_simple(X, y, W1, W2),
                           "simplify=False": lambda: f_raw(X, y, W1, W2)}, rounds, number)
    show_samples(samples)
    ratio = show_ratios(samples, "simplify=True", "simplify=False", "<= 1.0")

    print("\n[3] its Hessian-vector product, sg.hvp(loss, [W1, W2], [V1, V2])")
    hv = sg.hvp(t["loss"], [t["W1"], t["W2"]], [t["V1"], t["V2"]])
    hv_raw, hv_after = sg.count_nodes(hv), sg.count_nodes(sg.simplify(hv))
    print(f"    nodes: {hv_raw} raw, {hv_after} simplified")
    return {"raw": raw, "after": after, "ratio": ratio, "agree": agree,
            "sg": statistics.median(samples["simplify=True"]),
            "ref": statistics.median(samples["simplify=False"]),
            "hvp_raw": hv_raw, "hvp_after": hv_after}


# -- 4. build to first gradient, in fresh processes ---------------------------------------------
def worker(steps: int, simplify: bool) -> None:
    """One fresh process: the chain's build to first gradient, as JSON on stdout."""
    v = np.linspace(-2.0, 2.0, 16)
    r = first_gradient(steps, v, simplify=simplify)
    print(json.dumps({k: r[k] for k in ("build", "gradients", "function", "call", "total")}))


def bench_first(quick: bool) -> dict:
    steps = 1_000 if quick else W3_STEPS
    print(f"\n[4] {steps:,}-step chain ({5 * steps:,} forward ops): build, sg.gradients, "
          "sg.function, first gradient, each in a fresh process, simplify=True and False "
          "alternating")
    runs: dict[str, list[dict]] = {"True": [], "False": []}
    for k in range(2 if quick else 9):
        for flag in (("True", "False") if k % 2 == 0 else ("False", "True")):
            done = subprocess.run([sys.executable, __file__, "--worker", str(steps), flag],
                                  capture_output=True, text=True, timeout=600, check=True)
            runs[flag].append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {}
    for flag, rs in runs.items():
        med[flag] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        parts = ", ".join(f"{k} {fmt_time(med[flag][k])}" for k in ("build", "gradients",
                                                                     "function", "call"))
        print(f"    simplify={flag}: total {', '.join(fmt_time(r['total']) for r in rs)} "
              f"(median {fmt_time(med[flag]['total'])}; {parts})")
    ratio = med["True"]["total"] / med["False"]["total"]
    # each pair ran back to back: their ratios drift less with the machine's load than medians
    pairs = statistics.median(t["total"] / f["total"] for t, f in zip(runs["True"], runs["False"]))
    print(f"    ratio simplify=True/False of the medians: {ratio:.3f}, median of the pairs' "
          f"ratios: {pairs:.3f}; goal <= 1.4")
    return {"steps": steps, "true": med["True"]["total"], "false": med["False"]["total"],
            "ratio": ratio, "pairs": pairs}


# -- 5. simplification time per node ---------------------------------------------------------------
def bench_per_node(quick: bool) -> dict:
    print("\n[5] sg.simplify of the chain's gradient graph: time per node")
    out = {}
    for steps in ((200, 2_000) if quick else (1_000, 10_000)):
        x, y = chain_graph(steps, summed=True)
        gx = sg.grad(y, x)
        g = x.graph
        n = len(g.ancestors([gx.id]))
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            simplify_ids(g, [gx.id], tidy=False)
            times.append(time.perf_counter() - t0)
        out[n] = min(times) / n
        print(f"    {n:,} nodes: {', '.join(fmt_time(t) for t in times)}; "
              f"{out[n] * 1e6:.2f} us/node (fastest)")
    (n1, t1), (n2, t2) = sorted(out.items())
    print(f"    growth {n1:,} -> {n2:,} nodes: {t2 / t1:.3f} (1.0 = linear)")
    return {"small": (n1, t1), "large": (n2, t2), "growth": t2 / t1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small sizes")
    parser.add_argument("--worker", nargs=2, metavar=("STEPS", "SIMPLIFY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(int(args.worker[0]), args.worker[1] == "True")
        return 0
    print(f"symgrad simplifier benchmark{' (--quick)' if args.quick else ''}")
    blas_note()
    git_note()
    th = bench_tanh()
    mlp = bench_mlp(args.quick)
    first = bench_first(args.quick)
    per = bench_per_node(args.quick)
    (n1, t1), (n2, t2) = per["small"], per["large"]
    steps = first["steps"]
    rows = [
        ("1. d4/dx4 tanh: nodes raw -> simplified", f"{th['raw']} -> {th['after']}",
         f"SymPy cse: {th['cse']} ops", "", "<= 8", th["after"] <= 8),
        ("2. MLP loss+gradients: nodes raw -> simplified", f"{mlp['raw']} -> {mlp['after']}",
         "", "", "<= 30", mlp["after"] <= 30),
        ("2. MLP run time, simplify=True / False", fmt_time(mlp["sg"]), fmt_time(mlp["ref"]),
         f"{mlp['ratio']:.3f}", "<= 1.0", mlp["ratio"] <= 1.0),
        ("3. MLP HVP: nodes raw -> simplified", f"{mlp['hvp_raw']} -> {mlp['hvp_after']}", "",
         "", "", None),
        (f"4. {steps:,}-step chain to 1st gradient, True / False", fmt_time(first["true"]),
         fmt_time(first["false"]), f"{first['ratio']:.3f}", "<= 1.4", first["ratio"] <= 1.4),
        (f"4. {steps:,}-step chain, median of pairs' ratios", "", "", f"{first['pairs']:.3f}",
         "<= 1.4", first["pairs"] <= 1.4),
        (f"4. {steps:,}-step chain to 1st gradient (simplify=True)", fmt_time(first["true"]),
         "", "", "<= 2.0 s", first["true"] <= 2.0),
        (f"5. simplify, {n1:,} nodes", f"{t1 * 1e6:.2f} us/node", "", "", "<= 10 us",
         t1 <= 10e-6),
        (f"5. simplify, {n2:,} nodes", f"{t2 * 1e6:.2f} us/node", "", "", "<= 10 us",
         t2 <= 10e-6),
        ("5. growth", "", "", f"{per['growth']:.3f}", "about 1", None),
    ]
    print_summary("Summary (each ratio from this run)", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
