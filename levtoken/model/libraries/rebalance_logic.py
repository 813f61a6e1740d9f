"""RebalanceLogic (contracts/libraries/RebalanceLogic.sol): the rebalance decision, pure: which action
is due and why, the cap on one trade, and the anchored time schedule."""

from __future__ import annotations

from levtoken.model.libraries.fixed_point_math import mul_div_down
from levtoken.model.libraries.hedge_math import with_sign
from levtoken.shapes import Action, Params, Reason
from levtoken.units import WAD


def decide(
    abs_leverage: int, drift: int, delta: int, iterating: bool, params: Params, now: int, last_rebalance: int
) -> tuple[Action, Reason]:
    """The action due and its reason, first match wins: RIPCORD at the ripcord limit; ITERATE while a
    capped rebalance has a trade left; REBALANCE (BAND) outside [leverageMin, leverageMax]; REBALANCE
    (TIME) once the interval has passed, if leverage drifted at least minDrift and there is a trade."""
    if abs_leverage >= params.ripcord_leverage:
        return Action.RIPCORD, Reason.RIPCORD
    if iterating and delta != 0:
        return Action.ITERATE, Reason.ITERATION
    if abs_leverage > params.leverage_max or abs_leverage < params.leverage_min:
        return Action.REBALANCE, Reason.BAND
    if now >= last_rebalance + params.rebalance_interval and drift >= params.min_drift and delta != 0:
        return Action.REBALANCE, Reason.TIME
    return Action.NONE, Reason.NONE


def cap_trade(delta: int, max_notional_wad: int, price: int) -> tuple[int, bool]:
    """`delta` cut to `max_notional_wad` (18 decimals) of notional at `price`; whether it was cut."""
    max_size = mul_div_down(max_notional_wad, WAD, price)
    if abs(delta) > max_size:
        return with_sign(delta, max_size), True
    return delta, False


def next_last_rebalance(last_rebalance: int, now: int, interval: int) -> int:
    """The schedule after a completed rebalance stays anchored: it moves by whole intervals once an
    interval has passed, so the next time rebalance falls due a whole number of intervals after the last."""
    elapsed = now - last_rebalance
    if elapsed >= interval:
        return last_rebalance + (elapsed - elapsed % interval)
    return last_rebalance
