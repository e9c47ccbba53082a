"""bench/peers.py --quick runs symgrad's side, checked against NumPy, and skips a peer that is
not installed with one line; no timing is asserted. A stand-in package that fails to import
plays the missing peer, so the test means the same whether or not the peers are installed."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "peers.py"


def test_peers_benchmark_quick_runs_symgrad_and_skips_a_missing_peer(tmp_path):
    fake = tmp_path / "site"
    (fake / "autograd").mkdir(parents=True)
    (fake / "autograd" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'autograd'\", name='autograd')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake), str(ROOT)]))
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--only", "symgrad,autograd",
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("autograd:")]
    assert len(skipped) == 1 and "not installed" in skipped[0], done.stdout
    text = out.read_text()
    assert "| autograd | not installed: skipped |" in text, text
    for title in ("## W1", "float32", "## W2", "## W3", "## W4", "## W5", "## Goals"):
        assert title in text, text
    # every symgrad measure passed its NumPy check and was timed: a time and a ratio each
    for measure in ("forward (loss)", "loss + both gradients", "HVP"):
        assert measure in text
    rows = [line for line in text.splitlines() if line.startswith("| symgrad |")]
    timed = [c for r in rows for c in r.split("|") if re.search(r"\(\d+\.\d\dx\)", c)]
    assert len(timed) == 6 + 2 + 2, rows
    assert "failed" not in "".join(rows) and "n/a" not in "".join(rows), rows
    w3 = [r for r in rows if "first call" in r]
    assert len(w3) == 1 and "build" in w3[0] and "gradient" in w3[0], rows
    verdicts = re.findall(r"\| (met|\*\*NOT met\*\*|not measured) \|$", text, re.M)
    assert len(verdicts) == 6 + 10 + 2, text
