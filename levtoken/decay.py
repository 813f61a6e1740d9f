"""Volatility decay of a daily-rebalanced product (DESIGN.md section 5): what the continuous formula expects for a
leverage, a volatility and a holding period, and what the daily-reset product did on the shipped BTC closes.

With daily returns r_i, the daily-reset product is prod(1 + L r_i) (no fees, funding or trading costs). Against
(S_t/S_0)^L, the same leverage compounded continuously, it loses exp(-(L^2 - L)/2 * sigma^2 * t) - 1 in the
continuous limit (Avellaneda & Zhang 2010): the decay, whatever the underlying's drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from levtoken.prices import DAILY_CSV, load_prices

YEAR_DAYS = 365  # BTC trades every day: a year of daily closes is 365 returns


def expected_decay(leverage: float, volatility: float, days: float) -> float:
    """The continuous limit's decay over `days` at annual `volatility` (0.6 for 60%): exp(-(L^2-L)/2 s^2 t) - 1."""
    return math.exp(-(leverage**2 - leverage) / 2 * volatility**2 * days / YEAR_DAYS) - 1


def daily_reset(closes: list[Decimal], leverage: float) -> float:
    """The daily-reset product's return over `closes`, prod(1 + L r_i) - 1, floored at -100%."""
    value = 1.0
    for prev, cur in zip(closes, closes[1:]):
        value *= max(0.0, 1 + leverage * float(cur / prev - 1))
    return value - 1


def realized_volatility(closes: list[Decimal]) -> float:
    """The annualised standard deviation of the daily log returns of `closes`."""
    returns = [math.log(cur / prev) for prev, cur in zip(closes, closes[1:])]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / max(len(returns) - 1, 1)
    return math.sqrt(variance * YEAR_DAYS)


@dataclass
class ShippedWindow:
    """The daily-reset product over the latest `days` daily returns of the shipped BTC series."""

    start: str
    end: str
    underlying: float  # S_t/S_0 - 1
    volatility: float  # realised, annualised
    static: float  # a static L x position: L times the underlying's return (floored at -100%)
    compounded: float  # (S_t/S_0)^L - 1
    product: float  # the daily-reset product
    decay: float  # (1 + product) / (1 + compounded) - 1: the decay measured on the data
    expected: float  # the formula's decay at the realised volatility


def shipped_window(leverage: float, days: int) -> ShippedWindow:
    """The latest `days` daily returns of the shipped BTC closes (all of them when the series is shorter)."""
    points = load_prices(DAILY_CSV)[-(days + 1):]
    closes = [p.close for p in points]
    ratio = float(closes[-1] / closes[0])
    product = daily_reset(closes, leverage)
    compounded = ratio**leverage - 1
    volatility = realized_volatility(closes)
    day = lambda ts: datetime.fromtimestamp(ts, tz=timezone.utc).date().isoformat()  # noqa: E731
    return ShippedWindow(day(points[0].timestamp), day(points[-1].timestamp), ratio - 1, volatility,
                         max(-1.0, leverage * (ratio - 1)), compounded, product, (1 + product) / (1 + compounded) - 1,
                         expected_decay(leverage, volatility, len(closes) - 1))
