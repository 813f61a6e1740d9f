"""Sandwiching a rebalance's swap on the money-market venue (docs/attacks.md 13).

On the perpetual venue a trade fills at the oracle price plus its own impact, so nobody's order can move it. On a
DEX the token's swap fills at the pool's price, which an attacker can push before it and take back after. The
venue bounds the swap: its whole cost, the pool's fee included, may not pass maxSlippageBps (1%) of its notional at
the oracle price (the swap's price limit is set so), so a sandwich takes at most that bound, and a pool pushed beyond
it refuses the swap (SwapBeyondBound) until it comes back. Measured here: the same rebalance with and without the
attacker, from one snapshot.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from levtoken.money_market import MAX_SLIPPAGE_BPS
from levtoken.protocols import pool_price, sqrt_price_x96
from levtoken.shapes import Action
from levtoken.units import DAY
from tests.utils import chain as chain_helpers
from tests.utils.constants import INITIAL_PRICE

RISE = Decimal("1.06")  # a day's move after which the 3x long buys back up to target


@pytest.fixture
def due(mm, mm_token, deposit, whale, move, chain):
    """A 3x long with $250,000 of the whale's deposit, a day and a 6% rise later: its time rebalance buys BTC."""
    token = mm_token(3)
    deposit(token, whale, 250_000)
    chain_helpers.advance(chain, DAY)
    move(INITIAL_PRICE * RISE)
    assert token.rebalanceStatus().action == Action.REBALANCE and token.rebalanceStatus().sizeDelta > 0
    return token


def _push(mm, usd, btc, attacker, to_price: Decimal) -> int:
    """The attacker buys BTC in the pool until its price reaches `to_price`; returns the BTC it bought."""
    limit = sqrt_price_x96(to_price, btc.decimals(), usd.decimals(), mm.pool.token0() == btc.address)
    before = btc.balanceOf(attacker)
    usd.approve(mm.protocols.router.address, 2**256 - 1, sender=attacker)
    mm.protocols.router.exactInputSingle(
        (usd.address, btc.address, mm.pool.fee(), attacker.address, 2**64, usd.balanceOf(attacker), 0, limit),
        sender=attacker)
    return btc.balanceOf(attacker) - before


def _sell(mm, usd, btc, attacker, amount: int) -> int:
    """The attacker sells `amount` BTC back into the pool; returns the dollars (units) it got."""
    before = usd.balanceOf(attacker)
    btc.approve(mm.protocols.router.address, amount, sender=attacker)
    mm.protocols.router.exactInputSingle(
        (btc.address, usd.address, mm.pool.fee(), attacker.address, 2**64, amount, 0, 0), sender=attacker)
    return usd.balanceOf(attacker) - before


def _highest_push(due, mm, usd, btc, attacker, oracle: Decimal, chain) -> Decimal:
    """The highest pool price (to 0.01%) the attacker can push to and still have the rebalance go: its swap then
    ends at the pool price the bound allows. Found by bisection on the token's own status, each try undone."""
    low, high = Decimal(0), Decimal(MAX_SLIPPAGE_BPS) / 10_000
    while high - low > Decimal("0.0001"):
        mid = (low + high) / 2
        snapshot = chain.snapshot()
        _push(mm, usd, btc, attacker, oracle * (1 + mid))
        goes = due.rebalanceStatus().action == Action.REBALANCE
        chain.restore(snapshot)
        low, high = (mid, high) if goes else (low, mid)
    return oracle * (1 + low)


def test_sandwich__pool_pushed_as_far_as_the_bound_lets__costs_the_token_at_most_the_bound(due, mm, usd, btc,
                                                                                          stranger, keeper, chain):
    """The attacker pushes the pool as far as the rebalance's buy still goes (its swap then ends at the bound, 1%
    above the oracle) and sells back after it. The rebalance pays more than alone, and its whole cost stays within
    the bound on its notional: the most a sandwich can take."""
    oracle = Decimal(INITIAL_PRICE) * RISE
    snapshot = chain.snapshot()
    honest = due.rebalance(sender=keeper).events.filter(due.Rebalanced)[0]
    chain.restore(snapshot)
    usd.mint(stranger, 50_000_000 * 10**6, sender=stranger)
    push = _highest_push(due, mm, usd, btc, stranger, oracle, chain)
    spent = usd.balanceOf(stranger)
    bought = _push(mm, usd, btc, stranger, push)
    spent -= usd.balanceOf(stranger)
    sandwiched = due.rebalance(sender=keeper).events.filter(due.Rebalanced)[0]
    got = _sell(mm, usd, btc, stranger, bought)
    notional = sandwiched.sizeDelta * sandwiched.price // 10**30  # USD units
    extra = sandwiched.cost - honest.cost
    # The swap's whole cost (pool fee, impact and the attacker's push) stays within the bound on its notional; the
    # token sizes the trade net of its quoted cost, so it buys a little less.
    assert 0 < extra < sandwiched.cost <= notional * MAX_SLIPPAGE_BPS // 10_000 + 1  # and a unit of rounding
    assert sandwiched.sizeDelta < honest.sizeDelta
    print(f"\nrebalance buys ${notional / 1e6:,.0f}: cost ${honest.cost / 1e6:,.2f} alone, "
          f"${sandwiched.cost / 1e6:,.2f} sandwiched (+${extra / 1e6:,.2f}, bound "
          f"${notional * MAX_SLIPPAGE_BPS / 10_000 / 1e6:,.2f}); the pool pushed to {push / oracle - 1:.2%}; the "
          f"attacker nets ${(got - spent) / 1e6:,.2f}")


def test_sandwich__pool_pushed_past_the_bound__the_swap_refuses_until_it_returns(due, mm, usd, btc, stranger, keeper,
                                                                                move, reverts):
    """Pushed 1.5% above the oracle, the pool would fill the buy beyond the bound: the status says no rebalance can
    go now, a keeper's attempt reverts SwapBeyondBound, and once the pool is back at the oracle (arbitrage) it goes."""
    oracle = Decimal(INITIAL_PRICE) * RISE
    usd.mint(stranger, 50_000_000 * 10**6, sender=stranger)
    _push(mm, usd, btc, stranger, oracle * Decimal("1.015"))
    assert pool_price(mm.pool, btc, usd) > oracle * Decimal("1.01")
    assert due.rebalanceStatus().action == Action.NONE
    with reverts(mm.venue.SwapBeyondBound):
        due.rebalance(sender=keeper)
    move(INITIAL_PRICE * RISE)
    assert due.rebalanceStatus().action == Action.REBALANCE
    due.rebalance(sender=keeper)
