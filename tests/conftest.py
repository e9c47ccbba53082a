import os

import numpy as np
import pytest
from hypothesis import settings

# Property tests run derandomized (a fixed seed) with bounded examples in CI; for a longer hunt
# locally: HYPOTHESIS_PROFILE=long python -m pytest tests/test_random_graphs.py
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _compiled_tier_unless_fused(request, monkeypatch):
    """With llvmlite installed, a function's second call starts compiling its fused tier in the
    background, and the tier its later calls run would depend on timing: tests run on the
    compiled tier unless they ask for the fused one (the `fused` fixture)."""
    if "fused" not in request.fixturenames:
        from symgrad import tiers

        monkeypatch.setattr(tiers, "ENABLED", False)


@pytest.fixture
def fused():
    """The fused tier on (it needs llvmlite); afterwards no compile thread is left running."""
    pytest.importorskip("llvmlite", reason="the fast extra is not installed")
    from symgrad import tiers

    yield tiers
    tiers._WORKER.join(60)
    assert tiers._WORKER._thread is None, "a fused compile still runs after the test"
