"""HedgeMath (contracts/libraries/HedgeMath.sol): leverage, target size and the size of a hedge net of
its own cost, pure: the venue's quote of a trade's fee and impact (collateral units) comes in as
arguments. Sizes are signed (18 decimals, negative is short), prices and leverage WAD, equity in WAD
(collateral units scaled to 18 decimals) unless named in units. Every size is rounded toward zero."""

from __future__ import annotations

from levtoken.model.libraries.fixed_point_math import mul_div_down, tdiv
from levtoken.shapes import UINT256_MAX


def with_sign(signed: int, magnitude: int) -> int:
    """`magnitude` with the sign of `signed` (positive when `signed` is zero)."""
    return -magnitude if signed < 0 else magnitude


def leverage(size: int, price: int, equity_wad: int) -> int:
    """Signed leverage (WAD) of a position of `size` at `price` on `equity_wad` (18 decimals, positive)."""
    return with_sign(size, mul_div_down(abs(size), price, equity_wad))


def target_size(equity_wad: int, target_leverage: int, price: int) -> int:
    """Signed size of `target_leverage` on `equity_wad` (18 decimals) at `price`."""
    return with_sign(target_leverage, mul_div_down(equity_wad, abs(target_leverage), price))


def hedge_size(gross: int, assets: int, fee: int, impact: int) -> int:
    """The size that keeps leverage unchanged when `assets` join the equity: L * (assets - cost) / P, where
    cost is the fee and impact of the trade itself, from the quote (`fee`, `impact`) of the gross size
    `gross` = L * assets / P. The fee is proportional to size, so the net size is g * assets / (assets + c0);
    the impact, proportional to the square of size, is re-weighted once at that size (a Newton step).
    A deposit too small to pay for its own hedge joins the equity unhedged (0)."""
    if fee + impact >= assets:
        return 0
    impact_at_size = mul_div_down(impact, assets, assets + fee + impact)
    return with_sign(gross, mul_div_down(abs(gross), assets, assets + fee + impact_at_size))


def net_of_cost(target: int, delta: int, equity_units: int, fee: int, impact: int) -> int:
    """The trade toward `target` once its own cost has left the equity, from the quote (`fee`, `impact`)
    of the gross trade `delta`. With q = |target| * cost / (equity * |delta|), the net trade is
    delta / (1 + q) when it adds exposure and delta / (1 - q) when it removes exposure, with the impact
    re-weighted once at that size."""
    abs_delta = abs(delta)
    scaled = equity_units * abs_delta
    adds_exposure = (delta > 0) == (target > 0)
    denominator = _cost_denominator(adds_exposure, scaled, _cost_term(abs(target), fee, impact))
    if denominator == 0:
        return delta
    # Where the weight at size would reach `scaled`, no net trade exists: the contract stops there.
    impact_at_size = mul_div_down(impact, scaled, denominator) if impact < denominator else scaled
    denominator = _cost_denominator(adds_exposure, scaled, _cost_term(abs(target), fee, impact_at_size))
    if denominator == 0:
        return delta
    return with_sign(delta, mul_div_down(abs_delta, scaled, denominator))


def pro_rata(size: int, shares: int, total_shares: int) -> int:
    """The part of a position of `size` that `shares` of `total_shares` own (all of it when `shares` reaches
    the total), rounded toward zero."""
    if shares >= total_shares:
        return size
    return tdiv(size * shares, total_shares)


def _cost_term(abs_target: int, fee: int, impact: int) -> int:
    """|target| * (fee + impact), saturating at the largest uint256 as the contract's does."""
    return min(abs_target * min(fee + impact, UINT256_MAX), UINT256_MAX)


def _cost_denominator(adds_exposure: bool, scaled: int, cost_term: int) -> int:
    """scaled + cost when the trade adds exposure, scaled - cost (0 when not positive) when it removes;
    the sum saturates at the largest uint256 as the contract's does."""
    if adds_exposure:
        return min(scaled + cost_term, UINT256_MAX)
    return scaled - cost_term if scaled > cost_term else 0
