"""The deployment's config file (TOML): reading it, and checking every value against what the contracts accept
before anything is sent (the reference model's bounds, the compiled ABI's field types), in the file's units.

`levtoken.deployment` deploys what a checked config describes.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from eth_utils import is_address

from levtoken.model.leveraged_token_factory import default_params
from levtoken.model.leveraged_token_logic import MAX_FEE_BPS, MAX_HARD_CAP, MAX_STREAMING_FEE_PER_DAY
from levtoken.model.libraries.rebalance_logic import params_out_of_bounds
from levtoken.model.perp_venue import config_out_of_bounds
from levtoken.money_market import MarketSettings
from levtoken.shapes import MarketConfig, Params
from levtoken.units import WAD, leverage_label, to_feed, to_wad

DEFAULT_CONFIG = Path("config/local.toml")
MONEY_MARKET_CONFIG = Path("config/money-market.toml")  # the same tokens on the money-market venue
# The governance's delay when the config names none: Governance.MIN_DELAY, the least any chain but a local one
# accepts (seconds).
GOVERNANCE_DELAY = 2 * 86_400
# Stands for the PriceFeed a market without a `feed` gets, while its settings are checked before it exists.
PLACEHOLDER_FEED = "0x" + "0" * 39 + "1"

# Settings a config file may give a market or a token: the struct fields by Python name (the feed is the
# market's `feed` key or a PriceFeed deployed with it, so it is not a setting).
MARKET_SETTINGS = tuple(name for name, _, _ in MarketConfig.table() if name != "feed")
MONEY_MARKET_SETTINGS = tuple(f.name for f in fields(MarketSettings))
# A market's venue kind in the config (`venue = ...`).
PERP, MORPHO = "perp", "morpho"
VENUES = (PERP, MORPHO)
VENUE_NAMES = {PERP: "perpetual venue", MORPHO: "money market (Morpho Blue and Uniswap v3)"}  # in a reader's words
TOKEN_SETTINGS = tuple(name for name, _, _ in Params.table())


class DeploymentError(Exception):
    """A deployment cannot proceed, its config is not one the contracts accept, or a record does not fit the
    connected chain; the message says why."""


@dataclass
class MarketEntry:
    """One venue market as written in the config file: its symbol, its price source (the first price of a
    PriceFeed the deployment creates, or the address of an existing AggregatorV3 feed), and the MarketConfig
    fields it sets (Python names, human units); the rest are the project's defaults."""

    symbol: str
    initial_price: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    feed: str = ""
    venue: str = PERP  # PERP: the perpetual venue; MORPHO: the money-market venue (Morpho Blue and Uniswap v3)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> "MarketEntry":
        """From a `[[markets]]` table; KeyError or TypeError when it is missing a key, names an unknown venue, sets
        a setting its venue does not have, or gives both or neither of `initial_price` and `feed`."""
        if not isinstance(raw, Mapping):
            raise TypeError(f"a market is a table of settings, found {raw!r}")
        venue = raw.get("venue", PERP)
        if venue not in VENUES:
            raise TypeError(f"market {raw['symbol']!r}: venue = {venue!r} is not one of {', '.join(VENUES)}")
        settings = {k: v for k, v in raw.items() if k not in ("symbol", "initial_price", "feed", "venue")}
        known = MARKET_SETTINGS if venue == PERP else MONEY_MARKET_SETTINGS
        unknown = set(settings) - set(known)
        if unknown:
            raise TypeError(f"unknown {venue} market setting(s) {sorted(unknown)}; known: {sorted(known)}")
        if ("initial_price" in raw) == ("feed" in raw):
            raise TypeError(f"market {raw['symbol']!r} needs either initial_price (a PriceFeed is deployed) or "
                            "feed (the address of an existing AggregatorV3 feed), not both")
        return cls(raw["symbol"], raw.get("initial_price"), settings, str(raw.get("feed", "")), venue)

    def money_market_settings(self) -> MarketSettings:
        """A `venue = "morpho"` market's settings, the rest the defaults."""
        return MarketSettings(**self.settings)

    def venue_config(self, feed: str, decimals: int) -> MarketConfig:
        """The MarketConfig struct for PerpVenue.listMarket, in contract units."""
        overrides = {name: MarketConfig.parse(name, value, decimals) for name, value in self.settings.items()}
        return MarketConfig.defaults(feed, decimals, **overrides)


@dataclass
class TokenEntry:
    """One token as written in the config file: market symbol, signed leverage and overrides."""

    market: str
    leverage: float
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployConfig:
    """The deployment config file (TOML): collateral, markets, tokens and the governance's delay."""

    collateral_address: str
    pool_seed: float
    markets: list[MarketEntry]
    tokens: list[TokenEntry]
    governance_delay: int = GOVERNANCE_DELAY
    path: Path = DEFAULT_CONFIG  # the file it was read from, which messages about it name
    token_defaults: dict[str, Any] = field(default_factory=dict)  # the [tokens] table's settings for every token

    @classmethod
    def load(cls, path: Path | str = DEFAULT_CONFIG) -> "DeployConfig":
        """Reads and validates a config file; raises DeploymentError with the offending key."""
        path = Path(path)
        if not path.is_file():
            raise DeploymentError(f"config file {path} not found (see config/local.toml for the format)")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise DeploymentError(f"config file {path} is not valid TOML: {err}") from err
        try:
            markets = [MarketEntry.parse(m) for m in raw["markets"]]
            defaults = {k: v for k, v in raw.get("tokens", {}).items() if k != "list"}
            tokens = []
            for entry in raw["tokens"]["list"]:
                entry = dict(entry)
                overrides = {**defaults, **{k: v for k, v in entry.items() if k not in ("market", "leverage")}}
                unknown = set(overrides) - set(TOKEN_SETTINGS)
                if unknown:
                    raise DeploymentError(f"{path}: unknown token setting(s) {sorted(unknown)}; known: {sorted(TOKEN_SETTINGS)}")
                tokens.append(TokenEntry(entry["market"], float(entry["leverage"]), overrides))
        except ValueError as err:
            raise DeploymentError(f"{path}: a token's leverage is not a number ({err})") from err
        except (KeyError, TypeError) as err:
            raise DeploymentError(f"{path}: missing or malformed entry {err}") from err
        symbols = {m.symbol for m in markets}
        for token in tokens:
            if token.market not in symbols:
                raise DeploymentError(f"{path}: token market {token.market!r} is not among markets {sorted(symbols)}")
            if token.leverage == 0:
                raise DeploymentError(f"{path}: token leverage must not be 0")
        collateral = raw.get("collateral", {})
        delay = raw.get("governance", {}).get("delay", GOVERNANCE_DELAY)
        if not isinstance(delay, int) or delay < 0:
            raise DeploymentError(f"{path}: [governance] delay must be a whole number of seconds, found {delay!r}")
        return cls(collateral.get("address", ""), collateral.get("pool_seed", 0), markets, tokens, delay, path, defaults)

    def check(self, decimals: int, fee_recipient: str) -> None:
        """Every value of the file against what the contracts accept, before anything is sent: DeploymentError
        with one line per bad value, in the file's units (`problems`)."""
        found = self.problems(decimals, fee_recipient)
        if found:
            raise DeploymentError("\n".join(f"{self.path}: {line}" for line in found))

    def problems(self, decimals: int, fee_recipient: str) -> list[str]:
        """What the contracts would refuse in this file, one line each: a value that is not one of its setting
        (not a number, negative, too many decimals, too large for its field), a setting outside the bounds the
        venue or the token holds it to (the reference model's rules, with the bound in words), a price that is
        not positive, a leverage beyond the factory's cap. `decimals` is the collateral's, `fee_recipient` the
        tokens' default one."""
        found = []
        if self.collateral_address and not is_address(self.collateral_address):
            found.append(f"[collateral]: address = {self.collateral_address!r} is not an address (0x followed by 40 "
                         "hex digits)")
        try:
            if self.pool_seed < 0 or not math.isfinite(self.pool_seed):
                found.append(f"[collateral]: pool_seed = {self.pool_seed} must not be negative")
        except TypeError:
            found.append(f"[collateral]: pool_seed = {self.pool_seed!r} is not a number")
        for market in self.markets:
            where = f"market {market.symbol}"
            price = market.initial_price
            if price is not None and (isinstance(price, bool) or not isinstance(price, (int, float))
                                      or not math.isfinite(price) or to_feed(price) <= 0):
                found.append(f"{where}: initial_price = {price!r} must be a positive price in dollars")
            if market.feed and not is_address(market.feed):
                found.append(f"{where}: feed = {market.feed!r} is not an address (0x followed by 40 hex digits)")
            if market.venue == MORPHO:
                found += [f"{where}: {line}" for line in market.money_market_settings().problems()]
                continue
            bad = _value_problems(where, MarketConfig, market.settings, decimals)
            found += bad
            if not bad:
                struct = market.venue_config(market.feed if is_address(market.feed) else PLACEHOLDER_FEED, decimals)
                found += [f"{where}: {line}" for _, line in
                          _bound_problems(MarketConfig, struct, market.settings, config_out_of_bounds(struct), decimals)]
        # A [tokens] default is reported once, as the file's [tokens] table, not once per token it reaches.
        shared = _value_problems("[tokens]", Params, self.token_defaults, decimals)
        found += shared
        for token in self.tokens:
            target = to_wad(token.leverage)
            where = f"token {token.market} {leverage_label(target)}"
            beyond = 2 * abs(target) > MAX_HARD_CAP
            if beyond:
                limit = MAX_HARD_CAP // 2 // WAD
                found.append(f"{where}: leverage = {token.leverage:g} must be from -{limit} to {limit} (a token's "
                             f"hard cap, twice its target, is at most {2 * limit}x)")
            own = {k: v for k, v in token.overrides.items() if k not in self.token_defaults or self.token_defaults[k] != v}
            bad = _value_problems(where, Params, own, decimals)
            found += bad
            if not bad and not shared and not beyond:
                params = token_params(token, fee_recipient, decimals)
                bounds = params_out_of_bounds(params, abs(target), 2 * abs(target), MAX_FEE_BPS,
                                              MAX_STREAMING_FEE_PER_DAY, 1000 * 10**decimals, decimals)
                found += [f"{'[tokens]' if name in self.token_defaults and name not in own else where}: {line}"
                          for name, line in _bound_problems(Params, params, token.overrides, bounds, decimals)]
        return list(dict.fromkeys(found))


def named_for(config: DeployConfig, asset: str | None) -> DeployConfig:
    """The config with the market of its first token named `asset` (its tokens follow: ETH3L), so that a replay of
    another asset's prices calls it by its name; unchanged when `asset` is None or already the name."""
    old = config.tokens[0].market if config.tokens else None
    if asset is None or old is None or asset == old:
        return config
    markets = [replace(m, symbol=asset) if m.symbol == old else m for m in config.markets]
    tokens = [replace(t, market=asset) if t.market == old else t for t in config.tokens]
    return replace(config, markets=markets, tokens=tokens)


def token_params(spec: TokenEntry, fee_recipient: str, decimals: int) -> Params:
    """The Params a token of `spec` is created with: the factory's defaults for its leverage (the reference
    model's `default_params`) with the file's settings applied."""
    params = default_params(to_wad(spec.leverage), fee_recipient, decimals)
    for name, value in spec.overrides.items():
        setattr(params, name, Params.parse(name, value, decimals))
    return params


def _value_problems(where: str, shape, settings: Mapping[str, Any], decimals: int) -> list[str]:
    """Each setting that is not a value of its field (`Struct.parse`'s words) or does not fit the field's
    Solidity type (from the compiled ABI)."""
    found = []
    types = _abi_types(shape)
    for name, value in settings.items():
        try:
            converted = shape.parse(name, value, decimals)
        except ValueError as err:
            found.append(f"{where}: {name} = {value!r} {err}")
            continue
        kind = types[shape.sol_name(name)]
        if kind.startswith("uint") and converted >= 2 ** int(kind[4:] or 256):
            largest = shape.human(name, 2 ** int(kind[4:] or 256) - 1, decimals)
            if largest == "no limit":  # the largest uint256 stands for none, which the file cannot write
                largest = f"{2**256 / WAD:.6g}"
            found.append(f"{where}: {name} = {value!r} is too large for its field (at most {largest})")
    return found


def _bound_problems(shape, struct, settings: Mapping[str, Any], failing: list[tuple[str, str]],
                    decimals: int) -> list[tuple[str, str]]:
    """The fields `failing` names (Solidity name, bound in words), each as (its Python name, a line): the value as
    the file gave it, or the default's, said to be one."""
    found = []
    for sol, words in failing:
        name = shape.python_name(sol)
        value = settings.get(name)
        shown = repr(value) if value is not None else f"{shape.human(name, getattr(struct, name), decimals)} (the default)"
        found.append((name, f"{name} = {shown} must be {words}"))
    return found


@functools.lru_cache(maxsize=None)
def _abi_types(shape) -> dict[str, str]:
    """The Solidity type of each field of `shape`'s struct, by Solidity name, from the compiled ABI (the
    factory's createToken for Params, the venue's listMarket for MarketConfig): read from the artifacts."""
    from ape import project

    contract, method, index = {Params: ("LeveragedTokenFactory", "createToken", 0),
                               MarketConfig: ("PerpVenue", "listMarket", 1)}[shape]
    abi = next(m for m in project.manifest.contract_types[contract].abi if getattr(m, "name", "") == method)
    components = abi.inputs[index].components
    if shape is Params:  # createToken takes a TokenSpec whose `params` is the Params struct
        components = next(c for c in components if c.name == "params").components
    return {c.name: c.type for c in components}
