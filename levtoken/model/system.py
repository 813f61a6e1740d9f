"""The one place that wires a system together: the environment a transaction sees (block time, the price
feeds, the collateral's balances), one venue and its tokens, and the transaction boundary. Each contract is
given only what it uses of the rest (levtoken.model.clock's Clock, the feeds, the collateral, the venue, the
journal); none of them imports this module.

`set_time(ts)` is the next block's timestamp; `set_price(price_wad)` / `set_answer(answer)` publish a feed
round at that time. Entry points on `venue` and `tokens[...]` take the caller's address (any string)
first. Every state-changing entry point is atomic: a revert (any `Revert`) leaves the whole model as it
was, as a reverted transaction leaves the chain (see levtoken.model.journal).
"""

from __future__ import annotations

from dataclasses import is_dataclass
from typing import Any

from levtoken.model.clock import Clock
from levtoken.model.delayed_orders import DelayedOrders
from levtoken.model.erc20 import ERC20
from levtoken.model.journal import Journal, Journaled, JournaledDict
from levtoken.model.leveraged_token import LeveragedToken
from levtoken.model.leveraged_token_factory import create_token
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import MarketConfig, Params
from levtoken.units import COLLATERAL_DECIMALS, FEED_DECIMALS

# Attributes that link objects to each other rather than hold state (as do those named with "_": the
# undo log, memos).
LINKS = frozenset({"clock", "feeds", "collateral", "venue", "logic", "orders"})


class Collateral(ERC20):
    """The collateral stablecoin (mocks/TestStablecoin.sol): an ERC-20 with a faucet. Allowances are not
    modelled for it: the venue and the tokens move a caller's collateral as if approved."""

    def mint(self, to: str, amount: int) -> None:
        """mint: the faucet."""
        self._mint(to, amount)


class Model:
    """The environment (time, feeds, collateral) with one venue and its tokens."""

    def __init__(self, now: int = 1_700_000_000, venue_address: str = "venue", owner: str = "gov",
                 collateral_decimals: int = COLLATERAL_DECIMALS) -> None:
        self.journal = Journal()
        self.clock = Clock(now)
        self.feeds: dict[str, Feed] = JournaledDict(self.journal)
        self.collateral = Collateral(self.journal, decimals=collateral_decimals)
        self.venue = PerpVenue(self.collateral, owner, address=venue_address, **self._chain())
        self.tokens: dict[str, LeveragedToken] = {}
        self.orders: DelayedOrders | None = None

    def _chain(self) -> dict[str, Any]:
        """What a contract deployed here is given of the chain: the journal, the clock and the feeds."""
        return {"journal": self.journal, "clock": self.clock, "feeds": self.feeds}

    @property
    def now(self) -> int:
        """The block timestamp."""
        return self.clock.now

    @now.setter
    def now(self, ts: int) -> None:
        self.clock.now = ts

    # --- environment -----------------------------------------------------------------------------
    def set_time(self, ts: int) -> None:
        """Sets the block timestamp; time never goes back."""
        if ts < self.now:
            raise ValueError(f"time goes forward only ({ts} < {self.now})")
        self.now = ts

    def advance(self, seconds: int) -> None:
        """Moves the block timestamp forward."""
        self.set_time(self.now + seconds)

    def add_feed(self, key: str, decimals: int = FEED_DECIMALS) -> Feed:
        """Registers a price feed under `key` (no answer yet)."""
        self.feeds[key] = Feed(decimals=decimals, journal=self.journal)
        return self.feeds[key]

    def set_answer(self, answer: int, feed: str | None = None) -> None:
        """PriceFeed.submit: publishes `answer` (feed decimals) as a new round at the current time (the
        first feed when `feed` is None)."""
        key = feed if feed is not None else next(iter(self.feeds))
        self.feeds[key].submit(answer, self.now)

    def set_price(self, price_wad: int, feed: str | None = None) -> None:
        """Publishes a WAD price (must be representable in the feed's decimals) at the current time."""
        key = feed if feed is not None else next(iter(self.feeds))
        scale = self.feeds[key].scale
        if price_wad % scale:
            raise ValueError(f"price {price_wad} is not representable with {self.feeds[key].decimals} decimals")
        self.set_answer(price_wad // scale, key)

    def add_token(self, address: str, market_id: int, target_leverage: int, params: Params,
                  max_leverage: int = 0, admin: str = "gov", keeper: str | None = "keeper",
                  guardian: str | None = "gov") -> LeveragedToken:
        """Deploys a token as LeveragedTokenFactory.createToken does (max_leverage 0: twice the target)."""
        token = create_token(self.venue, address, market_id, target_leverage, params, max_leverage, admin, keeper,
                             guardian, **self._chain())
        self.tokens[address] = token
        return token

    def add_orders(self, keeper: str = "keeper", execution_fee: int = 10**6, window: int = 600,
                   address: str = "orders") -> DelayedOrders:
        """Deploys the venue's DelayedOrders (owned by the venue's owner), names it on the venue and lets `keeper`
        execute, as levtoken.deployment.deploy_orders does."""
        owner = self.venue.owner
        self.orders = DelayedOrders(self.venue, owner, execution_fee, window, address=address, **self._chain())
        self.venue.set_orders(owner, address)
        self.orders.set_keeper(owner, keeper, True)
        return self.orders

    # --- the transaction boundary ----------------------------------------------------------------
    def transaction(self) -> Journal:
        """`with model.transaction():` runs a block atomically: on an exception (a Revert) every object
        returns to its state before the block. Transactions nest: an inner one that reverts undoes only
        its own changes, and the outer one may go on."""
        return self.journal

    def state(self) -> dict[str, Any]:
        """The whole state of the model as plain values (for comparing a model before and after)."""
        objects: dict[str, Any] = {"collateral": self.collateral, "venue": self.venue}
        if self.orders is not None:
            objects["orders"] = self.orders
        objects.update({f"feed {key}": feed for key, feed in self.feeds.items()})
        objects.update({f"token {address}": token for address, token in self.tokens.items()})
        state: dict[str, Any] = {"now": self.now}
        for name, obj in objects.items():
            fields = {key: value for key, value in vars(obj).items() if not key.startswith("_") and key not in LINKS}
            state[name] = {key: _plain(value) for key, value in fields.items()}
        return state


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if is_dataclass(value):
        return (type(value).__name__, {key: _plain(item) for key, item in vars(value).items()})
    if isinstance(value, Journaled):  # a storage struct with mappings (RequestQueue.Book)
        fields = {key: item for key, item in vars(value).items() if not key.startswith("_")}
        return (type(value).__name__, {key: _plain(item) for key, item in fields.items()})
    return value


def standard_model(price_wad: int, now: int = 1_700_000_000, pool_seed: int = 10_000_000 * 10**6,
                   config: MarketConfig | None = None) -> Model:
    """A model with one market ("BTC", id 1, feed "feed") with the default config (or `config`) at
    `price_wad` and an LP pool of `pool_seed`."""
    model = Model(now=now)
    model.add_feed("feed")
    model.set_price(price_wad)
    model.venue.list_market("gov", "BTC", config or MarketConfig.defaults("feed"))
    if pool_seed:
        model.venue.register("gov", "lp")  # the operator's pool seed, in one step
        model.collateral.mint("lp", pool_seed)
        model.venue.add_liquidity("lp", pool_seed, 0)
    return model


def zero_cost_config(feed: str = "feed") -> MarketConfig:
    """A market with no taker fee, no price impact (maxImpactBps 0) and no funding."""
    return MarketConfig.defaults(feed, taker_fee_bps=0, max_impact_bps=0, max_funding_rate_per_day=0)
