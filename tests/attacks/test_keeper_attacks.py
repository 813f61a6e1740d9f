"""Attacks on the rebalancing entry points: a stranger rebalancing (to grief or front-run the trade), a
ripcord called before it is due (to collect the bounty), and a ripcord sent at an extreme gas price (to
drain the token through a gas-refunding bounty). The access-control and RipcordNotDue reverts alone are
in tests/unit/token/test_token_rebalance.py; here the state around them is checked too."""

import pytest

from levtoken.shapes import Action
from levtoken.units import to_units
from tests.utils.constants import KEEPER_ROLE


@pytest.fixture
def token(create_token, deposit, whale):
    token = create_token(3)
    deposit(token, whale, 100_000)
    return token


@pytest.mark.parametrize("price", [26_100, 25_500, 30_000], ids=["band-due", "ripcord-due", "nothing-due"])
def test_rebalance__stranger__AccessControl_state_unchanged(token, stranger, whale, set_price, state_of, price, reverts):
    set_price(price)
    before = state_of(token, stranger, whale)
    with reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=KEEPER_ROLE):
        token.rebalance(sender=stranger)
    assert state_of(token, stranger, whale) == before


@pytest.mark.parametrize("price", [30_000, 26_100], ids=["at-target", "out-of-band-below-ripcord"])
def test_ripcord__not_due__RipcordNotDue_no_bounty(token, stranger, whale, usd, set_price, pin, state_of, price, reverts):
    set_price(price)
    pin()
    leverage = token.leverage()
    before = state_of(token, stranger, whale)
    with reverts(token.RipcordNotDue, leverage=leverage):
        token.ripcord(sender=stranger)
    assert state_of(token, stranger, whale) == before
    assert usd.balanceOf(stranger) == 0


def test_ripcord__extreme_gas_price__same_fixed_bounty(token, chain, stranger, usd, set_price, pin):
    set_price(25_500)  # about 4.64x, past the 4.5x ripcord
    pin()
    status = token.rebalanceStatus()
    assert status.action == Action.RIPCORD
    bounty = min(token.params().ripcordBounty, status.equity * 100 // 10_000)
    assert bounty == to_units(10)

    paid = {}
    for gas_price in (chain.provider.base_fee + 1, 10**13):  # ~1 gwei and 10,000 gwei
        snapshot = chain.snapshot()
        pin()
        tx = token.ripcord(sender=stranger, gas_price=gas_price)
        assert tx.gas_price == gas_price
        event = tx.events.filter(token.RipcordBountyPaid)[0]
        paid[gas_price] = (usd.balanceOf(stranger), event.amount, token.equity())
        chain.restore(snapshot)
    low, high = paid.values()
    # Paid in collateral, capped by ripcordBounty and 1% of equity; the gas price enters nothing.
    assert low == high
    assert low[0] == low[1] == bounty
