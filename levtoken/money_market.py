"""The money-market venue (contracts/venues/MoneyMarketVenue.sol) and what it stands on, put together on a chain:
Morpho Blue and Uniswap v3 (levtoken.protocols), a FeedOracle for each side's lending market reading the market's
feed, the two lending markets (the stablecoin lent against the asset for longs, the asset against the stablecoin for
shorts), the asset/stablecoin pool at the feed's price, and the venue listing them as one market.

The lenders' supply and the pool's liquidity are somebody else's money on a real chain; on a local chain
`seed_liquidity` mints them for a lender and a liquidity provider, across a range of prices around the feed's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ape import project

from levtoken.protocols import (
    Protocols, deploy_protocols, market_id, market_params, open_market, open_pool, provide_liquidity,
)
from levtoken.shapes import ZERO_ADDRESS as ZERO

# Morpho's LLTV for both lending markets: a long is liquidated past L = 1 / (1 - LLTV) = 7.14x.
LLTV = 860_000_000_000_000_000
# The most debt per collateral value a change that adds exposure may leave (the venue's initial margin): 5x.
MAX_LTV = 800_000_000_000_000_000
# The farthest from the oracle price a swap may move the pool: the most a sandwich can take from a trade.
MAX_SLIPPAGE_BPS = 100
HEARTBEAT = 2 * 86_400
LONG, SHORT = 1, 2  # the venue's sides (MoneyMarketVenue.LONG, SHORT)


@dataclass
class MoneyMarket:
    """A money-market venue with one market listed, and the protocols under it."""

    protocols: Protocols
    venue: Any  # MoneyMarketVenue
    asset: Any  # the underlying ERC-20 (TestAsset on a local chain)
    pool: Any  # the asset/stablecoin Uniswap v3 pool
    long_market: tuple  # Morpho MarketParams: the stablecoin lent against the asset
    short_market: tuple  # Morpho MarketParams: the asset lent against the stablecoin
    market_id: int  # the venue's id of the market


def deploy_money_market(deployer, collateral, asset, feed, symbol: str, price: Decimal, heartbeat: int = HEARTBEAT,
                        lltv: int = LLTV, max_ltv: int = MAX_LTV,
                        max_slippage_bps: int = MAX_SLIPPAGE_BPS) -> MoneyMarket:
    """Deploys Morpho Blue, Uniswap v3, a DexQuoter and a MoneyMarketVenue on `collateral` (owned by `deployer`),
    opens both lending markets (priced by FeedOracles on `feed`) and the `asset`/`collateral` pool at `price`, and
    lists them as market `symbol`."""
    protocols = deploy_protocols(deployer, asset.address)
    quoter = deployer.deploy(project.DexQuoter)
    venue = deployer.deploy(project.MoneyMarketVenue, protocols.morpho.address, quoter.address, collateral.address,
                            deployer.address)
    asset_decimals, stable_decimals = asset.decimals(), collateral.decimals()
    long_oracle = deployer.deploy(project.FeedOracle, feed.address, heartbeat, asset_decimals, stable_decimals, False)
    short_oracle = deployer.deploy(project.FeedOracle, feed.address, heartbeat, stable_decimals, asset_decimals, True)
    irm = protocols.irm.address
    long_market = market_params(collateral.address, asset.address, long_oracle.address, irm, lltv)
    short_market = market_params(asset.address, collateral.address, short_oracle.address, irm, lltv)
    open_market(protocols, long_market, deployer)
    open_market(protocols, short_market, deployer)
    pool = open_pool(protocols, asset, collateral, price, deployer)
    venue.listMarket(symbol, (feed.address, heartbeat, max_slippage_bps, max_ltv, pool.address, long_market,
                              short_market), sender=deployer)
    return MoneyMarket(protocols, venue, asset, pool, long_market, short_market, venue.marketCount())


def seed_liquidity(mm: MoneyMarket, collateral, price: Decimal, lender, provider, lend: int,
                   pool_depth: int) -> None:
    """Local chains: `lender` supplies `lend` dollars of stablecoin to the long side's lending market and as much
    asset to the short side's; `provider` adds `pool_depth` dollars of each token to the pool between half and
    twice `price`, and as much again within 10% of it (where the price spends its days). Both are minted."""
    asset, morpho = mm.asset, mm.protocols.morpho
    units = 10 ** collateral.decimals()
    asset_units = int(Decimal(lend) / price * 10 ** asset.decimals())
    for token, amount, params in ((collateral, lend * units, mm.long_market), (asset, asset_units, mm.short_market)):
        token.mint(lender, amount, sender=lender)
        token.approve(morpho.address, amount, sender=lender)
        morpho.supply(params, amount, 0, lender.address, b"", sender=lender)
    pool_asset = int(Decimal(pool_depth) / price * 10 ** asset.decimals())
    for low, high in ((price / 2, price * 2), (price * Decimal("0.9"), price * Decimal("1.1"))):
        asset.mint(provider, pool_asset, sender=provider)
        collateral.mint(provider, pool_depth * units, sender=provider)
        provide_liquidity(mm.protocols, mm.pool, asset, collateral, low, high, pool_asset, pool_depth * units, provider)


WAD = 10**18
VIRTUAL_SHARES, VIRTUAL_ASSETS = 10**6, 1  # Morpho's SharesMathLib


def _to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """Morpho's SharesMathLib.toAssetsUp."""
    numerator, denominator = shares * (total_assets + VIRTUAL_ASSETS), total_shares + VIRTUAL_SHARES
    return -(-numerator // denominator)


def _compounded(rate: int, elapsed: int) -> int:
    """Morpho's MathLib.wTaylorCompounded: e^(rate * elapsed) - 1 to the third term, WAD."""
    first = rate * elapsed
    second = first * first // (2 * WAD)
    return first + second + second * first // (3 * WAD)


def debt_now(morpho, irm, params: tuple, borrow_shares: int, now: int) -> int:
    """What `borrow_shares` owe at time `now` in Morpho market `params`, as Morpho would round it once it accrues
    interest (MorphoBalancesLib.expectedMarketBalances: the IRM's rate compounded over the time since the market's
    last update, then SharesMathLib.toAssetsUp)."""
    market = morpho.market(market_id(params))
    total_assets, total_shares, last = market.totalBorrowAssets, market.totalBorrowShares, market.lastUpdate
    if now > last and total_assets and params[3] != ZERO:
        rate = irm.borrowRateView(params, tuple(market))
        total_assets += total_assets * _compounded(rate, now - last) // WAD
    return _to_assets_up(borrow_shares, total_assets, total_shares)


def position_from_protocols(mm: MoneyMarket, token: str, now: int) -> tuple[int, int]:
    """(value, size) of `token`'s position at time `now`, read from the protocols themselves: its VenueAccount's
    collateral and debt in Morpho, the feed's price, and the stablecoin the venue holds for it; valued as the venue
    values it (collateral rounded down, debt up), for the every-step check that the two agree to the unit."""
    venue, morpho = mm.venue, mm.protocols.morpho
    book = venue.book(mm.market_id, token)
    side, cash = book.side, book.cash
    if side == 0:
        return cash, 0
    params = mm.long_market if side == LONG else mm.short_market
    position = morpho.position(market_id(params), venue.accountOf(token))
    debt = debt_now(morpho, mm.protocols.irm, params, position.borrowShares, now)
    feed = project.PriceFeed.at(venue.marketConfig(mm.market_id).feed)
    price = feed.latestRoundData()[1] * 10 ** (18 - feed.decimals())
    value_scale = 10 ** (18 + mm.asset.decimals() - _stable_decimals(venue))
    size_scale = 10 ** (18 - mm.asset.decimals())
    if side == LONG:
        return position.collateral * price // value_scale + cash - debt, position.collateral * size_scale
    return position.collateral + cash - -(-debt * price // value_scale), -debt * size_scale


def _stable_decimals(venue) -> int:
    return project.TestStablecoin.at(venue.collateral()).decimals()
