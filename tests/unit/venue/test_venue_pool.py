"""The LP pool: shares priced at the pool's value (cash - traders' unrealised PnL + funding owed to it),
rounded against the caller; virtual shares stop a first-depositor inflation.

The venue fixture's pool starts with 10,000,000 from lp for 10**25 shares. Funding is off.
"""

import pytest

from levtoken.units import to_units, to_wad
from tests.utils.constants import BTC, UNIT, VIRTUAL_LP_SHARES


pytestmark = pytest.mark.usefixtures("no_funding")


def pool_value(market, round_up):
    """The pool's value from its cash and the market's sums (one market, no funding)."""
    state = market.marketState(BTC)
    net = state.longOpenInterest - state.shortOpenInterest
    price = market.indexPrice(BTC) if net or state.sumOpenNotional else 0
    market_value = -(net * price - state.sumOpenNotional)
    part = -((-market_value) // UNIT) if round_up else market_value // UNIT
    return max(market.poolCash() + part, 0)


def shares_for(market, amount):
    return amount * (market.totalLpShares() + VIRTUAL_LP_SHARES) // (pool_value(market, True) + 1)


def assets_for(market, shares):
    return shares * (pool_value(market, False) + 1) // (market.totalLpShares() + VIRTUAL_LP_SHARES)


def test_addLiquidity__idle_pool__mints_shares_at_pool_price(venue, usd, whale, fund):
    assert venue.totalLpShares() == 10**25
    amount = fund(whale, "1234.567891", venue)
    expected = amount * (10**25 + VIRTUAL_LP_SHARES) // (to_units(10_000_000) + 1)

    receipt = venue.addLiquidity(amount, expected, sender=whale)

    assert venue.lpShares(whale) == expected
    assert venue.totalLpShares() == 10**25 + expected
    assert venue.poolCash() == to_units(10_000_000) + amount
    assert usd.balanceOf(venue) == venue.poolCash()
    events = receipt.events.filter(venue.LiquidityAdded)
    assert len(events) == 1
    assert (events[0]["provider"], events[0].amount, events[0].shares) == (whale.address, amount, expected)


def test_removeLiquidity__idle_pool__pays_pro_rata_and_emits(venue, usd, lp):
    shares = 10**25 // 3
    expected = shares * (to_units(10_000_000) + 1) // (10**25 + VIRTUAL_LP_SHARES)

    receipt = venue.removeLiquidity(shares, expected, sender=lp)

    assert usd.balanceOf(lp) == expected
    assert venue.lpShares(lp) == 10**25 - shares
    assert venue.totalLpShares() == 10**25 - shares
    assert venue.poolCash() == to_units(10_000_000) - expected
    events = receipt.events.filter(venue.LiquidityRemoved)
    assert (events[0]["provider"], events[0].amount, events[0].shares) == (lp.address, expected, shares)


def test_poolValue__trader_profit__lowers_share_price(
    venue, whale, fish, fund, open_account, set_price, model, cfg, price0
):
    size = to_wad("10.123456789")
    open_account(fish, 100_000, size)
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    cash = to_units(10_000_000) + fee + impact
    assert venue.poolValue() == cash
    set_price("33333.33333333")
    price = to_wad("33333.33333333")
    trader_pnl = size * price - size * price0
    assert trader_pnl % UNIT != 0
    assert venue.poolValue() == cash - (-((-trader_pnl) // UNIT))  # traders' profit rounded up
    amount = fund(whale, 100_000, venue)
    expected_shares = amount * (10**25 + VIRTUAL_LP_SHARES) // (cash - trader_pnl // UNIT + 1)
    assert expected_shares == shares_for(venue, amount)

    venue.addLiquidity(amount, 0, sender=whale)

    assert venue.lpShares(whale) == expected_shares
    # Adding then removing at once never returns more than was added.
    back = assets_for(venue, expected_shares)
    venue.removeLiquidity(expected_shares, back, sender=whale)
    assert venue.poolCash() == cash + amount - back
    assert amount - 2 <= back <= amount


def test_poolValue__trader_loss__raises_share_price(venue, usd, lp, fish, open_account, set_price, model, cfg, price0):
    size = -to_wad(10)
    open_account(fish, 100_000, size)
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    set_price(31_000)
    assert venue.poolValue() == to_units(10_000_000) + fee + impact + to_units(10_000)
    shares = 10**24

    venue.removeLiquidity(shares, 0, sender=lp)

    expected = shares * (to_units(10_000_000) + fee + impact + to_units(10_000) + 1) // (10**25 + VIRTUAL_LP_SHARES)
    assert usd.balanceOf(lp) == expected
    assert expected > to_units(1_000_000)


def test_addLiquidity__below_minShares__reverts_SlippageExceeded(venue, whale, fund, reverts):
    amount = fund(whale, 1_000, venue)
    expected = shares_for(venue, amount)
    with reverts(venue.SlippageExceeded, amount=expected, minimum=expected + 1):
        venue.addLiquidity(amount, expected + 1, sender=whale)


def test_removeLiquidity__below_minAmount__reverts_SlippageExceeded(venue, lp, reverts):
    expected = assets_for(venue, 10**20)
    with reverts(venue.SlippageExceeded, amount=expected, minimum=expected + 1):
        venue.removeLiquidity(10**20, expected + 1, sender=lp)


def test_removeLiquidity__more_than_held__reverts_InsufficientShares(venue, lp, stranger, reverts):
    with reverts(venue.InsufficientShares, balance=0, needed=1):
        venue.removeLiquidity(1, 0, sender=stranger)
    with reverts(venue.InsufficientShares, balance=10**25, needed=10**25 + 1):
        venue.removeLiquidity(10**25 + 1, 0, sender=lp)


def test_liquidity__zero__reverts_ZeroAmount(venue, lp, reverts):
    with reverts(venue.ZeroAmount):
        venue.addLiquidity(0, 0, sender=lp)
    with reverts(venue.ZeroAmount):
        venue.removeLiquidity(0, 0, sender=lp)


def test_removeLiquidity__value_above_cash__reverts_InsufficientPoolLiquidity(
    make_venue, lp, fish, open_account, set_price, model, cfg, price0, reverts
):
    market = make_venue(1_000, lp, maxFundingRatePerDay=0)
    open_account(fish, 10_000, to_wad(1), market=market)
    fee, impact, _ = model.trade_cost(cfg, to_wad(1), price0)
    set_price(29_000)
    cash = to_units(1_000) + fee + impact
    assert market.poolValue() == cash + to_units(1_000)
    shares = market.lpShares(lp)
    amount = shares * (cash + to_units(1_000) + 1) // (shares + VIRTUAL_LP_SHARES)

    with reverts(market.InsufficientPoolLiquidity, available=cash, needed=amount):
        market.removeLiquidity(shares, 0, sender=lp)


def test_removeLiquidity__cash_left_below_traders_profit__reverts_PoolReserveBreached(
    make_venue, lp, fish, whale, open_account, set_price, model, cfg, price0, reverts
):
    """The pool keeps each side's unrealised profit in cash. A long and a short of one BTC after +10%: the pool's
    value is its whole cash (the short's loss pays the long's profit, but only when the short closes), so an LP
    could take it all and leave the long's 3,000 USD unpayable; the reserve stops it there."""
    market = make_venue(10_000, lp, maxFundingRatePerDay=0)
    open_account(fish, 10_000, to_wad(1), market=market)
    open_account(whale, 10_000, -to_wad(1), market=market)
    costs = sum(sum(model.trade_cost(cfg, size, price0)[:2]) for size in (to_wad(1), -to_wad(1)))
    set_price(33_000)
    owed = to_units(3_000)
    cash = to_units(10_000) + costs
    assert market.poolCash() == market.poolValue() == cash
    shares = market.lpShares(lp)
    everything = shares * (cash + 1) // (shares + VIRTUAL_LP_SHARES)
    with reverts(market.PoolReserveBreached, cashLeft=cash - everything, owedToTraders=owed):
        market.removeLiquidity(shares, 0, sender=lp)
    part = shares * 6 // 10  # leaves about 4,000 USD of cash: more than the long's profit
    market.removeLiquidity(part, 0, sender=lp)
    assert market.poolCash() >= owed


def test_addLiquidity__direct_transfer_donation__does_not_dilute_first_lp(
    make_venue, usd, fish, whale, stranger, fund
):
    market = make_venue()
    first = fund(fish, 1_000, market)
    market.addLiquidity(first, 0, sender=fish)
    assert market.lpShares(fish) == first * VIRTUAL_LP_SHARES
    usd.transfer(market, fund(whale, 1_000_000), sender=whale)

    assert market.poolValue() == first
    second = fund(stranger, 1_000, market)
    market.addLiquidity(second, 0, sender=stranger)
    assert market.lpShares(stranger) == second * (first * VIRTUAL_LP_SHARES + VIRTUAL_LP_SHARES) // (first + 1)

    out = assets_for(market, market.lpShares(fish))
    market.removeLiquidity(market.lpShares(fish), 0, sender=fish)
    assert usd.balanceOf(fish) == out
    assert first - 1 <= out <= first


def test_addLiquidity__pool_donation_after_tiny_first_deposit__victim_loses_at_most_dust(
    make_venue, usd, whale, fish, lp, fund, open_account, set_price
):
    """The inflation attack: a 1-unit first deposit, then a large gift to the pool's cash (here through
    a losing trade), then a victim's deposit. Virtual shares keep the victim's loss to dust."""
    market = make_venue(maxFundingRatePerDay=0)
    market.addLiquidity(fund(whale, "0.000001", market), 0, sender=whale)
    assert market.lpShares(whale) == VIRTUAL_LP_SHARES
    open_account(lp, 100_000, to_wad(1), market=market)
    set_price(20_000)
    market.trade(BTC, -to_wad(1), 0, sender=lp)
    gift = market.poolCash() - 1
    assert gift > to_units(10_000)

    deposit = fund(fish, 1_000, market)
    shares = shares_for(market, deposit)
    market.addLiquidity(deposit, 0, sender=fish)
    assert market.lpShares(fish) == shares > 0
    back = assets_for(market, shares)
    market.removeLiquidity(shares, 0, sender=fish)

    assert usd.balanceOf(fish) == back
    assert deposit - back <= 2
