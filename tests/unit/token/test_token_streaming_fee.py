"""Streaming fee: S*f/(1-f) shares to the fee recipient with f = feePerDay * elapsed / 1 day, accrued
before every state change (including a parameter change)."""

import pytest

from levtoken.units import DAY, WAD
from tests.utils.constants import VIRTUAL_SHARES
from tests.utils.requests import settlement_of


def _fee(supply, fee_per_day, elapsed):
    fraction = min(fee_per_day * elapsed // DAY, WAD // 2)
    return supply * fraction // (WAD - fraction)


@pytest.mark.parametrize("days", [1, 3, 30])
def test_accrueStreamingFee__after_days__mints_exact_dilution(token, deposit, whale, fee_recipient, advance, days, pin):
    deposit(token, whale, 10_000)
    start = token.lastFeeAccrual()
    advance(days * DAY)
    supply = token.totalSupply()
    fee_before = token.balanceOf(fee_recipient)
    pin()
    pending = token.pendingStreamingFee()
    tx = token.accrueStreamingFee(sender=whale)
    event = tx.events.filter(token.StreamingFeeAccrued)[0]
    elapsed = tx.timestamp - start
    assert event.elapsed == elapsed >= days * DAY
    expected = _fee(supply, 10**14, elapsed)
    assert event.holdersFee == pending == expected
    assert token.balanceOf(fee_recipient) - fee_before == expected
    assert token.lastFeeAccrual() == tx.timestamp
    assert token.pendingStreamingFee() == 0


def test_accrueStreamingFee__same_block_twice__second_mints_nothing(token, deposit, whale, advance, pin):
    deposit(token, whale, 10_000)
    advance(DAY)
    token.accrueStreamingFee(sender=whale)
    supply = token.totalSupply()
    pin()
    tx = token.accrueStreamingFee(sender=whale)
    assert token.totalSupply() == supply
    assert len(tx.events.filter(token.StreamingFeeAccrued)) == 0


def test_accrueStreamingFee__no_supply__mints_nothing(token, advance, whale):
    advance(10 * DAY)
    assert token.pendingStreamingFee() == 0
    token.accrueStreamingFee(sender=whale)
    assert token.totalSupply() == 0


def test_pendingStreamingFee__maximum_rate__fraction_of_holders_value(create_token, deposit, whale, advance, pin):
    token = create_token(3, streamingFeePerDay=10**15)
    deposit(token, whale, 10_000)
    advance(DAY)
    supply = token.totalSupply()
    pin()
    elapsed = token.lastFeeAccrual()
    token.accrueStreamingFee(sender=whale)
    # The holders' part of the supply shrinks by exactly the day's fraction (0.1%), to rounding.
    holders_part = supply * WAD // token.totalSupply()
    assert abs(holders_part - (WAD - 10**15 * (token.lastFeeAccrual() - elapsed) // DAY)) <= 1


def test_setParams__fee_change__accrues_at_old_rate_first(token, deposit, whale, fee_recipient, advance, set_params):
    deposit(token, whale, 10_000)
    start = token.lastFeeAccrual()
    advance(2 * DAY)
    supply = token.totalSupply()
    fee_before = token.balanceOf(fee_recipient)
    tx = set_params(token, streamingFeePerDay=3 * 10**14)  # 0.01%/day to 0.03%/day, within one change's step
    accrued = tx.events.filter(token.StreamingFeeAccrued)[0].holdersFee
    assert accrued == _fee(supply, 10**14, tx.timestamp - start)
    assert token.balanceOf(fee_recipient) - fee_before == accrued


def test_setParams__fee_recipient_change__old_recipient_paid_for_the_past(
    token, deposit, whale, fee_recipient, stranger, advance, set_params
):
    deposit(token, whale, 10_000)
    advance(DAY)
    before = token.balanceOf(fee_recipient)
    set_params(token, feeRecipient=stranger.address)
    assert token.balanceOf(fee_recipient) > before
    assert token.balanceOf(stranger) == 0
    advance(DAY)
    token.accrueStreamingFee(sender=whale)
    assert token.balanceOf(stranger) > 0


def test_settlement__after_a_day__streaming_fee_accrued_first(
    token, deposit, request_deposit, settle, whale, fish, fee_recipient, advance
):
    deposit(token, whale, 10_000)
    start = token.lastFeeAccrual()
    advance(DAY)
    request_deposit(token, fish, 1_000)
    assert token.lastFeeAccrual() == start  # a request accrues nothing
    supply = token.totalSupply()
    fee_before = token.balanceOf(fee_recipient)
    (tx,) = settle(token)
    streaming = tx.events.filter(token.StreamingFeeAccrued)[0].holdersFee
    assert streaming == _fee(supply, 10**14, tx.timestamp - start)
    mint_fee = settlement_of(token, tx).mint_fee
    assert token.balanceOf(fee_recipient) - fee_before == streaming + mint_fee


def test_streaming_fee__escrowed_shares__diluted_like_others(token, deposit, settle, whale, fee_recipient, advance):
    deposit(token, whale, 10_000)
    shares = token.balanceOf(whale) // 2
    token.requestRedeem(shares, whale, whale, sender=whale)
    assert token.balanceOf(token) == shares  # escrowed, still in the supply
    start = token.lastFeeAccrual()
    advance(DAY)
    supply = token.totalSupply()
    (tx,) = settle(token)
    streaming = tx.events.filter(token.StreamingFeeAccrued)[0].holdersFee
    assert streaming == _fee(supply, 10**14, tx.timestamp - start)  # on the whole supply, escrow included
    t = settlement_of(token, tx)
    block = tx.block_number - 1
    equity = token.equity(block_id=block)
    gross = (shares - t.redeem_fee) * (equity + 1) // (supply + streaming + VIRTUAL_SHARES)
    assert t.assets_out == gross - t.cost_r
