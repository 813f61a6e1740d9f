"""The edges of the rebalance decision, shared by the chain's tests and the model's: the outcomes due on
each side of an edge, the prices that take a token at target off it, and the parameters that put one edge
exactly on a token's own leverage or one unit of WAD leverage across it.

The decision (RebalanceLogic.decide, LeveragedTokenLogic._state) at its edges:
- the band [leverageMin, leverageMax] is closed: |leverage| on either edge is inside it, nothing is due;
  one unit outside it, a band rebalance;
- a ripcord is due once |leverage| reaches ripcordLeverage; one unit short of it, a band rebalance (the
  band's upper edge is below the ripcord);
- a time rebalance is due once the interval has fully elapsed (block.timestamp >= lastRebalance +
  rebalanceInterval) and |leverage - target| is at least minDrift; a second or a unit short, nothing.
"""

from __future__ import annotations

import dataclasses

from levtoken.shapes import Action, Params, Reason
from tests.utils.constants import INITIAL_PRICE

NONE = (Action.NONE, Reason.NONE)
BAND = (Action.REBALANCE, Reason.BAND)
TIME = (Action.REBALANCE, Reason.TIME)
RIPCORD = (Action.RIPCORD, Reason.RIPCORD)

# The leverage edges by their Solidity field names.
LEVERAGE_MAX = "leverageMax"
LEVERAGE_MIN = "leverageMin"
RIPCORD_LEVERAGE = "ripcordLeverage"
MIN_DRIFT = "minDrift"
# The band's edges, each with the side of the target (stretched: |leverage| above it) a price move takes a
# token to for the edge to be reachable.
BAND_EDGES = ((LEVERAGE_MAX, True), (LEVERAGE_MIN, False))

# A price move (percent) that takes a +-3x token at target well off it (|leverage| about 2.6 to 3.5,
# more than the default minDrift from 3) and keeps it inside the default band (2.25x to 4x).
MOVE_PCT = 4


def outcome(status) -> tuple[Action, Reason]:
    """(action, reason) of a Status: the chain's struct or the model's dataclass."""
    return Action(status.action), Reason(status.reason)


def off_target_price(target_leverage: int, stretched: bool) -> int:
    """A price in dollars, MOVE_PCT away from INITIAL_PRICE, at which a token that was at `target_leverage`
    has |leverage| above |target| (`stretched`: a long after a fall, a short after a rise) or below it."""
    rises = (target_leverage < 0) == stretched
    return INITIAL_PRICE * (100 + MOVE_PCT if rises else 100 - MOVE_PCT) // 100


def on_edge(params: Params, edge: str, leverage: int, target_leverage: int, across: bool = False) -> Params:
    """`params` with edge `edge` exactly at `leverage` (|leverage|, or |leverage - target| for MIN_DRIFT),
    or, `across`, one unit of WAD leverage the other way: |leverage| above the band's upper edge, below its
    lower edge, short of the ripcord, or a drift short of the minimum. Within RebalanceLogic.checkParams'
    bounds when the token is off target as `off_target_price` leaves it (stretched for LEVERAGE_MAX and
    RIPCORD_LEVERAGE, slack for LEVERAGE_MIN); for RIPCORD_LEVERAGE the band's upper edge moves halfway
    between |target| and |leverage|, below the ripcord."""
    level, step = abs(leverage), 1 if across else 0
    if edge == LEVERAGE_MAX:
        return dataclasses.replace(params, leverage_max=level - step)
    if edge == LEVERAGE_MIN:
        return dataclasses.replace(params, leverage_min=level + step)
    if edge == RIPCORD_LEVERAGE:
        middle = (level + abs(target_leverage)) // 2
        return dataclasses.replace(params, ripcord_leverage=level + step, leverage_max=middle)
    if edge == MIN_DRIFT:
        return dataclasses.replace(params, min_drift=abs(leverage - target_leverage) + step)
    raise ValueError(f"no such edge: {edge}")
