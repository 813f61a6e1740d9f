"""Trading ahead of a known oracle round on the venue itself.

An account that sees the next round coming (a Chainlink update in the mempool, or a deviation it can compute)
used to trade or move LP liquidity at the latest round and undo it at the next: +7,418.93 USD for 10M of
just-in-time liquidity around a -0.5% round with a 1M 3x token on the venue, +1,987.50 USD net for a 1M long
ahead of a +0.5% round. Only registered accounts (the tokens, whose own entry and exit are priced at a round
after each request) act on the venue in one step now; everyone else requests through DelayedOrders, executed by
a keeper at a round published after the request. Each case runs the attack both ways: one step (the attacker
registered, as everyone was before: the attack pays) and through DelayedOrders (it cannot pay: profit <= 0 net
of the execution fees). The attacker knows the next round only, so the round after it repeats its price.
"""

import pytest

from levtoken.units import to_feed, to_units, to_wad
from tests.utils.chain import head_time
from tests.utils.constants import BTC

P0 = 30_000
MOVES_BPS = [5, 10, 50, 100, 500]  # 0.05% to 5%
LIQUIDITY = 10_000_000  # the attacker's just-in-time liquidity, USD
NOTIONAL = 1_000_000  # the attacker's front-running position, USD
RESULTS: dict[tuple[str, str, int], float] = {}


@pytest.fixture
def market(create_token, deposit, venue, orders, whale, fund):
    """A 3x long of about 1M USD on the venue (its pool: 10M of honest liquidity)."""
    token = create_token(3)
    deposit(token, whale, 1_000_000)
    return token


def _requested(orders, receipt) -> int:
    """The id of the order a request receipt made."""
    return receipt.events.filter(orders.OrderRequested)[0].id


def _round(chain, feed, gov, price, t):
    """Publishes a round at `price` (USD) in a block at time `t`."""
    chain.pending_timestamp = t
    feed.submit(to_feed(price), sender=gov)


def _jit_liquidity(step, venue, orders, usd, feed, chain, gov, keeper, attacker, move_bps):
    """Adds LIQUIDITY before a round of `move_bps` and removes it after; returns the attacker's profit (USD)."""
    units = to_units(LIQUIDITY)
    before = usd.balanceOf(attacker)
    moved = P0 * (10_000 + move_bps) / 10_000
    t = head_time(chain) + 10
    chain.pending_timestamp = t
    if step == "one step":
        venue.addLiquidity(units, 0, sender=attacker)
        _round(chain, feed, gov, moved, t + 1)
        chain.pending_timestamp = t + 2
        venue.removeLiquidity(venue.lpShares(attacker), 0, sender=attacker)
    else:
        add = _requested(orders, orders.requestAddLiquidity(units, 0, sender=attacker))
        _round(chain, feed, gov, moved, t + 1)
        chain.pending_timestamp = t + 2
        assert orders.execute(add, sender=keeper).events.filter(orders.OrderExecuted)[0].executed
        chain.pending_timestamp = t + 3
        remove = _requested(orders, orders.requestRemoveLiquidity(venue.lpShares(attacker), 0, sender=attacker))
        _round(chain, feed, gov, moved, t + 4)  # the next round: no foresight of it, its price repeats
        chain.pending_timestamp = t + 5
        assert orders.execute(remove, sender=keeper).events.filter(orders.OrderExecuted)[0].executed
    return (usd.balanceOf(attacker) - before) / 10**6


def _front_run_trade(step, venue, orders, usd, feed, chain, gov, keeper, attacker, move_bps):
    """Opens NOTIONAL in the direction of a known round of `move_bps` before it and closes after; returns the
    attacker's profit (USD, margin and fees included)."""
    size = to_wad(NOTIONAL / P0) * (1 if move_bps > 0 else -1)
    margin = to_units(NOTIONAL / 2)
    before = usd.balanceOf(attacker)
    venue.depositMargin(BTC, attacker, margin, sender=attacker)
    moved = P0 * (10_000 + move_bps) / 10_000
    t = head_time(chain) + 10
    chain.pending_timestamp = t
    if step == "one step":
        venue.trade(BTC, size, 0, sender=attacker)
        _round(chain, feed, gov, moved, t + 1)
        chain.pending_timestamp = t + 2
        venue.trade(BTC, -size, 0, sender=attacker)
    else:
        opened = _requested(orders, orders.requestTrade(BTC, size, 0, sender=attacker))
        _round(chain, feed, gov, moved, t + 1)
        chain.pending_timestamp = t + 2
        assert orders.execute(opened, sender=keeper).events.filter(orders.OrderExecuted)[0].executed
        chain.pending_timestamp = t + 3
        closed = _requested(orders, orders.requestTrade(BTC, -size, 0, sender=attacker))
        _round(chain, feed, gov, moved, t + 4)
        chain.pending_timestamp = t + 5
        assert orders.execute(closed, sender=keeper).events.filter(orders.OrderExecuted)[0].executed
    venue.withdrawMargin(BTC, venue.position(BTC, attacker).margin, attacker, sender=attacker)
    return (usd.balanceOf(attacker) - before) / 10**6


@pytest.mark.parametrize("step", ["one step", "delayed orders"])
@pytest.mark.parametrize("move_bps", [m for b in MOVES_BPS for m in (b, -b)])
@pytest.mark.parametrize("attack", ["LP just-in-time", "trader front-running"])
def test_trading_ahead_of_a_known_round__through_delayed_orders__never_pays(
    market, venue, orders, usd, feed, chain, gov, keeper, outsiders, fund, attack, move_bps, step
):
    attacker = outsiders[0]
    fund(attacker, LIQUIDITY + 10, venue)
    usd.approve(orders, 2**256 - 1, sender=attacker)
    if step == "one step":
        venue.register(attacker, True, sender=gov)  # as every account could before DelayedOrders
    run = _jit_liquidity if attack == "LP just-in-time" else _front_run_trade
    profit = run(step, venue, orders, usd, feed, chain, gov, keeper, attacker, move_bps)
    RESULTS[(attack, step, move_bps)] = profit
    print(f"\n{attack:22s} {step:15s} move {move_bps / 100:+.2f}%: profit {profit:+,.2f} USD")
    if step == "delayed orders":
        assert profit <= 0


def test_outsider__one_step_trade_and_liquidity__refused(venue, usd, fund, outsiders, reverts):
    attacker = outsiders[0]
    units = fund(attacker, 1_000, venue)
    venue.depositMargin(BTC, attacker, units // 2, sender=attacker)  # margin in stays open to anyone
    with reverts(venue.NotRegistered, account=attacker.address):
        venue.trade(BTC, to_wad("0.01"), 0, sender=attacker)
    with reverts(venue.NotRegistered, account=attacker.address):
        venue.modifyPosition(BTC, 0, to_wad("0.01"), attacker, sender=attacker)
    with reverts(venue.NotRegistered, account=attacker.address):
        venue.addLiquidity(units // 2, 0, sender=attacker)
    with reverts(venue.NotRegistered, account=attacker.address):
        venue.removeLiquidity(1, 0, sender=attacker)
    with reverts(venue.NotOrders, caller=attacker.address):
        venue.tradeFor(BTC, attacker, to_wad("0.01"), 0, sender=attacker)
