"""Parameter changes beyond bounds, and by the wrong account.

Every Params bound and the non-admin check of setParams are in tests/unit/token/test_token_params.py,
every MarketConfig bound and the non-owner checks with a valid config in
tests/unit/venue/test_venue_markets.py, and the guardian checks in test_token_pause.py. Added here: a
stranger or the keeper pushing a harmful market config or granting itself a role, taking over ownership;
the settlement window's bounds; and an admin changing the mint and redeem fees (within bounds, by at most one
change's step) between a request and its settlement: the request pays the lower of the two.
"""

import pytest

from levtoken.model.libraries.rebalance_logic import MAX_FEE_STEP_BPS
from levtoken.shapes import MarketConfig, Params
from levtoken.units import to_feed
from tests.utils.chain import advance
from tests.utils.constants import ADMIN_ROLE, BTC, GUARDIAN_ROLE, KEEPER_ROLE
from tests.utils.requests import settlement_of


def market_config(venue, **overrides):
    """The BTC market's current config as a dict, with some fields replaced."""
    return {**MarketConfig.abi_dict(venue.marketConfig(BTC)), **overrides}


HARMFUL_CONFIGS = {
    "max-taker-fee": {"takerFeeBps": 100, "maxImpactBps": 500, "impactDepth": 1},
    "own-feed": {"feed": "0x000000000000000000000000000000000000dEaD"},
    "open-interest-frozen": {"maxOpenInterest": 1},
    "liquidate-everyone": {"initialMarginBps": 5000, "maintenanceMarginBps": 4999, "liquidationPenaltyBps": 4999},
    "out-of-bounds": {"takerFeeBps": 101},
}


@pytest.mark.parametrize("name", HARMFUL_CONFIGS)
def test_setMarketConfig__not_owner__Ownable_config_unchanged(venue, stranger, keeper, name, reverts):
    before = venue.marketConfig(BTC)
    for account in (stranger, keeper):
        with reverts(venue.OwnableUnauthorizedAccount, account=account.address):
            venue.setMarketConfig(BTC, market_config(venue, **HARMFUL_CONFIGS[name]), sender=account)
    assert venue.marketConfig(BTC) == before


def test_grantRole__not_admin__AccessControl(create_token, stranger, keeper, reverts):
    token = create_token(3)
    for account in (stranger, keeper):
        for role in (ADMIN_ROLE, KEEPER_ROLE, GUARDIAN_ROLE):
            with reverts(token.AccessControlUnauthorizedAccount, account=account.address, neededRole=ADMIN_ROLE):
                token.grantRole(role, account, sender=account)
        assert not token.hasRole(ADMIN_ROLE, account)
        assert not token.hasRole(GUARDIAN_ROLE, account)
    assert not token.hasRole(KEEPER_ROLE, stranger)


def test_ownership__stranger__cannot_take_venue_or_factory(venue, factory, stranger, gov, reverts):
    for owned in (venue, factory):
        with reverts(owned.OwnableUnauthorizedAccount, account=stranger.address):
            owned.transferOwnership(stranger, sender=stranger)
        with reverts(owned.OwnableUnauthorizedAccount, account=stranger.address):
            owned.acceptOwnership(sender=stranger)
        assert owned.owner() == gov.address


@pytest.mark.parametrize("window", [0, 299, 86_401, 2**32 - 1])
def test_setParams__settlementWindow_out_of_bounds__InvalidParameter(create_token, gov, window, reverts):
    """A window of less than 5 minutes would let depositors cancel (and anyone settle redemptions) before
    keepers could act; more than a day would hold requests hostage."""
    token = create_token(3)
    params = Params.abi_dict(token.params())
    with reverts(token.InvalidParameter, name="settlementWindow"):
        token.setParams(Params.tuple_of({**params, "settlementWindow": window}), sender=gov)
    assert Params.abi_dict(token.params()) == params
    for edge in (5 * 60, 24 * 3600):
        token.setParams(Params.tuple_of({**params, "settlementWindow": edge}), sender=gov)
        assert token.params().settlementWindow == edge


@pytest.mark.parametrize("change", ["raised", "lowered"])
def test_fee_changed_between_request_and_settlement__lower_fee_charged(
    create_token, deposit, request_deposit, chain, feed, gov, keeper, whale, fish, change
):
    token = create_token(3)
    deposit(token, whale, 100_000)
    before = token.params()
    request_deposit(token, fish, 10_000)
    shares = token.balanceOf(whale) // 10
    token.requestRedeem(shares, whale, whale, sender=whale)
    # The admin changes both fees (within bounds) after the requests, before the keeper settles them.
    fee = before.mintFeeBps + MAX_FEE_STEP_BPS if change == "raised" else 0  # the most one change raises it
    params = {**Params.abi_dict(before), "mintFeeBps": fee, "redeemFeeBps": fee}
    token.setParams(Params.tuple_of(params), sender=gov)
    advance(chain, 1)
    feed.submit(to_feed(30_000), sender=gov)
    settlement = settlement_of(token, token.settle(sender=keeper))
    charged = min(fee, before.mintFeeBps), min(fee, before.redeemFeeBps)
    assert (settlement.mint_fee_bps, settlement.redeem_fee_bps) == charged
    assert settlement.redeem_fee == -(-shares * charged[1] // 10_000)
    minted = settlement.shares_out + settlement.mint_fee
    assert settlement.mint_fee == -(-minted * charged[0] // 10_000)
    # A request made after the change pays the fee in force.
    token.requestRedeem(shares, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(to_feed(30_000), sender=gov)
    settlement = settlement_of(token, token.settle(sender=keeper))
    assert settlement.redeem_fee_bps == fee
