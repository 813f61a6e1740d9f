"""A stale oracle (older than the 2-day heartbeat) stops deposits, redemptions and rebalances."""

import pytest

from levtoken.units import to_units
from tests.utils.constants import HEARTBEAT


@pytest.fixture
def stale(token, deposit, whale, keeper, feed, fund, chain):
    deposit(token, whale, 10_000)
    fund(keeper, 1)  # any transaction: marks the time of the last price
    updated_at = feed.latestRoundData()[3]
    chain.pending_timestamp = updated_at + HEARTBEAT + 1
    fund(keeper, 1)  # mines a block past the heartbeat, so views see it too
    return token, updated_at


def test_deposit__stale_price__reverts(stale, venue, fund, fish, reverts):
    token, updated_at = stale
    assets = fund(fish, 1_000, token)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.deposit(assets, fish, sender=fish)


def test_redeem__stale_price__reverts(stale, venue, whale, reverts):
    token, updated_at = stale
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.redeem(10**18, whale, whale, sender=whale)


def test_rebalance_ripcord__stale_price__revert(stale, venue, keeper, stranger, reverts):
    token, updated_at = stale
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.rebalance(sender=keeper)
    with reverts(venue.StalePrice):
        token.ripcord(sender=stranger)
    with reverts(venue.StalePrice):
        token.performUpkeep(b"", sender=stranger)


def test_views__stale_price__revert(stale, venue, reverts):
    token, _ = stale
    with reverts(venue.StalePrice):
        token.previewDeposit(to_units(1_000))
    with reverts(venue.StalePrice):
        token.rebalanceStatus()


def test_redeem__fresh_price_again__pays(stale, whale, usd, set_price):
    token, _ = stale
    set_price(30_000)
    token.redeem(token.balanceOf(whale), whale, whale, sender=whale)
    assert usd.balanceOf(whale) > to_units(9_900)


def test_redeem__price_exactly_heartbeat_old__pays(token, deposit, whale, feed, chain, usd):
    deposit(token, whale, 10_000)
    chain.pending_timestamp = feed.latestRoundData()[3] + HEARTBEAT
    token.redeem(token.balanceOf(whale), whale, whale, sender=whale)
    assert usd.balanceOf(whale) > to_units(9_900)
