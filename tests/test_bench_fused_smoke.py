"""bench/fused.py --quick runs to the end and reports each measure; no timing is asserted."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "fused.py"


def run_quick(env=None):
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=BENCH.parent.parent, env=env)
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout, done.stdout
    summary = done.stdout.split("Summary", 1)[1]
    header = r"measure\s*\|\s*symgrad\s*\|\s*reference\s*\|\s*ratio\s*\|\s*goal\s*\|\s*met\?"
    assert re.search(header, summary), summary
    return done.stdout, summary


def test_fused_benchmark_quick_reports_both_tiers_and_compile_seconds():
    pytest.importorskip("llvmlite")
    out, summary = run_quick()
    for name in ("W2 forward (20 steps)", "W2 gradient (20 steps)", "MLP gradient"):
        for measure in ("compiled", "fused", "fused compile (s)", "first result, tier on / off"):
            assert f"{name}, {measure}" in summary, summary
    assert "tier 'fused'" in out and "largest difference from hand NumPy" in out


def test_fused_benchmark_without_the_tier_reports_the_compiled_one():
    out, summary = run_quick(dict(os.environ, SYMGRAD_FUSED="0"))
    assert "fused tier available: False" in out
    assert "MLP gradient, compiled" in summary and "MLP gradient, fused" not in summary
