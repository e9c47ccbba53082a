"""symgrad against the systems users would otherwise pick: the same workloads in each, every
system in its own fresh process, every workload checked against hand-written NumPy before it is
timed, every time given with its ratio to hand-written NumPy timed in the same process.

    python bench/peers.py [--quick] [--only symgrad,jax,...] [--out PATH] [--json PATH]
                          [--cap SECONDS]

Systems: numpy (itself, as a noise check), symgrad, autograd, jax, pytensor, torch, casadi, and
math (plain Python, scalar workloads only). Every worker runs with glibc's malloc pinned
(GLIBC_TUNABLES, unless set already; see common.MALLOC), so that no process's reference pays
page faults that another's does not. A system not installed is skipped with one line;
`pip install -e '.[bench]'` installs them all. Writes bench/RESULTS.md (with --quick only when
--out is given) and prints the same tables. Reports, never fails on a goal (exit code 0).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import peers_workloads
from common import ROOT, git_describe, glibc_tunables, machine_note
from peers_report import render
from systems import SYSTEMS

MARK = "PEERS-RESULT "  # a worker's stdout lines that carry results, one JSON record each
DEFAULT_OUT = ROOT / "bench" / "RESULTS.md"


# -- worker: one system, in this process -----------------------------------------------------------
def _emit(key: str, record: object) -> None:
    print(MARK + json.dumps({"key": key, "record": record}), flush=True)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def worker(name: str, quick: bool, first_gradient_steps: int | None) -> None:
    """Import the system's adapter (an ImportError: not installed), then run its workloads."""
    try:
        side = importlib.import_module(f"systems.{name}_side")
    except ImportError as e:
        _emit("missing", str(e))
        return
    _emit("version", side.version())
    if first_gradient_steps is None:
        peers_workloads.run_times(side, quick, _log, _emit)
    else:
        _emit(f"W3 {first_gradient_steps}",
              peers_workloads.run_first_gradient(side, first_gradient_steps, _log))


def run_worker(args: argparse.Namespace) -> int:
    # PyTensor's gradient and rewrites recurse once per node: long chains need a deep stack,
    # as a user of it would set up; the same for every system, so that none is singled out.
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 29)
    failure: list[BaseException] = []

    def main() -> None:
        try:
            worker(args.worker, args.quick, args.first_gradient)
        except BaseException as e:  # reported by the driver as this system's failure
            failure.append(e)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return 0


# -- driver: one process per system (and per W3 size) --------------------------------------------
def spawn(name: str, quick: bool, cap: float, steps: int | None = None) -> dict:
    """Run a worker; its records by key. A crash or a time-out is recorded, not raised."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    cmd += ["--quick"] if quick else []
    cmd += [] if steps is None else ["--first-gradient", str(steps)]
    env = {**os.environ, "GLIBC_TUNABLES": glibc_tunables()}  # malloc pinned
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=cap, cwd=ROOT,
                              env=env)
        out, failed = done.stdout, (f"the process failed (exit {done.returncode})"
                                    if done.returncode else None)
    except subprocess.TimeoutExpired as e:  # run() has killed the worker it started
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
        failed = f"stopped after {cap:.0f} s"
    records = {}
    for line in out.splitlines():
        if line.startswith(MARK):
            item = json.loads(line[len(MARK):])
            records[item["key"]] = item["record"]
    if failed:
        records["failed"] = failed
    return records


def versions() -> dict[str, str]:
    import numpy as np

    return {"Python": sys.version.split()[0], "NumPy": np.__version__}


def drive(args: argparse.Namespace) -> int:
    wl = peers_workloads
    chosen = SYSTEMS if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in SYSTEMS]
    if unknown:
        print(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}")
        return 2
    steps_list = wl.QUICK_FIRST_GRADIENT_STEPS if args.quick else wl.FIRST_GRADIENT_STEPS
    times_cap = args.cap * (3 if not args.quick else 2)
    start, commit = time.perf_counter(), git_describe() or "unknown"  # before any edit meanwhile
    print(f"symgrad peer benchmark{' (--quick)' if args.quick else ''}: {', '.join(chosen)}")
    results: dict[str, dict] = {}
    for name in chosen:
        print(f"\nrunning {name}: W1, W2, W4, W5 in a fresh process", flush=True)
        rec = spawn(name, args.quick, times_cap)
        if "missing" in rec:
            print(f"{name}: skipped, not installed ({rec['missing']}); "
                  "pip install -e '.[bench]' installs every peer")
            results[name] = rec
            continue
        for steps in steps_list:
            print(f"running {name}: W3 at {steps:,} steps in a fresh process", flush=True)
            w3 = spawn(name, args.quick, args.cap, steps)
            rec[f"W3 {steps}"] = w3.get(f"W3 {steps}", {"error": w3.get("failed", "no result")})
        results[name] = rec
    elapsed = time.perf_counter() - start
    meta = {"date": datetime.date.today().isoformat(), "commit": commit,
            "machine": machine_note(), "versions": versions(), "quick": args.quick,
            "elapsed": elapsed, "cap": args.cap, "steps": list(steps_list),
            "chain_steps": wl.QUICK_CHAIN_STEPS if args.quick else wl.CHAIN_STEPS,
            "blas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
            | {"GLIBC_TUNABLES": glibc_tunables()}}
    text = render(results, meta)
    print("\n" + text)
    out = args.out or (None if args.quick else DEFAULT_OUT)
    if out:
        Path(out).write_text(text)
        print(f"written to {out}")
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="short chains, few samples: a smoke run (under ~3 minutes)")
    parser.add_argument("--only", help="comma-separated systems to run (default: all)")
    parser.add_argument("--out", help="where to write the markdown (default bench/RESULTS.md; "
                        "with --quick, nowhere)")
    parser.add_argument("--json", help="also write every record, unformatted, to this file")
    parser.add_argument("--cap", type=float, default=None,
                        help="seconds one W3 process may take (run times: 3x that); "
                        "default 600, 120 with --quick")
    parser.add_argument("--render", metavar="JSON", help="measure nothing: rewrite the tables "
                        "from a file that --json wrote (to --out, or print them)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--first-gradient", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        text = render(saved["results"], saved["meta"])
        if args.out:
            Path(args.out).write_text(text)
        else:
            print(text)
        return 0
    if args.cap is None:
        args.cap = 120.0 if args.quick else 600.0
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
