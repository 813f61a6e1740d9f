"""The money-market venue (contracts/venues/MoneyMarketVenue.sol) and what it stands on, put together on a chain:
Morpho Blue and Uniswap v3 (levtoken.protocols), a FeedOracle for each side's lending market reading the market's
feed, the two lending markets (the stablecoin lent against the asset for longs, the asset against the stablecoin for
shorts), the asset/stablecoin pool at the feed's price, and the venue listing them as one market.

The lenders' supply and the pool's liquidity are somebody else's money on a real chain; on a local chain
`seed_liquidity` mints them for a lender and a liquidity provider, across a range of prices around the feed's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ape import project

from levtoken.model.libraries.fixed_point_math import mul_div_up
from levtoken.protocols import (
    Protocols, artifact, deploy_protocols, market_id, market_params, open_market, open_pool,
    provide_liquidity,
)
from levtoken.shapes import MoneyMarketConfig
from levtoken.units import WAD

# Morpho's LLTV for both lending markets: a long is liquidated past L = 1 / (1 - LLTV) = 7.14x.
LLTV = 860_000_000_000_000_000
# The most debt per collateral value a change that adds exposure may leave (the venue's initial margin): 5x.
MAX_LTV = 800_000_000_000_000_000
# The most a swap may cost, the pool's fee included, of its notional at the oracle price: the most a sandwich takes.
MAX_SLIPPAGE_BPS = 100
HEARTBEAT = 2 * 86_400
LONG, SHORT = 1, 2  # the venue's sides (MoneyMarketVenue.LONG, SHORT)


@dataclass
class MarketSettings:
    """A money-market venue market's settings, as a deployment config gives them (`venue = "morpho"`): the
    venue's (heartbeat, max_ltv, max_slippage_bps), the lending markets' LLTV, and on a local chain the liquidity
    seeded for it (dollars lent on each side's lending market, dollars of each token in each of the pool's two
    ranges) and the borrow rates it starts at (a year's rate of the stablecoin, the long side's debt, and of the
    asset, the short side's: Morpho's IrmMock charges a market's utilization as its yearly rate, so a borrower
    beside the tokens takes that share of each market)."""

    heartbeat: int = HEARTBEAT
    lltv: float = LLTV / 1e18
    max_ltv: float = MAX_LTV / 1e18
    max_slippage_bps: int = MAX_SLIPPAGE_BPS
    lend: int = 50_000_000
    pool_depth: int = 20_000_000
    stable_rate: float = 0.08
    asset_rate: float = 0.01
    # A chain's own protocols (a testnet), named instead of deployed: its Morpho Blue, the ids of its two lending
    # markets (the stablecoin lent against the asset, the asset against the stablecoin) and its asset/stablecoin
    # Uniswap v3 pool. Then nothing is seeded, and the LLTV is the markets' own.
    morpho: str = ""
    long_market: str = ""
    short_market: str = ""
    pool: str = ""

    EXISTING = ("morpho", "long_market", "short_market", "pool")

    @property
    def existing(self) -> bool:
        """Whether the settings name a chain's own protocols."""
        return any(getattr(self, name) for name in self.EXISTING)

    def problems(self) -> list[str]:
        """Each setting the venue (MoneyMarketVenue._checkConfig) or Morpho would refuse, one line each, with the
        bound in words."""
        found = []
        for name in ("heartbeat", "max_slippage_bps", "lend", "pool_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                found.append(f"{name} = {value!r} must be a whole number, not negative")
        for name in ("lltv", "max_ltv", "stable_rate", "asset_rate"):
            value = getattr(self, name)
            low = 0 if name.endswith("rate") else 1e-18  # a rate may be zero
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < 1:
                found.append(f"{name} = {value!r} must be a fraction from {low:g} to below 1 (0.86 is 86%)")
        if self.existing:
            for name in self.EXISTING:
                value, size = getattr(self, name), 64 if name.endswith("market") else 40
                if not (isinstance(value, str) and re.fullmatch(f"0x[0-9a-fA-F]{{{size}}}", value)):
                    kind = "a Morpho market id (0x and 64 hex digits)" if size == 64 else "an address"
                    found.append(f"{name} = {value!r} must be {kind}: a chain's own protocols are named by all of "
                                 f"{', '.join(self.EXISTING)}")
        if found:
            return found
        if not 0 < self.heartbeat <= 7 * 86_400:
            found.append(f"heartbeat = {self.heartbeat} must be from 1 to 604800 seconds (7 days)")
        if not 0 < self.max_slippage_bps <= 1000:
            found.append(f"max_slippage_bps = {self.max_slippage_bps} must be from 1 to 1000 bps")
        if self.max_ltv >= self.lltv and not self.existing:
            found.append(f"max_ltv = {self.max_ltv} must be below lltv = {self.lltv} (Morpho liquidates at lltv)")
        return found

    def wad(self, name: str) -> int:
        """`lltv` or `max_ltv` as the contracts take it (WAD)."""
        return round(getattr(self, name) * 10**18)


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

    @classmethod
    def at(cls, protocols: Protocols, venue: str, market: int) -> "MoneyMarket":
        """Market `market` of the MoneyMarketVenue at `venue`, read from the venue."""
        contract = project.MoneyMarketVenue.at(venue)
        config = MoneyMarketConfig.from_abi(contract.marketConfig(market))
        return cls(protocols, contract, project.TestAsset.at(config.long_market[1]),
                   artifact("UniswapV3Pool").at(config.pool), config.long_market, config.short_market, market)


def deploy_venue(deployer, collateral, morpho: str):
    """Deploys a DexQuoter and a MoneyMarketVenue on `collateral` and the Morpho Blue at `morpho`, owned by
    `deployer`; returns the venue."""
    quoter = deployer.deploy(project.DexQuoter)
    return deployer.deploy(project.MoneyMarketVenue, morpho, quoter.address, collateral.address, deployer.address)


def open_markets(protocols: Protocols, collateral, asset, feed, price: Decimal, deployer,
                 settings: MarketSettings) -> tuple[tuple, tuple, Any]:
    """Opens the lending markets of `asset` (priced by FeedOracles on `feed`: the stablecoin lent against the asset,
    the asset against the stablecoin, at the settings' LLTV) and the `asset`/`collateral` pool at `price`, as
    `deployer` (Morpho's owner); returns the two MarketParams and the pool."""
    asset_decimals, stable_decimals = asset.decimals(), collateral.decimals()
    oracles = [deployer.deploy(project.FeedOracle, feed.address, settings.heartbeat, held, lent, inverse)
               for held, lent, inverse in ((asset_decimals, stable_decimals, False),
                                           (stable_decimals, asset_decimals, True))]
    irm, lltv = protocols.irm.address, settings.wad("lltv")
    long_market = market_params(collateral.address, asset.address, oracles[0].address, irm, lltv)
    short_market = market_params(asset.address, collateral.address, oracles[1].address, irm, lltv)
    for params in (long_market, short_market):
        open_market(protocols, params, deployer)
    return long_market, short_market, open_pool(protocols, asset, collateral, price, deployer)


def list_market(venue, symbol: str, feed, pool, long_market: tuple, short_market: tuple, settings: MarketSettings,
                sender) -> None:
    """Lists `symbol` on `venue` as `sender` (its owner)."""
    venue.listMarket(symbol, market_config(feed.address, pool.address, long_market, short_market, settings),
                     sender=sender)


def market_config(feed: str, pool: str, long_market: tuple, short_market: tuple, settings: MarketSettings) -> tuple:
    """IMoneyMarketVenue.MarketConfig as a tuple."""
    return MoneyMarketConfig(feed, settings.heartbeat, settings.max_slippage_bps, settings.wad("max_ltv"), pool,
                             long_market, short_market).to_tuple()


def deploy_money_market(deployer, collateral, asset, feed, symbol: str, price: Decimal,
                        settings: MarketSettings | None = None) -> MoneyMarket:
    """The whole stack on a local chain: the protocols, `deploy_venue`, `open_markets` and `list_market` of `symbol`
    at `price`."""
    settings = settings or MarketSettings()
    protocols = deploy_protocols(deployer, collateral.address)
    venue = deploy_venue(deployer, collateral, protocols.morpho.address)
    long_market, short_market, pool = open_markets(protocols, collateral, asset, feed, price, deployer, settings)
    list_market(venue, symbol, feed, pool, long_market, short_market, settings, deployer)
    return MoneyMarket(protocols, venue, asset, pool, long_market, short_market, venue.marketCount())


def seed_liquidity(mm: MoneyMarket, collateral, price: Decimal, lender, provider, settings: MarketSettings) -> None:
    """Local chains: `lender` supplies `lend` dollars of stablecoin to the long side's lending market and as much
    asset to the short side's; `provider` adds `pool_depth` dollars of each token to the pool between a third and
    three times `price`, and as much again from 20% below it to 25% above (where most of a year's prices stay); the
    lender also borrows each market's rate as its share (`MarketSettings`). All of it is minted."""
    asset, morpho = mm.asset, mm.protocols.morpho
    units = 10 ** collateral.decimals()
    asset_units = int(Decimal(settings.lend) / price * 10 ** asset.decimals())
    markets = ((collateral, settings.lend * units, mm.long_market, asset, settings.stable_rate, asset_units),
               (asset, asset_units, mm.short_market, collateral, settings.asset_rate, settings.lend * units))
    for token, amount, params, other, rate, other_amount in markets:
        token.mint(lender, amount, sender=lender)
        token.approve(morpho.address, amount, sender=lender)
        morpho.supply(params, amount, 0, lender.address, b"", sender=lender)
        if rate:  # against twice the borrow's worth of the other token
            other.mint(lender, other_amount, sender=lender)
            other.approve(morpho.address, other_amount, sender=lender)
            morpho.supplyCollateral(params, other_amount, lender.address, b"", sender=lender)
            morpho.borrow(params, int(amount * Decimal(str(rate))), 0, lender.address, lender.address, sender=lender)
    pool_depth = settings.pool_depth
    pool_asset = int(Decimal(pool_depth) / price * 10 ** asset.decimals())
    for low, high in ((price / 3, price * 3), (price * Decimal("0.8"), price * Decimal("1.25"))):
        asset.mint(provider, pool_asset, sender=provider)
        collateral.mint(provider, pool_depth * units, sender=provider)
        provide_liquidity(mm.protocols, mm.pool, asset, collateral, low, high, pool_asset, pool_depth * units, provider)


VIRTUAL_SHARES, VIRTUAL_ASSETS = 10**6, 1  # Morpho's SharesMathLib


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """Morpho's SharesMathLib.toAssetsUp."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def _compounded(rate: int, elapsed: int) -> int:
    """Morpho's MathLib.wTaylorCompounded: e^(rate * elapsed) - 1 to the third term, WAD."""
    first = rate * elapsed
    second = first * first // (2 * WAD)
    return first + second + second * first // (3 * WAD)


def accrued_assets(market: tuple, rate: int, now: int) -> int:
    """A Morpho market's total borrow assets at time `now`: its stored totals (`Morpho.market`) with the IRM's
    `rate` (per second, WAD) compounded over the time since its last update, as MorphoBalancesLib's
    expectedMarketBalances accrues them."""
    total_assets, last = market[2], market[4]
    if now > last and total_assets:
        total_assets += total_assets * _compounded(rate, now - last) // WAD
    return total_assets


def position_value(side: int, collateral: int, debt: int, cash: int, price_wad: int, value_scale: int,
                   size_scale: int) -> tuple[int, int]:
    """(value, size) of a position as MoneyMarketVenue values it: a long's collateral at `price_wad` rounded down
    less its debt, a short's collateral less its debt at the price rounded up, plus the venue's cash for it; size
    the long's collateral or minus the short's debt, 18 decimals."""
    if side == LONG:
        return collateral * price_wad // value_scale + cash - debt, collateral * size_scale
    if side == SHORT:
        return collateral + cash - mul_div_up(debt, price_wad, value_scale), -debt * size_scale
    return cash, 0


def scales(asset_decimals: int, collateral_decimals: int) -> tuple[int, int]:
    """The venue's value scale (raw asset times a WAD price over it is collateral units) and size scale (raw asset
    times it is 18 decimals)."""
    return 10 ** (18 + asset_decimals - collateral_decimals), 10 ** (18 - asset_decimals)


def position_from_protocols(mm: MoneyMarket, token: str, now: int) -> tuple[int, int]:
    """(value, size) of `token`'s position at time `now`, read from the protocols themselves: its VenueAccount's
    collateral and borrow shares and its market's totals in Morpho (interest accrued with the IRM's rate), the
    feed's price, and the stablecoin the venue holds for it; valued as the venue values it (`position_value`), for
    the check that the two agree to the unit."""
    venue, morpho = mm.venue, mm.protocols.morpho
    book = venue.book(mm.market_id, token)
    if book.side == 0:
        return book.cash, 0
    params = mm.long_market if book.side == LONG else mm.short_market
    position = morpho.position(market_id(params), venue.accountOf(token))
    market = tuple(morpho.market(market_id(params)))
    total_assets = accrued_assets(market, mm.protocols.irm.borrowRateView(params, market), now)
    debt = to_assets_up(position.borrowShares, total_assets, market[3])
    feed = project.PriceFeed.at(venue.marketConfig(mm.market_id).feed)
    price = feed.latestRoundData()[1] * 10 ** (18 - feed.decimals())
    stable = project.TestStablecoin.at(venue.collateral()).decimals()
    return position_value(book.side, position.collateral, debt, book.cash, price,
                          *scales(mm.asset.decimals(), stable))


def interest(shares: int, before: tuple[int, int, int, int], after: tuple[int, int, int, int], long: bool,
             price_wad: int, value_scale: int) -> int:
    """The interest a position holding `shares` of debt accrued between two of the venue's `borrowTotals` (long
    assets and shares, short assets and shares), in collateral units: a long's debt is the stablecoin; a short's is
    the asset, valued at `price_wad` and rounded up. Each debt is rounded up as Morpho rounds it."""
    side = slice(0, 2) if long else slice(2, 4)
    grown = to_assets_up(shares, *after[side]) - to_assets_up(shares, *before[side])
    return grown if long else -(-grown * price_wad // value_scale)  # signed: bad debt written off lowers it
