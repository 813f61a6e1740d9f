"""Parameter changes beyond bounds, and by the wrong account.

Every Params bound and the non-admin check of setParams are in tests/unit/token/test_token_params.py,
every MarketConfig bound and the non-owner checks with a valid config in
tests/unit/venue/test_venue_markets.py, and the guardian checks in test_token_pause.py. Added here: a
stranger or the keeper pushing a harmful market config or granting itself a role, taking over ownership,
and an admin raising fees within bounds just before a user's call (caught by the user's minimum).
"""

import pytest
from eth_utils import keccak

from levtoken.shapes import MarketConfig, Params
from levtoken.units import to_units

BTC = 1
ADMIN_ROLE = b"\x00" * 32
KEEPER_ROLE = keccak(text="KEEPER_ROLE")
GUARDIAN_ROLE = keccak(text="GUARDIAN_ROLE")
FAR = 2**63

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


def test_redeem__admin_raises_redeem_fee_to_maximum_before_it__SlippageExceeded(
    create_token, deposit, whale, fish, gov, pin, state_of, reverts
):
    token = create_token(3)
    deposit(token, whale, 100_000)
    deposit(token, fish, 10_000)
    shares = token.balanceOf(fish)
    pin()
    preview = token.previewRedeem(shares)
    params = Params.abi_dict(token.params())
    params["redeemFeeBps"] = token.MAX_FEE_BPS()  # within bounds: 1%
    pin()
    token.setParams(Params.tuple_of(params), sender=gov)
    pin()
    now = token.previewRedeem(shares)
    assert preview - now > to_units(80)  # 0.9% more fee
    before = state_of(token, fish, whale)
    with reverts(token.SlippageExceeded, amount=now, minimum=preview):
        token.redeemWithMinAssets(shares, fish, fish, preview, FAR, sender=fish)
    assert state_of(token, fish, whale) == before


def test_deposit__venue_owner_raises_taker_fee_before_it__SlippageExceeded(
    create_token, deposit, fund, whale, fish, gov, venue, feed, pin, state_of, reverts
):
    token = create_token(3)
    deposit(token, whale, 100_000)
    assets = fund(fish, 10_000, token)
    pin()
    preview = token.previewDeposit(assets)
    pin()
    venue.setMarketConfig(BTC, market_config(venue, takerFeeBps=100), sender=gov)  # within bounds: 1%
    pin()
    now = token.previewDeposit(assets)
    assert now < preview
    before = state_of(token, fish, whale)
    with reverts(token.SlippageExceeded, amount=now, minimum=preview):
        token.depositWithMinShares(assets, fish, preview, FAR, sender=fish)
    assert state_of(token, fish, whale) == before
