"""Blocking a deposit batch, with the real contracts.

Two ways used to leave a keeper's settlement without its deposits, so every depositor in the batch waited for a
later round (one the blocker could choose) or a refund at par after the window:
- an outsider filling the venue's open-interest cap just before the settlement;
- one request, or a crowd, taking the batch past the token's supply cap.
Now the cap binds only what trades through DelayedOrders, and a batch past the supply cap settles pro rata up to
it: every depositor gets the same fraction filled at the keeper's round, and its claim returns the rest.
"""

import pytest

from levtoken.shapes import MarketConfig
from levtoken.units import to_units, to_wad
from tests.utils.chain import advance
from tests.utils.constants import BTC
from tests.utils.requests import settlement_of

RESULTS: list[tuple] = []


@pytest.fixture
def token(create_token, deposit, whale):
    """A 3x long of about 1M USD."""
    token = create_token(3)
    deposit(token, whale, 1_000_000)
    return token


def test_outsider_fills_open_interest_cap_before_settlement__the_batch_settles_whole(
    token, venue, orders, gov, keeper, fund, request_deposit, settle, chain, feed, fish, outsiders
):
    attacker = outsiders[0]
    long_oi, _ = venue.openInterest(BTC)
    config = MarketConfig.from_abi(venue.marketConfig(BTC))
    config.max_open_interest = long_oi + to_wad(10)  # room for 10 BTC more of longs
    venue.setMarketConfig(BTC, config.to_abi(), sender=gov)
    assets = request_deposit(token, fish, 30_000)
    # The attacker fills the cap through the only door open to it, a delayed order, before the keeper settles.
    fund(attacker, 200_000, orders)
    fund(attacker, 200_000, venue)
    venue.depositMargin(BTC, attacker, to_units(150_000), sender=attacker)
    request = orders.requestTrade(BTC, to_wad(10), 0, sender=attacker)
    (order,) = request.events.filter(orders.OrderRequested)
    advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)  # the round both wait for
    assert orders.execute(order.id, sender=keeper).events.filter(orders.OrderExecuted)[0].executed
    assert venue.openInterest(BTC)[0] >= config.max_open_interest - to_wad("0.01")
    receipt = token.settle(sender=keeper)
    # The token settled its whole batch; a later one settles too, the cap full.
    t = settlement_of(token, receipt)
    assert (t.assets, t.refunded) == (assets, 0)
    later = request_deposit(token, fish, 30_000)
    (receipt,) = settle(token)
    assert settlement_of(token, receipt).assets == later
    assert venue.openInterest(BTC)[0] > config.max_open_interest


@pytest.mark.parametrize("attacker_usd, room_usd", [(90_000, 100_000), (400_000, 420_000)])
def test_large_request_with_a_crowd_past_the_supply_cap__batch_fills_pro_rata_at_the_keepers_round(
    token, request_deposit, settle, set_params, fish, stranger, usd, feed, attacker_usd, room_usd
):
    """A large request that alone fits the cap's room (a larger one is refused when made) and an honest one
    that together pass it."""
    honest_usd = 30_000
    room = to_units(room_usd) * token.totalSupply() // token.totalAssets()
    set_params(token, supplyCap=token.totalSupply() + room)
    cap = token.params().supplyCap
    requested = {fish: request_deposit(token, fish, honest_usd), stranger: request_deposit(token, stranger, attacker_usd)}
    (receipt,) = settle(token)
    t = settlement_of(token, receipt)
    total = sum(requested.values())
    fraction = t.assets / total
    # Settled now, at the round the keeper settled at: nobody waits, nobody picks a later price.
    assert t.price == feed.latestRoundData()[1] * 10**10
    assert all(token.pendingDepositRequest(0, a) == 0 for a in requested)
    assert token.totalSupply() <= cap and cap - token.totalSupply() < token.convertToShares(10**4)  # a cent's shares
    per_usd = {}
    for account, assets in requested.items():
        before = (usd.balanceOf(account), token.balanceOf(account))
        token.deposit(assets, account, account, sender=account)
        refund, shares = usd.balanceOf(account) - before[0], token.balanceOf(account) - before[1]
        assert refund == t.refunded * assets // total and shares == t.shares_out * assets // total
        per_usd[account] = shares / (assets - refund)
    # The same shares per dollar filled for the honest depositor and the large one.
    assert per_usd[fish] == pytest.approx(per_usd[stranger], rel=1e-9)
    RESULTS.append((honest_usd, attacker_usd, room_usd, fraction, t.refunded / 1e6))
    print(f"honest {honest_usd:,} + large {attacker_usd:,} USD, room about {room_usd:,} USD: {fraction:.4%} of each "
          f"request filled, {t.refunded / 1e6:,.2f} USD returned with the claims")

