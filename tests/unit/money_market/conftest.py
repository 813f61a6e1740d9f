"""The money-market venue's fixtures: Morpho Blue and Uniswap v3 under a MoneyMarketVenue with the BTC market
(priced by the session's feed), lenders and a pool seeded around the feed's price, and a factory whose tokens hold
their exposure there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ape import project

from levtoken.deployment import deploy_factory, token_at
from levtoken.money_market import deploy_money_market, seed_liquidity
from tests.utils.constants import BTC, INITIAL_PRICE

PRICE = Decimal(INITIAL_PRICE)
LEND = 50_000_000  # dollars lent on each side's lending market
POOL_DEPTH = 20_000_000  # dollars of each token in each of the pool's two ranges


@pytest.fixture(scope="module")
def btc(gov):
    """The 18-decimal test asset."""
    return gov.deploy(project.TestAsset, "Test Bitcoin", "tBTC")


@pytest.fixture(scope="module")
def mm(gov, usd, btc, feed, lp, whale):
    """The money-market venue with BTC as market 1, $50M lent on each side and $40M of depth in the pool."""
    mm = deploy_money_market(gov, usd, btc, feed, "BTC", PRICE)
    seed_liquidity(mm, usd, PRICE, whale, lp, LEND, POOL_DEPTH)
    return mm


@pytest.fixture(scope="module")
def mm_factory(gov, mm):
    """A LeveragedTokenFactory on the money-market venue, its registrar."""
    return deploy_factory(gov, mm.venue.address, gov.address)


@pytest.fixture(scope="module")
def mm_token(gov, mm_factory, spec):
    """mm_token(leverage, **param_overrides) -> a LeveragedToken on the money-market venue's BTC market."""

    def create(leverage: float = 3, **overrides):
        token_spec = spec(leverage, BTC, 0, mm_factory, **overrides)
        mm_factory.createToken(token_spec, sender=gov)
        return token_at(mm_factory.tokenFor(BTC, token_spec[1]))

    return create
