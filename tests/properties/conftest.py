"""Hypothesis profiles for the protocol's invariants, from tests.utils.strategies.

"invariants-fast" is what `ape test` runs (a few hundred model steps, seconds); "invariants-long" is
selected by HYPOTHESIS_PROFILE=long (`make test-long`, which runs `ape test -m slow`): thousands of
steps in total.
"""

from __future__ import annotations

import tests.utils.strategies  # noqa: F401  (registers the hypothesis profiles)
