"""Shared fixtures: accounts named by role and factory fixtures that build exactly the state a test needs.

ape isolates every test in a chain snapshot, so module- and session-scoped deployments are cheap.
"""

from __future__ import annotations

from contextlib import contextmanager

import ape
import pytest
from ape import project
from ape_ethereum.trace import Trace
from eth_abi import decode
from eth_utils import keccak

from levtoken.deployment import MarketSpec, params_dict, params_tuple
from levtoken.units import BPS, DAY, to_feed, to_units, to_wad

INITIAL_PRICE = 30_000


@pytest.fixture(scope="session")
def gov(accounts):
    """Deployer, venue owner, factory owner, token admin and guardian."""
    return accounts[0]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def lp(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def whale(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def fish(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def fee_recipient(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def usd(gov):
    """The 6-decimal test stablecoin."""
    return gov.deploy(project.TestStablecoin)


@pytest.fixture(scope="session")
def feed(gov):
    """BTC / USD price feed at 30,000."""
    feed = gov.deploy(project.PriceFeed, 8, "BTC / USD", gov)
    feed.submit(to_feed(INITIAL_PRICE), sender=gov)
    return feed


def market_config(feed, **overrides):
    """A MarketConfig dict with the project's defaults (levtoken.deployment.MarketSpec), overridable by field name."""
    config = MarketSpec("BTC", INITIAL_PRICE).venue_config(feed.address, 6)
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def venue(gov, usd, feed, lp):
    """PerpVenue with one BTC market (id 1) and 10M tUSD of LP liquidity."""
    venue = gov.deploy(project.PerpVenue, usd, gov)
    venue.listMarket("BTC", market_config(feed), sender=gov)
    seed = to_units(10_000_000)
    usd.mint(lp, seed, sender=lp)
    usd.approve(venue, seed, sender=lp)
    venue.addLiquidity(seed, 0, sender=lp)
    return venue


@pytest.fixture(scope="session")
def factory(gov, venue):
    return gov.deploy(project.LeveragedTokenFactory, venue, gov)


@pytest.fixture(scope="session")
def creation_code():
    return project.LeveragedToken.contract_type.deployment_bytecode.bytecode


@pytest.fixture(scope="session")
def create_token(gov, keeper, factory, fee_recipient, creation_code):
    """create_token(leverage, **param_overrides) -> LeveragedToken on market 1 with default params."""

    def create(leverage=3, max_leverage=0, **overrides):
        lev = to_wad(leverage)
        params = params_dict(factory.defaultParams(lev, fee_recipient))
        params.update(overrides)
        factory.createToken((1, lev, max_leverage, params_tuple(params), keeper, gov), creation_code, sender=gov)
        return project.LeveragedToken.at(factory.tokenFor(1, lev))

    return create


@pytest.fixture(scope="session")
def fund(usd):
    """fund(account, amount_usd, spender=None): mints test dollars and approves `spender`."""

    def _fund(account, amount, spender=None):
        units = to_units(amount)
        usd.mint(account, units, sender=account)
        if spender is not None:
            usd.approve(spender, 2**256 - 1, sender=account)
        return units

    return _fund


@pytest.fixture(scope="session")
def set_price(feed, gov):
    """set_price(usd_price): pushes a new round to the BTC feed."""

    def _set(price):
        return feed.submit(to_feed(price), sender=gov)

    return _set


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
    if data.startswith("custom error "):
        # How ape words an undecoded error of a view call: "custom error 0x<selector>: <arguments>", the
        # arguments as hex or as raw bytes.
        head, _, tail = data.removeprefix("custom error ").partition(":")
        tail = tail[1:] if tail.startswith(" ") else tail
        try:
            arguments = bytes.fromhex(tail.removeprefix("0x"))
        except ValueError:
            arguments = tail.encode("latin-1")
        data = "0x" + head.strip().removeprefix("0x") + arguments.hex()
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
    """A strict ape.reverts: see strict_reverts."""
    return strict_reverts
