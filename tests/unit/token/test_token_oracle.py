"""A stale oracle (older than the 2-day heartbeat) stops settlements and rebalances; requests are still
taken and wait, and the views fall back on the last recorded valuation."""

import pytest

from levtoken.shapes import Action
from levtoken.units import to_units
from tests.utils import chain as chain_helpers
from tests.utils.constants import HEARTBEAT


@pytest.fixture
def stale(token, deposit, whale, keeper, feed, fund, chain):
    deposit(token, whale, 10_000)
    fund(keeper, 1)  # any transaction: marks the time of the last price
    updated_at = feed.latestRoundData()[3]
    chain.pending_timestamp = updated_at + HEARTBEAT + 1
    fund(keeper, 1)  # mines a block past the heartbeat, so views see it too
    return token, updated_at


def test_requests__stale_price__accepted_and_settlement_reverts(
    stale, venue, request_deposit, fish, whale, keeper, reverts
):
    token, updated_at = stale
    assets = request_deposit(token, fish, 1_000)
    token.requestRedeem(10**18, whale, whale, sender=whale)
    assert token.pendingDepositRequest(0, fish) == assets
    assert token.pendingRedeemRequest(0, whale) == 10**18
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.settle(sender=keeper)


def test_rebalance_ripcord__stale_price__revert(stale, venue, keeper, stranger, reverts):
    token, updated_at = stale
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.rebalance(sender=keeper)
    with reverts(venue.StalePrice):
        token.ripcord(sender=stranger)
    with reverts(venue.StalePrice):
        token.performUpkeep(b"", sender=stranger)


def test_views__stale_price__status_none_and_no_upkeep(stale, whale):
    token, _ = stale
    token.requestRedeem(10**18, whale, whale, sender=whale)
    assert token.rebalanceStatus().action == Action.NONE
    assert token.checkUpkeep(b"")[0] is False


def test_redeem__fresh_price_again__settles_and_pays(stale, whale, usd, settle):
    token, _ = stale
    shares = token.balanceOf(whale)
    token.requestRedeem(shares, whale, whale, sender=whale)
    settle(token, price=30_000)
    token.redeem(shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) > to_units(9_900)


def test_settle__price_exactly_heartbeat_old__pays(token, deposit, whale, feed, gov, keeper, chain, usd):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale)
    token.requestRedeem(shares, whale, whale, sender=whale)
    chain_helpers.advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    chain.pending_timestamp = feed.latestRoundData()[3] + HEARTBEAT
    token.settle(sender=keeper)
    token.redeem(shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) > to_units(9_900)
