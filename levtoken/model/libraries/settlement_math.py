"""SettlementMath (contracts/libraries/SettlementMath.sol): how one settlement's trade cost is shared.
Deposits and redemptions net into one venue trade, and each side pays the trade's actual cost in
proportion to what its own trade would cost alone, rounded up."""

from __future__ import annotations

from levtoken.model.libraries.fixed_point_math import mul_div_up


def split(cost: int, quote_d: int, quote_r: int, has_d: bool, has_r: bool) -> tuple[int, int]:
    """(costD, costR): a side settling alone pays the whole cost; with both, shares of `cost` in
    proportion to the sides' quotes alone (rounded up); with no quoted cost the redemption side pays."""
    if not has_r:
        return cost, 0
    if not has_d:
        return 0, cost
    total = quote_d + quote_r
    if total == 0:
        return 0, cost
    return mul_div_up(cost, quote_d, total), mul_div_up(cost, quote_r, total)
