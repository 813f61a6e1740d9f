"""Funding: accrues per second from the open-interest skew (rate = maxFundingRatePerDay * skew / total),
longs pay shorts when the skew is positive, and is settled into margin and pool cash on the next
modification of an account.

Amounts depend on block timestamps, so every expectation is computed from the timestamps of the
blocks that did the accrual.
"""

import pytest

from levtoken.units import DAY, to_units, to_wad
from tests.utils.constants import BTC, UNIT


@pytest.fixture
def long_and_short(venue, whale, fish, open_account, block_time):
    """whale: 3 BTC long, fish: 1 BTC short; returns the two trades' timestamps."""
    open_account(whale, 100_000)
    open_account(fish, 100_000)
    t1 = block_time(venue.trade(BTC, to_wad(3), 0, sender=whale))
    t2 = block_time(venue.trade(BTC, -to_wad(1), 0, sender=fish))
    return t1, t2


def test_fundingRate__no_open_interest__zero(venue):
    assert venue.fundingRate(BTC) == 0


def test_fundingRate__longs_only__capped_at_max(venue, whale, cfg, open_account):
    open_account(whale, 100_000, to_wad(3))
    assert venue.fundingRate(BTC) == cfg["maxFundingRatePerDay"]


def test_fundingRate__shorts_only__minus_max(venue, fish, cfg, open_account):
    open_account(fish, 100_000, -to_wad("0.01"))
    assert venue.fundingRate(BTC) == -cfg["maxFundingRatePerDay"]


def test_fundingRate__mixed_skew__proportional_and_truncated(venue, whale, fish, cfg, open_account):
    open_account(whale, 100_000, to_wad(3))
    open_account(fish, 100_000, -to_wad(1))
    assert venue.fundingRate(BTC) == cfg["maxFundingRatePerDay"] // 2
    venue.trade(BTC, -to_wad(3), 0, sender=fish)
    # skew -1 of total 7: truncated toward zero.
    assert venue.fundingRate(BTC) == -(cfg["maxFundingRatePerDay"] // 7)


def test_fundingOwed__longs_only__accrues_per_second(venue, whale, cfg, model, price0, open_account, block_time, chain):
    size = to_wad(2)
    open_account(whale, 100_000)
    t1 = block_time(venue.trade(BTC, size, 0, sender=whale))
    rate = cfg["maxFundingRatePerDay"]

    for elapsed in (1, 2, 3_600, DAY):
        chain.mine(timestamp=t1 + elapsed)
        assert venue.fundingOwed(BTC, whale) == model.owed(size, model.index_delta(rate, price0, elapsed))

    # 0.03% a day of 60,000 of notional: 18 dollars for the day.
    assert venue.fundingOwed(BTC, whale) == to_units(18)
    assert model.owed(size, model.index_delta(rate, price0, 1)) == 209  # 208.33.. rounded up


def test_fundingOwed__positive_skew__longs_pay_shorts(
    venue, whale, fish, cfg, model, price0, long_and_short, chain
):
    t1, t2 = long_and_short
    rate_max = cfg["maxFundingRatePerDay"]
    first = model.index_delta(rate_max, price0, t2 - t1)  # longs only until fish's trade
    chain.mine(timestamp=t2 + 7 * 3_600 + 13)
    second = model.index_delta(rate_max // 2, price0, 7 * 3_600 + 13)

    whale_owes = venue.fundingOwed(BTC, whale)
    fish_owes = venue.fundingOwed(BTC, fish)

    assert whale_owes == model.owed(to_wad(3), first + second)
    assert fish_owes == model.owed(-to_wad(1), second)
    assert whale_owes > 0 > fish_owes
    assert venue.fundingRate(BTC) == rate_max // 2


def test_fundingOwed__negative_skew__shorts_pay_longs(
    venue, whale, fish, cfg, model, price0, open_account, block_time, chain
):
    open_account(whale, 100_000)
    open_account(fish, 100_000)
    t1 = block_time(venue.trade(BTC, -to_wad(4), 0, sender=fish))
    t2 = block_time(venue.trade(BTC, to_wad(1), 0, sender=whale))
    first = model.index_delta(-cfg["maxFundingRatePerDay"], price0, t2 - t1)
    chain.mine(timestamp=t2 + 5_000)
    second = model.index_delta(model.rate(cfg, to_wad(1), to_wad(4)), price0, 5_000)

    assert venue.fundingOwed(BTC, fish) == model.owed(-to_wad(4), first + second) > 0
    assert venue.fundingOwed(BTC, whale) == model.owed(to_wad(1), second) < 0


def test_fundingOwed__price_at_accrual__scales_whole_interval(
    venue, whale, cfg, model, open_account, block_time, chain, set_price
):
    size = to_wad(1)
    open_account(whale, 100_000)
    t1 = block_time(venue.trade(BTC, size, 0, sender=whale))
    set_price(45_000)
    chain.mine(timestamp=t1 + 10_000)

    expected = model.owed(size, model.index_delta(cfg["maxFundingRatePerDay"], to_wad(45_000), 10_000))
    assert venue.fundingOwed(BTC, whale) == expected


def test_trade__after_funding__settles_owed_into_pool(
    venue, whale, cfg, model, price0, long_and_short, chain, block_time
):
    t1, t2 = long_and_short
    index_t2 = model.index_delta(cfg["maxFundingRatePerDay"], price0, t2 - t1)
    margin_before = venue.position(BTC, whale).margin
    pool_before = venue.poolCash()
    chain.pending_timestamp = t2 + DAY
    size = to_wad("0.5")

    receipt = venue.trade(BTC, size, 0, sender=whale)

    t3 = block_time(receipt)
    index = index_t2 + model.index_delta(cfg["maxFundingRatePerDay"] // 2, price0, t3 - t2)
    owed = model.owed(to_wad(3), index)
    fee, impact, _ = model.trade_cost(cfg, size, price0)
    p = venue.position(BTC, whale)
    assert p.margin == margin_before - owed - fee - impact
    assert p.fundingSnapshot == index
    assert venue.marketState(BTC).fundingIndex == index
    assert venue.poolCash() == pool_before + owed + fee + impact
    settled = receipt.events.filter(venue.FundingSettled)
    assert len(settled) == 1
    assert (settled[0].account, settled[0].amount, settled[0].fundingIndex) == (whale.address, owed, index)
    assert venue.fundingOwed(BTC, whale) == 0


def test_withdrawMargin__short_owed_funding__paid_by_pool(
    venue, fish, cfg, model, price0, long_and_short, chain, block_time
):
    _, t2 = long_and_short
    margin_before = venue.position(BTC, fish).margin
    pool_before = venue.poolCash()
    chain.pending_timestamp = t2 + DAY // 2

    receipt = venue.withdrawMargin(BTC, to_units(1), fish, sender=fish)

    t3 = block_time(receipt)
    owed = model.owed(-to_wad(1), model.index_delta(cfg["maxFundingRatePerDay"] // 2, price0, t3 - t2))
    assert owed < 0
    assert venue.position(BTC, fish).margin == margin_before - owed - to_units(1)
    assert venue.poolCash() == pool_before + owed
    assert receipt.events.filter(venue.FundingSettled)[0].amount == owed


def test_depositMargin__open_position__does_not_settle_funding(venue, whale, long_and_short, chain, fund):
    _, t2 = long_and_short
    margin_before = venue.position(BTC, whale).margin
    chain.pending_timestamp = t2 + 3_600
    amount = fund(whale, 10, venue)

    receipt = venue.depositMargin(BTC, whale, amount, sender=whale)

    assert venue.position(BTC, whale).margin == margin_before + amount
    assert venue.position(BTC, whale).fundingSnapshot == 0
    assert not receipt.events.filter(venue.FundingSettled)
    assert venue.fundingOwed(BTC, whale) > 0


def test_accountValue__unsettled_funding__deducted(venue, whale, cfg, model, price0, long_and_short, chain):
    t1, t2 = long_and_short
    chain.mine(timestamp=t2 + 40_000)
    index = model.index_delta(cfg["maxFundingRatePerDay"], price0, t2 - t1) + model.index_delta(
        cfg["maxFundingRatePerDay"] // 2, price0, 40_000
    )
    p = venue.position(BTC, whale)
    assert venue.accountValue(BTC, whale) == p.margin - model.owed(to_wad(3), index)


def test_poolValue__unsettled_funding__counted_for_pool(venue, cfg, model, price0, long_and_short, chain, set_price):
    t1, t2 = long_and_short
    set_price(31_000)
    price = to_wad(31_000)
    chain.mine(timestamp=t2 + 20_000)
    first = model.index_delta(cfg["maxFundingRatePerDay"], price0, t2 - t1)
    index = first + model.index_delta(cfg["maxFundingRatePerDay"] // 2, price, 20_000)
    # Snapshots: whale 3 BTC at index 0, fish -1 BTC at `first`.
    state = venue.marketState(BTC)
    assert state.sumFundingSnapshot == -to_wad(1) * first
    assert state.sumOpenNotional == (to_wad(3) - to_wad(1)) * price0
    net = to_wad(2)
    traders_pnl = net * price - state.sumOpenNotional
    funding_to_pool = net * index - state.sumFundingSnapshot

    assert venue.poolValue() == venue.poolCash() + (funding_to_pool - traders_pnl) // UNIT


def test_setMarketConfig__funding_rate_change__applies_from_then_on(
    venue, gov, whale, cfg, model, price0, open_account, block_time, chain
):
    open_account(whale, 100_000)
    t1 = block_time(venue.trade(BTC, to_wad(1), 0, sender=whale))
    chain.pending_timestamp = t1 + 1_000
    raised = cfg["maxFundingRatePerDay"] + 10**15  # one step
    t2 = block_time(venue.setMarketConfig(BTC, {**cfg, "maxFundingRatePerDay": raised}, sender=gov))
    chain.mine(timestamp=t2 + 1_000)

    index = model.index_delta(cfg["maxFundingRatePerDay"], price0, t2 - t1) + model.index_delta(raised, price0, 1_000)
    assert venue.fundingOwed(BTC, whale) == model.owed(to_wad(1), index)
    assert venue.fundingRate(BTC) == raised
