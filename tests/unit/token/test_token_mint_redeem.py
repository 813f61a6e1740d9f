"""Mint and redeem: the caller pays its own hedge and fees, to the unit, and leverage is unchanged."""

import pytest

from levtoken.shapes import Reason
from levtoken.units import BPS, WAD, to_units
from tests.utils.constants import VIRTUAL_SHARES


def _up(a, b, c):
    return -(-a * b // c)


def test_mint_then_redeem__same_block__returns_paid_less_hedges_and_fee_shares(
    create_token, deposit, fund, whale, fish, usd, venue, fee_recipient, pin
):
    token = create_token(3, streamingFeePerDay=0)  # 0.1% mint and redeem fees
    deposit(token, whale, 10_000)
    paid = fund(fish, 5_000, token)
    fee_before = token.balanceOf(fee_recipient)
    pin()
    mint = token.deposit(paid, fish, sender=fish)

    # Mint: the hedge cost is the venue's fee plus impact; shares are the contribution at NAV, less the
    # fee. The state the mint saw is read back from the state it left (block of the mint).
    hedge1 = mint.events.filter(token.HedgeExecuted)[0]
    trade1 = mint.events.filter(venue.PositionModified)[0]
    assert 0 <= hedge1.hedgeCost - trade1.fee <= 1  # fee and impact, plus a unit of PnL rounding
    contribution = paid - hedge1.hedgeCost
    shares = token.balanceOf(fish)
    equity0 = token.equity(block_id=mint.block_number) - contribution
    supply0 = token.totalSupply(block_id=mint.block_number) - shares - hedge1.feeShares
    total = contribution * (supply0 + VIRTUAL_SHARES) // (equity0 + 1)
    fee1 = _up(total, 10, BPS)
    assert (shares, hedge1.feeShares) == (total - fee1, fee1)

    # Redeem everything at the same timestamp.
    pin()
    balance = usd.balanceOf(fish)
    redeem = token.redeem(shares, fish, fish, sender=fish)
    back = usd.balanceOf(fish) - balance
    hedge2 = redeem.events.filter(token.HedgeExecuted)[0]
    trade2 = redeem.events.filter(venue.PositionModified)[0]
    assert 0 <= hedge2.hedgeCost - trade2.fee <= 1
    fee2 = _up(shares, 10, BPS)
    assert hedge2.feeShares == fee2
    burnt = shares - fee2
    # The redemption charges the quoted fee and impact plus one unit of PnL rounding, which may stay
    # with the holders, so the state it saw is read from the block before it.
    equity1 = token.equity(block_id=redeem.block_number - 1)
    supply1 = token.totalSupply(block_id=redeem.block_number - 1)
    assert token.equity(block_id=redeem.block_number) - (equity1 - hedge2.hedgeCost - back) in (0, 1)
    gross = burnt * (equity1 + 1) // (supply1 + VIRTUAL_SHARES)
    assert back == gross - hedge2.hedgeCost

    # Together (same timestamp, so no funding accrued in between): paid - both hedges - value of the
    # fee shares, less at most a unit of rounding per division, and never more than was paid.
    assert redeem.timestamp == mint.timestamp
    assert not [e for e in redeem.events.filter(venue.FundingSettled) if e.account == token.address]
    fee_value = (fee1 + fee2) * (equity1 + 1) // (supply1 + VIRTUAL_SHARES)
    rounding = paid - hedge1.hedgeCost - hedge2.hedgeCost - fee_value - back
    assert 0 <= rounding <= 3
    assert back < paid
    assert token.balanceOf(fee_recipient) - fee_before == fee1 + fee2


@pytest.mark.parametrize("leverage", [3, -3, -1])
def test_mint_then_redeem__no_fees__never_returns_more_than_paid(create_token, deposit, fund, whale, fish, usd, pin, leverage):
    token = create_token(leverage, mintFeeBps=0, redeemFeeBps=0, streamingFeePerDay=0)
    deposit(token, whale, 10_000)
    for amount in (1, 333, 7_777):
        paid = fund(fish, amount, token)
        balance = usd.balanceOf(fish) - paid
        pin()
        token.deposit(paid, fish, sender=fish)
        pin()
        token.redeem(token.balanceOf(fish), fish, fish, sender=fish)
        assert usd.balanceOf(fish) - balance < paid


@pytest.mark.parametrize("leverage", [3, -3, -1])
def test_deposit__after_rebalance__leverage_unchanged(
    create_token, deposit, whale, fish, keeper, set_price, price_now, rel, leverage
):
    token = create_token(leverage)
    deposit(token, whale, 10_000)
    set_price(price_now() * {3: 0.87, -3: 1.07, -1: 1.16}[leverage])  # out of the band
    assert token.rebalanceStatus().reason == Reason.BAND
    token.rebalance(sender=keeper)
    for amount in (50, 5_000, 40_000):
        before = token.leverage()
        deposit(token, fish, amount)
        assert rel(token.leverage(), before) < 1e-6


@pytest.mark.parametrize("leverage", [3, -3, -1])
def test_redeem__partial__leverage_unchanged(create_token, deposit, whale, advance, rel, leverage):
    token = create_token(leverage)
    deposit(token, whale, 10_000)
    advance(3_600, 31_000)
    for fraction in (100, 3, 2):
        before = token.leverage()
        token.redeem(token.balanceOf(whale) // fraction, whale, whale, sender=whale)
        assert rel(token.leverage(), before) < 1e-6


def test_withdraw__partial__leverage_unchanged(token, deposit, whale, rel):
    deposit(token, whale, 10_000)
    before = token.leverage()
    token.withdraw(to_units(2_000), whale, whale, sender=whale)
    assert rel(token.leverage(), before) < 1e-6


def test_deposit__first_mint__leverage_at_target(token, deposit, whale, rel):
    deposit(token, whale, 10_000)
    assert rel(token.leverage(), 3 * WAD) < 1e-6


def test_deposit__remaining_holders__nav_not_diluted(token, deposit, whale, fish, pin):
    deposit(token, whale, 10_000)
    pin()
    nav = token.navPerToken()
    deposit(token, fish, 20_000)
    assert token.navPerToken() >= nav
    pin()
    nav = token.navPerToken()
    token.redeem(token.balanceOf(fish), fish, fish, sender=fish)
    assert token.navPerToken() >= nav
