"""bench/gradients.py --quick runs to the end and reports each measure; no timing is asserted."""

import os

from tests.benchrun import ROOT, run_quick


def test_gradients_benchmark_quick_runs_and_reports_every_measure():
    _, summary = run_quick("gradients.py", env=dict(os.environ, PYTHONPATH=str(ROOT)))
    for measure in ("MLP loss+gradients time", "MLP gradients agree", "MLP gradient/forward",
                    "MLP HVP/gradient", "MLP HVP agrees", "float32 loss, gradients, HVP",
                    "gradients() pass", "gradients() pass growth", "build to 1st gradient",
                    "gradient call time"):
        assert measure in summary, summary
