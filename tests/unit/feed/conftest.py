"""Feed fixtures: a strict revert check (ape leaves reverts of calls undecoded, so reverting views
are sent with `.transact` and the decoded error is checked by name and inputs)."""

from contextlib import contextmanager

import ape
import pytest
from ape.exceptions import CustomError


@contextmanager
def strict_reverts(error, **inputs):
    with ape.reverts(error, **inputs) as info:
        yield info
    err = info.value
    assert isinstance(err, CustomError), f"expected {error.__name__}, got an undecoded revert: {err!r}"
    assert type(err).__name__ == error.__name__, f"expected {error.__name__}, got {err!r}"
    assert {name: err.inputs.get(name) for name in inputs} == inputs


@pytest.fixture(scope="session")
def reverts():
    return strict_reverts


@pytest.fixture(scope="session", autouse=True)
def _feed_session(gov, keeper, stranger, feed, reverts):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation."""
