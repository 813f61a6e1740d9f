"""Sandwiching the hedge of a mint or a redemption.

The venue fills every trade at the oracle price plus an impact that depends only on that trade's own
size, so no trade by anyone else can move the price a mint's or a redemption's hedge gets: a large trade
placed right before the victim's changes nothing the victim receives. What can change it is the oracle
itself; depositWithMinShares and redeemWithMinAssets bound that with a minimum and a deadline, and a call
outside them reverts with everything left where it was. (The revert cases alone are in
tests/unit/token/test_token_slippage.py; here the state around them is checked too.)
"""

import pytest

from levtoken.units import to_units, to_wad
from tests.utils.constants import BTC, FAR


@pytest.fixture
def token(create_token, deposit, whale, fish):
    token = create_token(3)
    deposit(token, whale, 100_000)
    deposit(token, fish, 10_000)
    return token


@pytest.mark.parametrize("direction", [1, -1], ids=["attacker-buys-first", "attacker-sells-first"])
def test_deposit__large_venue_trade_just_before__victim_gets_the_preview(
    token, venue, usd, fund, fish, stranger, pin, direction
):
    victim, attacker = fish, stranger
    assets = fund(victim, 10_000, token)
    margin = fund(attacker, 500_000, venue)
    venue.depositMargin(BTC, attacker, margin, sender=attacker)
    held = token.balanceOf(victim)
    pin()
    preview = token.previewDeposit(assets)
    size = direction * to_wad(100)  # 3M USD, 100 times the victim's hedge, in the market it trades in
    _, _, fee, impact = venue.quoteTrade(BTC, size)

    pin()
    venue.trade(BTC, size, 0, sender=attacker)  # front-run
    pin()
    assert token.previewDeposit(assets) == preview
    token.depositWithMinShares(assets, victim, preview, FAR, sender=victim)
    pin()
    venue.trade(BTC, -size, 0, sender=attacker)  # back-run
    venue.withdrawMargin(BTC, venue.position(BTC, attacker).margin, attacker, sender=attacker)

    assert token.balanceOf(victim) - held == preview
    # The attacker paid its own fee and impact on the way in and out, and gained nothing.
    assert fee + impact > to_units(10_000)
    assert usd.balanceOf(attacker) == margin - 2 * (fee + impact)


@pytest.mark.parametrize("direction", [-1, 1], ids=["attacker-sells-first", "attacker-buys-first"])
def test_redeem__large_venue_trade_just_before__victim_gets_the_preview(
    token, venue, usd, fund, fish, stranger, pin, direction
):
    victim, attacker = fish, stranger
    shares = token.balanceOf(victim)
    margin = fund(attacker, 500_000, venue)
    venue.depositMargin(BTC, attacker, margin, sender=attacker)
    pin()
    preview = token.previewRedeem(shares)
    before = usd.balanceOf(victim)

    pin()
    venue.trade(BTC, direction * to_wad(100), 0, sender=attacker)
    pin()
    token.redeemWithMinAssets(shares, victim, victim, preview, FAR, sender=victim)

    assert usd.balanceOf(victim) - before == preview
    assert token.balanceOf(victim) == 0


@pytest.mark.parametrize("price", [30_300, 29_700], ids=["up-1pct", "down-1pct"])
def test_deposit__oracle_moves_after_preview__SlippageExceeded_or_at_least_preview(
    token, fund, usd, fish, set_price, pin, state_of, price, reverts
):
    victim = fish
    assets = fund(victim, 10_000, token)
    pin()
    preview = token.previewDeposit(assets)
    pin()
    set_price(price)
    pin()
    now = token.previewDeposit(assets)
    if price > 30_000:
        # NAV of a long rose: the same assets buy fewer shares, so the minimum stops the mint.
        assert now < preview
        before = state_of(token, victim)
        with reverts(token.SlippageExceeded, amount=now, minimum=preview):
            token.depositWithMinShares(assets, victim, preview, FAR, sender=victim)
        assert state_of(token, victim) == before
        assert usd.balanceOf(victim) == assets
    else:
        # NAV fell: more shares than the minimum; the minimum only ever protects the caller.
        assert now > preview
        held = token.balanceOf(victim)
        token.depositWithMinShares(assets, victim, preview, FAR, sender=victim)
        assert token.balanceOf(victim) - held == now


def test_redeem__oracle_falls_after_preview__SlippageExceeded_state_unchanged(
    token, fish, usd, set_price, pin, state_of, reverts
):
    victim = fish
    shares = token.balanceOf(victim)
    pin()
    preview = token.previewRedeem(shares)
    pin()
    set_price(29_700)
    pin()
    now = token.previewRedeem(shares)
    assert now < preview
    before = state_of(token, victim)
    with reverts(token.SlippageExceeded, amount=now, minimum=preview):
        token.redeemWithMinAssets(shares, victim, victim, preview, FAR, sender=victim)
    assert state_of(token, victim) == before


def test_deposit_redeem__held_past_deadline__DeadlineExpired_state_unchanged(
    token, fund, fish, chain, state_of, reverts
):
    victim = fish
    assets = fund(victim, 10_000, token)
    shares = token.balanceOf(victim) // 2
    deadline = chain.blocks.head.timestamp + 60
    # A builder holds both transactions until after the deadline (and the price could have moved).
    chain.pending_timestamp = deadline + 1
    before = state_of(token, victim)
    with reverts(token.DeadlineExpired, deadline=deadline):
        token.depositWithMinShares(assets, victim, 0, deadline, sender=victim)
    with reverts(token.DeadlineExpired, deadline=deadline):
        token.redeemWithMinAssets(shares, victim, victim, 0, deadline, sender=victim)
    assert state_of(token, victim) == before
