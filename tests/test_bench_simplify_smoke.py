"""bench/simplify.py --quick runs to the end and reports each measure; no timing is asserted."""

from tests.benchrun import run_quick


def test_simplify_benchmark_quick_runs_and_reports_every_measure():
    _, summary = run_quick("simplify.py")
    for measure in ("d4/dx4 tanh", "MLP loss+gradients: nodes", "MLP run time", "MLP HVP",
                    "chain to 1st gradient", "simplify,", "growth"):
        assert measure in summary, summary
