"""Parameter errors name the field, as the contracts do: the token's InvalidParameter(name) and the
venue's InvalidConfig(name) carry the Solidity name of the first field out of bounds, in struct order."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levtoken.model import MarketConfig, Params, default_params, errors, standard_model
from levtoken.model.libraries.rebalance_logic import MAX_FEE_STEP_BPS, MAX_STREAMING_FEE_STEP
from levtoken.shapes import ZERO_ADDRESS
from levtoken.units import WAD, to_units
from tests.utils.model_flows import model_deposit

TARGET = 3 * WAD
DEFAULTS = default_params(TARGET, "fees")
# The defaults with every fee at its maximum, so that one unit more is within a change's step and out of bounds.
AT_MAXIMA = dataclasses.replace(DEFAULTS, mint_fee_bps=100, redeem_fee_bps=100, streaming_fee_per_day=10**15)

# One change per Params field, each out of bounds for that field alone (the 3x token's defaults otherwise).
PARAMS_OUT_OF_BOUNDS = {
    "leverageMax": {"leverage_max": TARGET, "min_drift": 0},
    "leverageMin": {"leverage_min": 0},
    "ripcordLeverage": {"ripcord_leverage": DEFAULTS.leverage_max},
    "minDrift": {"min_drift": DEFAULTS.leverage_max - TARGET},
    "rebalanceInterval": {"rebalance_interval": 59},
    "settlementWindow": {"settlement_window": 5 * 60 - 1},
    "mintFeeBps": {"mint_fee_bps": 101},
    "redeemFeeBps": {"redeem_fee_bps": 101},
    "streamingFeePerDay": {"streaming_fee_per_day": 10**15 + 1},
    "feeRecipient": {"fee_recipient": ZERO_ADDRESS},
    "maxTradeNotional": {"max_trade_notional": 0},
    "ripcordBounty": {"ripcord_bounty": 1_000 * 10**6 + 1},
    "supplyCap": {"supply_cap": 0},
}

# One change per MarketConfig field, each out of bounds for that field alone.
CONFIG_OUT_OF_BOUNDS = {
    "feed": {"feed": ZERO_ADDRESS},
    "heartbeat": {"heartbeat": 59},
    "takerFeeBps": {"taker_fee_bps": 101},
    "maxImpactBps": {"max_impact_bps": 501},
    "initialMarginBps": {"initial_margin_bps": 5_001},
    "maintenanceMarginBps": {"maintenance_margin_bps": 49, "liquidation_penalty_bps": 49},
    "liquidationPenaltyBps": {"liquidation_penalty_bps": 301},
    "liquidatorShareBps": {"liquidator_share_bps": 5_001},
    "impactDepth": {"impact_depth": 0},
    "maxFundingRatePerDay": {"max_funding_rate_per_day": 10**16 + 1},
    "maxOpenInterest": {"max_open_interest": 0},
}


def test_every_field_has_a_case():
    """The tables above cover every field, in struct order."""
    assert tuple(PARAMS_OUT_OF_BOUNDS) == Params.sol_names()
    assert tuple(CONFIG_OUT_OF_BOUNDS) == MarketConfig.sol_names()


@pytest.mark.parametrize("field", list(PARAMS_OUT_OF_BOUNDS))
def test_set_params__field_out_of_bounds__invalid_parameter_names_it(field):
    model = standard_model(30_000 * WAD)
    token = model.add_token("token", 1, TARGET, AT_MAXIMA)
    with pytest.raises(errors.InvalidParameter) as info:
        token.set_params("gov", dataclasses.replace(AT_MAXIMA, **PARAMS_OUT_OF_BOUNDS[field]))
    assert info.value.args == (field,)


def test_set_params__every_field_out_of_bounds__the_first_is_named():
    model = standard_model(30_000 * WAD)
    token = model.add_token("token", 1, TARGET, AT_MAXIMA)
    changes = {name: value for change in PARAMS_OUT_OF_BOUNDS.values() for name, value in change.items()}
    with pytest.raises(errors.InvalidParameter) as info:
        token.set_params("gov", dataclasses.replace(AT_MAXIMA, **changes))
    assert info.value.args == ("leverageMax",)


@pytest.mark.parametrize("field", list(CONFIG_OUT_OF_BOUNDS))
def test_set_market_config__field_out_of_bounds__invalid_config_names_it(field):
    model = standard_model(30_000 * WAD)
    config = dataclasses.replace(model.venue.configs[1], **CONFIG_OUT_OF_BOUNDS[field])
    with pytest.raises(errors.InvalidConfig) as info:
        model.venue.set_market_config("gov", 1, config)
    assert info.value.args == (field,)
    with pytest.raises(errors.InvalidConfig) as info:
        model.venue.list_market("gov", "ETH", config)
    assert info.value.args == (field,)


@pytest.mark.parametrize("name, step", [("mintFeeBps", 50), ("redeemFeeBps", 50), ("streamingFeePerDay", 25 * 10**13)])
def test_set_params__fee_raised_past_its_step__config_step_too_large_names_it(name, step):
    """A fee rises by at most its step in one change, as the contract's checkSteps; any cut goes at once."""
    model = standard_model(30_000 * WAD)
    token = model.add_token("token", 1, TARGET, DEFAULTS)
    field = Params.python_name(name)
    current = getattr(DEFAULTS, field)
    with pytest.raises(errors.ConfigStepTooLarge) as info:
        token.set_params("gov", dataclasses.replace(DEFAULTS, **{field: current + step + 1}))
    assert info.value.args == (name, current, current + step + 1, step)
    token.set_params("gov", dataclasses.replace(DEFAULTS, **{field: current + step}))
    token.set_params("gov", dataclasses.replace(DEFAULTS, **{field: 0}))


def test_set_params__trade_cap_cut_below_a_tenth_of_equity__trade_cap_below_floor():
    model = standard_model(30_000 * WAD)
    token = model.add_token("token", 1, TARGET, DEFAULTS)
    model.collateral.mint("whale", to_units(100_000))
    model_deposit(model, token, "whale", to_units(100_000))
    floor = token.equity() // 10
    with pytest.raises(errors.TradeCapBelowFloor) as info:
        token.set_params("gov", dataclasses.replace(DEFAULTS, max_trade_notional=floor - 1))
    assert info.value.args == (floor - 1, floor)
    token.set_params("gov", dataclasses.replace(DEFAULTS, max_trade_notional=floor))


@settings(max_examples=200, deadline=None)
@given(proposals=st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 10**15),
                                    st.integers(1, 10**12)), min_size=1, max_size=12))
def test_set_params__any_sequence_of_proposals__each_accepted_change_within_its_steps(proposals):
    """Whatever an admin proposes, one after another, every change the token accepts raises each fee by at most its
    step and never lowers the trade cap below both its previous value and a tenth of equity; the rest are refused
    by name."""
    model = standard_model(30_000 * WAD)
    token = model.add_token("token", 1, TARGET, DEFAULTS)
    model.collateral.mint("whale", to_units(100_000))
    model_deposit(model, token, "whale", to_units(100_000))
    for mint, redeem, streaming, max_trade in proposals:
        before, equity = token.params, token.equity()
        proposed = dataclasses.replace(before, mint_fee_bps=mint, redeem_fee_bps=redeem,
                                       streaming_fee_per_day=streaming, max_trade_notional=max_trade)
        try:
            token.set_params("gov", proposed)
        except (errors.ConfigStepTooLarge, errors.TradeCapBelowFloor, errors.InvalidParameter):
            assert token.params == before
            continue
        after = token.params
        assert after.mint_fee_bps <= before.mint_fee_bps + MAX_FEE_STEP_BPS
        assert after.redeem_fee_bps <= before.redeem_fee_bps + MAX_FEE_STEP_BPS
        assert after.streaming_fee_per_day <= before.streaming_fee_per_day + MAX_STREAMING_FEE_STEP
        assert after.max_trade_notional >= min(before.max_trade_notional, equity // 10)
