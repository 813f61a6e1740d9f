"""Exits never freeze, on the reference model (which reproduces the contracts to the unit): a long in a
sustained rise pays funding and costs out of its venue margin while its gains stay unrealised, until margin < 0 <
equity. A search over funding rates and daily rises finds the mildest that reach that state, and in each the
holders' pro-rata exit settles (the venue realises the rest of the position's profit into margin). Without that
realisation the same exits are refused (the control: the model's venue with the old rule)."""

from __future__ import annotations

import pytest

from levtoken.model import Revert, default_params, standard_model
from levtoken.model.perp_venue import PerpVenue
from levtoken.shapes import Action, MarketConfig
from levtoken.units import DAY, WAD, to_units
from tests.utils.model_flows import model_deposit, model_settle

P0 = 30_000 * WAD
DAYS = 30
FUNDING_PER_DAY = [0.0003, 0.001, 0.003, 0.005, 0.01]  # the default 0.03% to 1% (the bound), full skew
DAILY_RISE_PCT = [2, 3, 5, 10]
FOUND: dict[tuple[float, int], int | None] = {}


def _long_in_a_rise(funding_per_day: float, rise_pct: int):
    """A 3x long of 1M USD alone on its market (full skew: it pays the whole rate), rising `rise_pct` a day with a
    keeper rebalancing daily; returns (model, token, the first day its margin is below zero, or None)."""
    config = MarketConfig.defaults("feed", max_funding_rate_per_day=int(funding_per_day * WAD))
    model = standard_model(P0, pool_seed=100_000_000 * 10**6, config=config)
    token = model.add_token("BTC3L", 1, 3 * WAD, default_params(3 * WAD, "fees"))
    for who, usd in (("whale", 1_000_000), ("fish", 10_000)):
        model.collateral.mint(who, to_units(usd))
        model_deposit(model, token, who, to_units(usd))
    price = P0
    for day in range(1, DAYS + 1):
        model.advance(DAY)
        price = price * (100 + rise_pct) // 100
        model.set_price(price - price % 10**10)
        while token.rebalance_status().action != Action.NONE:
            token.rebalance("keeper")
        if model.venue.position(1, token.address).margin < 0:
            return model, token, day
    return model, token, None


def _exit_everyone(model, token) -> None:
    """The fish redeems everything and the whale half; one keeper settlement prices both."""
    for who, divisor in (("fish", 1), ("whale", 2)):
        token.request_redeem(who, token.balance_of(who) // divisor, who, who)
    model_settle(model, token)


@pytest.mark.parametrize("rise_pct", DAILY_RISE_PCT)
@pytest.mark.parametrize("funding_per_day", FUNDING_PER_DAY)
def test_long_in_a_sustained_rise__margin_below_zero__every_redemption_settles(funding_per_day, rise_pct):
    model, token, day = _long_in_a_rise(funding_per_day, rise_pct)
    FOUND[(funding_per_day, rise_pct)] = day
    print(f"\nfunding {funding_per_day:.2%}/day, +{rise_pct}%/day: margin < 0 from day {day}")
    if day is None:
        pytest.skip(f"margin stays positive for {DAYS} days")
    assert token.equity() > 0
    _exit_everyone(model, token)
    assert token.max_redeem("fish") > 0 and token.max_redeem("whale") > 0


@pytest.mark.parametrize("rise_pct", DAILY_RISE_PCT)
@pytest.mark.parametrize("funding_per_day", FUNDING_PER_DAY)
def test_control__without_realising_profit__the_same_exits_are_refused(monkeypatch, funding_per_day, rise_pct):
    """The same states with the venue's old rule (a withdrawal only from realised margin): every settlement with
    redemptions is refused."""
    monkeypatch.setattr(PerpVenue, "_reduces", staticmethod(lambda old, new: False))
    model, token, day = _long_in_a_rise(funding_per_day, rise_pct)
    if day is None:
        pytest.skip(f"margin stays positive for {DAYS} days")
    with pytest.raises(Revert) as refused:
        _exit_everyone(model, token)
    assert refused.value.name == "SettlementRejected"
