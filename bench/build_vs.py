"""How long `sg.function` takes to build, in this checkout and in another one, on graphs with
nothing to simplify: the 10,000-step chain (50,000 forward ops) and its gradient graph
(110,000 nodes). Each build runs in a fresh process, the two checkouts alternating; prints the
medians and their ratio. Reports, never fails.

The simplifier's goal is a build no slower than the planner of 1eb14d8 (merging and folding
as it planned, before the simplifier existed). To compare against it:

    git worktree add /tmp/old 1eb14d8
    python bench/build_vs.py /tmp/old [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# one build in a fresh process, importing symgrad from the checkout given (an editable install
# of another checkout would win over sys.path: its finder is taken out first); the chain is
# written out rather than taken from common.chain_graph, which imports this checkout's symgrad
WORKER = """
import gc, sys, time
repo, mode = sys.argv[1], sys.argv[2]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, repo)
import symgrad as sg
assert sg.__file__.startswith(repo), sg.__file__
g = sg.Graph()
x = g.placeholder("x", (16,))
y = x
for _ in range(10_000):
    y = sg.tanh(y) * 0.9 + 0.1 * sg.sin(y)
out = sg.gradients(y.sum(), [x])[0] if mode == "gradient" else y
gc.collect()
t0 = time.perf_counter()
sg.function([x], out)
print(time.perf_counter() - t0)
"""


def build_time(repo: Path, mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", WORKER, str(repo), mode], check=True,
                          capture_output=True, text=True)
    return float(done.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("against", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--rounds", type=int, default=5, help="fresh processes per checkout and graph")
    args = ap.parse_args(argv)
    other = args.against.resolve()
    if not (other / "symgrad" / "__init__.py").exists():
        ap.error(f"{other} holds no symgrad package")
    for mode in ("forward", "gradient"):
        times: dict[Path, list[float]] = {HERE: [], other: []}
        for _ in range(args.rounds):
            for repo in (other, HERE):
                times[repo].append(build_time(repo, mode))
        med = {repo: statistics.median(ts) for repo, ts in times.items()}
        for repo, ts in times.items():
            print(f"{mode:8} {str(repo):40} median {med[repo]:.3f} s  "
                  f"({', '.join(f'{t:.3f}' for t in ts)})")
        print(f"{mode:8} this checkout / the other: {med[HERE] / med[other]:.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
