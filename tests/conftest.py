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
