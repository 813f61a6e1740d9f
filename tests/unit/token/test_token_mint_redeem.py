"""Deposits and redemptions through settlements: the requesters pay their trade and fees, to the unit, and
leverage is unchanged."""

import pytest

from levtoken.shapes import Reason
from levtoken.units import BPS, WAD, to_units
from tests.utils.constants import VIRTUAL_SHARES
from tests.utils.requests import settlement_of


def _up(a, b, c):
    return -(-a * b // c)


def test_deposit_then_redeem__round_trip__pays_back_paid_less_costs_and_fee_shares(
    create_token, deposit, fund, settle, whale, fish, usd, venue, fee_recipient
):
    token = create_token(3, streamingFeePerDay=0)  # 0.1% mint and redeem fees
    deposit(token, whale, 10_000)
    paid = fund(fish, 5_000, token)
    fee_before = token.balanceOf(fee_recipient)
    token.requestDeposit(paid, fish, fish, sender=fish)
    (first,) = settle(token)
    t1 = settlement_of(token, first)
    token.deposit(paid, fish, sender=fish)
    shares = token.balanceOf(fish)
    assert shares == t1.shares_out
    # The settlement's cost is the venue's quote of its trade: fee and impact, at most a unit of rounding.
    trade1 = first.events.filter(venue.PositionModified)[0]
    assert 0 <= t1.cost - trade1.fee <= 1

    token.requestRedeem(shares, fish, fish, sender=fish)
    (second,) = settle(token)
    t2 = settlement_of(token, second)
    assert t2.redeem_fee == _up(shares, 10, BPS)
    balance = usd.balanceOf(fish)
    token.redeem(shares, fish, fish, sender=fish)
    back = usd.balanceOf(fish) - balance
    assert back == t2.assets_out
    block = second.block_number - 1
    equity = token.equity(block_id=block)
    supply = token.totalSupply(block_id=block)
    gross = (shares - t2.redeem_fee) * (equity + 1) // (supply + VIRTUAL_SHARES)
    assert back == gross - t2.cost
    assert back < paid - t1.cost - t2.cost
    assert token.balanceOf(fee_recipient) - fee_before == t1.mint_fee + t2.redeem_fee


@pytest.mark.parametrize("leverage", [3, -3, -1])
def test_deposit_then_redeem__no_fees__never_returns_more_than_paid(create_token, deposit, settle, whale, fish, usd, leverage):
    token = create_token(leverage, mintFeeBps=0, redeemFeeBps=0, streamingFeePerDay=0)
    deposit(token, whale, 10_000)
    for amount in (1, 7_777):
        paid = to_units(amount)
        balance = usd.balanceOf(fish)
        deposit(token, fish, amount)  # mints `paid` to fish and spends it
        shares = token.balanceOf(fish)
        token.requestRedeem(shares, fish, fish, sender=fish)
        settle(token)
        token.redeem(shares, fish, fish, sender=fish)
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
def test_redeem__partial__leverage_unchanged(create_token, deposit, redeem, whale, advance, rel, leverage):
    token = create_token(leverage)
    deposit(token, whale, 10_000)
    advance(3_600, 31_000)
    for fraction in (100, 3, 2):
        before = token.leverage()
        redeem(token, whale, token.balanceOf(whale) // fraction)
        assert rel(token.leverage(), before) < 1e-6


def test_withdraw__partial_claim__leverage_unchanged_and_rest_claimable(token, deposit, settle, whale, rel, usd):
    deposit(token, whale, 10_000)
    before = token.leverage()
    token.requestRedeem(token.balanceOf(whale) // 4, whale, whale, sender=whale)
    settle(token)
    assert rel(token.leverage(), before) < 1e-6
    claimable = token.maxWithdraw(whale)
    token.withdraw(to_units(1_000), whale, whale, sender=whale)
    assert token.maxWithdraw(whale) == claimable - to_units(1_000)
    assert rel(token.leverage(), before) < 1e-6  # a claim moves only escrow


def test_deposit__first_mint__leverage_at_target(token, deposit, whale, rel):
    deposit(token, whale, 10_000)
    assert rel(token.leverage(), 3 * WAD) < 1e-6


def test_settlement__remaining_holders__nav_not_diluted(token, deposit, request_deposit, settle, whale, fish):
    deposit(token, whale, 10_000)
    request_deposit(token, fish, 20_000)
    (receipt,) = settle(token)
    # Measured across the settlement alone (same second): the time between accrues funding and fees.
    assert token.navPerToken(block_id=receipt.block_number) >= token.navPerToken(block_id=receipt.block_number - 1)
    token.deposit(token.maxDeposit(fish), fish, sender=fish)
    token.requestRedeem(token.balanceOf(fish), fish, fish, sender=fish)
    (receipt,) = settle(token)
    assert token.navPerToken(block_id=receipt.block_number) >= token.navPerToken(block_id=receipt.block_number - 1)
