"""Hypothesis settings and strategies shared by the model, differential and property tests.

Profiles, registered once here (importing this module registers them):
- "model-fast" (the differential test under `ape test`: a few short examples against anvil) and "long"
  (`HYPOTHESIS_PROFILE=long ape test -m slow`, thousands of steps);
- "invariants-fast" (the model's invariants under `ape test`: a few hundred steps, seconds) and
  "invariants-long" (selected by HYPOTHESIS_PROFILE=long, `make test-long`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from levtoken.model.perp_venue import CONFIG_STEPS
from levtoken.shapes import MarketConfig, Params
from levtoken.units import DAY, to_units

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

settings.register_profile("model-fast", max_examples=10, stateful_step_count=15, deadline=None, suppress_health_check=HEALTH)
settings.register_profile("long", max_examples=60, stateful_step_count=60, deadline=None, suppress_health_check=HEALTH)
settings.register_profile(
    "invariants-fast", max_examples=20, stateful_step_count=30, deadline=None, suppress_health_check=HEALTH
)
settings.register_profile(
    "invariants-long", max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=HEALTH
)

# Collateral units a holder deposits: dust (up to 1 USD) or a real amount (up to 400,000 USD).
deposit_amount = st.one_of(st.integers(1, 10**6), st.integers(10**6, 400_000 * 10**6))


def time_steps(minute: int, longest: int) -> st.SearchStrategy[int]:
    """Seconds the clock moves: the edges of a minute (`minute`) and a day, anything up to two days, and
    two days up to `longest` (beyond the feed's heartbeat when nothing re-publishes the price)."""
    return st.one_of(
        st.sampled_from([1, minute, 3_600, DAY - 1, DAY, DAY + 1]),
        st.integers(1, 2 * DAY),
        st.integers(2 * DAY, longest),
    )


@dataclass(frozen=True)
class TokenFees:
    """A change of a token's fees and trade limits, as the admin may make it (human units)."""

    mint_fee_bps: int
    redeem_fee_bps: int
    streaming_fee_per_day: int
    max_trade_usd: int
    drift_pct: int
    bounty_usd: int

    def applied_to(self, params: Params, target_leverage: int) -> Params:
        """`params` with these fees (the minimum drift as a percentage of |target_leverage|)."""
        return dataclasses.replace(
            params,
            mint_fee_bps=self.mint_fee_bps,
            redeem_fee_bps=self.redeem_fee_bps,
            streaming_fee_per_day=self.streaming_fee_per_day,
            max_trade_notional=to_units(self.max_trade_usd),
            min_drift=abs(target_leverage) * self.drift_pct // 100,
            ripcord_bounty=to_units(self.bounty_usd),
        )


def token_fees(max_trades_usd: Sequence[int], drift_pcts: Sequence[int]) -> st.SearchStrategy[TokenFees]:
    """Fee changes within the token's bounds (and, for the drift, sometimes beyond the band: the change
    then reverts), with the given largest rebalance trades and minimum drifts."""
    return st.builds(
        TokenFees,
        mint_fee_bps=st.sampled_from([0, 1, 10, 100]),
        redeem_fee_bps=st.sampled_from([0, 3, 10, 100]),
        streaming_fee_per_day=st.sampled_from([0, 10**14, 3 * 10**14, 10**15]),
        max_trade_usd=st.sampled_from(list(max_trades_usd)),
        drift_pct=st.sampled_from(list(drift_pcts)),
        bounty_usd=st.sampled_from([0, 10, 1_000]),
    )


@dataclass(frozen=True)
class MarketFees:
    """A change of a market's costs, as the venue's owner may make it (contract units)."""

    taker_fee_bps: int
    max_impact_bps: int
    impact_depth: int
    max_funding_rate_per_day: int

    def applied_to(self, config: MarketConfig) -> MarketConfig:
        """`config` with these costs."""
        return dataclasses.replace(config, **dataclasses.asdict(self))

    def steps_from(self, config: MarketConfig) -> list[MarketConfig]:
        """The configurations an owner sets one after the other to reach these costs from `config`: each raises
        a field by at most its step (PerpVenue's CONFIG_STEPS), a lowering comes at once."""
        target, steps = self.applied_to(config), []
        current = config
        while not steps or current != target:
            nxt = dataclasses.replace(current)
            for name, step in CONFIG_STEPS:
                field = MarketConfig.python_name(name)
                setattr(nxt, field, min(getattr(target, field), getattr(current, field) + step))
            for field in ("impact_depth",):
                setattr(nxt, field, getattr(target, field))
            steps.append(nxt)
            current = nxt
        return steps


def market_fees(depths_usd: Sequence[int]) -> st.SearchStrategy[MarketFees]:
    """Cost changes within the market's bounds, with the given impact depths."""
    return st.builds(
        MarketFees,
        taker_fee_bps=st.sampled_from([0, 5, 30, 100]),
        max_impact_bps=st.sampled_from([0, 100, 500]),
        impact_depth=st.sampled_from([to_units(depth) for depth in depths_usd]),
        max_funding_rate_per_day=st.sampled_from([0, 3 * 10**14, 10**16]),
    )
