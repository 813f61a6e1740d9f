"""Sandwiching a settlement's trade.

A settlement trades the deposits' hedge and the redemptions' pro-rata close as one venue trade, at the
oracle price of the round that prices them plus an impact that depends only on that trade's own size. A
large venue trade placed right before the keeper's settlement (after the round, in the same block) changes
nothing the requesters receive: the settlement is the same, field for field, as without it, and the attacker
pays its own fee and impact both ways. (The price itself is the round's, published after the requests.)
"""

import pytest

from levtoken.units import to_feed, to_units, to_wad
from tests.utils.chain import head_time
from tests.utils.constants import BTC
from tests.utils.requests import settlement_of

P0 = 30_000


@pytest.fixture
def token(create_token, deposit, whale, fish):
    token = create_token(3)
    deposit(token, whale, 100_000)
    deposit(token, fish, 10_000)
    return token


SIDES = ["deposit", "redeem", "both"]


@pytest.mark.parametrize("direction", [1, -1], ids=["attacker-buys-first", "attacker-sells-first"])
@pytest.mark.parametrize("side", SIDES)
def test_settlement__large_venue_trade_just_before__requesters_get_the_same(
    token, chain, feed, gov, keeper, venue, usd, fund, request_deposit, whale, fish, stranger, side, direction
):
    victim, attacker = fish, stranger
    margin = fund(attacker, 500_000, venue)
    venue.depositMargin(BTC, attacker, margin, sender=attacker)
    t = head_time(chain) + 1
    chain.pending_timestamp = t
    if side in ("deposit", "both"):
        request_deposit(token, victim, 10_000)
    if side in ("redeem", "both"):
        token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    chain.pending_timestamp = t + 1
    feed.submit(to_feed(P0), sender=gov)
    size = direction * to_wad(100)  # 3M USD, about 100 times the settlement's trade, in its market
    _, _, fee, impact = venue.quoteTrade(BTC, size)

    snapshot = chain.snapshot()
    honest = token.settle(sender=keeper)
    expected = settlement_of(token, honest)
    chain.restore(snapshot)

    venue.trade(BTC, size, 0, sender=attacker)  # front-run
    sandwiched = token.settle(sender=keeper)
    venue.trade(BTC, -size, 0, sender=attacker)  # back-run
    venue.withdrawMargin(BTC, venue.position(BTC, attacker).margin, attacker, sender=attacker)

    got = settlement_of(token, sandwiched)
    assert got == expected
    assert (got.assets > 0) == (side != "redeem") and (got.shares > 0) == (side != "deposit")
    # The attacker paid its own fee and impact on the way in and out, and gained nothing.
    assert fee + impact > to_units(10_000)
    assert usd.balanceOf(attacker) == margin - 2 * (fee + impact)
