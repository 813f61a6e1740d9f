"""Feed fixtures: the session's fixtures set up before the first test."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _feed_session(gov, keeper, stranger, feed, reverts):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation."""
