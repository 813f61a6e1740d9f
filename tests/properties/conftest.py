"""Hypothesis profiles for the protocol's invariants.

"invariants-fast" is what `ape test` runs (a few hundred model steps, seconds); "invariants-long" is
selected by HYPOTHESIS_PROFILE=long (`make test-long`, which runs `ape test -m slow`): thousands of
steps in total.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"

settings.register_profile(
    "invariants-fast", max_examples=20, stateful_step_count=30, deadline=None, suppress_health_check=_HEALTH
)
settings.register_profile(
    "invariants-long", max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=_HEALTH
)
