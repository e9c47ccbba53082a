"""bench/fused.py --quick runs to the end and reports each measure; no timing is asserted."""

import os

import pytest

from tests.benchrun import run_quick


def test_fused_benchmark_quick_reports_both_tiers_and_compile_seconds():
    pytest.importorskip("llvmlite", reason="the fast extra is not installed")
    out, summary = run_quick("fused.py")
    for name in ("W2 forward (20 steps)", "W2 gradient (20 steps)", "MLP gradient"):
        for measure in ("compiled", "fused", "fused compile (s)",
                        "first result (fresh process), tier on / off"):
            assert f"{name}, {measure}" in summary, summary
    assert "tier 'fused'" in out and "largest difference from hand NumPy" in out


def test_fused_benchmark_without_the_tier_reports_the_compiled_one():
    out, summary = run_quick("fused.py", env=dict(os.environ, SYMGRAD_FUSED="0"))
    assert "fused tier available: False" in out
    assert "MLP gradient, compiled" in summary and "MLP gradient, fused" not in summary
