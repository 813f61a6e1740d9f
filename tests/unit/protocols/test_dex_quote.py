"""DexQuote, a view of a Uniswap v3 pool's swap, against the pool's own swaps: for any direction, exact input or
exact output, size (dust to past the pool's liquidity, where a swap stops at the pool's own price limit) and price
limit, the quote is what the swap then does, to the unit: the pool's two deltas and its price after. (The router's
price limit is passed on every swap, so it fills what the pool can rather than reverting.)"""

from __future__ import annotations

import pytest
from ape import project
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.utils.strategies import HEALTH

MAX_PRICE = 1461446703485210103287273052203988822378723970342 - 1  # TickMath.MAX_SQRT_PRICE - 1
MIN_PRICE = 4295128739 + 1


@pytest.fixture(scope="module")
def quoter(gov):
    """DexQuote as an external view."""
    return gov.deploy(project.DexQuoter)


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(zero_for_one=st.booleans(), exact_input=st.booleans(), digits=st.integers(3, 30),
       limit_bps=st.one_of(st.none(), st.integers(1, 3_000)))
def test_quote__equals_the_pools_swap_to_the_unit(pool, protocols, quoter, btc, usd, whale, chain, zero_for_one,
                                                  exact_input, digits, limit_bps):
    token0, token1 = pool.token0(), pool.token1()
    sold, bought = (token0, token1) if zero_for_one else (token1, token0)
    amount = 10**digits
    start = pool.slot0().sqrtPriceX96
    if limit_bps is None:
        limit = MIN_PRICE if zero_for_one else MAX_PRICE
    else:
        limit = start * (10_000 - limit_bps) // 10_000 if zero_for_one else start * (10_000 + limit_bps) // 10_000
    quoted = quoter.swap(pool.address, zero_for_one, amount if exact_input else -amount, limit)

    snapshot = chain.snapshot()
    try:
        for token in (btc, usd):
            token.mint(whale, 10**40, sender=whale)
            token.approve(protocols.router.address, 10**40, sender=whale)
        if exact_input:
            params = (sold, bought, pool.fee(), whale.address, 2**64, amount, 0, limit)
            receipt = protocols.router.exactInputSingle(params, sender=whale)
        else:
            params = (sold, bought, pool.fee(), whale.address, 2**64, amount, 10**40, limit)
            receipt = protocols.router.exactOutputSingle(params, sender=whale)
        (swapped,) = receipt.decode_logs(pool.Swap)
        assert (quoted.amount0, quoted.amount1, quoted.sqrtPriceX96) == \
            (swapped.amount0, swapped.amount1, swapped.sqrtPriceX96)
        paid_in, paid_out = (quoted.amount0, quoted.amount1) if zero_for_one else (quoted.amount1, quoted.amount0)
        filled = paid_in if exact_input else -paid_out
        event("fills all" if filled == amount else "stops at its limit or the pool's liquidity")
    finally:
        chain.restore(snapshot)
