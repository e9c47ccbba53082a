"""bench/dask_scale.py --quick runs to the end on a real LocalCluster and on threads, reports
each measure, and its values agree with the NumPy reference; no timing is asserted."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "dask_scale.py"


def test_dask_benchmark_quick_runs_and_agrees_with_numpy(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout, done.stdout
    summary = done.stdout.split("Summary", 1)[1]
    header = r"measure\s*\|\s*symgrad\s*\|\s*reference\s*\|\s*ratio\s*\|\s*goal\s*\|\s*met\?"
    assert re.search(header, summary), summary
    for run in ("2 workers of 3GB", "threaded scheduler"):
        for measure, met in (("finishes", True), ("peak memory, all processes", None),
                             ("match NumPy", True), ("throughput", None)):
            line = re.search(rf"^{re.escape(run)}.*{re.escape(measure)}.*$", summary, re.M)
            assert line, f"{run}: {measure} not reported:\n{summary}"
            if met:  # finishing and agreeing are not timings: they must hold
                assert line.group(0).rstrip().endswith("yes"), line.group(0)
    assert "one in-memory chunk" in summary
