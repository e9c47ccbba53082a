"""Running a benchmark of bench/ small (--quick), for the tests that it runs to the end."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = r"measure\s*\|\s*symgrad\s*\|\s*reference\s*\|\s*ratio\s*\|\s*goal\s*\|\s*met\?"


def run_quick(script: str, *args: str, env: dict | None = None, timeout: float = 300
              ) -> tuple[str, str]:
    """(stdout, its summary table) of `python bench/<script> --quick *args`, run from the
    repository's root; asserts that it ended well and printed the table's header."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    assert "Summary" in done.stdout, done.stdout
    summary = done.stdout.split("Summary", 1)[1]
    assert re.search(HEADER, summary), summary
    return done.stdout, summary
