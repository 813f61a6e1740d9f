"""DelayedOrders: the venue's entry and exit for unregistered accounts. A request escrows what it needs and the
execution fee; a keeper executes it at a round newer than the request, within the window; the venue's refusal
cancels it (escrow back, fee to the keeper); the requester cancels after the window."""

import pytest
from eth_utils import to_hex

from levtoken.shapes import OrderStatus
from levtoken.units import to_feed, to_units, to_wad
from tests.utils.chain import head_time
from tests.utils.constants import BTC
from tests.utils.reverts import error_selector

FEE = to_units(1)
WINDOW = 600


@pytest.fixture
def trader(outsiders, fund, orders, venue, usd):
    """An unregistered account with 100,000 USD, approving the orders contract and the venue."""
    account = outsiders[1]
    fund(account, 100_000, orders)
    usd.approve(venue, 2**256 - 1, sender=account)
    return account


def _requested(orders, receipt) -> int:
    return receipt.events.filter(orders.OrderRequested)[0].id


def _round(chain, feed, gov, t, price=30_000):
    chain.pending_timestamp = t
    feed.submit(to_feed(price), sender=gov)


def test_trade_order__executed_at_a_newer_round__position_opened_fee_to_keeper(
    orders, venue, usd, feed, chain, gov, keeper, trader, reverts
):
    venue.depositMargin(BTC, trader, to_units(10_000), sender=trader)
    t = head_time(chain) + 5
    chain.pending_timestamp = t
    order_id = _requested(orders, orders.requestTrade(BTC, to_wad("0.5"), 0, sender=trader))
    assert usd.balanceOf(orders) == FEE
    chain.pending_timestamp = t + 1
    with reverts(orders.NoNewerPrice, requestTime=t):
        orders.execute(order_id, sender=keeper)
    _round(chain, feed, gov, t + 2, 31_000)
    chain.pending_timestamp = t + 3
    keeper_before = usd.balanceOf(keeper)
    tx = orders.execute(order_id, sender=keeper)
    assert tx.events.filter(orders.OrderExecuted)[0].executed
    assert venue.position(BTC, trader).size == to_wad("0.5")
    fill = tx.events.filter(venue.PositionModified)[0]
    assert fill.price == to_wad(31_000)  # the round after the request, not the one it saw
    assert usd.balanceOf(keeper) - keeper_before == FEE and usd.balanceOf(orders) == 0
    assert orders.order(order_id).status == OrderStatus.EXECUTED
    with reverts(orders.OrderNotPending, id=order_id):
        orders.execute(order_id, sender=keeper)


def test_order_the_venue_refuses__cancelled_escrow_back_keeper_paid(
    orders, venue, usd, feed, chain, gov, keeper, trader
):
    t = head_time(chain) + 5
    chain.pending_timestamp = t
    before = usd.balanceOf(trader)
    order_id = _requested(orders, orders.requestAddLiquidity(to_units(50_000), 2**200, sender=trader))
    assert usd.balanceOf(trader) == before - to_units(50_000) - FEE
    _round(chain, feed, gov, t + 1)
    chain.pending_timestamp = t + 2
    tx = orders.execute(order_id, sender=keeper)
    event = tx.events.filter(orders.OrderExecuted)[0]
    assert not event.executed
    assert to_hex(event.reason)[:10] == error_selector(venue.SlippageExceeded)  # minShares out of reach
    assert usd.balanceOf(trader) == before - FEE
    assert venue.lpShares(trader) == 0 and orders.order(order_id).status == OrderStatus.CANCELLED


def test_liquidity_orders__add_then_remove__round_trip_costs_only_the_fees(
    orders, venue, usd, feed, chain, gov, keeper, trader
):
    before = usd.balanceOf(trader)
    t = head_time(chain) + 5
    chain.pending_timestamp = t
    add = _requested(orders, orders.requestAddLiquidity(to_units(50_000), 1, sender=trader))
    _round(chain, feed, gov, t + 1)
    chain.pending_timestamp = t + 2
    orders.execute(add, sender=keeper)
    shares = venue.lpShares(trader)
    assert shares > 0
    chain.pending_timestamp = t + 3
    remove = _requested(orders, orders.requestRemoveLiquidity(shares, 0, sender=trader))
    _round(chain, feed, gov, t + 4)
    chain.pending_timestamp = t + 5
    orders.execute(remove, sender=keeper)
    assert venue.lpShares(trader) == 0
    assert before - 2 * FEE - 2 <= usd.balanceOf(trader) <= before - 2 * FEE


def test_cancel__only_the_requester_after_the_window__escrow_and_fee_back(
    orders, usd, chain, keeper, trader, stranger, reverts
):
    before = usd.balanceOf(trader)
    t = head_time(chain) + 5
    chain.pending_timestamp = t
    order_id = _requested(orders, orders.requestAddLiquidity(to_units(1_000), 0, sender=trader))
    chain.pending_timestamp = t + 1
    with reverts(orders.CancelTooEarly, allowedAt=t + WINDOW):
        orders.cancel(order_id, sender=trader)
    chain.pending_timestamp = t + WINDOW
    with reverts(orders.NotRequester, caller=stranger.address):
        orders.cancel(order_id, sender=stranger)
    with reverts(orders.OrderExpired, id=order_id):
        orders.execute(order_id, sender=keeper)
    orders.cancel(order_id, sender=trader)
    assert usd.balanceOf(trader) == before


def test_execute__not_a_keeper__reverts_NotKeeper(orders, trader, stranger, reverts):
    order_id = _requested(orders, orders.requestAddLiquidity(to_units(1_000), 0, sender=trader))
    with reverts(orders.NotKeeper, caller=stranger.address):
        orders.execute(order_id, sender=stranger)


def test_requests__bad_input__named_errors(orders, venue, trader, gov, reverts):
    with reverts(orders.ZeroAmount):
        orders.requestTrade(BTC, 0, 0, sender=trader)
    with reverts(venue.UnknownMarket, marketId=7):
        orders.requestTrade(7, 1, 0, sender=trader)
    with reverts(orders.InsufficientShares, balance=0, needed=1):
        orders.requestRemoveLiquidity(1, 0, sender=trader)
    with reverts(orders.InvalidTerms, name="executionFee"):
        orders.setTerms(to_units(11), WINDOW, sender=gov)
    with reverts(orders.InvalidTerms, name="window"):
        orders.setTerms(FEE, 59, sender=gov)
    with reverts(orders.OwnableUnauthorizedAccount, account=trader.address):
        orders.setKeeper(trader, True, sender=trader)
