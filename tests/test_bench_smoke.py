"""bench/evaluator.py --quick runs to the end and reports each measure; no timing is asserted."""

from tests.benchrun import run_quick


def test_evaluator_benchmark_quick_runs_and_reports_every_measure():
    _, summary = run_quick("evaluator.py")
    for measure in ("MLP forward time", "chain of 2500 ops", "memory, sg.function",
                    "memory, sg.evaluate"):
        assert measure in summary, summary
