"""The peer benchmark's report: markdown tables of the workers' records, and the goals, each
met or NOT met. Knows the record format of bench/peers_workloads.py, not how it was measured."""

from __future__ import annotations

from common import fmt_time

LABELS = {"numpy": "hand-written NumPy (noise check)", "symgrad": "symgrad",
          "autograd": "autograd", "jax": "JAX (jit)", "pytensor": "PyTensor",
          "torch": "PyTorch eager", "casadi": "CasADi (SX)", "math": "plain Python (math)"}
RUN_TIME_PEERS = ("autograd", "pytensor", "torch")  # symgrad must be ahead of these at run time
GRAPH_BUILDERS = ("pytensor", "jax", "casadi")  # ... and of these from graph to first gradient
W1_PARTS = {"forward": "forward (loss)", "gradients": "loss + both gradients", "hvp": "HVP"}
RUN_TIME_KEYS = ([f"W1 {d} {p}" for d in ("float64", "float32") for p in W1_PARTS]
                 + ["W2 forward", "W2 gradient", "W4", "W5"])


def _label(key: str) -> str:
    """'W1 float64 gradients' -> 'W1 float64 loss + both gradients'."""
    head, _, part = key.rpartition(" ")
    return f"{head} {W1_PARTS[part]}" if key.startswith("W1") else key


def _ran(results: dict) -> dict[str, dict]:
    return {n: r for n, r in results.items() if "missing" not in r}


def _cell(rec: dict | None, notes: list[str], who: str, what: str) -> str:
    """Time and ratio to NumPy, or why there is none (the reason goes to the notes)."""
    if rec is None:
        return "-"
    if "time" in rec:
        return f"{fmt_time(rec['time'])} ({rec['ratio']:.2f}x)"
    why = rec.get("unsupported") or rec.get("error") or "no result"
    notes.append(f"{LABELS[who]}, {what}: {why}")
    return "n/a" if "unsupported" in rec else "failed"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _reference_row(ran: dict[str, dict], keys: list[str]) -> tuple[str, list[str]]:
    """NumPy's times measured in symgrad's process (else in the first that has them)."""
    order = ["symgrad"] + [n for n in ran if n != "symgrad"]
    for name in order:
        recs = ran.get(name, {})
        if any("numpy" in recs.get(k, {}) for k in keys):
            return name, [fmt_time(recs[k]["numpy"]) if "numpy" in recs.get(k, {}) else "-"
                          for k in keys]
    return "", ["-"] * len(keys)


def _per_op(rec: dict) -> str:
    if "time" not in rec:
        return "-"
    return f"{(rec['time'] - rec['numpy']) / rec['ops'] * 1e6:+.2f} us"


def _nodes(rec: dict | None) -> str:
    counts = (rec or {}).get("nodes") or {}
    return ", ".join(f"{v:,} {k}" for k, v in counts.items()) or "-"


def _w3_cell(rec: dict | None, notes: list[str], who: str, steps: int) -> tuple[str, str, str]:
    if rec is None:
        return "-", "-", "-"
    if "stopped after" in str(rec.get("error", "")):
        return "did not finish", f"> {rec['error'].split()[-2]} s", "-"
    if "total" not in rec or "error" in rec:
        notes.append(f"{LABELS[who]}, W3 at {steps:,} steps: {rec.get('error') or rec}")
        return "failed", "-", "-"
    phases = ", ".join(f"{k} {v:.3f}" for k, v in rec["phases"].items())
    return phases, f"{rec['total']:.3f} s", f"{rec['ratio']:,.0f}x"


# -- goals ---------------------------------------------------------------------------------------
def _ratio(results: dict, name: str, key: str) -> float | None:
    rec = results.get(name, {}).get(key, {})
    return rec.get("ratio") if "time" in rec else None


def _total(results: dict, name: str, key: str, cap: float) -> float | None:
    """A W3 total; a peer stopped at the cap counts as the cap (symgrad ahead if under it)."""
    rec = results.get(name, {}).get(key)
    if rec is None or "missing" in results.get(name, {}):
        return None
    if "total" in rec and "error" not in rec:
        return rec["total"]
    return cap if "stopped after" in str(rec.get("error", "")) else None


def _seconds(t: float, cap: float) -> str:
    return f"> {cap:.0f} s (stopped)" if t >= cap else f"{t:.3f} s"


def goals(results: dict, meta: dict) -> list[list[str]]:
    rows = []

    def add(goal: str, measure: str, mine: str, other: str, met: bool | None) -> None:
        verdict = "not measured" if met is None else "met" if met else "**NOT met**"
        rows.append([goal, measure, mine, other, verdict])

    for key in ([f"W1 {d} {p}" for d in ("float64", "float32") for p in ("forward", "gradients")]
                + ["W2 forward", "W2 gradient"]):
        r = _ratio(results, "symgrad", key)
        add("<= 1.0x NumPy", _label(key), "-" if r is None else f"{r:.2f}x", "NumPy 1.00x",
            None if r is None else r <= 1.0)
    for key in RUN_TIME_KEYS:
        r = _ratio(results, "symgrad", key)
        peers = {n: _ratio(results, n, key) for n in RUN_TIME_PEERS}
        peers = {n: p for n, p in peers.items() if p is not None}
        other = ", ".join(f"{LABELS[n]} {p:.2f}x" for n, p in peers.items()) or "none ran"
        met = None if r is None or not peers else all(r < p for p in peers.values())
        mine = "-" if r is None else f"{r:.2f}x"
        add("ahead of autograd, PyTensor, PyTorch", _label(key), mine, other, met)
    for steps in meta["steps"]:
        key = f"W3 {steps}"
        mine = _total(results, "symgrad", key, meta["cap"])
        shown = "-" if mine is None else f"{mine:.3f} s"
        builders = {n: _total(results, n, key, meta["cap"]) for n in GRAPH_BUILDERS}
        builders = {n: t for n, t in builders.items() if t is not None}
        other = ", ".join(f"{LABELS[n]} {_seconds(t, meta['cap'])}"
                          for n, t in builders.items()) or "none ran"
        add("ahead of PyTensor, JAX jit, CasADi", f"W3 {steps:,} steps", shown, other,
            None if mine is None or not builders else all(mine < t for t in builders.values()))
        eager = _total(results, "torch", key, meta["cap"])
        add("within 3x of PyTorch eager", f"W3 {steps:,} steps", shown,
            "-" if eager is None else f"PyTorch eager {_seconds(eager, meta['cap'])}",
            None if mine is None or eager is None else mine <= 3 * eager)
    return rows


# -- the document --------------------------------------------------------------------------------
def render(results: dict, meta: dict) -> str:
    ran = _ran(results)
    notes: list[str] = []
    out = ["# symgrad against its peers (`bench/peers.py`)", ""]
    kind = "a --quick smoke run: shortened chains, few samples" if meta["quick"] else "a full run"
    env = ", ".join(f"{k}={v}" if v is not None else f"{k} unset"
                    for k, v in meta["blas_env"].items())
    out += [f"Measured {meta['date']} at symgrad commit `{meta['commit']}` ({kind}; took "
            f"{meta['elapsed']:.0f} s), on {meta['machine']}; {env}.", ""]
    vrows = [[k, v] for k, v in meta["versions"].items()]
    vrows += [[LABELS[n], r.get("version", "?")] for n, r in ran.items() if n != "numpy"]
    vrows += [[LABELS[n], "not installed: skipped"] for n, r in results.items() if n not in ran]
    out += _table(["", "version"], vrows) + [""]
    out += ["Each system ran in its own process; each workload was checked against hand-written "
            "NumPy before it was timed. A time is the median of interleaved samples; (1.23x) is "
            "its ratio to hand-written NumPy timed in the same process (the median of the "
            "per-round ratios), so processes are compared by ratio, not raw time. On a busy "
            "machine the same NumPy call has taken 3x-10x longer in one process than in "
            "another, so compare runs, not single figures; bench/README.md says how to run "
            "this and what each system runs.", ""]

    for dtype in ("float64", "float32"):
        keys = [f"W1 {dtype} {p}" for p in W1_PARTS]
        where, ref = _reference_row(ran, keys)
        out += [f"## W1: the book's MLP (6.5.7), batch 256, 784-512-10, {dtype}", ""]
        rows = [[f"hand-written NumPy (in {where}'s process)"] + ref]
        rows += [[LABELS[n]] + [_cell(r.get(k), notes, n, k) for k in keys]
                 for n, r in ran.items() if n != "math"]
        out += _table(["system", *W1_PARTS.values()], rows) + [""]

    steps = meta["chain_steps"]
    keys = ["W2 forward", "W2 gradient"]
    where, ref = _reference_row(ran, keys)
    out += [f"## W2: {steps}-step chain y = tanh(y) * 0.9 + 0.1 * sin(y) on a 16-vector "
            f"({5 * steps:,} ops)", "",
            "us/op: time above NumPy's per forward op (negative: faster than NumPy).", ""]
    rows = [[f"hand-written NumPy (in {where}'s process)", ref[0], "", ref[1], ""]]
    for n, r in ran.items():
        if n != "math":
            f, g = r.get("W2 forward", {}), r.get("W2 gradient", {})
            rows.append([LABELS[n], _cell(f, notes, n, "W2 forward"), _per_op(f),
                         _cell(g, notes, n, "W2 gradient"), _per_op(g)])
    out += _table(["system", "forward", "us/op", "gradient", "us/op"], rows) + [""]

    out += ["## W3: from building the chain to its first gradient, in a fresh process", "",
            "Phases in seconds, as far as each system separates them; the total is the wall "
            "time around all of them; the ratio is to one run of the hand-written NumPy "
            "forward-and-backward loop in the same process.", ""]
    rows = []
    for s in meta["steps"]:
        for n, r in ran.items():
            if n != "math":
                rows.append([LABELS[n], f"{s:,}", *_w3_cell(r.get(f"W3 {s}"), notes, n, s)])
    out += _table(["system", "steps", "phases (s)", "total", "x NumPy"], rows) + [""]

    for key, title in (("W4", "W4: gradient of the 2^40-path diamond, y = sin(y) + cos(y) 40 "
                               "times (scalar)"),
                       ("W5", "W5: fourth derivative of tanh (scalar)")):
        where, ref = _reference_row(ran, [key])
        out += [f"## {title}", ""]
        rows = [[f"hand-written NumPy (in {where}'s process)", "-", ref[0]]]
        rows += [[LABELS[n], _nodes(r.get(key)), _cell(r.get(key), notes, n, key)]
                 for n, r in ran.items()]
        out += _table(["system", "nodes of the derivative", "time per call"], rows) + [""]

    out += ["## Goals", ""]
    out += _table(["goal", "measure", "symgrad", "compared with (x NumPy or s)", "verdict"],
                  goals(results, meta)) + [""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in dict.fromkeys(notes)] + [""]
    return "\n".join(out)
