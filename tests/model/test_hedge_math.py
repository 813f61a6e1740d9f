"""HedgeMath's sizing on chain (contracts/mocks/HedgeMathHarness.sol) against the reference model, on inputs
far wider than any token's and on the edge where a trade's own cost nearly equals what it leaves in the equity.

netOfCost reverted there (Panic 0x11) before it stopped the impact's weight at size: removing exposure with
equity * |delta| just above |target| * (fee + impact), the weight impact * equity * |delta| / denominator was
huge and |target| times it overflowed. A token whose rebalance status reverts cannot be rebalanced, so the
function must answer for every input: it now returns the gross trade there, as it always did where no net
trade exists."""

from __future__ import annotations

import math

import pytest
from ape import project
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from levtoken.model.libraries import hedge_math
from tests.utils.strategies import HEALTH

# The input on which netOfCost overflowed: a long target, a trade that removes exposure, the cost term just
# under equity * |delta|.
OVERFLOWING = dict(
    target=310693935636511147154280721,
    delta=-303412046524169691874313,
    equity_units=1125899906842624,
    fee=0,
    impact=1099511627791,
)


@pytest.fixture(scope="module")
def harness(gov):
    """HedgeMath deployed as views (contracts/mocks/HedgeMathHarness.sol)."""
    return gov.deploy(project.HedgeMathHarness)


def _net_of_cost(harness, target, delta, equity_units, fee, impact):
    """The chain's and the model's netOfCost on the same inputs."""
    return (harness.netOfCost(target, delta, equity_units, fee, impact),
            hedge_math.net_of_cost(target, delta, equity_units, fee, impact))


def test_net_of_cost__removing_exposure_at_its_cost__answers_the_gross_trade(harness):
    chain, model = _net_of_cost(harness, **OVERFLOWING)
    assert chain == model == OVERFLOWING["delta"]


units = st.integers(0, 2**60)


def _bits(low: int, high: int):
    """Integers of `low` to `high` bits, each bit length alike (so large magnitudes are drawn as often as small)."""
    return st.integers(low, high).flatmap(lambda bits: st.integers(2 ** (bits - 1), 2**bits - 1))


@st.composite
def near_singular(draw):
    """Inputs whose cost term |target| * (fee + impact) falls 0 to 8 units short of equity * |delta|: the trade
    removes exposure (or adds, to check that side too) at its own cost, where the impact's weight at size,
    impact * equity * |delta| / (the units left), is largest. The target is solved for modulo the equity, so that
    equity * |delta| = |target| * cost + shortfall exactly."""
    equity = draw(_bits(30, 60))
    cost = draw(_bits(1, 48))
    assume(math.gcd(cost, equity) == 1)
    shortfall = draw(st.integers(0, 8))
    rest = (-shortfall * pow(cost, -1, equity)) % equity if equity > 1 else 0
    room = 96 - cost.bit_length()  # |delta| about 2^96 at most
    target = rest + equity * draw(_bits(max(1, room - 8), room))
    delta = (target * cost + shortfall) // equity
    assume(0 < delta < 2**96)
    fee = draw(st.integers(0, cost))
    sign = draw(st.sampled_from([(1, -1), (-1, 1), (1, 1), (-1, -1)]))
    return target * sign[0], delta * sign[1], equity, fee, cost - fee


@settings(max_examples=300, deadline=None, suppress_health_check=HEALTH)
@given(st.one_of(
    near_singular(),
    st.tuples(st.integers(-2**120, 2**120), st.integers(-2**96, 2**96), units, units, units),
))
def test_net_of_cost__any_input__chain_equals_model_and_keeps_the_trade_direction(harness, inputs):
    target, delta, equity, fee, impact = inputs
    chain, model = _net_of_cost(harness, target, delta, equity, fee, impact)
    assert chain == model
    adds = (delta > 0) == (target > 0)
    event("adds exposure" if adds else "removes exposure")
    assert chain == 0 or (chain > 0) == (delta > 0)
    assert abs(chain) <= abs(delta) if adds else abs(chain) >= abs(delta)


@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
@given(gross=st.integers(-2**120, 2**120), assets=units, fee=units, impact=units)
def test_hedge_size__any_input__chain_equals_model_and_shrinks_toward_zero(harness, gross, assets, fee, impact):
    chain = harness.hedgeSize(gross, assets, fee, impact)
    assert chain == hedge_math.hedge_size(gross, assets, fee, impact)
    assert chain == 0 or (chain > 0) == (gross > 0)
    assert abs(chain) <= abs(gross)
