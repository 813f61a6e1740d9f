"""A token every holder emptied (issue 10, item 4): what it holds after the last settlement, that nothing is
then due (the band rebalance the old flow reported reverted InsufficientMargin), and the next deposit."""

from __future__ import annotations

import pytest

from levtoken.shapes import Action
from levtoken.units import BPS, DAY, to_units
from tests.utils.requests import settlement_of

ROUNDS = 4  # the fee recipient's own redemptions pay it 0.1% of itself back: a few rounds leave dust


@pytest.fixture
def emptied(token, deposit, redeem, whale, fee_recipient, keeper, advance):
    """The 3x long after 50,000 of the whale's deposit, three days of +5% a day rebalanced by the keeper (the
    streaming fee accruing to the fee recipient), then every holder redeeming everything, ROUNDS times."""
    deposit(token, whale, 50_000)
    for day in range(3):
        advance(DAY, 60_000 * 105 ** (day + 1) // 100 ** (day + 1))
        if int(token.rebalanceStatus().action):
            token.performUpkeep(b"", sender=keeper)
    for _ in range(ROUNDS):
        for holder in (whale, fee_recipient):
            if int(token.balanceOf(holder)):
                redeem(token, holder, token.balanceOf(holder))
    return token


def test_full_redemption__token_holds_dust_and_nothing_is_due(emptied, venue, usd, advance, keeper, reverts):
    token = emptied
    value, size, _ = venue.accountState(1, token)
    idle = int(usd.balanceOf(token)) - int(token.escrowAssets())
    assert 0 <= int(value) + idle < to_units(1), "more than dust left"
    assert int(size) != 0  # the dust position the last redemption was too small to close
    assert int(token.escrowAssets()) < 2 * ROUNDS
    assert int(token.totalSupply()) > 0  # the fee recipient's last redemption fee
    assert int(token.rebalanceStatus().action) == Action.NONE
    with reverts(token.RebalanceNotDue):
        token.rebalance(sender=keeper)
    # A day later, the price 40% away: still nothing due.
    advance(DAY, 40_000)
    assert int(token.rebalanceStatus().action) == Action.NONE
    assert token.checkUpkeep(b"")[0] is False


def test_full_redemption__next_deposit_settles_at_nav(emptied, request_deposit, settle, stranger, keeper):
    token = emptied
    assets = request_deposit(token, stranger, 20_000)
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    assert int(token.maxDeposit(stranger)) == assets
    token.deposit(assets, stranger, sender=stranger)
    fair = (assets - t.cost_d) * (BPS - t.mint_fee_bps) // BPS
    value = int(token.convertToAssets(token.balanceOf(stranger)))
    assert fair - 100 <= value <= assets
    assert int(token.rebalanceStatus().action) == Action.NONE  # hedged at target
