"""The protocols' fixtures: Morpho Blue and Uniswap v3 deployed from their registries' artifacts, an 18-decimal test
asset and a BTC/USD pool at the session's feed price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ape import project

from levtoken.protocols import deploy_protocols, open_pool, provide_liquidity
from tests.utils.constants import INITIAL_PRICE

PRICE = Decimal(INITIAL_PRICE)  # the session's BTC feed's (the `feed` fixture)


@pytest.fixture(scope="module")
def btc(gov):
    """The 18-decimal test asset."""
    return gov.deploy(project.TestAsset, "Test Bitcoin", "tBTC")


@pytest.fixture(scope="module")
def protocols(gov, btc):
    """Morpho Blue and Uniswap v3, deployed by `gov`."""
    return deploy_protocols(gov, btc.address)


@pytest.fixture(scope="module")
def pool(protocols, btc, usd, gov, lp):
    """The BTC/USD pool at the feed's price, with 300 BTC and 9M USD of liquidity from 15,000 to 60,000 and as much
    again from 28,000 to 33,000 (a swap crosses initialized ticks on its way)."""
    pool = open_pool(protocols, btc, usd, PRICE, gov)
    btc.mint(lp, 600 * 10**18, sender=lp)
    usd.mint(lp, 18_000_000 * 10**6, sender=lp)
    for low, high in ((15_000, 60_000), (28_000, 33_000)):
        provide_liquidity(protocols, pool, btc, usd, Decimal(low), Decimal(high), 300 * 10**18, 9_000_000 * 10**6, lp)
    return pool
