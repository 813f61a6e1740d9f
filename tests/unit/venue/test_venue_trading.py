"""Trading: open, increase, reduce, close and flip at the oracle price, with fee and price impact paid
to the pool, realised PnL, slippage bound, open-interest cap, margin checks and pool solvency.

Funding is switched off in this module (see test_venue_funding.py), so every amount is exact.
"""

import pytest

from levtoken.units import WAD, to_units, to_wad
from tests.utils.constants import BTC

ODD_SIZE = to_wad("0.123456789012345677")

pytestmark = pytest.mark.usefixtures("no_funding")


def wad_price(usd):
    return to_wad(usd)


@pytest.mark.parametrize("size", [ODD_SIZE, -ODD_SIZE, to_wad(1), -to_wad(3)], ids=["long", "short", "1", "-3"])
def test_trade__open__charges_fee_and_impact_and_records_entry(venue, fish, cfg, model, price0, open_account, size):
    units = open_account(fish, 20_000)
    pool_before = venue.poolCash()
    fee, impact, execution = model.trade_cost(cfg, size, price0)
    assert venue.quoteTrade(BTC, size) == (price0, execution, fee, impact)

    receipt = venue.trade(BTC, size, 0, sender=fish)

    p = venue.position(BTC, fish)
    assert (p.margin, p.size, p.openNotional, p.fundingSnapshot) == (units - fee - impact, size, size * price0, 0)
    assert venue.poolCash() == pool_before + fee + impact
    assert venue.openInterest(BTC) == ((size, 0) if size > 0 else (0, -size))
    assert venue.accountValue(BTC, fish) == units - fee - impact
    event = receipt.events.filter(venue.PositionModified)[0]
    assert (event.marketId, event.account, event.sizeDelta, event.newSize) == (BTC, fish.address, size, size)
    assert (event.price, event.executionPrice, event.fee, event.realizedPnl) == (price0, execution, fee + impact, 0)


def test_trade__execution_price__moves_against_trader_by_impact(venue, cfg, price0):
    notional = to_units(3_000)  # 0.1 BTC at 30,000
    impact_wad = -(-notional * WAD // cfg["impactDepth"])
    _, buy, _, _ = venue.quoteTrade(BTC, to_wad("0.1"))
    _, sell, _, _ = venue.quoteTrade(BTC, -to_wad("0.1"))
    assert buy == price0 + price0 * impact_wad // WAD
    assert sell == price0 - price0 * impact_wad // WAD
    assert buy > price0 > sell


def test_trade__impact_above_cap__capped_at_maxImpactBps(venue, gov, cfg, fish, open_account):
    venue.setMarketConfig(BTC, {**cfg, "maxFundingRatePerDay": 0, "impactDepth": to_units(100_000)}, sender=gov)
    units = open_account(fish, 10_000)

    receipt = venue.trade(BTC, to_wad(1), 0, sender=fish)

    # 30,000 of notional against a depth of 100,000 would be 30%; the cap is 1%.
    event = receipt.events.filter(venue.PositionModified)[0]
    assert event.executionPrice == to_wad(30_300)
    assert event.fee == to_units(15) + to_units(300)
    assert venue.position(BTC, fish).margin == units - to_units(315)


def test_trade__increase__adds_open_notional_at_new_price(venue, fish, cfg, model, price0, open_account, set_price):
    units = open_account(fish, 20_000, ODD_SIZE)
    fee1, impact1, _ = model.trade_cost(cfg, ODD_SIZE, price0)
    set_price("31234.56789")
    price = wad_price("31234.56789")
    add = to_wad("0.3")
    fee2, impact2, _ = model.trade_cost(cfg, add, price)

    receipt = venue.trade(BTC, add, 0, sender=fish)

    p = venue.position(BTC, fish)
    margin = units - fee1 - impact1 - fee2 - impact2
    open_notional = ODD_SIZE * price0 + add * price
    assert (p.margin, p.size, p.openNotional) == (margin, ODD_SIZE + add, open_notional)
    assert venue.accountValue(BTC, fish) == margin + model.pnl(ODD_SIZE + add, open_notional, price)
    assert venue.openInterest(BTC) == (ODD_SIZE + add, 0)
    assert receipt.events.filter(venue.PositionModified)[0].realizedPnl == 0


@pytest.mark.parametrize("side", [1, -1], ids=["long", "short"])
def test_trade__reduce__realises_pro_rata_pnl(venue, fish, cfg, model, price0, open_account, set_price, side):
    size = side * ODD_SIZE
    units = open_account(fish, 20_000, size)
    fee1, impact1, _ = model.trade_cost(cfg, size, price0)
    set_price("33333.33333333")
    price = wad_price("33333.33333333")
    delta = -size // 3
    fee2, impact2, _ = model.trade_cost(cfg, delta, price)
    realized, removed = model.reduce(size, size * price0, delta, price)
    pool_before = venue.poolCash()

    receipt = venue.trade(BTC, delta, 0, sender=fish)

    p = venue.position(BTC, fish)
    margin = units - fee1 - impact1 - fee2 - impact2 + realized
    assert (p.margin, p.size, p.openNotional) == (margin, size + delta, size * price0 - removed)
    assert venue.poolCash() == pool_before + fee2 + impact2 - realized
    assert venue.openInterest(BTC) == ((size + delta, 0) if side > 0 else (0, -(size + delta)))
    event = receipt.events.filter(venue.PositionModified)[0]
    assert (event.newSize, event.realizedPnl, event.fee) == (size + delta, realized, fee2 + impact2)
    assert (realized > 0) == (side > 0)


def test_trade__close__realises_all_pnl_and_clears_position(
    venue, usd, fish, cfg, model, price0, open_account, set_price
):
    units = open_account(fish, 20_000, ODD_SIZE)
    fee1, impact1, _ = model.trade_cost(cfg, ODD_SIZE, price0)
    set_price(28_000)
    price = wad_price(28_000)
    fee2, impact2, _ = model.trade_cost(cfg, -ODD_SIZE, price)
    realized = model.pnl(ODD_SIZE, ODD_SIZE * price0, price)
    assert realized < 0
    pool_before = venue.poolCash()

    receipt = venue.trade(BTC, -ODD_SIZE, 0, sender=fish)

    margin = units - fee1 - impact1 - fee2 - impact2 + realized
    p = venue.position(BTC, fish)
    assert (p.margin, p.size, p.openNotional) == (margin, 0, 0)
    assert venue.poolCash() == pool_before + fee2 + impact2 - realized
    assert venue.openInterest(BTC) == (0, 0)
    assert venue.marketState(BTC).sumOpenNotional == 0
    assert receipt.events.filter(venue.PositionModified)[0].realizedPnl == realized
    assert venue.accountState(BTC, fish) == (margin, 0, 0)
    venue.withdrawMargin(BTC, margin, fish, sender=fish)
    assert usd.balanceOf(fish) == margin


def test_trade__flip__closes_then_opens_remainder_at_same_price(
    venue, fish, cfg, model, price0, open_account, set_price
):
    units = open_account(fish, 20_000, to_wad(1))
    fee1, impact1, _ = model.trade_cost(cfg, to_wad(1), price0)
    set_price(29_000)
    price = wad_price(29_000)
    fee2, impact2, execution = model.trade_cost(cfg, -to_wad(3), price)

    receipt = venue.trade(BTC, -to_wad(3), 0, sender=fish)

    margin = units - fee1 - impact1 - fee2 - impact2 - to_units(1_000)
    p = venue.position(BTC, fish)
    assert (p.margin, p.size, p.openNotional) == (margin, -to_wad(2), -to_wad(2) * price)
    assert venue.openInterest(BTC) == (0, to_wad(2))
    assert venue.accountValue(BTC, fish) == margin
    event = receipt.events.filter(venue.PositionModified)[0]
    assert (event.newSize, event.realizedPnl, event.executionPrice) == (-to_wad(2), -to_units(1_000), execution)


def test_trade__flip_without_initial_margin_for_new_side__reverts_InsufficientMargin(
    venue, fish, cfg, model, price0, open_account, reverts
):
    units = open_account(fish, 4_000, to_wad(1))
    fee1, impact1, _ = model.trade_cost(cfg, to_wad(1), price0)
    fee2, impact2, _ = model.trade_cost(cfg, -to_wad(3), price0)
    value = units - fee1 - impact1 - fee2 - impact2
    required = model.margin_bps(model.notional(to_wad(2), price0), cfg["initialMarginBps"])
    with reverts(venue.InsufficientMargin, value=value, required=required):
        venue.trade(BTC, -to_wad(3), 0, sender=fish)


@pytest.mark.parametrize("size", [to_wad("0.7"), -to_wad("0.7")], ids=["buy", "sell"])
def test_trade__acceptablePrice__bounds_execution_price(venue, fish, cfg, model, price0, open_account, size, reverts):
    open_account(fish, 10_000)
    _, _, execution = model.trade_cost(cfg, size, price0)
    worse = execution - 1 if size > 0 else execution + 1

    with reverts(venue.SlippageExceeded, amount=execution, minimum=worse):
        venue.trade(BTC, size, worse, sender=fish)

    venue.trade(BTC, size, execution, sender=fish)
    assert venue.position(BTC, fish).size == size


def test_trade__zero_size__reverts_ZeroAmount(venue, fish, open_account, reverts):
    open_account(fish, 1_000)
    with reverts(venue.ZeroAmount):
        venue.trade(BTC, 0, 0, sender=fish)


def test_trade__open_interest_above_cap__reverts_OpenInterestCapExceeded(
    venue, gov, cfg, whale, fish, open_account, reverts
):
    """The cap binds the accounts that trade through DelayedOrders (`tradeFor`, here with gov standing in for
    the orders contract); registered accounts are bounded by their own caps instead."""
    venue.setMarketConfig(BTC, {**cfg, "maxFundingRatePerDay": 0, "maxOpenInterest": to_wad(1)}, sender=gov)
    venue.setOrders(gov, sender=gov)
    open_account(whale, 10_000, to_wad("0.6"))
    open_account(fish, 10_000)

    with reverts(venue.OpenInterestCapExceeded, openInterest=to_wad("1.1"), cap=to_wad(1)):
        venue.tradeFor(BTC, fish, to_wad("0.5"), 0, sender=gov)

    venue.tradeFor(BTC, fish, to_wad("0.4"), 0, sender=gov)
    venue.tradeFor(BTC, whale, -to_wad("0.4"), 0, sender=gov)
    venue.tradeFor(BTC, fish, -to_wad("1.2"), 0, sender=gov)  # flips fish to a short of 0.8
    assert venue.openInterest(BTC) == (to_wad("0.2"), to_wad("0.8"))
    with reverts(venue.OpenInterestCapExceeded, openInterest=to_wad("1.0") + 1, cap=to_wad(1)):
        venue.tradeFor(BTC, fish, -(to_wad("0.2") + 1), 0, sender=gov)
    # A registered account (a token) is not held by the cap: an outsider filling it cannot block its settlement.
    venue.trade(BTC, -to_wad("0.5"), 0, sender=fish)
    assert venue.openInterest(BTC) == (to_wad("0.2"), to_wad("1.3"))


def test_trade__reduce_above_lowered_cap__allowed(venue, gov, cfg, fish, open_account, reverts):
    open_account(fish, 10_000, to_wad(1))
    venue.setMarketConfig(BTC, {**cfg, "maxFundingRatePerDay": 0, "maxOpenInterest": to_wad("0.1")}, sender=gov)
    venue.setOrders(gov, sender=gov)

    venue.tradeFor(BTC, fish, -to_wad("0.5"), 0, sender=gov)

    assert venue.openInterest(BTC) == (to_wad("0.5"), 0)
    with reverts(venue.OpenInterestCapExceeded, openInterest=to_wad("0.5") + 1, cap=to_wad("0.1")):
        venue.tradeFor(BTC, fish, 1, 0, sender=gov)


def test_trade__open_below_initial_margin__reverts_InsufficientMargin(venue, fish, cfg, model, price0, fund, reverts):
    size = to_wad(1)
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    required = model.margin_bps(model.notional(size, price0), cfg["initialMarginBps"])
    assert required == to_units(3_000)
    fund(fish, 10_000, venue)
    venue.depositMargin(BTC, fish, required + fee + impact - 1, sender=fish)

    with reverts(venue.InsufficientMargin, value=required - 1, required=required):
        venue.trade(BTC, size, 0, sender=fish)

    venue.depositMargin(BTC, fish, 1, sender=fish)
    venue.trade(BTC, size, 0, sender=fish)
    assert venue.accountValue(BTC, fish) == required


def test_trade__reduce_below_initial_margin__allowed_while_solvent(
    venue, fish, cfg, model, price0, open_account, set_price
):
    units = open_account(fish, 3_100, to_wad(1))
    set_price(29_000)
    price = wad_price(29_000)
    fee1, impact1, _ = model.trade_cost(cfg, to_wad(1), price0)
    assert venue.accountValue(BTC, fish) == units - fee1 - impact1 - to_units(1_000)

    venue.trade(BTC, -to_wad("0.1"), 0, sender=fish)

    fee2, impact2, _ = model.trade_cost(cfg, -to_wad("0.1"), price)
    value = units - fee1 - impact1 - fee2 - impact2 - to_units(1_000)
    assert venue.accountValue(BTC, fish) == value
    assert value < model.margin_bps(model.notional(to_wad("0.9"), price), cfg["initialMarginBps"])


def test_trade__reduce_underwater_account__reverts_InsufficientMargin(
    venue, fish, cfg, model, price0, open_account, set_price, reverts
):
    units = open_account(fish, 3_100, to_wad(1))
    set_price(26_000)
    price = wad_price(26_000)
    fee1, impact1, _ = model.trade_cost(cfg, to_wad(1), price0)
    fee2, impact2, _ = model.trade_cost(cfg, -to_wad("0.5"), price)
    value_after = units - fee1 - impact1 - fee2 - impact2 - to_units(4_000)
    assert value_after < 0

    with reverts(venue.InsufficientMargin, value=value_after, required=0):
        venue.trade(BTC, -to_wad("0.5"), 0, sender=fish)


def test_trade__profit_above_pool_cash__reverts_InsufficientPoolLiquidity(
    make_venue, lp, fish, cfg, model, price0, open_account, set_price, reverts
):
    market = make_venue(1_000, lp, maxFundingRatePerDay=0)
    open_account(fish, 10_000, to_wad(1), market=market)
    fee1, impact1, _ = model.trade_cost(cfg, to_wad(1), price0)
    assert market.poolCash() == to_units(1_000) + fee1 + impact1
    set_price(33_000)
    price = wad_price(33_000)
    fee2, impact2, _ = model.trade_cost(cfg, -to_wad(1), price)
    needed = to_units(3_000) - fee2 - impact2

    with reverts(market.InsufficientPoolLiquidity, available=market.poolCash(), needed=needed):
        market.trade(BTC, -to_wad(1), 0, sender=fish)

    # A partial close the pool can pay goes through.
    fee3, impact3, _ = model.trade_cost(cfg, -to_wad("0.3"), price)
    market.trade(BTC, -to_wad("0.3"), 0, sender=fish)
    assert market.poolCash() == to_units(1_000) + fee1 + impact1 + fee3 + impact3 - to_units(900)


def test_modifyPosition__margin_in_and_trade__matches_quoteModify(venue, usd, fish, stranger, cfg, model, price0, fund):
    units = fund(fish, 5_000, venue)
    size = to_wad("0.5")
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    assert venue.quoteModify(BTC, fish, units, size) == (0, units - fee - impact, price0)

    receipt = venue.modifyPosition(BTC, units, size, stranger, sender=fish)

    assert venue.accountState(BTC, fish) == (units - fee - impact, size, price0)
    assert usd.balanceOf(fish) == 0
    assert [e.event_name for e in receipt.events if e.contract_address == venue.address] == [
        "PositionModified",
        "MarginDeposited",
    ]

    # Close and take everything out to another address in one call.
    fee2, impact2, _ = model.trade_cost(cfg, -size, price0)
    rest = units - fee - impact - fee2 - impact2
    assert venue.quoteModify(BTC, fish, -rest, -size) == (units - fee - impact, 0, price0)
    venue.modifyPosition(BTC, -rest, -size, stranger, sender=fish)
    assert usd.balanceOf(stranger) == rest
    assert venue.position(BTC, fish).margin == 0
