"""Fixtures for the LeveragedToken unit tests: a 3x long with the factory's default parameters,
deposits that fund their sender, time moves that keep the oracle fresh, and a strict revert check."""

from __future__ import annotations

from contextlib import contextmanager

import ape
import pytest
from ape_ethereum.trace import Trace
from eth_abi import decode
from eth_utils import keccak

from levtoken.deployment import params_dict, params_tuple


def _error_signature(error) -> str:
    return f"{error.abi.name}({','.join(i.canonical_type for i in error.abi.inputs)})"


@contextmanager
def strict_reverts(error, **inputs):
    """ape.reverts(error, **inputs), which also accepts reverts ape could not decode (errors raised in a
    nested call, such as the venue's StalePrice); this also checks the selector and inputs of those."""
    # The provider prints the call trace of every failed transaction; for an expected revert that is
    # noise, and enriching the trace costs seconds, so it is skipped inside this block.
    show = Trace.show
    Trace.show = lambda self, *args, **kwargs: None
    try:
        with ape.reverts(error, **inputs) as info:
            yield info
    finally:
        Trace.show = show
    exc = info.value
    if isinstance(exc, ape.exceptions.CustomError):
        assert type(exc).__name__ == error.abi.name, f"expected {error.abi.name}, got {type(exc).__name__}"
        return
    data = str(exc.revert_message or "")
    if data.startswith("custom error "):  # how ape words an undecoded error of a view call
        data = "0x" + data.removeprefix("custom error ").replace(":", "").replace(" ", "").removeprefix("0x")
    selector = "0x" + keccak(text=_error_signature(error)).hex()[:8]
    assert data.startswith(selector), f"expected {error.abi.name} ({selector}), got {data!r}"
    if inputs:
        names = [i.name for i in error.abi.inputs]
        values = decode([i.canonical_type for i in error.abi.inputs], bytes.fromhex(data[10:]))
        actual = dict(zip(names, values))
        for name, expected in inputs.items():
            assert actual[name] == expected, f"{error.abi.name}.{name}: expected {expected}, got {actual[name]}"


@pytest.fixture(scope="session")
def reverts():
    return strict_reverts


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

