"""bench/gradients.py --quick runs to the end and reports each measure; no timing is asserted."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "gradients.py"


def test_gradients_benchmark_quick_runs_and_reports_every_measure():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout, done.stdout
    summary = done.stdout.split("Summary", 1)[1]
    for measure in ("MLP loss+gradients time", "MLP gradients agree", "MLP gradient/forward",
                    "MLP HVP/gradient", "MLP HVP agrees", "float32 loss, gradients, HVP",
                    "gradients() pass", "gradients() pass growth", "build to 1st gradient",
                    "gradient call time"):
        assert measure in summary, summary
    header = r"measure\s*\|\s*symgrad\s*\|\s*reference\s*\|\s*ratio\s*\|\s*goal\s*\|\s*met\?"
    assert re.search(header, summary), summary
