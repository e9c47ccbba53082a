"""bench/dask_scale.py --quick runs to the end on a real LocalCluster and on threads, reports
each measure, and its values agree with the NumPy reference; no timing is asserted."""

import re

import pytest

from tests.benchrun import run_quick

pytest.importorskip("distributed", reason="the dask extra is not installed")


def test_dask_benchmark_quick_runs_and_agrees_with_numpy(tmp_path):
    _, summary = run_quick("dask_scale.py", "--dir", str(tmp_path))
    for run in ("2 workers of 3GB", "threaded scheduler"):
        for measure, met in (("finishes", True), ("peak memory, all processes", None),
                             ("match NumPy", True), ("throughput", None)):
            line = re.search(rf"^{re.escape(run)}.*{re.escape(measure)}.*$", summary, re.M)
            assert line, f"{run}: {measure} not reported:\n{summary}"
            if met:  # finishing and agreeing are not timings: they must hold
                assert line.group(0).rstrip().endswith("yes"), line.group(0)
    assert "one in-memory chunk" in summary
