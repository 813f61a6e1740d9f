"""Fixtures for the LeveragedToken unit tests: a 3x long with the factory's default parameters,
and time moves that keep the oracle fresh."""

from __future__ import annotations

import pytest

from tests.utils import chain as chain_helpers
from tests.utils.checks import rel as relative


@pytest.fixture
def token(create_token):
    """BTC 3x Long with the factory's default parameters (0.1% mint and redeem fees, 0.01%/day)."""
    return create_token(3)


@pytest.fixture
def held(token, deposit, whale):
    """The 3x long (token) with 10,000 of the whale's deposit, settled and claimed."""
    deposit(token, whale, 10_000)
    return token


@pytest.fixture(scope="session")
def price_now(feed):
    """The feed's latest price in dollars."""

    def _price():
        return feed.latestRoundData()[1] / 10**8

    return _price


@pytest.fixture(scope="session")
def advance(chain, set_price, price_now):
    """advance(seconds, price=None): moves chain time and publishes a fresh price (the last one if None)."""

    def _advance(seconds, price=None):
        price = price_now() if price is None else price
        chain_helpers.advance(chain, seconds)
        return set_price(price)

    return _advance


@pytest.fixture(scope="session")
def rel():
    """rel(a, b): |a - b| / |b| (tests.utils.checks.rel)."""
    return relative
