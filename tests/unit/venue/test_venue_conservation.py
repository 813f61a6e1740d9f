"""Conservation: after every operation the venue holds exactly the pool's cash plus every account's
stored margin, and once every position is closed nothing is left in the market's sums."""

import random

import pytest
from ape.exceptions import ContractLogicError

from levtoken.units import DAY, to_units, to_wad
from tests.utils.constants import BTC


def test_sequence__trades_funding_liquidation_and_lp__collateral_conserved(
    venue, usd, whale, fish, keeper, stranger, lp, open_account, fund, set_price, chain, block_time, assert_conserved
):
    traders = [whale, fish, keeper, stranger]

    def check():
        assert_conserved(venue, traders)

    open_account(whale, 100_000, to_wad(5))
    check()
    open_account(fish, 3_100, to_wad(1))
    check()
    open_account(keeper, 50_000, -to_wad(2))
    check()

    chain.pending_timestamp = block_time() + 6 * 3_600
    set_price(28_000)
    venue.trade(BTC, -to_wad(2), 0, sender=whale)  # settles funding, realises a loss
    check()
    venue.withdrawMargin(BTC, to_units(1_000), keeper, sender=keeper)  # settles funding owed to a short
    check()

    set_price(26_000)
    receipt = venue.liquidate(BTC, fish, sender=stranger)
    assert receipt.events.filter(venue.Liquidated)[0].badDebt > 0
    check()

    venue.removeLiquidity(venue.lpShares(lp) // 10, 0, sender=lp)
    check()
    venue.addLiquidity(fund(stranger, 5_000, venue), 0, sender=stranger)
    check()

    chain.pending_timestamp = block_time() + DAY
    set_price(33_000)
    venue.trade(BTC, -to_wad(3), 0, sender=whale)  # closes at a profit
    check()
    venue.trade(BTC, to_wad(3), 0, sender=keeper)  # flips to a long of 1
    check()
    chain.pending_timestamp = block_time() + 3_600
    set_price(32_000)
    venue.trade(BTC, -to_wad(1), 0, sender=keeper)
    check()

    state = venue.marketState(BTC)
    assert (state.longOpenInterest, state.shortOpenInterest) == (0, 0)
    assert state.sumOpenNotional == 0
    assert state.sumFundingSnapshot == 0
    assert venue.poolValue() == venue.poolCash()

    for account in traders:
        margin = venue.position(BTC, account).margin
        if margin:
            venue.withdrawMargin(BTC, margin, account, sender=account)
        check()
    assert usd.balanceOf(venue) == venue.poolCash()


@pytest.mark.parametrize("seed", [7])
def test_random_sequence__any_order__collateral_conserved(
    venue, usd, whale, fish, keeper, stranger, lp, fund, set_price, chain, block_time, assert_conserved, seed
):
    rng = random.Random(seed)
    traders = [whale, fish, keeper, stranger]
    for account in traders:
        fund(account, 1_000_000, venue)
    price = 30_000

    for _ in range(24):
        account = rng.choice(traders)
        action = rng.choice(["deposit", "withdraw", "trade", "trade", "price", "liquidate", "lp"])
        try:
            if action == "deposit":
                venue.depositMargin(BTC, account, to_units(rng.randint(100, 20_000)), sender=account)
            elif action == "withdraw":
                venue.withdrawMargin(BTC, to_units(rng.randint(1, 5_000)), account, sender=account)
            elif action == "trade":
                size = rng.randint(-3 * 10**18, 3 * 10**18) or 1
                venue.trade(BTC, size, 0, sender=account)
            elif action == "price":
                chain.pending_timestamp = block_time() + rng.randint(1, 12 * 3_600)
                price = max(1_000, price + rng.randint(-3_000, 3_000))
                set_price(price)
            elif action == "liquidate":
                venue.liquidate(BTC, rng.choice(traders), sender=account)
            else:
                venue.addLiquidity(to_units(rng.randint(1, 10_000)), 0, sender=account)
        except ContractLogicError:
            pass  # a refused operation changes nothing
        assert_conserved(venue, traders)

    # Close everything that can be closed and take the margin out.
    for account in traders:
        size = venue.position(BTC, account).size
        if size and not venue.isLiquidatable(BTC, account):
            venue.trade(BTC, -size, 0, sender=account)
        elif size:
            venue.liquidate(BTC, account, sender=lp)
        margin = venue.position(BTC, account).margin
        if margin > 0:
            venue.withdrawMargin(BTC, margin, account, sender=account)
        assert_conserved(venue, traders)
    state = venue.marketState(BTC)
    assert (state.longOpenInterest, state.shortOpenInterest, state.sumOpenNotional, state.sumFundingSnapshot) == (
        0,
        0,
        0,
        0,
    )
    assert usd.balanceOf(venue) == venue.poolCash()
