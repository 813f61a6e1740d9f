"""Liquidation of an ordinary account below maintenance margin: closed at the oracle price, penalty
split between the liquidator and the pool, bad debt absorbed by the pool.

fish opens 1 BTC at 30,000 with 3,100 of margin; the trade costs 15 (fee) + 0.9 (impact), leaving
3,084.1. Funding is switched off in this module so the amounts are exact.
"""

import pytest

from levtoken.shapes import UINT256_MAX
from levtoken.units import WAD, to_units, to_wad
from tests.utils.constants import BTC

MARGIN = to_units("3084.1")

pytestmark = pytest.mark.usefixtures("no_funding")


@pytest.fixture(params=[1, -1], ids=["long", "short"])
def side(request):
    return request.param


@pytest.fixture
def position(venue, fish, open_account, cfg, model, price0, side):
    """fish's 1 BTC position on `side`; returns its size."""
    size = side * to_wad(1)
    units = open_account(fish, 3_100, size)
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    assert units - fee - impact == MARGIN
    return size


def state(model, cfg, size, price):
    """(value, maintenance) of fish's position at `price` (18 decimals)."""
    value = MARGIN + model.pnl(size, size * to_wad(30_000), price)
    maintenance = model.margin_bps(model.notional(size, price), cfg["maintenanceMarginBps"])
    return value, maintenance


def mirror(side, usd_price):
    """A price that moves the position by the same amount as `usd_price` does a long."""
    return usd_price if side > 0 else 60_000 - usd_price


def test_liquidate__above_maintenance__reverts_NotLiquidatable(
    venue, fish, stranger, model, cfg, position, set_price, side, reverts
):
    set_price(mirror(side, 28_000))
    value, maintenance = state(model, cfg, position, to_wad(mirror(side, 28_000)))
    assert not venue.isLiquidatable(BTC, fish)
    with reverts(venue.NotLiquidatable, value=value, maintenance=maintenance):
        venue.liquidate(BTC, fish, sender=stranger)


def test_liquidate__no_position__reverts_NotLiquidatable(venue, fish, stranger, open_account, reverts):
    units = open_account(fish, 100)
    with reverts(venue.NotLiquidatable, value=units, maintenance=0):
        venue.liquidate(BTC, fish, sender=stranger)


def test_liquidate__boundary__first_feed_unit_below_maintenance(
    venue, feed, gov, fish, stranger, model, cfg, position, side, reverts
):
    # The highest (long) or lowest (short) feed answer at which the account is still healthy.
    def healthy(answer):
        value, maintenance = state(model, cfg, position, answer * 10**10)
        return value >= maintenance

    lo, hi = 20_000 * 10**8, 40_000 * 10**8  # unhealthy at one end, healthy at the other
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if healthy(mid) == (side > 0):
            hi = mid
        else:
            lo = mid
    healthy_answer, unhealthy_answer = (hi, lo) if side > 0 else (lo, hi)
    assert healthy(healthy_answer) and not healthy(unhealthy_answer)

    feed.submit(healthy_answer, sender=gov)
    value, maintenance = state(model, cfg, position, healthy_answer * 10**10)
    assert not venue.isLiquidatable(BTC, fish)
    with reverts(venue.NotLiquidatable, value=value, maintenance=maintenance):
        venue.liquidate(BTC, fish, sender=stranger)

    feed.submit(unhealthy_answer, sender=gov)
    assert venue.isLiquidatable(BTC, fish)
    venue.liquidate(BTC, fish, sender=stranger)
    assert venue.position(BTC, fish).size == 0


def test_liquidate__penalty_below_margin__split_between_liquidator_and_pool(
    venue, usd, fish, stranger, model, cfg, position, set_price, side
):
    usd_price = mirror(side, 27_700)
    set_price(usd_price)
    price = to_wad(usd_price)
    value, maintenance = state(model, cfg, position, price)
    assert value == to_units("784.1")
    assert maintenance == to_units(831 if side > 0 else 969)
    assert venue.marginRatio(BTC, fish) == value * WAD // model.notional(position, price)
    penalty = model.margin_bps(model.notional(position, price), cfg["liquidationPenaltyBps"])
    assert penalty == to_units(277 if side > 0 else 323)
    reward = penalty * cfg["liquidatorShareBps"] // 10_000
    pool_before = venue.poolCash()

    receipt = venue.liquidate(BTC, fish, sender=stranger)

    p = venue.position(BTC, fish)
    assert (p.margin, p.size, p.openNotional) == (value - penalty, 0, 0)
    assert usd.balanceOf(stranger) == reward
    assert venue.poolCash() == pool_before + to_units(2_300) + penalty - reward
    assert venue.openInterest(BTC) == (0, 0)
    assert venue.marketState(BTC).sumOpenNotional == 0
    assert not venue.isLiquidatable(BTC, fish)
    assert venue.marginRatio(BTC, fish) == UINT256_MAX
    events = receipt.events.filter(venue.Liquidated)
    assert len(events) == 1
    e = events[0]
    assert (e.marketId, e.account, e.liquidator, e.size, e.price) == (BTC, fish.address, stranger.address, position, price)
    assert (e.penalty, e.liquidatorReward, e.badDebt) == (penalty, reward, 0)
    # What is left of the margin is the account's to withdraw.
    venue.withdrawMargin(BTC, value - penalty, fish, sender=fish)
    assert usd.balanceOf(fish) == value - penalty


def test_liquidate__penalty_above_margin__capped_at_margin(
    venue, usd, fish, stranger, model, cfg, position, set_price, side
):
    usd_price = mirror(side, 27_000)
    set_price(usd_price)
    value, _ = state(model, cfg, position, to_wad(usd_price))
    assert value == to_units("84.1")
    pool_before = venue.poolCash()

    receipt = venue.liquidate(BTC, fish, sender=stranger)

    reward = value * cfg["liquidatorShareBps"] // 10_000
    assert venue.position(BTC, fish).margin == 0
    assert usd.balanceOf(stranger) == reward
    assert venue.poolCash() == pool_before + to_units(3_000) + value - reward
    e = receipt.events.filter(venue.Liquidated)[0]
    assert (e.penalty, e.liquidatorReward, e.badDebt) == (value, reward, 0)


def test_liquidate__negative_value__bad_debt_absorbed_by_pool(
    venue, usd, fish, stranger, model, cfg, position, set_price, side
):
    usd_price = mirror(side, 26_000)
    set_price(usd_price)
    value, _ = state(model, cfg, position, to_wad(usd_price))
    assert value == -to_units("915.9")
    assert venue.marginRatio(BTC, fish) == 0
    pool_before = venue.poolCash()

    receipt = venue.liquidate(BTC, fish, sender=stranger)

    # The pool takes the whole margin and loses the rest of the trader's loss.
    assert venue.poolCash() == pool_before + MARGIN
    assert venue.poolCash() == pool_before + to_units(4_000) - to_units("915.9")
    assert venue.position(BTC, fish).margin == 0
    assert usd.balanceOf(stranger) == 0
    e = receipt.events.filter(venue.Liquidated)[0]
    assert (e.penalty, e.liquidatorReward, e.badDebt) == (0, 0, to_units("915.9"))
    assert venue.poolValue() == venue.poolCash()


def test_liquidate__liquidated_account__can_trade_again(venue, fish, stranger, position, set_price, side, fund):
    set_price(mirror(side, 26_000))
    venue.liquidate(BTC, fish, sender=stranger)
    amount = fund(fish, 5_000, venue)
    venue.depositMargin(BTC, fish, amount, sender=fish)
    venue.trade(BTC, position, 0, sender=fish)
    p = venue.position(BTC, fish)
    assert p.size == position and p.openNotional == position * to_wad(mirror(side, 26_000))
