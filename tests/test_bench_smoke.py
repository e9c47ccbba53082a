"""bench/evaluator.py --quick runs to the end and reports each measure; no timing is asserted."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "evaluator.py"


def test_evaluator_benchmark_quick_runs_and_reports_every_measure():
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=BENCH.parent.parent)
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout, done.stdout
    summary = done.stdout.split("Summary", 1)[1]
    for measure in ("MLP forward time", "chain of 2500 ops", "memory, sg.function",
                    "memory, sg.evaluate"):
        assert measure in summary, summary
    header = r"measure\s*\|\s*symgrad\s*\|\s*reference\s*\|\s*ratio\s*\|\s*goal\s*\|\s*met\?"
    assert re.search(header, summary), summary
