"""Fixtures for the LeveragedToken unit tests: a 3x long with the factory's default parameters,
deposits that fund their sender and time moves that keep the oracle fresh."""

from __future__ import annotations

import pytest

from levtoken.deployment import params_dict, params_tuple


@pytest.fixture
def token(create_token):
    """BTC 3x Long with the factory's default parameters (0.1% mint and redeem fees, 0.01%/day)."""
    return create_token(3)


@pytest.fixture(scope="session")
def deposit(fund):
    """deposit(token, account, usd, receiver=None) -> receipt: mints the dollars, approves, deposits."""

    def _deposit(token, account, amount, receiver=None):
        assets = fund(account, amount, token)
        return token.deposit(assets, receiver or account, sender=account)

    return _deposit


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
        chain.pending_timestamp += seconds
        return set_price(price)

    return _advance


@pytest.fixture(scope="session")
def pin(chain):
    """pin(): the next transaction is mined at the head block's timestamp, so it sees exactly what a
    view call made now sees (no funding or streaming fee accrues in between)."""

    def _pin():
        chain.pending_timestamp = chain.provider.web3.eth.get_block("latest")["timestamp"]

    return _pin


@pytest.fixture(scope="session")
def set_params(gov):
    """set_params(token, **overrides): admin replaces some parameters, keeping the others."""

    def _set(token, **overrides):
        params = params_dict(token.params())
        params.update(overrides)
        return token.setParams(params_tuple(params), sender=gov)

    return _set


@pytest.fixture(scope="session")
def rel():
    """rel(a, b): |a - b| / |b|."""

    def _rel(a, b):
        return abs(a - b) / abs(b)

    return _rel

