"""Venue fixtures and an independent integer model of PerpVenue's arithmetic.

The model restates the formulas of PerpVenue (`_tradeCost`, `_applyTrade`, `_fundingIndexNow`,
`_settleFunding`, `_liquidate`, the LP share price) with Python integers and the same rounding, so
tests assert amounts to the unit instead of re-reading them from the contract.
"""

from __future__ import annotations

import pytest

from levtoken.shapes import MarketConfig
from levtoken.units import BPS, DAY, WAD
from tests.utils import chain as chain_helpers
from tests.utils.checks import check_conserved
from tests.utils.constants import BTC, UNIT


def div_down(a: int, b: int) -> int:
    """a / b toward negative infinity (b > 0): FixedPointMath.sDivDown and mulDivDown."""
    return a // b


def div_up(a: int, b: int) -> int:
    """a / b toward positive infinity (b > 0): FixedPointMath.sDivUp and mulDivUp."""
    return -((-a) // b)


def div_trunc(a: int, b: int) -> int:
    """a / b toward zero: Solidity's signed `/`."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class Model:
    """PerpVenue's formulas with Python integers."""

    @staticmethod
    def notional(size: int, price: int) -> int:
        return div_up(abs(size) * price, UNIT)

    @staticmethod
    def trade_cost(cfg: dict, size_delta: int, price: int) -> tuple[int, int, int]:
        """(fee, impact, executionPrice) of a trade, as PerpVenue._tradeCost."""
        notional = Model.notional(size_delta, price)
        fee = div_up(notional * cfg["takerFeeBps"], BPS)
        impact_wad = min(div_up(notional * WAD, cfg["impactDepth"]), cfg["maxImpactBps"] * 10**14)
        impact = div_up(notional * impact_wad, WAD)
        if size_delta > 0:
            execution = div_up(price * (WAD + impact_wad), WAD)
        else:
            execution = div_down(price * (WAD - impact_wad), WAD)
        return fee, impact, execution

    @staticmethod
    def pnl(size: int, open_notional: int, price: int) -> int:
        """Unrealised PnL, rounded down."""
        return div_down(size * price - open_notional, UNIT)

    @staticmethod
    def reduce(size: int, open_notional: int, size_delta: int, price: int) -> tuple[int, int]:
        """(realised PnL, open notional removed) of a trade against the position."""
        closing = min(abs(size_delta), abs(size))
        removed = open_notional if closing == abs(size) else div_trunc(open_notional * closing, abs(size))
        closed = closing if size > 0 else -closing
        return div_down(closed * price - removed, UNIT), removed

    @staticmethod
    def rate(cfg: dict, longs: int, shorts: int) -> int:
        """Funding rate per day (WAD) from the open interest."""
        if longs + shorts == 0:
            return 0
        return div_trunc(cfg["maxFundingRatePerDay"] * (longs - shorts), longs + shorts)

    @staticmethod
    def index_delta(rate: int, price: int, elapsed: int) -> int:
        return div_down(rate * price * elapsed, DAY * WAD)

    @staticmethod
    def owed(size: int, index_diff: int) -> int:
        """Funding an account owes, rounded up."""
        return div_up(size * index_diff, UNIT)

    @staticmethod
    def margin_bps(notional: int, bps: int) -> int:
        return div_up(notional * bps, BPS)


@pytest.fixture(scope="session")
def model():
    return Model


@pytest.fixture(scope="session")
def cfg(venue):
    """The BTC market's configuration as a dict with the Solidity names (feed, heartbeat, takerFeeBps, ...)."""
    return MarketConfig.abi_dict(venue.marketConfig(BTC))


@pytest.fixture(scope="session")
def price0(feed):
    """The BTC oracle price at the start of every test, 18 decimals."""
    return feed.latestRoundData()[1] * 10**10


@pytest.fixture(scope="session")
def block_time(chain):
    """block_time(receipt=None): timestamp of the receipt's block, or of the head block."""

    def _time(receipt=None) -> int:
        return chain_helpers.block_time(chain, receipt)

    return _time


@pytest.fixture(scope="session")
def open_account(venue, fund):
    """open_account(account, margin_usd, size=0, market=venue): margin in, then an optional trade."""

    def _open(account, margin, size=0, market=None):
        market = market or venue
        units = fund(account, margin, market)
        market.depositMargin(BTC, account, units, sender=account)
        if size:
            market.trade(BTC, size, 0, sender=account)
        return units

    return _open


@pytest.fixture(scope="session")
def assert_conserved(usd):
    """assert_conserved(market, accounts): collateral held == pool cash + every account's stored margin."""

    def _check(market, accounts, market_ids=(BTC,)) -> None:
        check_conserved(usd, market, accounts, market_ids)

    return _check


@pytest.fixture(scope="module")
def no_funding(venue, gov, cfg):
    """Sets the BTC market's funding rate to zero, so amounts do not depend on block timestamps."""
    venue.setMarketConfig(BTC, {**cfg, "maxFundingRatePerDay": 0}, sender=gov)


@pytest.fixture(scope="session", autouse=True)
def _venue_session(
    gov, lp, whale, fish, stranger, usd, feed, venue, fund, set_price, cfg, price0, make_venue, open_account, model,
    block_time, assert_conserved, reverts,
):
    """Sets up the session fixtures before any test's snapshot, so ape need not rebase its isolation."""
