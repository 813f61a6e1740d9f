"""RebalanceLogic (contracts/libraries/RebalanceLogic.sol): the rebalance decision, pure: which action
is due and why, how large one trade may be, when the time schedule moves on, and the bounds the
parameters must keep for the decision to hold (a band around the target inside the ripcord limit, fees
and caps within their maxima)."""

from __future__ import annotations

from levtoken.model.errors import InvalidParameter, TradeCapBelowFloor, check_step
from levtoken.model.libraries.fixed_point_math import mul_div_down
from levtoken.model.libraries.hedge_math import with_sign
from levtoken.shapes import ZERO_ADDRESS, Action, Params, Reason
from levtoken.units import BPS, COLLATERAL_DECIMALS, DAY, WAD

MAX_FEE_STEP_BPS = 50  # most a mint or redeem fee rises in one change, 0.5%
MAX_STREAMING_FEE_STEP = 25 * 10**13  # most the streaming fee rises in one change, 0.025% per day
MIN_TRADE_CAP_BPS = 1_000  # least trade cap a change may lower maxTradeNotional to, 10% of equity


def decide(leverage: int, target_leverage: int, off_target: bool, iterating: bool, interval_elapsed: bool,
           leverage_min: int, leverage_max: int, ripcord_leverage: int, min_drift: int) -> tuple[Action, Reason]:
    """The action due and why. The first that applies wins: ripcord (|leverage| at the ripcord limit),
    iteration (a capped rebalance not yet at target), band (|leverage| outside [leverage_min,
    leverage_max]), time (an interval has passed and leverage drifted at least `min_drift` from target).
    `off_target`: a trade toward the target size would change the position."""
    abs_leverage = abs(leverage)
    if abs_leverage >= ripcord_leverage:
        return Action.RIPCORD, Reason.RIPCORD
    if iterating and off_target:
        return Action.ITERATE, Reason.ITERATION
    if abs_leverage > leverage_max or abs_leverage < leverage_min:
        return Action.REBALANCE, Reason.BAND
    if interval_elapsed and abs(leverage - target_leverage) >= min_drift and off_target:
        return Action.REBALANCE, Reason.TIME
    return Action.NONE, Reason.NONE


def check_steps(current: Params, proposed: Params, equity_units: int) -> None:
    """Bounds on one change of the parameters for a token of `equity_units`: ConfigStepTooLarge for the first
    fee, in struct order, raised by more than its step; TradeCapBelowFloor when max_trade_notional is lowered
    below MIN_TRADE_CAP_BPS of equity. Lowering a fee and raising the cap are never limited."""
    check_step("mintFeeBps", current.mint_fee_bps, proposed.mint_fee_bps, MAX_FEE_STEP_BPS)
    check_step("redeemFeeBps", current.redeem_fee_bps, proposed.redeem_fee_bps, MAX_FEE_STEP_BPS)
    check_step("streamingFeePerDay", current.streaming_fee_per_day, proposed.streaming_fee_per_day,
               MAX_STREAMING_FEE_STEP)
    floor = mul_div_down(equity_units, MIN_TRADE_CAP_BPS, BPS)
    if proposed.max_trade_notional < current.max_trade_notional and proposed.max_trade_notional < floor:
        raise TradeCapBelowFloor(proposed.max_trade_notional, floor)


def params_out_of_bounds(p: Params, abs_target: int, max_leverage: int, max_fee_bps: int,
                         max_streaming_fee_per_day: int, max_bounty: int,
                         decimals: int = COLLATERAL_DECIMALS) -> list[tuple[str, str]]:
    """Every field of `p` outside its bounds, in struct order, each with the bound in a reader's words (the
    config file's units; collateral of `decimals`): leverageMin > 0 and leverageMax above |target| by more than
    minDrift around it, ripcordLeverage above leverageMax and at most `max_leverage`, an interval of a minute to
    a week, a settlement window of five minutes to a day, fees at most their maxima, a fee recipient, a non-zero
    trade cap and supply cap, a bounty at most `max_bounty`."""
    def h(name: str, value: int) -> str:
        return Params.human(name, value, decimals)

    rules = (
        ("leverageMax", p.leverage_max <= abs_target, f"above the target's {h('leverageMax', abs_target)}"),
        ("leverageMin", p.leverage_min == 0 or p.leverage_min >= abs_target,
         f"above 0 and below the target's {h('leverageMin', abs_target)}"),
        ("ripcordLeverage", p.ripcord_leverage <= p.leverage_max or p.ripcord_leverage > max_leverage,
         f"above leverage_max ({h('leverageMax', p.leverage_max)}) and at most {h('ripcordLeverage', max_leverage)}"),
        ("minDrift", p.min_drift >= p.leverage_max - abs_target,
         f"below leverage_max minus the target ({h('minDrift', max(p.leverage_max - abs_target, 0))})"),
        ("rebalanceInterval", p.rebalance_interval < 60 or p.rebalance_interval > 7 * DAY,
         f"from 60 s to {7 * DAY} s (a week)"),
        ("settlementWindow", p.settlement_window < 5 * 60 or p.settlement_window > DAY, f"from 300 s to {DAY} s"),
        ("mintFeeBps", p.mint_fee_bps > max_fee_bps, f"at most {max_fee_bps} bps"),
        ("redeemFeeBps", p.redeem_fee_bps > max_fee_bps, f"at most {max_fee_bps} bps"),
        ("streamingFeePerDay", p.streaming_fee_per_day > max_streaming_fee_per_day,
         f"at most {h('streamingFeePerDay', max_streaming_fee_per_day)} per day"),
        ("feeRecipient", p.fee_recipient == ZERO_ADDRESS, "an address other than zero"),
        ("maxTradeNotional", p.max_trade_notional == 0, "above 0"),
        ("ripcordBounty", p.ripcord_bounty > max_bounty, f"at most {h('ripcordBounty', max_bounty)} collateral"),
        ("supplyCap", p.supply_cap == 0, "above 0"),
    )
    return [(name, words) for name, fails, words in rules if fails]


def check_params(p: Params, abs_target: int, max_leverage: int, max_fee_bps: int, max_streaming_fee_per_day: int,
                 max_bounty: int) -> None:
    """Raises InvalidParameter naming the first field of `p`, in struct order, outside its bounds
    (`params_out_of_bounds`)."""
    failing = params_out_of_bounds(p, abs_target, max_leverage, max_fee_bps, max_streaming_fee_per_day, max_bounty)
    if failing:
        raise InvalidParameter(failing[0][0])


def cap_trade(size_delta: int, max_notional_wad: int, price: int) -> tuple[int, bool]:
    """`size_delta` cut to `max_notional_wad` (18 decimals) of notional at `price`, rounded toward zero;
    whether it was cut (the rest is left to the next, ITERATE, step)."""
    max_size = mul_div_down(max_notional_wad, WAD, price)
    if abs(size_delta) <= max_size:
        return size_delta, False
    return with_sign(size_delta, max_size), True


def next_last_rebalance(last_rebalance: int, now: int, interval: int) -> int:
    """`last_rebalance` after a completed rebalance at `now`: moved on by whole intervals once an interval
    has passed, so the next time rebalance falls due a whole number of intervals after the last one, not an
    interval after whenever a keeper's transaction landed."""
    elapsed = now - last_rebalance
    if elapsed < interval:
        return last_rebalance
    return last_rebalance + elapsed - elapsed % interval
