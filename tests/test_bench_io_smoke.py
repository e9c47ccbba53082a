"""bench/io.py --quick runs to the end and reports each measure; no timing is asserted."""

from tests.benchrun import run_quick


def test_io_benchmark_quick_runs_and_reports_every_measure():
    out, summary = run_quick("io.py")
    for measure in ("save ", "load ", "save + load", "bit for bit"):
        assert measure in summary, summary
    assert "loaded bit for bit: True" in out, out
