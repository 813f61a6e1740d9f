"""The shapes of the contracts, stated once for all the tooling: enums, structs and events.

Each struct is a dataclass whose fields carry their Solidity name and unit (`sol`, `unit` in the field
metadata), in the ABI tuple's order. From that one table come the conversions every other module uses:

- `Params.from_abi(values)`: from a struct a call returned, a mapping with the Solidity names, or a tuple;
- `params.to_abi()` (a mapping with the Solidity names) and `params.to_tuple()` (what a transaction takes);
- `Params.abi_dict(values)` / `Params.tuple_of(mapping)`: the same without building the dataclass, for
  code that edits a struct field by its Solidity name;
- `Params.convert(name, human_value, decimals)`: a value a person writes (3, "0.0001", 1000 USD) in the
  field's unit.

Adding a field to a struct means editing the Solidity struct and the dataclass here, nothing else.
Constants live in `levtoken.units`; the contracts' own constants (bounds) live in the reference model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal, localcontext
from enum import IntEnum
from typing import Any, ClassVar, Mapping, Sequence

from eth_utils import to_checksum_address

from levtoken.units import COLLATERAL_DECIMALS, DAY, WAD, to_units, to_wad

UINT256_MAX = 2**256 - 1
ZERO_ADDRESS = "0x" + "0" * 40

# Units a field is stated in (what `convert` turns a human value into).
WAD_UNIT = "wad"  # 18-decimal fixed point (leverage, fractions, sizes)
COLLATERAL = "collateral"  # collateral units (6 decimals for the test stablecoin)
SECONDS = "seconds"
BPS_UNIT = "bps"
ADDRESS = "address"
RAW = "raw"  # an integer stored as is (a 36-decimal notional, an index, an enum)
FLAG = "bool"
MARKET_PARAMS = "market"  # a Morpho MarketParams tuple (loanToken, collateralToken, oracle, irm, lltv)


def _f(sol: str, unit: str, default: Any = None):
    """A struct field with its Solidity name and unit (and a default where the project has one)."""
    meta = {"sol": sol, "unit": unit}
    if default is None:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def _get(values: Any, name: str, index: int) -> Any:
    if isinstance(values, Mapping):
        return values[name]
    if hasattr(values, name):
        return getattr(values, name)
    return values[index]  # a plain tuple in ABI order


def _cast(unit: str, value: Any) -> Any:
    if unit == ADDRESS:
        return str(value)
    if unit == FLAG:
        return bool(value)
    if unit == MARKET_PARAMS:
        *addresses, lltv = tuple(value)
        return (*map(str, addresses), int(lltv))
    return int(value)


class Struct:
    """Conversions shared by every struct dataclass below (see the module docstring)."""

    ENUMS: ClassVar[dict[str, type[IntEnum]]] = {}

    @classmethod
    def table(cls) -> tuple[tuple[str, str, str], ...]:
        """(Python name, Solidity name, unit) of every field, in ABI order."""
        return tuple((f.name, f.metadata["sol"], f.metadata["unit"]) for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def sol_names(cls) -> tuple[str, ...]:
        """The Solidity field names in ABI order."""
        return tuple(sol for _, sol, _ in cls.table())

    @classmethod
    def from_abi(cls, values: Any, **extra: Any):
        """From a returned struct, a mapping with the Solidity names or an ABI-ordered tuple.
        `extra` sets fields by Python name instead (e.g. the model's feed key)."""
        kwargs = {}
        for index, (py, sol, unit) in enumerate(cls.table()):
            if py in extra:
                kwargs[py] = extra[py]
                continue
            value = _cast(unit, _get(values, sol, index))
            kwargs[py] = cls.ENUMS[py](value) if py in cls.ENUMS else value
        return cls(**kwargs)

    def to_abi(self, **extra: Any) -> dict[str, Any]:
        """A mapping with the Solidity names; `extra` replaces fields by Python name (e.g. feed address)."""
        return {sol: extra.get(py, getattr(self, py)) for py, sol, _ in self.table()}

    def to_tuple(self, **extra: Any) -> tuple:
        """The ABI tuple a transaction takes."""
        return tuple(self.to_abi(**extra).values())

    @classmethod
    def abi_dict(cls, values: Any) -> dict[str, Any]:
        """A returned struct (or tuple) as a plain mapping with the Solidity names."""
        return {sol: _get(values, sol, index) for index, (_, sol, _) in enumerate(cls.table())}

    @classmethod
    def tuple_of(cls, values: Mapping[str, Any]) -> tuple:
        """A mapping with the Solidity names as the ABI tuple."""
        return tuple(values[sol] for sol in cls.sol_names())

    @classmethod
    def field_row(cls, name: str) -> tuple[str, str, str]:
        """A field's (Python name, Solidity name, unit) given either spelling; KeyError for an unknown field."""
        for row in cls.table():
            if name in row[:2]:
                return row
        raise KeyError(name)

    @classmethod
    def python_name(cls, name: str) -> str:
        """The Python name of a field given either spelling; KeyError for an unknown field."""
        return cls.field_row(name)[0]

    @classmethod
    def sol_name(cls, name: str) -> str:
        """The Solidity name of a field given either spelling; KeyError for an unknown field."""
        return cls.field_row(name)[1]

    @classmethod
    def unit(cls, name: str) -> str:
        """Field `name`'s unit (either spelling); KeyError for an unknown field."""
        return cls.field_row(name)[2]

    @classmethod
    def convert(cls, name: str, value: Any, decimals: int = COLLATERAL_DECIMALS) -> Any:
        """A human value (3 for 3x, "0.0001", 1000 for 1,000 USD) in field `name`'s unit."""
        unit = cls.unit(name)
        if unit == WAD_UNIT:
            return to_wad(value)
        if unit == COLLATERAL:
            return to_units(value, decimals)
        return _cast(unit, value)

    @classmethod
    def parse(cls, name: str, value: Any, decimals: int = COLLATERAL_DECIMALS) -> Any:
        """`convert`, strictly, for a value a person wrote (a config file's, a command's): ValueError saying in
        words what is wrong with it (not a number, not finite, not whole where the unit is, more decimals than
        the unit holds, negative, not an address). KeyError for an unknown field."""
        unit = cls.unit(name)
        if unit == ADDRESS:
            if not (isinstance(value, str) and len(value) == 42 and value.startswith("0x")
                    and all(c in "0123456789abcdefABCDEF" for c in value[2:])):
                raise ValueError("is not an address (0x followed by 40 hex digits)")
            return to_checksum_address(value)
        if isinstance(value, bool):
            raise ValueError("is not a number")
        try:
            exact = Decimal(str(value).replace("_", ""))
        except ArithmeticError:
            raise ValueError("is not a number") from None
        if not exact.is_finite():
            raise ValueError("is not a finite number")
        if exact < 0:
            raise ValueError("must not be negative")
        places = {WAD_UNIT: 18, COLLATERAL: decimals}.get(unit, 0)
        with localcontext(prec=200):  # exact for any value a uint256 holds
            scaled = exact.scaleb(places)
            if scaled != scaled.to_integral_value():
                raise ValueError("must be a whole number" if places == 0 else f"has more than {places} decimals")
            return int(scaled)

    @classmethod
    def human(cls, name: str, value: Any, decimals: int = COLLATERAL_DECIMALS) -> str:
        """Field `name`'s contract value in a reader's words (the inverse of `convert`): 0.0001 for a WAD
        fraction, 1,000 for collateral units, "10 bps", "3600 s", an address as is."""
        unit = cls.unit(name)
        if unit == WAD_UNIT:
            return f"{value / 10**18:,.6g}" if value < 2**255 else "no limit"
        if unit == COLLATERAL:
            return f"{value / 10**decimals:,.2f}"
        if unit == BPS_UNIT:
            return f"{value} bps"
        if unit == SECONDS:
            return f"{value} s"
        return str(value)


# --- ILeveragedToken ----------------------------------------------------------------------------


class Action(IntEnum):
    """ILeveragedToken.Action: what the rebalance decision says is due."""

    NONE = 0
    REBALANCE = 1
    ITERATE = 2
    RIPCORD = 3
    SETTLE = 4


class Reason(IntEnum):
    """ILeveragedToken.Reason: why it is due."""

    NONE = 0
    TIME = 1
    BAND = 2
    ITERATION = 3
    RIPCORD = 4
    REQUESTS = 5


class OrderKind(IntEnum):
    """IDelayedOrders.Kind: what a delayed order asks the venue for."""

    TRADE = 0
    ADD_LIQUIDITY = 1
    REMOVE_LIQUIDITY = 2


class OrderStatus(IntEnum):
    """IDelayedOrders.Status."""

    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3


@dataclass
class Params(Struct):
    """ILeveragedToken.Params: what the admin may change, validated against hard bounds."""

    leverage_max: int = _f("leverageMax", WAD_UNIT)
    leverage_min: int = _f("leverageMin", WAD_UNIT)
    ripcord_leverage: int = _f("ripcordLeverage", WAD_UNIT)
    min_drift: int = _f("minDrift", WAD_UNIT)
    rebalance_interval: int = _f("rebalanceInterval", SECONDS)
    settlement_window: int = _f("settlementWindow", SECONDS)
    mint_fee_bps: int = _f("mintFeeBps", BPS_UNIT)
    redeem_fee_bps: int = _f("redeemFeeBps", BPS_UNIT)
    streaming_fee_per_day: int = _f("streamingFeePerDay", WAD_UNIT)
    fee_recipient: str = _f("feeRecipient", ADDRESS)
    max_trade_notional: int = _f("maxTradeNotional", COLLATERAL)
    ripcord_bounty: int = _f("ripcordBounty", COLLATERAL)
    supply_cap: int = _f("supplyCap", WAD_UNIT)


@dataclass
class Status(Struct):
    """ILeveragedToken.Status: the rebalance decision, read in one call."""

    ENUMS: ClassVar[dict[str, type[IntEnum]]] = {"action": Action, "reason": Reason}

    action: Action = _f("action", RAW, Action.NONE)
    reason: Reason = _f("reason", RAW, Reason.NONE)
    leverage: int = _f("leverage", WAD_UNIT, 0)
    size_delta: int = _f("sizeDelta", WAD_UNIT, 0)
    capped: bool = _f("capped", FLAG, False)
    equity: int = _f("equity", COLLATERAL, 0)
    price: int = _f("price", WAD_UNIT, 0)
    deposit_assets: int = _f("depositAssets", COLLATERAL, 0)
    redeem_shares: int = _f("redeemShares", WAD_UNIT, 0)
    price_time: int = _f("priceTime", SECONDS, 0)

    @property
    def due(self) -> bool:
        """Whether any action is due."""
        return self.action != Action.NONE


@dataclass
class Settlement(Struct):
    """ILeveragedToken.Settlement: what one settlement priced (a zero amount: that side did not settle) and
    what it gave; carried by the Settled event."""

    assets: int = _f("assets", COLLATERAL, 0)
    mint_fee_bps: int = _f("mintFeeBps", BPS_UNIT, 0)
    shares: int = _f("shares", WAD_UNIT, 0)
    redeem_fee_bps: int = _f("redeemFeeBps", BPS_UNIT, 0)
    price: int = _f("price", WAD_UNIT, 0)
    shares_out: int = _f("sharesOut", WAD_UNIT, 0)
    mint_fee: int = _f("mintFee", WAD_UNIT, 0)
    redeem_fee: int = _f("redeemFee", WAD_UNIT, 0)
    assets_out: int = _f("assetsOut", COLLATERAL, 0)
    size_delta: int = _f("sizeDelta", WAD_UNIT, 0)
    margin_delta: int = _f("marginDelta", COLLATERAL, 0)
    cost: int = _f("cost", COLLATERAL, 0)
    cost_d: int = _f("costD", COLLATERAL, 0)
    cost_r: int = _f("costR", COLLATERAL, 0)
    refunded: int = _f("refunded", COLLATERAL, 0)


# --- IPerpVenue ---------------------------------------------------------------------------------


@dataclass
class MarketConfig(Struct):
    """IPerpVenue.MarketConfig with the project's defaults (collateral fields for 6 decimals: see
    `defaults`). `feed` is an address on chain and a feed key in the reference model."""

    feed: str = _f("feed", ADDRESS)
    heartbeat: int = _f("heartbeat", SECONDS, 2 * DAY)
    taker_fee_bps: int = _f("takerFeeBps", BPS_UNIT, 5)
    max_impact_bps: int = _f("maxImpactBps", BPS_UNIT, 100)
    initial_margin_bps: int = _f("initialMarginBps", BPS_UNIT, 1000)
    maintenance_margin_bps: int = _f("maintenanceMarginBps", BPS_UNIT, 300)
    liquidation_penalty_bps: int = _f("liquidationPenaltyBps", BPS_UNIT, 100)
    liquidator_share_bps: int = _f("liquidatorShareBps", BPS_UNIT, 5000)
    impact_depth: int = _f("impactDepth", COLLATERAL, 1_000_000_000 * 10**COLLATERAL_DECIMALS)
    max_funding_rate_per_day: int = _f("maxFundingRatePerDay", WAD_UNIT, 3 * 10**14)
    max_open_interest: int = _f("maxOpenInterest", WAD_UNIT, 1_000_000 * WAD)

    @classmethod
    def defaults(cls, feed: str, decimals: int = COLLATERAL_DECIMALS, **overrides: Any) -> "MarketConfig":
        """The project's defaults for a collateral of `decimals`, with `overrides` (Python or Solidity
        names, contract units)."""
        config = cls(feed=feed)
        scale = 10**decimals
        for py, _, unit in cls.table():
            if unit == COLLATERAL:
                setattr(config, py, getattr(config, py) * scale // 10**COLLATERAL_DECIMALS)
        for name, value in overrides.items():
            setattr(config, cls.python_name(name), value)
        return config


@dataclass
class MoneyMarketConfig(Struct):
    """IMoneyMarketVenue.MarketConfig: a money-market venue's market. The governance changes its heartbeat,
    maxSlippageBps, maxLtv and pool (`MONEY_MARKET_FIXED`: the feed and the lending markets stay as listed)."""

    feed: str = _f("feed", ADDRESS)
    heartbeat: int = _f("heartbeat", SECONDS)
    max_slippage_bps: int = _f("maxSlippageBps", BPS_UNIT)
    max_ltv: int = _f("maxLtv", WAD_UNIT)
    pool: str = _f("pool", ADDRESS)
    long_market: tuple = _f("longMarket", MARKET_PARAMS)
    short_market: tuple = _f("shortMarket", MARKET_PARAMS)


MONEY_MARKET_FIXED = ("feed", "longMarket", "shortMarket")  # where a money market's tokens' loops are


@dataclass
class Position(Struct):
    """IPerpVenue.Position: one account's position in one market."""

    margin: int = _f("margin", COLLATERAL, 0)
    size: int = _f("size", WAD_UNIT, 0)
    open_notional: int = _f("openNotional", RAW, 0)
    funding_snapshot: int = _f("fundingSnapshot", RAW, 0)


@dataclass
class MarketState(Struct):
    """IPerpVenue.MarketState: aggregates of one market."""

    long_open_interest: int = _f("longOpenInterest", WAD_UNIT, 0)
    short_open_interest: int = _f("shortOpenInterest", WAD_UNIT, 0)
    funding_index: int = _f("fundingIndex", RAW, 0)
    last_funding_time: int = _f("lastFundingTime", SECONDS, 0)
    sum_open_notional: int = _f("sumOpenNotional", RAW, 0)
    sum_funding_snapshot: int = _f("sumFundingSnapshot", RAW, 0)
    long_open_notional: int = _f("longOpenNotional", RAW, 0)


# --- Events the tooling reads -------------------------------------------------------------------

# Canonical signatures (name and argument types), checked against the compiled ABIs by the tests.
EVENTS: dict[str, str] = {
    "Rebalanced": "Rebalanced(uint8,uint8,address,int256,int256,uint256,uint256,bool)",
    "Settled": "Settled(uint256,uint256,bool,uint256,(" + ",".join(
        ["uint256"] * 9 + ["int256", "int256"] + ["uint256"] * 4) + "))",
    "FundingSettled": "FundingSettled(uint256,address,int256,int256)",
    "PositionModified": "PositionModified(uint256,address,int256,int256,uint256,uint256,uint256,int256)",
    "Liquidated": "Liquidated(uint256,address,address,int256,uint256,uint256,uint256,uint256)",
}


def event_topic(name: str) -> str:
    """topic0 (0x-hex keccak of the signature) of an event in EVENTS."""
    from eth_utils import keccak

    return "0x" + keccak(text=EVENTS[name]).hex()


def address_topic(address: str) -> str:
    """An indexed address as a log topic."""
    return "0x" + "00" * 12 + address[2:].lower()


__all__: Sequence[str] = (
    "Action", "Reason", "Params", "Status", "Settlement", "MarketConfig", "Position", "MarketState", "Struct",
    "EVENTS", "event_topic", "address_topic", "UINT256_MAX", "ZERO_ADDRESS",
)
