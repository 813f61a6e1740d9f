"""Property, on the reference model (the contracts to the unit): whoever knows the next round cannot profit from it
through the venue's DelayedOrders, whatever the round's move, the token on the venue, the attacker's size and
side. The attacker requests before the known round; the keeper executes at it; the attacker requests the undo and
the keeper executes at the next round, whose price the attacker could not know (here it repeats the known one).
Orders are executed within their window (600 s)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.model import default_params, standard_model
from levtoken.units import WAD, to_units
from tests.utils.model_flows import model_deposit
from tests.utils.strategies import HEALTH

P0 = 30_000 * WAD
FEED_UNIT = 10**10  # an 8-decimal answer, as a WAD price


def _price(base: int, bps: int) -> int:
    price = base * (10_000 + bps) // 10_000
    return price - price % FEED_UNIT


def _market(leverage: int, token_usd: int):
    model = standard_model(P0, pool_seed=10_000_000 * 10**6)
    orders = model.add_orders()
    token = model.add_token("token", 1, leverage * WAD, default_params(leverage * WAD, "fees"))
    model.collateral.mint("whale", to_units(token_usd))
    model_deposit(model, token, "whale", to_units(token_usd))
    return model, orders


def _executes(model, orders, request, seconds: int, price: int) -> None:
    """A request now, a round `seconds` later at `price`, the keeper's execution the second after."""
    request()
    model.advance(seconds)
    model.set_price(price)
    model.advance(1)
    assert orders.execute("keeper", orders.order_count)


@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(
    leverage=st.sampled_from([3, -3, -1, 2]),
    token_usd=st.integers(10_000, 5_000_000),
    attacker_usd=st.integers(1_000, 20_000_000),
    move_bps=st.integers(-800, 800).filter(lambda m: m != 0),
    seconds=st.integers(1, 598),
)
def test_known_round__through_delayed_orders__liquidity_just_in_time_never_pays(
    leverage, token_usd, attacker_usd, move_bps, seconds
):
    """Adding liquidity before a known round and removing it after (at the same price: no foresight of the next
    round): the attacker ends with at most what it had."""
    model, orders = _market(leverage, token_usd)
    attacker, amount = "attacker", to_units(attacker_usd)
    model.collateral.mint(attacker, amount + 2 * orders.execution_fee)
    before = model.collateral.balance_of(attacker)
    known = _price(P0, move_bps)
    _executes(model, orders, lambda: orders.request_add_liquidity(attacker, amount, 0), seconds, known)
    shares = model.venue.lp_shares[attacker]
    _executes(model, orders, lambda: orders.request_remove_liquidity(attacker, shares, 0), 1, known)
    assert model.collateral.balance_of(attacker) <= before


@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(
    leverage=st.sampled_from([3, -3]),
    token_usd=st.integers(10_000, 2_000_000),
    notional_usd=st.integers(1_000, 2_000_000),
    move_bps=st.integers(-800, 800).filter(lambda m: m != 0),
    seconds=st.integers(1, 598),
)
def test_known_round__through_delayed_orders__trading_ahead_never_pays(
    leverage, token_usd, notional_usd, move_bps, seconds
):
    """Opening in the direction of a known round before it and closing after (at the same price: no foresight
    of the next): the attacker ends with at most what it had."""
    model, orders = _market(leverage, token_usd)
    attacker = "attacker"
    margin = to_units(notional_usd)
    model.collateral.mint(attacker, margin + 2 * orders.execution_fee)
    before = model.collateral.balance_of(attacker)
    model.venue.deposit_margin(attacker, 1, attacker, margin)
    size = notional_usd * WAD * WAD // P0 * (1 if move_bps > 0 else -1)
    known = _price(P0, move_bps)
    _executes(model, orders, lambda: orders.request_trade(attacker, 1, size, 0), seconds, known)
    _executes(model, orders, lambda: orders.request_trade(attacker, 1, -size, 0), 1, known)
    model.venue.withdraw_margin(attacker, 1, model.venue.position(1, attacker).margin, attacker)
    assert model.collateral.balance_of(attacker) <= before
