"""bench/io.py --quick runs to the end and reports each measure; no timing is asserted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "io.py"


def test_io_benchmark_quick_runs_and_reports_every_measure():
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=BENCH.parent.parent)
    assert done.returncode == 0, done.stderr
    summary = done.stdout.split("Summary", 1)[1]
    for measure in ("save ", "load ", "save + load", "bit for bit"):
        assert measure in summary, summary
    assert "loaded bit for bit: True" in done.stdout, done.stdout
