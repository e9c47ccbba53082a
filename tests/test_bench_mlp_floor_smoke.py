"""bench/mlp_floor.py runs to the end and reports a ratio a round; no timing is asserted."""

import re
import subprocess
import sys

from tests.benchrun import ROOT


def test_mlp_floor_runs_and_reports_each_round():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "mlp_floor.py"), "--rounds", "2"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^hand NumPy: [\d.]+ page faults a call$", done.stdout, re.M), done.stdout
    ratios = re.findall(r"^round \d: .* ratio ([\d.]+)$", done.stdout, re.M)
    assert len(ratios) == 2 and all(float(r) > 0 for r in ratios), done.stdout
