"""rebalanceStatus, rebalance, ripcord and the Automation entry points, for longs and shorts."""

import pytest
from eth_abi import decode

from levtoken.shapes import Action, Reason
from levtoken.units import DAY, WAD, to_units
from tests.utils.checks import LEVERAGE_TOLERANCE
from tests.utils.constants import KEEPER_ROLE


@pytest.fixture
def funded(token, deposit, whale):
    deposit(token, whale, 10_000)
    return token


def _upkeep(token):
    needed, data = token.checkUpkeep(b"")
    return needed, decode(["uint8"], bytes(data))[0]


def test_rebalanceStatus__fresh_mint__none(funded, keeper, reverts):
    status = funded.rebalanceStatus()
    assert (status.action, status.reason, status.sizeDelta, status.capped) == (Action.NONE, Reason.NONE, 0, False)
    assert status.leverage == funded.leverage()
    assert status.equity == funded.equity()
    assert _upkeep(funded) == (False, Action.NONE)
    with reverts(funded.RebalanceNotDue):
        funded.rebalance(sender=keeper)
    with reverts(funded.RebalanceNotDue):
        funded.performUpkeep(b"", sender=keeper)


def test_rebalanceStatus__empty_token__none(token):
    status = token.rebalanceStatus()
    assert (status.action, status.equity, status.leverage) == (Action.NONE, 0, 0)


def test_rebalance__band_after_minus_13_percent__back_to_target(funded, keeper, venue, set_price, rel, pin):
    set_price(26_100)  # 3x after -13%: about 4.28x, above the 4x edge
    pin()
    status = funded.rebalanceStatus()
    assert (status.action, status.reason, status.capped) == (Action.REBALANCE, Reason.BAND, False)
    assert status.leverage > 4 * WAD
    assert status.sizeDelta < 0
    assert status.price == 26_100 * WAD
    assert _upkeep(funded) == (True, Action.REBALANCE)
    tx = funded.rebalance(sender=keeper)
    event = tx.events.filter(funded.Rebalanced)[0]
    trade = tx.events.filter(venue.PositionModified)[0]
    assert (event.action, event.reason, event.caller, event.completed) == (Action.REBALANCE, Reason.BAND, keeper.address, True)
    assert (event.leverageBefore, event.sizeDelta, event.price) == (status.leverage, status.sizeDelta, status.price)
    assert 0 <= event.cost - trade.fee <= 1  # fee and impact, plus the unit of PnL rounding
    assert funded.equity() == status.equity - event.cost  # the holders bear the rebalance cost
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE
    assert funded.rebalanceStatus().action == Action.NONE


def test_rebalance__band_after_plus_25_percent__buys_back_to_target(funded, keeper, set_price, rel):
    set_price(37_500)  # 3x after +25%: about 2.14x, below the 2.25x edge
    status = funded.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.BAND)
    assert status.sizeDelta > 0
    funded.rebalance(sender=keeper)
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE


def test_rebalance__time_after_a_day_with_drift__back_to_target(funded, keeper, advance, set_price, rel, reverts):
    set_price(30_600)  # +2%: about 2.89x, inside the band but 0.11 from target
    assert funded.rebalanceStatus().action == Action.NONE
    with reverts(funded.RebalanceNotDue):
        funded.rebalance(sender=keeper)
    start = funded.lastRebalance()
    advance(DAY)
    status = funded.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.TIME)
    tx = funded.rebalance(sender=keeper)
    assert tx.events.filter(funded.Rebalanced)[0].reason == Reason.TIME
    assert funded.lastRebalance() == start + DAY  # the schedule stays anchored to whole intervals
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE
    assert funded.rebalanceStatus().action == Action.NONE


def test_rebalanceStatus__a_day_with_drift_below_minimum__none(funded, advance):
    advance(DAY, 30_030)  # +0.1%: drift about 0.006, below the 0.03 minimum
    status = funded.rebalanceStatus()
    assert abs(status.leverage - 3 * WAD) < 3 * 10**16
    assert status.action == Action.NONE


def test_rebalance__capped_trades__iterates_then_completes(create_token, deposit, whale, keeper, set_price, rel):
    token = create_token(3, maxTradeNotional=to_units(2_000))
    deposit(token, whale, 10_000)
    set_price(26_100)
    max_size = to_units(2_000) * 10**12 * WAD // (26_100 * WAD)
    status = token.rebalanceStatus()
    assert (status.action, status.reason, status.capped, status.sizeDelta) == (Action.REBALANCE, Reason.BAND, True, -max_size)
    steps = 0
    while True:
        status = token.rebalanceStatus()
        tx = token.rebalance(sender=keeper)
        event = tx.events.filter(token.Rebalanced)[0]
        steps += 1
        assert event.completed == (not status.capped)
        assert token.iterating() == status.capped
        if steps > 1:
            assert (status.action, status.reason) == (Action.ITERATE, Reason.ITERATION)
        if event.completed:
            break
        assert abs(event.sizeDelta) == max_size
    assert steps >= 3
    assert not token.iterating()
    assert rel(token.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE
    assert token.rebalanceStatus().action == Action.NONE


def test_ripcord__stranger_past_limit__rebalances_and_pays_capped_bounty(funded, stranger, usd, venue, set_price, pin, rel):
    set_price(25_500)  # 3x after -15%: about 4.64x, past the 4.5x ripcord
    pin()
    status = funded.rebalanceStatus()
    assert (status.action, status.reason) == (Action.RIPCORD, Reason.RIPCORD)
    assert _upkeep(funded) == (True, Action.RIPCORD)
    bounty = min(to_units(10), status.equity * 100 // 10_000)
    assert bounty == to_units(10)
    tx = funded.ripcord(sender=stranger)
    assert usd.balanceOf(stranger) == bounty
    paid = tx.events.filter(funded.RipcordBountyPaid)[0]
    assert (paid.caller, paid.amount) == (stranger.address, bounty)
    event = tx.events.filter(funded.Rebalanced)[0]
    assert (event.action, event.caller, event.completed) == (Action.RIPCORD, stranger.address, True)
    assert 0 <= event.cost - tx.events.filter(venue.PositionModified)[0].fee <= 1
    assert funded.equity() == status.equity - event.cost - bounty
    # The bounty leaves after the trade, so leverage lands a bounty's worth above target.
    assert rel(funded.leverage(), 3 * WAD) < 2 * bounty / status.equity
    assert funded.rebalanceStatus().action == Action.NONE


def test_ripcord__small_token__bounty_capped_at_one_percent_of_equity(token, deposit, whale, stranger, usd, set_price, pin):
    deposit(token, whale, 100)
    set_price(25_500)
    pin()
    equity = token.rebalanceStatus().equity
    token.ripcord(sender=stranger)
    assert usd.balanceOf(stranger) == equity * 100 // 10_000 < to_units(10)


def test_ripcord__below_limit__reverts(funded, stranger, set_price, reverts, pin):
    set_price(26_100)  # out of the band but below the ripcord
    pin()
    leverage = funded.leverage()
    with reverts(funded.RipcordNotDue, leverage=leverage):
        funded.ripcord(sender=stranger)


def test_rebalance__ripcord_due__keeper_acts_and_earns_the_bounty(funded, keeper, usd, set_price, rel):
    set_price(25_500)
    balance = usd.balanceOf(keeper)
    tx = funded.rebalance(sender=keeper)
    assert tx.events.filter(funded.Rebalanced)[0].action == Action.RIPCORD
    assert tx.events.filter(funded.RipcordBountyPaid)[0].caller == keeper.address
    assert usd.balanceOf(keeper) == balance + to_units(10)
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE


def test_rebalance__stranger__reverts_access_control(funded, stranger, set_price, reverts):
    set_price(26_100)
    with reverts(funded.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        funded.rebalance(sender=stranger)


def test_performUpkeep__keeper_band__rebalances(funded, keeper, set_price, rel):
    set_price(26_100)
    tx = funded.performUpkeep(b"", sender=keeper)
    assert tx.events.filter(funded.Rebalanced)[0].caller == keeper.address
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE


def test_performUpkeep__stranger_band__reverts_access_control(funded, stranger, set_price, reverts):
    set_price(26_100)
    with reverts(funded.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        funded.performUpkeep(b"", sender=stranger)


def test_performUpkeep__stranger_ripcord__rebalances_and_pays_bounty(funded, stranger, usd, set_price):
    set_price(25_500)
    tx = funded.performUpkeep(b"", sender=stranger)
    assert tx.events.filter(funded.RipcordBountyPaid)[0].caller == stranger.address
    assert usd.balanceOf(stranger) == to_units(10)


@pytest.mark.parametrize("leverage, price, action", [(-3, 32_100, Action.REBALANCE), (-3, 33_000, Action.RIPCORD), (-1, 34_800, Action.REBALANCE), (-1, 36_100, Action.RIPCORD)])
def test_rebalance__short_past_band__back_to_target(create_token, deposit, whale, keeper, set_price, rel, leverage, price, action):
    token = create_token(leverage)
    deposit(token, whale, 10_000)
    set_price(price)
    status = token.rebalanceStatus()
    assert status.action == action
    assert status.leverage < leverage * WAD  # more negative: |leverage| grew as the price rose
    assert status.sizeDelta > 0  # buys back part of the short
    token.rebalance(sender=keeper)
    assert rel(token.leverage(), leverage * WAD) < LEVERAGE_TOLERANCE


def test_rebalance__short_after_a_fall__sells_more(create_token, deposit, whale, keeper, set_price, rel):
    token = create_token(-3)
    deposit(token, whale, 10_000)
    set_price(25_500)  # -15%: |leverage| about 1.9x, below 2.25x
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.BAND)
    assert status.sizeDelta < 0
    token.rebalance(sender=keeper)
    assert rel(token.leverage(), -3 * WAD) < LEVERAGE_TOLERANCE


def test_rebalance__idle_donation__swept_into_margin(funded, keeper, usd, venue, fund, set_price, rel):
    fund(keeper, 500)
    usd.transfer(funded, to_units(500), sender=keeper)
    set_price(25_800)
    equity = funded.equity()
    tx = funded.rebalance(sender=keeper)
    assert usd.balanceOf(funded) == 0
    assert tx.events.filter(venue.MarginDeposited)[0].amount == to_units(500)
    assert funded.equity() == equity - tx.events.filter(funded.Rebalanced)[0].cost
    assert rel(funded.leverage(), 3 * WAD) < LEVERAGE_TOLERANCE
