"""Assertions and measures several test areas share (rewritten by pytest: see tests/conftest.py)."""

from __future__ import annotations

from typing import Any, Iterable

from tests.utils.constants import BTC

# Leverage after a rebalance, relative to target: the trade is sized net of its own cost from one quote,
# taking cost as proportional to size; the price impact's convexity leaves about 1e-8.
LEVERAGE_TOLERANCE = 1e-7


def rel(a: float, b: float) -> float:
    """|a - b| / |b|."""
    return abs(a - b) / abs(b)


def check_conserved(usd: Any, venue: Any, accounts: Iterable[Any], market_ids: Iterable[int] = (BTC,)) -> None:
    """The venue holds exactly its pool's cash plus the stored margin of every account in every market."""
    accounts = list(accounts)
    margins = sum(venue.position(i, a).margin for i in market_ids for a in accounts)
    assert usd.balanceOf(venue) == venue.poolCash() + margins
