"""The rebalance decision at each of its edges, through the token's own rebalanceStatus, rebalance and
ripcord, for a 3x long and a 3x short: |leverage| exactly on leverageMax, leverageMin and ripcordLeverage
and one unit of WAD leverage across each, the rebalance interval exactly elapsed and one second short,
and a drift exactly at minDrift and one unit short.

Leverage is not steered onto an edge by prices: the price moves the token off target, then the admin sets
the edge to the token's own leverage, read at the same timestamp (the chain's clock stands still between
blocks, see tests/conftest.py), so the decision sees exactly the leverage the test read. The edges and
their outcomes are tests.utils.rebalance_edges', which the model's tests (tests/model/test_rebalance_edges.py)
share."""

import pytest

from levtoken.shapes import Action, Params, Reason
from tests.utils import chain as chain_helpers
from tests.utils.rebalance_edges import (
    BAND, BAND_EDGES, MIN_DRIFT, NONE, RIPCORD, RIPCORD_LEVERAGE, TIME, off_target_price, on_edge,
    outcome,
)


@pytest.fixture(scope="module", params=[3, -3], ids=["long", "short"])
def edged(request, create_token, deposit, whale, keeper, stranger, set_price, price_now, set_params):
    """A 3x long or a 3x short with 10,000 of the whale's deposit, settled and claimed, at target. (The
    session fixtures the tests use come first, so ape's isolation takes them into the session's snapshot.)"""
    token = create_token(request.param)
    deposit(token, whale, 10_000)
    return token


@pytest.fixture
def off_target(edged, set_price, pin):
    """off_target(stretched) -> status: moves the price so |leverage| is above |target| (`stretched`) or
    below it, inside the default band and before the interval has elapsed: nothing is due yet."""

    def _move(stretched: bool):
        set_price(off_target_price(edged.targetLeverage(), stretched))
        pin()
        status = edged.rebalanceStatus()
        assert outcome(status) == NONE
        return status

    return _move


@pytest.fixture
def put_on_edge(edged, set_params):
    """put_on_edge(edge, across=False) -> status: the admin sets `edge` to the token's leverage now (or one
    unit across it, see on_edge); the status the token then reports, at the very leverage the edge was set to."""

    def _put(edge: str, across: bool = False):
        leverage = edged.rebalanceStatus().leverage
        params = on_edge(Params.from_abi(edged.params()), edge, leverage, edged.targetLeverage(), across)
        set_params(edged, **params.to_abi())
        status = edged.rebalanceStatus()
        assert status.leverage == leverage
        return status

    return _put


@pytest.fixture
def publish_at(chain, set_price, price_now):
    """publish_at(timestamp): the clock moves to `timestamp` and the latest price is published again there,
    so the views and transactions after it see that time on a fresh round."""

    def _publish(timestamp: int) -> None:
        chain.pending_timestamp = timestamp
        set_price(price_now())

    return _publish


@pytest.fixture
def interval_due(edged):
    """interval_due() -> the first timestamp at which the rebalance interval has elapsed."""

    def _due() -> int:
        return edged.lastRebalance() + edged.params().rebalanceInterval

    return _due


def _rebalanced(token, tx) -> tuple:
    """(action, reason, leverageBefore) of the Rebalanced event of `tx`."""
    event = tx.events.filter(token.Rebalanced)[0]
    return Action(event.action), Reason(event.reason), event.leverageBefore


ON_BAND_EDGES = pytest.mark.parametrize("edge, stretched", BAND_EDGES, ids=["leverageMax", "leverageMin"])


@ON_BAND_EDGES
def test_rebalanceStatus__leverage_on_a_band_edge__none_and_rebalance_reverts(edged, off_target, put_on_edge, keeper,
                                                                              reverts, edge, stretched):
    off_target(stretched=stretched)
    assert outcome(put_on_edge(edge)) == NONE
    with reverts(edged.RebalanceNotDue):
        edged.rebalance(sender=keeper)


@ON_BAND_EDGES
def test_rebalance__leverage_one_unit_outside_a_band_edge__band(edged, off_target, put_on_edge, keeper, edge, stretched):
    off_target(stretched=stretched)
    status = put_on_edge(edge, across=True)
    assert outcome(status) == BAND
    assert _rebalanced(edged, edged.rebalance(sender=keeper)) == (*BAND, status.leverage)


def test_ripcord__leverage_at_ripcordLeverage__ripcord_by_a_stranger(edged, off_target, put_on_edge, stranger):
    off_target(stretched=True)
    status = put_on_edge(RIPCORD_LEVERAGE)
    assert outcome(status) == RIPCORD
    tx = edged.ripcord(sender=stranger)
    assert _rebalanced(edged, tx) == (*RIPCORD, status.leverage)
    assert tx.events.filter(edged.RipcordBountyPaid)[0].caller == stranger.address


def test_ripcord__leverage_one_unit_below_ripcordLeverage__reverts_and_band_is_due(edged, off_target, put_on_edge,
                                                                                   stranger, keeper, reverts):
    off_target(stretched=True)
    status = put_on_edge(RIPCORD_LEVERAGE, across=True)
    assert outcome(status) == BAND
    with reverts(edged.RipcordNotDue, leverage=status.leverage):
        edged.ripcord(sender=stranger)
    assert _rebalanced(edged, edged.rebalance(sender=keeper)) == (*BAND, status.leverage)


def test_rebalanceStatus__interval_one_second_short__none_and_rebalance_reverts(edged, off_target, interval_due,
                                                                                publish_at, keeper, reverts):
    off_target(stretched=False)
    publish_at(interval_due() - 1)
    status = edged.rebalanceStatus()
    assert abs(status.leverage - edged.targetLeverage()) >= edged.params().minDrift
    assert outcome(status) == NONE
    with reverts(edged.RebalanceNotDue):
        edged.rebalance(sender=keeper)


def test_rebalance__interval_exactly_elapsed__time(edged, off_target, interval_due, publish_at, chain, keeper):
    off_target(stretched=False)
    due = interval_due()
    publish_at(due)
    status = edged.rebalanceStatus()
    assert outcome(status) == TIME
    tx = edged.rebalance(sender=keeper)
    assert chain_helpers.block_time(chain, tx) == due
    assert _rebalanced(edged, tx) == (*TIME, status.leverage)


def test_rebalance__drift_exactly_minDrift_after_the_interval__time(edged, off_target, put_on_edge, interval_due,
                                                                    publish_at, keeper):
    off_target(stretched=False)
    publish_at(interval_due())
    status = put_on_edge(MIN_DRIFT)
    assert edged.params().minDrift == abs(status.leverage - edged.targetLeverage())
    assert outcome(status) == TIME
    assert _rebalanced(edged, edged.rebalance(sender=keeper)) == (*TIME, status.leverage)


def test_rebalanceStatus__drift_one_unit_short_of_minDrift_after_the_interval__none_and_rebalance_reverts(
    edged, off_target, put_on_edge, interval_due, publish_at, keeper, reverts
):
    off_target(stretched=False)
    publish_at(interval_due())
    assert outcome(put_on_edge(MIN_DRIFT, across=True)) == NONE
    with reverts(edged.RebalanceNotDue):
        edged.rebalance(sender=keeper)
