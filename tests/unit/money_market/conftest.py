"""The money-market venue's fixtures: Morpho Blue and Uniswap v3 under a MoneyMarketVenue with the BTC market
(priced by the session's feed), lenders and a pool seeded around the feed's price, and a factory whose tokens hold
their exposure there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ape import project

from levtoken.deployment import deploy_factory, token_at
from levtoken.money_market import MarketSettings, deploy_money_market, seed_liquidity
from levtoken.protocols import arbitrage
from tests.conftest import ROLES
from tests.utils.constants import BTC, INITIAL_PRICE

PRICE = Decimal(INITIAL_PRICE)
SETTINGS = MarketSettings()  # $50M lent on each side, $20M of each token in each of the pool's two ranges


@pytest.fixture(scope="module")
def btc(gov):
    """The 18-decimal test asset."""
    return gov.deploy(project.TestAsset, "Test Bitcoin", "tBTC")


@pytest.fixture(scope="module")
def mm(gov, usd, btc, feed, lp, whale):
    """The money-market venue with BTC as market 1, $50M lent on each side (8% and 1% a year borrowed) and $40M of
    each token in the pool."""
    mm = deploy_money_market(gov, usd, btc, feed, "BTC", PRICE)
    seed_liquidity(mm, usd, PRICE, whale, lp, SETTINGS)
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


@pytest.fixture(scope="module")
def arbitrageur(accounts, mm, usd, btc):
    """The pool's arbitrageur (the test account after the roles, which no fixture uses), holding both tokens."""
    account = accounts[len(ROLES)]
    btc.mint(account, 10_000 * 10**18, sender=account)
    usd.mint(account, 500_000_000 * 10**6, sender=account)
    return account


@pytest.fixture(scope="module")
def move(mm, usd, btc, set_price, arbitrageur):
    """move(price): publishes `price` (dollars) on the feed and brings the pool to it, as the market would."""

    def _move(price) -> None:
        set_price(price)
        arbitrage(mm.protocols, mm.pool, btc, usd, Decimal(str(price)), arbitrageur)

    return _move
