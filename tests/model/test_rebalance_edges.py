"""The reference model's rebalance decision at each of its edges, as tests/unit/token/test_token_rebalance_edges.py
pins the contracts': RebalanceLogic's decide on leverages exactly on leverageMax, leverageMin, ripcordLeverage
and minDrift and one unit of WAD leverage across each; a model token's rebalance_status, rebalance and
ripcord with the edge set to its own leverage (and its interval exactly elapsed or one second short); and,
against the chain, RebalanceLogic.decide (deployed in a test harness) equal to the model's for any leverage
with every edge drawn on it, a unit across it or anywhere near it.

The edges, the prices and the outcomes are tests.utils.rebalance_edges', shared with the chain's tests."""

from __future__ import annotations

import pytest
from ape import project
from hypothesis import event, given, settings
from hypothesis import strategies as st

from levtoken.model import LeveragedToken, Model, default_params, errors, standard_model
from levtoken.model.libraries import rebalance_logic
from levtoken.units import WAD, to_units
from tests.utils.constants import BTC, INITIAL_PRICE
from tests.utils.model_flows import model_deposit
from tests.utils.rebalance_edges import (
    BAND, BAND_EDGES, MIN_DRIFT, NONE, RIPCORD, RIPCORD_LEVERAGE, TIME, off_target_price, on_edge,
    outcome,
)
from tests.utils.strategies import HEALTH

TARGETS = {"long": 3 * WAD, "short": -3 * WAD}
DEFAULTS = default_params(3 * WAD, "fees")  # the band 2.25x to 4x, the ripcord at 4.5x, a minimum drift of 0.03
DEPOSIT = to_units(10_000)

# decide's edges for a 3x token with DEFAULTS: (|leverage|, interval elapsed, outcome), by case.
DECIDE_CASES = {
    "on leverageMax": (DEFAULTS.leverage_max, False, NONE),
    "one unit above leverageMax": (DEFAULTS.leverage_max + 1, False, BAND),
    "on leverageMin": (DEFAULTS.leverage_min, False, NONE),
    "one unit below leverageMin": (DEFAULTS.leverage_min - 1, False, BAND),
    "on ripcordLeverage": (DEFAULTS.ripcord_leverage, False, RIPCORD),
    "one unit below ripcordLeverage": (DEFAULTS.ripcord_leverage - 1, False, BAND),
    "minDrift above target, interval elapsed": (3 * WAD + DEFAULTS.min_drift, True, TIME),
    "one unit short of minDrift above target": (3 * WAD + DEFAULTS.min_drift - 1, True, NONE),
    "minDrift below target, interval elapsed": (3 * WAD - DEFAULTS.min_drift, True, TIME),
    "one unit short of minDrift below target": (3 * WAD - DEFAULTS.min_drift + 1, True, NONE),
    "minDrift above target, interval not elapsed": (3 * WAD + DEFAULTS.min_drift, False, NONE),
}


@pytest.mark.parametrize("side", TARGETS)
@pytest.mark.parametrize("case", DECIDE_CASES)
def test_decide__leverage_on_or_one_unit_across_an_edge__documented_outcome(case, side):
    level, elapsed, expected = DECIDE_CASES[case]
    target = TARGETS[side]
    leverage = level if target > 0 else -level
    p = DEFAULTS
    got = rebalance_logic.decide(leverage, target, True, False, elapsed, p.leverage_min, p.leverage_max,
                                 p.ripcord_leverage, p.min_drift)
    assert got == expected


# --- a model token -------------------------------------------------------------------------------


@pytest.fixture(params=list(TARGETS.values()), ids=list(TARGETS))
def held(request) -> tuple[Model, LeveragedToken]:
    """(model, token): a 3x long or short with the factory's default parameters and 10,000 of the whale's
    deposit, settled and claimed, at target."""
    target = request.param
    model = standard_model(INITIAL_PRICE * WAD)
    token = model.add_token("token", BTC, target, default_params(target, "fees"))
    model.collateral.mint("whale", DEPOSIT)
    model_deposit(model, token, "whale", DEPOSIT)
    return model, token


def _off_target(model: Model, token: LeveragedToken, stretched: bool) -> None:
    """Moves the price so |leverage| is above |target| (`stretched`) or below it, inside the default band and
    before the interval has elapsed: nothing is due yet."""
    model.set_price(off_target_price(token.target_leverage, stretched) * WAD)
    assert outcome(token.rebalance_status()) == NONE


def _put_on_edge(token: LeveragedToken, edge: str, across: bool = False):
    """The admin sets `edge` to the token's leverage now (or one unit across it, see on_edge); the status the
    token then reports, at the very leverage the edge was set to."""
    leverage = token.rebalance_status().leverage
    token.set_params("gov", on_edge(token.params, edge, leverage, token.target_leverage, across))
    status = token.rebalance_status()
    assert status.leverage == leverage
    return status


def _interval_due(token: LeveragedToken) -> int:
    """The first timestamp at which the rebalance interval has elapsed."""
    return token.last_rebalance + token.params.rebalance_interval


def _publish_at(model: Model, timestamp: int) -> None:
    """The clock moves to `timestamp` and the latest price is published again there."""
    model.set_time(timestamp)
    model.set_answer(next(iter(model.feeds.values())).answer)


ON_BAND_EDGES = pytest.mark.parametrize("edge, stretched", BAND_EDGES, ids=["leverage_max", "leverage_min"])


@ON_BAND_EDGES
def test_rebalance_status__leverage_on_a_band_edge__none_and_rebalance_reverts(held, edge, stretched):
    model, token = held
    _off_target(model, token, stretched=stretched)
    assert outcome(_put_on_edge(token, edge)) == NONE
    with pytest.raises(errors.RebalanceNotDue):
        token.rebalance("keeper")


@ON_BAND_EDGES
def test_rebalance__leverage_one_unit_outside_a_band_edge__band(held, edge, stretched):
    model, token = held
    _off_target(model, token, stretched=stretched)
    status = _put_on_edge(token, edge, across=True)
    assert outcome(status) == BAND
    assert token.rebalance("keeper") == status


def test_ripcord__leverage_at_ripcord_leverage__ripcord_by_a_stranger(held):
    model, token = held
    _off_target(model, token, stretched=True)
    status = _put_on_edge(token, RIPCORD_LEVERAGE)
    assert outcome(status) == RIPCORD
    assert token.ripcord("stranger") == status


def test_ripcord__leverage_one_unit_below_ripcord_leverage__reverts_and_band_is_due(held):
    model, token = held
    _off_target(model, token, stretched=True)
    status = _put_on_edge(token, RIPCORD_LEVERAGE, across=True)
    assert outcome(status) == BAND
    with pytest.raises(errors.RipcordNotDue) as info:
        token.ripcord("stranger")
    assert info.value.args == (status.leverage,)
    assert token.rebalance("keeper") == status


def test_rebalance_status__interval_one_second_short__none_and_rebalance_reverts(held):
    model, token = held
    _off_target(model, token, stretched=False)
    _publish_at(model, _interval_due(token) - 1)
    status = token.rebalance_status()
    assert abs(status.leverage - token.target_leverage) >= token.params.min_drift
    assert outcome(status) == NONE
    with pytest.raises(errors.RebalanceNotDue):
        token.rebalance("keeper")


@pytest.fixture
def interval_elapsed(held):
    """`held` taken off target (below it) and moved to the second its rebalance interval has exactly elapsed."""
    model, token = held
    _off_target(model, token, stretched=False)
    _publish_at(model, _interval_due(token))
    return token


def test_rebalance__interval_exactly_elapsed__time(interval_elapsed):
    token = interval_elapsed
    status = token.rebalance_status()
    assert outcome(status) == TIME
    assert token.rebalance("keeper") == status


def test_rebalance__drift_exactly_min_drift_after_the_interval__time(interval_elapsed):
    token = interval_elapsed
    status = _put_on_edge(token, MIN_DRIFT)
    assert token.params.min_drift == abs(status.leverage - token.target_leverage)
    assert outcome(status) == TIME
    assert token.rebalance("keeper") == status


def test_rebalance_status__drift_one_unit_short_of_min_drift_after_the_interval__none_and_rebalance_reverts(
        interval_elapsed):
    token = interval_elapsed
    assert outcome(_put_on_edge(token, MIN_DRIFT, across=True)) == NONE
    with pytest.raises(errors.RebalanceNotDue):
        token.rebalance("keeper")


# --- the chain's decision against the model's ----------------------------------------------------


@pytest.fixture(scope="module")
def harness(gov):
    """RebalanceLogic.decide deployed as a view (contracts/mocks/RebalanceLogicHarness.sol)."""
    return gov.deploy(project.RebalanceLogicHarness)


# Where an edge lies from the drawn leverage: on it or one unit either side, clear of it (so that another
# edge decides: leverageMax and ripcordLeverage above |leverage|, leverageMin below), or anywhere within 2x.
near = st.sampled_from([-1, 0, 1])
anywhere = st.integers(-2 * WAD, 2 * WAD)
above = st.one_of(near, st.integers(2, 2 * WAD), anywhere)
below = st.one_of(near, st.integers(-2 * WAD, -2), anywhere)


@settings(max_examples=600, deadline=None, suppress_health_check=HEALTH)
@given(
    leverage=st.integers(-20 * WAD, 20 * WAD),
    target=st.sampled_from([3 * WAD, -3 * WAD, 2 * WAD, -WAD]),
    offsets=st.tuples(above, below, above, st.one_of(near, anywhere)),
    off_target=st.booleans(),
    iterating=st.sampled_from([False, False, False, True]),
    elapsed=st.sampled_from([True, True, False]),
)
def test_decide__any_leverage_with_edges_on_or_around_it__chain_equals_model(harness, leverage, target, offsets,
                                                                            off_target, iterating, elapsed):
    to_max, to_min, to_ripcord, to_drift = offsets
    edges = (
        max(0, abs(leverage) + to_min),
        max(0, abs(leverage) + to_max),
        max(0, abs(leverage) + to_ripcord),
        max(0, abs(leverage - target) + to_drift),
    )
    want = rebalance_logic.decide(leverage, target, off_target, iterating, elapsed, *edges)
    event(f"{want[0].name}/{want[1].name}{' on an edge' if 0 in offsets else ''}")
    assert tuple(harness.decide(leverage, target, off_target, iterating, elapsed, *edges)) == tuple(want)
