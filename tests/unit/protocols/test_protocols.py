"""Morpho Blue and Uniswap v3 from their registries' artifacts on the test chain: a BTC/USD pool at the feed's
price that swaps at the price the quoter quotes, and a Morpho market priced by the project's FeedOracle from the
same feed, where a 3x long's loop (collateral in BTC, a USD debt) and a short's (USD collateral, a BTC debt) open."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ape import project

from levtoken.protocols import arbitrage, market_params, open_market, pool_price
from tests.unit.protocols.conftest import PRICE
LLTV = 860_000_000_000_000_000  # 86%: up to 1 / (1 - 0.86) = 7.1x a loop can reach


def test_pool__opened_at_the_feeds_price__swaps_as_quoted(protocols, pool, btc, usd, whale):
    """The pool's price is the feed's to a hundredth of a cent; 1 BTC sold fetches what QuoterV2 quoted, less than
    30,000 by the 0.05% fee and the price impact, and both are paid."""
    assert abs(pool_price(pool, btc, usd) - PRICE) < Decimal("0.01")
    quoted = protocols.quoter.quoteExactInputSingle.call((btc.address, usd.address, 10**18, pool.fee(), 0))[0]
    btc.mint(whale, 10**18, sender=whale)
    btc.approve(protocols.router.address, 10**18, sender=whale)
    before = usd.balanceOf(whale)
    protocols.router.exactInputSingle(
        (btc.address, usd.address, pool.fee(), whale.address, 2**64, 10**18, quoted, 0), sender=whale)
    assert usd.balanceOf(whale) - before == quoted
    assert 29_900 * 10**6 < quoted < 30_000 * 10**6 * (10_000 - 5) // 10_000


@pytest.mark.parametrize("side", ["long", "short"])
def test_market__feed_oracle_prices_collateral__a_loop_opens_within_the_lltv(protocols, btc, usd, feed, gov, lp,
                                                                             whale, side):
    """A long's market (BTC collateral, USD borrowed) and a short's (USD collateral, BTC borrowed), each priced by
    FeedOracle from the BTC feed: the oracle's price is the feed's in Morpho's 1e36 scale, a borrow within the LLTV
    opens and one past it is refused by Morpho itself."""
    long = side == "long"
    collateral, loan = (btc, usd) if long else (usd, btc)
    oracle = gov.deploy(project.FeedOracle, feed.address, 2 * 86_400, collateral.decimals(), loan.decimals(),
                        not long)
    expected = 30_000 * 10**6 * 10**36 // 10**18 if long else 10**36 * 10**18 // (30_000 * 10**6)
    assert oracle.price() == expected
    params = market_params(loan.address, collateral.address, oracle.address, protocols.irm.address, LLTV)
    market = open_market(protocols, params, gov)
    morpho = protocols.morpho
    supply = 1_000_000 * 10**6 if long else 100 * 10**18
    loan.mint(lp, supply, sender=lp)
    loan.approve(morpho.address, supply, sender=lp)
    morpho.supply(params, supply, 0, lp.address, b"", sender=lp)
    posted = 10**18 if long else 30_000 * 10**6  # $30,000 of collateral either way
    collateral.mint(whale, posted, sender=whale)
    collateral.approve(morpho.address, posted, sender=whale)
    morpho.supplyCollateral(params, posted, whale.address, b"", sender=whale)
    limit = 25_800 * 10**6 if long else 86 * 10**16  # 86% of $30,000, in the loan token
    with pytest.raises(Exception, match="insufficient collateral"):
        morpho.borrow(params, limit + (10**6 if long else 10**15), 0, whale.address, whale.address, sender=whale)
    morpho.borrow(params, limit * 99 // 100, 0, whale.address, whale.address, sender=whale)
    assert loan.balanceOf(whale) == limit * 99 // 100
    assert morpho.position(market, whale.address).collateral == posted


@pytest.mark.parametrize("move", [Decimal("0.95"), Decimal("1.07")])
def test_arbitrage__oracle_moved__one_swap_brings_the_pool_back_to_it(protocols, pool, btc, usd, outsiders, move):
    """After a 5% fall or a 7% rise of the oracle, the replay's arbitrageur swaps once, with the new price as the
    swap's limit: the pool lands on it (to a millionth), having taken only what the move needed."""
    arbitrageur = outsiders[0]
    btc.mint(arbitrageur, 1_000 * 10**18, sender=arbitrageur)
    usd.mint(arbitrageur, 50_000_000 * 10**6, sender=arbitrageur)
    target = PRICE * move
    sold = arbitrage(protocols, pool, btc, usd, target, arbitrageur)
    assert abs(pool_price(pool, btc, usd) / target - 1) < Decimal("1e-6")
    assert sold > 0 and (btc.balanceOf(arbitrageur) < 1_000 * 10**18) == (move < 1)
    assert arbitrage(protocols, pool, btc, usd, pool_price(pool, btc, usd), arbitrageur) == 0
