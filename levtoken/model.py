"""Reference model of the venue (PerpVenue) and the token (LeveragedToken) in pure Python.

The model reproduces the contracts' integer arithmetic to the unit: OpenZeppelin's Math.mulDiv
(floor and ceil), Solidity's signed division (truncation toward zero), FixedPointMath's sDivDown and
sDivUp (toward negative and positive infinity), SafeCast's range checks and checked arithmetic on the
narrow storage types. It exists to be compared with the contracts after every step (see
tests/model/test_differential.py) and to check the protocol against closed forms (DESIGN.md section 5)
without a chain.

A `Model` holds the environment a transaction sees: block timestamp (`set_time`), the price feeds
(`set_price`), the collateral's balances, one venue and any number of tokens. Every state-changing
entry point is atomic: a revert (any `Revert` subclass, named like the Solidity custom error) leaves
the whole model as it was, as a reverted transaction leaves the chain.

Not modelled: events, gas, signatures (permit), allowances of the collateral (the model assumes the
callers approved what they spend), uint256/int256 overflow of intermediate products (unreachable with
realistic numbers; the casts to the 128- and 64-bit storage types are checked).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Iterator, Mapping

WAD = 10**18
BPS = 10_000
DAY = 86_400
UINT256_MAX = 2**256 - 1
INT128_MIN, INT128_MAX = -(2**127), 2**127 - 1
UINT128_MAX = 2**128 - 1
ZERO_ADDRESS = "0x" + "0" * 40


# --------------------------------------------------------------------------------------------------
# Reverts
# --------------------------------------------------------------------------------------------------


class Revert(Exception):
    """A transaction or call reverted; the subclass name is the Solidity error's name."""

    @property
    def name(self) -> str:
        return type(self).__name__


class Panic(Revert):
    """Solidity panic: 0x11 arithmetic overflow or underflow, 0x12 division by zero."""


class MathOverflowedMulDiv(Revert):
    """Math.mulDiv result does not fit in 256 bits."""


class SafeCastOverflowedIntDowncast(Revert):
    """SafeCast: a signed value does not fit the narrower type."""


class SafeCastOverflowedUintDowncast(Revert):
    """SafeCast: an unsigned value does not fit the narrower type."""


class SafeCastOverflowedIntToUint(Revert):
    """SafeCast: a negative value cast to unsigned."""


class SafeCastOverflowedUintToInt(Revert):
    """SafeCast: an unsigned value above int256's maximum."""


class InvalidPrice(Revert):
    """OracleLib: the feed answered zero or a negative price."""


class StalePrice(Revert):
    """OracleLib: the feed's answer is older than the heartbeat."""


class IncompleteRound(Revert):
    """OracleLib: the feed's latest round is not complete."""


class ERC20InsufficientBalance(Revert):
    """ERC-20 transfer or burn above the balance."""


class ERC20InsufficientAllowance(Revert):
    """ERC-20 transferFrom above the allowance."""


class ERC20InvalidReceiver(Revert):
    """ERC-20 transfer or mint to the zero address."""


class ERC20InvalidSender(Revert):
    """ERC-20 transfer or burn from the zero address."""


class AccessControlUnauthorizedAccount(Revert):
    """The caller lacks the role."""


class OwnableUnauthorizedAccount(Revert):
    """The caller is not the owner."""


class EnforcedPause(Revert):
    """Pausable: the contract is paused."""


class ExpectedPause(Revert):
    """Pausable: the contract is not paused."""


# PerpVenue
class UnknownMarket(Revert):
    """The market id is not listed."""


class ZeroAmount(Revert):
    """An amount or size was zero where it must not be (venue and token)."""


class InvalidConfig(Revert):
    """A market parameter is outside its hard bounds."""


class InsufficientMargin(Revert):
    """The account would fall below initial margin (or below zero value)."""


class InsufficientFreeMargin(Revert):
    """The margin balance cannot cover the withdrawal."""


class InsufficientPoolLiquidity(Revert):
    """The LP pool cannot pay this profit or withdrawal."""


class OpenInterestCapExceeded(Revert):
    """The trade would take open interest above the market's cap."""


class NotLiquidatable(Revert):
    """The account is above maintenance margin."""


class SlippageExceeded(Revert):
    """Fewer shares or assets than the caller's minimum (venue and token)."""


class InsufficientShares(Revert):
    """The LP holds fewer pool shares than asked."""


# LeveragedToken
class DeadlineExpired(Revert):
    """The transaction was mined after its deadline."""


class SupplyCapExceeded(Revert):
    """The mint would take total supply above the cap."""


class RebalanceNotDue(Revert):
    """No rebalance is due now."""


class RipcordNotDue(Revert):
    """|leverage| has not reached the ripcord limit."""


class LeverageOutOfRange(Revert):
    """Target leverage is zero or above the hard cap."""


class InvalidParameter(Revert):
    """A token parameter is outside its bounds; the argument is the Params field index."""


class NoEquity(Revert):
    """The token holds no equity to mint against."""


class ExceedsMaxWithdraw(Revert):
    """The asset amount cannot be reached by redeeming the owner's shares."""


# --------------------------------------------------------------------------------------------------
# Integer math, as in Solidity 0.8, OpenZeppelin Math/SafeCast and FixedPointMath
# --------------------------------------------------------------------------------------------------


def mul_div_down(x: int, y: int, d: int) -> int:
    """Math.mulDiv(x, y, d): floor(x * y / d) of unsigned values; reverts on d == 0 or overflow."""
    assert x >= 0 and y >= 0 and d >= 0, "mulDiv takes unsigned operands"
    if d == 0:
        raise Panic(0x12)
    q = x * y // d
    if q > UINT256_MAX:
        raise MathOverflowedMulDiv()
    return q


def mul_div_up(x: int, y: int, d: int) -> int:
    """Math.mulDiv(x, y, d, Ceil): ceil(x * y / d) of unsigned values."""
    assert x >= 0 and y >= 0 and d >= 0, "mulDiv takes unsigned operands"
    if d == 0:
        raise Panic(0x12)
    q = -((-x * y) // d)
    if q > UINT256_MAX:
        raise MathOverflowedMulDiv()
    return q


def tdiv(a: int, b: int) -> int:
    """Solidity signed `a / b`: truncates toward zero."""
    if b == 0:
        raise Panic(0x12)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def tmod(a: int, b: int) -> int:
    """Solidity signed `a % b`: has the sign of a."""
    return a - b * tdiv(a, b)


def s_div_down(a: int, b: int) -> int:
    """FixedPointMath.sDivDown: a / b for positive b rounded toward negative infinity."""
    q = tdiv(a, b)
    if tmod(a, b) != 0 and a < 0:
        q -= 1
    return q


def s_div_up(a: int, b: int) -> int:
    """FixedPointMath.sDivUp: a / b for positive b rounded toward positive infinity."""
    q = tdiv(a, b)
    if tmod(a, b) != 0 and a > 0:
        q += 1
    return q


def to_int128(x: int) -> int:
    """SafeCast.toInt128."""
    if not INT128_MIN <= x <= INT128_MAX:
        raise SafeCastOverflowedIntDowncast(128, x)
    return x


def to_uint128(x: int) -> int:
    """SafeCast.toUint128."""
    if not 0 <= x <= UINT128_MAX:
        raise SafeCastOverflowedUintDowncast(128, x)
    return x


def checked_int128(x: int) -> int:
    """Checked int128 arithmetic result (Panic 0x11 when out of range)."""
    if not INT128_MIN <= x <= INT128_MAX:
        raise Panic(0x11)
    return x


def checked_uint(x: int, bits: int = 256) -> int:
    """Checked unsigned arithmetic result (Panic 0x11 on underflow or overflow)."""
    if not 0 <= x < 2**bits:
        raise Panic(0x11)
    return x


def to_uint256_unchecked(x: int) -> int:
    """Solidity's explicit `uint256(int256)` conversion: reinterprets a negative value (no revert)."""
    return x % 2**256


def _field(values: Any, name: str) -> Any:
    """values[name] for a mapping, values.name otherwise (e.g. a struct returned by a contract call)."""
    return values[name] if isinstance(values, Mapping) else getattr(values, name)


def sign_of(leverage: int, magnitude: int) -> int:
    """magnitude with the sign of leverage (`leverage < 0 ? -m : m`)."""
    return -magnitude if leverage < 0 else magnitude


# --------------------------------------------------------------------------------------------------
# Environment: time, feeds, collateral
# --------------------------------------------------------------------------------------------------


@dataclass
class Feed:
    """A Chainlink-compatible feed (PriceFeed): latest round only."""

    decimals: int = 8
    round_id: int = 0
    answer: int = 0
    updated_at: int = 0

    @property
    def scale(self) -> int:
        return 10 ** (18 - self.decimals)


@dataclass
class Collateral:
    """The collateral ERC-20's balances (6 decimals by default)."""

    decimals: int = 6
    balances: dict[str, int] = field(default_factory=dict)

    def balance_of(self, account: str) -> int:
        return self.balances.get(account, 0)

    def transfer(self, sender: str, to: str, amount: int) -> None:
        """ERC-20 transfer (also used for transferFrom: allowances are not modelled)."""
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        balance = self.balance_of(sender)
        if balance < amount:
            raise ERC20InsufficientBalance(sender, balance, amount)
        self.balances[sender] = balance - amount
        self.balances[to] = self.balance_of(to) + amount

    def mint(self, to: str, amount: int) -> None:
        """TestStablecoin.mint (faucet)."""
        self.balances[to] = self.balance_of(to) + amount


# --------------------------------------------------------------------------------------------------
# Venue
# --------------------------------------------------------------------------------------------------


@dataclass
class MarketConfig:
    """IPerpVenue.MarketConfig, with the feed as a key into Model.feeds."""

    feed: str
    heartbeat: int = 2 * DAY
    taker_fee_bps: int = 5
    max_impact_bps: int = 100
    initial_margin_bps: int = 1000
    maintenance_margin_bps: int = 300
    liquidation_penalty_bps: int = 100
    liquidator_share_bps: int = 5000
    impact_depth: int = 1_000_000_000 * 10**6
    max_funding_rate_per_day: int = 3 * 10**14
    max_open_interest: int = 1_000_000 * WAD

    ABI_NAMES = {
        "heartbeat": "heartbeat",
        "taker_fee_bps": "takerFeeBps",
        "max_impact_bps": "maxImpactBps",
        "initial_margin_bps": "initialMarginBps",
        "maintenance_margin_bps": "maintenanceMarginBps",
        "liquidation_penalty_bps": "liquidationPenaltyBps",
        "liquidator_share_bps": "liquidatorShareBps",
        "impact_depth": "impactDepth",
        "max_funding_rate_per_day": "maxFundingRatePerDay",
        "max_open_interest": "maxOpenInterest",
    }

    @classmethod
    def from_abi(cls, feed: str, values: Any) -> "MarketConfig":
        """From a mapping or struct with the Solidity field names; `feed` is the Model.feeds key."""
        return cls(feed=feed, **{py: int(_field(values, sol)) for py, sol in cls.ABI_NAMES.items()})

    def to_abi(self, feed_address: str) -> dict[str, Any]:
        """The MarketConfig mapping a transaction takes."""
        return {"feed": feed_address, **{sol: getattr(self, py) for py, sol in self.ABI_NAMES.items()}}


@dataclass
class Position:
    """IPerpVenue.Position."""

    margin: int = 0
    size: int = 0
    open_notional: int = 0
    funding_snapshot: int = 0

    ABI_NAMES = {"margin": "margin", "size": "size", "open_notional": "openNotional", "funding_snapshot": "fundingSnapshot"}

    @classmethod
    def from_abi(cls, values: Any) -> "Position":
        """From a mapping or struct with the Solidity field names."""
        return cls(**{py: int(_field(values, sol)) for py, sol in cls.ABI_NAMES.items()})


@dataclass
class MarketState:
    """IPerpVenue.MarketState."""

    long_open_interest: int = 0
    short_open_interest: int = 0
    funding_index: int = 0
    last_funding_time: int = 0
    sum_open_notional: int = 0
    sum_funding_snapshot: int = 0

    ABI_NAMES = {
        "long_open_interest": "longOpenInterest",
        "short_open_interest": "shortOpenInterest",
        "funding_index": "fundingIndex",
        "last_funding_time": "lastFundingTime",
        "sum_open_notional": "sumOpenNotional",
        "sum_funding_snapshot": "sumFundingSnapshot",
    }

    @classmethod
    def from_abi(cls, values: Any) -> "MarketState":
        """From a mapping or struct with the Solidity field names."""
        return cls(**{py: int(_field(values, sol)) for py, sol in cls.ABI_NAMES.items()})


@dataclass
class Outcome:
    """PerpVenue.Outcome: everything one modification changes."""

    price: int = 0
    funding_owed: int = 0
    value_before: int = 0
    value_after: int = 0
    fee: int = 0
    impact: int = 0
    execution_price: int = 0
    realized_pnl: int = 0


@dataclass
class TradeQuote:
    """IPerpVenue.quoteTrade's return values."""

    price: int
    execution_price: int
    fee: int
    impact: int


@dataclass
class PerpVenue:
    """PerpVenue: markets, positions, funding, fees and impact, margin checks, LP pool, liquidation."""

    model: "Model" = field(repr=False)
    address: str = "venue"
    owner: str = "gov"
    unit: int = 10**30
    market_count: int = 0
    symbols: dict[int, str] = field(default_factory=dict)
    configs: dict[int, MarketConfig] = field(default_factory=dict)
    states: dict[int, MarketState] = field(default_factory=dict)
    positions: dict[int, dict[str, Position]] = field(default_factory=dict)
    pool_cash: int = 0
    total_lp_shares: int = 0
    lp_shares: dict[str, int] = field(default_factory=dict)

    VIRTUAL_LP_SHARES = 10**12

    # --- owner ---------------------------------------------------------------------------------
    def list_market(self, caller: str, symbol: str, config: MarketConfig) -> int:
        """listMarket: validates and lists a market; returns its id."""
        with self.model.transaction():
            self._only_owner(caller)
            self._validate(config)
            self.market_count += 1
            mid = self.market_count
            self.symbols[mid] = symbol
            self.configs[mid] = copy.copy(config)
            self.states[mid] = MarketState(last_funding_time=self.model.now)
            self.positions[mid] = {}
            return mid

    def set_market_config(self, caller: str, mid: int, config: MarketConfig) -> None:
        """setMarketConfig: accrues funding at the old parameters, then replaces them."""
        with self.model.transaction():
            self._only_owner(caller)
            self._require_market(mid)
            self._validate(config)
            m = self.states[mid]
            if m.long_open_interest != 0 or m.short_open_interest != 0:
                price = self._price(mid)
                m.funding_index = self._funding_index_now(mid, m, price)
            m.last_funding_time = self.model.now
            self.configs[mid] = copy.copy(config)

    # --- margin and trading --------------------------------------------------------------------
    def deposit_margin(self, caller: str, mid: int, account: str, amount: int) -> None:
        """depositMargin: anyone tops up any account."""
        with self.model.transaction():
            self._require_market(mid)
            if amount == 0:
                raise ZeroAmount()
            p = self._position(mid, account)
            p.margin = checked_int128(p.margin + to_int128(amount))
            self.model.collateral.transfer(caller, self.address, amount)

    def withdraw_margin(self, caller: str, mid: int, amount: int, to: str) -> None:
        """withdrawMargin."""
        with self.model.transaction():
            if amount == 0:
                raise ZeroAmount()
            self._modify(mid, caller, -amount, 0, to)

    def trade(self, caller: str, mid: int, size_delta: int, acceptable_price: int = 0) -> Outcome:
        """trade: changes the caller's size; acceptable_price 0 accepts any execution price."""
        with self.model.transaction():
            if size_delta == 0:
                raise ZeroAmount()
            o = self._modify(mid, caller, 0, size_delta, caller)
            if acceptable_price != 0:
                worse = o.execution_price > acceptable_price if size_delta > 0 else o.execution_price < acceptable_price
                if worse:
                    raise SlippageExceeded(o.execution_price, acceptable_price)
            return o

    def modify_position(self, caller: str, mid: int, margin_delta: int, size_delta: int, to: str) -> tuple[int, int]:
        """modifyPosition (IPerpVenue): margin in, trade, margin out; returns (valueBefore, valueAfter)."""
        with self.model.transaction():
            if margin_delta == 0 and size_delta == 0:
                raise ZeroAmount()
            o = self._modify(mid, caller, margin_delta, size_delta, to)
            return o.value_before, o.value_after

    def liquidate(self, caller: str, mid: int, account: str) -> tuple[int, int, int]:
        """liquidate: returns (penalty, reward, badDebt)."""
        with self.model.transaction():
            self._require_market(mid)
            m = copy.copy(self.states[mid])
            p = copy.copy(self._position(mid, account))
            price = self._price(mid)
            penalty, reward, bad_debt = self._liquidate(mid, p, m, price)
            self.positions[mid][account] = p
            self.states[mid] = m
            if reward != 0:
                self.model.collateral.transfer(self.address, caller, reward)
            return penalty, reward, bad_debt

    def _liquidate(self, mid: int, p: Position, m: MarketState, price: int) -> tuple[int, int, int]:
        c = self.configs[mid]
        self._accrue(mid, m, price)
        owed = self._settle_funding(p, m)
        realized = self._unrealized(p, price)
        margin = p.margin + realized
        notional = self._notional_up(abs(p.size), price)
        maintenance = mul_div_up(notional, c.maintenance_margin_bps, BPS)
        if p.size == 0 or margin >= maintenance:
            raise NotLiquidatable(margin, maintenance)
        self._remove_open_interest(m, p.size)
        m.sum_open_notional -= p.open_notional
        m.sum_funding_snapshot -= p.size * m.funding_index
        penalty = min(mul_div_up(notional, c.liquidation_penalty_bps, BPS), margin if margin > 0 else 0)
        reward = mul_div_down(penalty, c.liquidator_share_bps, BPS)
        margin -= penalty
        bad_debt = 0
        if margin < 0:
            bad_debt = -margin
            margin = 0
        self._move_pool(owed - realized + (penalty - reward) - bad_debt)
        p.margin = to_int128(margin)
        p.size = 0
        p.open_notional = 0
        return penalty, reward, bad_debt

    # --- LP pool -------------------------------------------------------------------------------
    def add_liquidity(self, caller: str, amount: int, min_shares: int = 0) -> int:
        """addLiquidity: pool shares for collateral, shares rounded down against a value rounded up."""
        with self.model.transaction():
            if amount == 0:
                raise ZeroAmount()
            shares = mul_div_down(amount, self.total_lp_shares + self.VIRTUAL_LP_SHARES, self._pool_value(True) + 1)
            if shares == 0 or shares < min_shares:
                raise SlippageExceeded(shares, min_shares)
            self.total_lp_shares += shares
            self.lp_shares[caller] = self.lp_shares.get(caller, 0) + shares
            self.pool_cash += amount
            self.model.collateral.transfer(caller, self.address, amount)
            return shares

    def remove_liquidity(self, caller: str, shares: int, min_amount: int = 0) -> int:
        """removeLiquidity: collateral for pool shares, limited to the pool's cash."""
        with self.model.transaction():
            if shares == 0:
                raise ZeroAmount()
            balance = self.lp_shares.get(caller, 0)
            if balance < shares:
                raise InsufficientShares(balance, shares)
            amount = mul_div_down(shares, self._pool_value(False) + 1, self.total_lp_shares + self.VIRTUAL_LP_SHARES)
            if amount < min_amount:
                raise SlippageExceeded(amount, min_amount)
            if amount > self.pool_cash:
                raise InsufficientPoolLiquidity(self.pool_cash, amount)
            self.lp_shares[caller] = balance - shares
            self.total_lp_shares -= shares
            self.pool_cash -= amount
            self.model.collateral.transfer(self.address, caller, amount)
            return amount

    # --- views ---------------------------------------------------------------------------------
    def position(self, mid: int, account: str) -> Position:
        """Stored position (funding not settled)."""
        return copy.copy(self.positions.get(mid, {}).get(account, Position()))

    def market_state(self, mid: int) -> MarketState:
        """Stored market aggregates."""
        return copy.copy(self.states[mid])

    def index_price(self, mid: int) -> int:
        """indexPrice: validated oracle price, WAD."""
        self._require_market(mid)
        return self._price(mid)

    def account_state(self, mid: int, account: str) -> tuple[int, int, int]:
        """accountState: (value, size, price); price 0 and no oracle read without a position."""
        self._require_market(mid)
        p = self.position(mid, account)
        if p.size == 0:
            return p.margin, 0, 0
        m = copy.copy(self.states[mid])
        price = self._price(mid)
        self._accrue(mid, m, price)
        self._settle_funding(p, m)
        return p.margin + self._unrealized(p, price), p.size, price

    def account_value(self, mid: int, account: str) -> int:
        """accountValue."""
        return self.account_state(mid, account)[0]

    def margin_ratio(self, mid: int, account: str) -> int:
        """marginRatio: value / notional, WAD."""
        value, size, price = self.account_state(mid, account)
        if size == 0:
            return UINT256_MAX
        if value <= 0:
            return 0
        return mul_div_down(value, WAD, self._notional_up(abs(size), price))

    def is_liquidatable(self, mid: int, account: str) -> bool:
        """isLiquidatable."""
        value, size, price = self.account_state(mid, account)
        if size == 0:
            return False
        maintenance = mul_div_up(self._notional_up(abs(size), price), self.configs[mid].maintenance_margin_bps, BPS)
        return value < maintenance

    def funding_owed(self, mid: int, account: str) -> int:
        """fundingOwed: rounded up, negative when owed to the account."""
        self._require_market(mid)
        p = self.position(mid, account)
        if p.size == 0:
            return 0
        m = copy.copy(self.states[mid])
        self._accrue(mid, m, self._price(mid))
        return self._settle_funding(p, m)

    def funding_rate(self, mid: int) -> int:
        """fundingRate per day, WAD."""
        m = self.states[mid]
        total = m.long_open_interest + m.short_open_interest
        if total == 0:
            return 0
        skew = m.long_open_interest - m.short_open_interest
        return tdiv(self.configs[mid].max_funding_rate_per_day * skew, total)

    def quote_trade(self, mid: int, size_delta: int) -> TradeQuote:
        """quoteTrade: price, execution price, fee and impact of a trade now."""
        self._require_market(mid)
        price = self._price(mid)
        fee, impact, execution = self._trade_cost(self.configs[mid], size_delta, price)
        return TradeQuote(price, execution, fee, impact)

    def quote_modify(self, mid: int, account: str, margin_delta: int, size_delta: int) -> tuple[int, int, int]:
        """quoteModify: (valueBefore, valueAfter, price) of modifyPosition, from the same arithmetic."""
        self._require_market(mid)
        p = self.position(mid, account)
        m = copy.copy(self.states[mid])
        o = self._simulate(mid, p, m, margin_delta, size_delta)
        return o.value_before, o.value_after, o.price

    def pool_value(self) -> int:
        """poolValue: cash - traders' unrealised PnL + funding owed to the pool, rounded down."""
        return self._pool_value(False)

    # --- internal: modify ----------------------------------------------------------------------
    def _modify(self, mid: int, account: str, margin_delta: int, size_delta: int, to: str) -> Outcome:
        self._require_market(mid)
        p = self.position(mid, account)
        m = copy.copy(self.states[mid])
        o = self._simulate(mid, p, m, margin_delta, size_delta)
        self._move_pool(o.funding_owed + (o.fee + o.impact) - o.realized_pnl)
        self.positions[mid][account] = p
        if o.price != 0:
            self.states[mid] = m
        if margin_delta > 0:
            self.model.collateral.transfer(account, self.address, margin_delta)
        elif margin_delta < 0:
            self.model.collateral.transfer(self.address, to, -margin_delta)
        return o

    PRO_RATA_SLACK = 2

    @classmethod
    def _is_pro_rata_exit(cls, o: Outcome, old_size: int, new_size: int) -> bool:
        """Margin out with a reduction that leaves value / size no worse (short of pro rata by less than
        PRO_RATA_SLACK units), solvent."""
        if o.value_after < 0 or o.value_before <= 0 or abs(new_size) >= abs(old_size):
            return False
        return (o.value_after + cls.PRO_RATA_SLACK) * abs(old_size) >= o.value_before * abs(new_size)

    def _simulate(self, mid: int, p: Position, m: MarketState, margin_delta: int, size_delta: int) -> Outcome:
        o = Outcome()
        old_size = p.size
        if old_size != 0 or size_delta != 0:
            o.price = self._price(mid)
            self._accrue(mid, m, o.price)
            o.funding_owed = self._settle_funding(p, m)
        o.value_before = p.margin + self._unrealized(p, o.price)
        if margin_delta > 0:
            p.margin = checked_int128(p.margin + to_int128(margin_delta))

        c = self.configs[mid]
        if size_delta != 0:
            o.fee, o.impact, o.execution_price = self._trade_cost(c, size_delta, o.price)
            p.margin = checked_int128(p.margin - to_int128(o.fee + o.impact))
            o.realized_pnl = self._apply_trade(p, m, size_delta, o.price)
        if margin_delta < 0:
            amount = -margin_delta
            if p.margin < amount:
                raise InsufficientFreeMargin(p.margin, amount)
            p.margin = checked_int128(p.margin - amount)
        o.value_after = p.margin + self._unrealized(p, o.price)

        new_size = p.size
        adds_risk = abs(new_size) > abs(old_size) or (old_size ^ new_size) < 0
        if adds_risk or margin_delta < 0:
            required = mul_div_up(self._notional_up(abs(new_size), o.price), c.initial_margin_bps, BPS)
            if o.value_after < required and (adds_risk or not self._is_pro_rata_exit(o, old_size, new_size)):
                raise InsufficientMargin(o.value_after, required)
        elif size_delta != 0 and o.value_after < 0:
            raise InsufficientMargin(o.value_after, 0)
        if adds_risk:
            oi = m.long_open_interest if new_size > 0 else m.short_open_interest
            if oi > c.max_open_interest:
                raise OpenInterestCapExceeded(oi, c.max_open_interest)
        if o.realized_pnl > 0 or o.funding_owed < 0:
            net = o.funding_owed + (o.fee + o.impact) - o.realized_pnl
            if net < 0 and -net > self.pool_cash:
                raise InsufficientPoolLiquidity(self.pool_cash, -net)
        return o

    def _apply_trade(self, p: Position, m: MarketState, size_delta: int, price: int) -> int:
        old_size = p.size
        new_size = old_size + size_delta
        realized = 0
        self._remove_open_interest(m, old_size)
        if old_size == 0 or (old_size ^ size_delta) >= 0:
            p.open_notional += size_delta * price
            m.sum_open_notional += size_delta * price
        else:
            abs_old = abs(old_size)
            closing = min(abs(size_delta), abs_old)
            removed = p.open_notional if closing == abs_old else tdiv(p.open_notional * closing, abs_old)
            closed_size = closing if old_size > 0 else -closing
            realized = s_div_down(closed_size * price - removed, self.unit)
            p.open_notional -= removed
            m.sum_open_notional -= removed
            p.margin = checked_int128(p.margin + to_int128(realized))
            if (old_size ^ new_size) < 0:
                p.open_notional += new_size * price
                m.sum_open_notional += new_size * price
        m.sum_funding_snapshot += size_delta * m.funding_index
        p.size = to_int128(new_size)
        self._add_open_interest(m, new_size)
        return realized

    # --- internal: helpers ---------------------------------------------------------------------
    def _position(self, mid: int, account: str) -> Position:
        return self.positions[mid].setdefault(account, Position())

    def _price(self, mid: int) -> int:
        c = self.configs[mid]
        feed = self.model.feeds[c.feed]
        if feed.updated_at == 0:
            raise IncompleteRound(feed.round_id)
        if feed.answer <= 0:
            raise InvalidPrice(feed.answer)
        if self.model.now > feed.updated_at + c.heartbeat:
            raise StalePrice(feed.updated_at, c.heartbeat)
        return feed.answer * feed.scale

    def _accrue(self, mid: int, m: MarketState, price: int) -> None:
        m.funding_index = self._funding_index_now(mid, m, price)
        m.last_funding_time = self.model.now

    def _funding_index_now(self, mid: int, m: MarketState, price: int) -> int:
        elapsed = checked_uint(self.model.now - m.last_funding_time)
        total = m.long_open_interest + m.short_open_interest
        if elapsed == 0 or total == 0:
            return m.funding_index
        skew = m.long_open_interest - m.short_open_interest
        rate_per_day = tdiv(self.configs[mid].max_funding_rate_per_day * skew, total)
        delta = s_div_down(rate_per_day * price * elapsed, DAY * WAD)
        return to_int128(m.funding_index + delta)

    def _settle_funding(self, p: Position, m: MarketState) -> int:
        diff = m.funding_index - p.funding_snapshot
        owed = 0
        if p.size != 0 and diff != 0:
            owed = s_div_up(p.size * diff, self.unit)
            p.margin = checked_int128(p.margin - to_int128(owed))
            m.sum_funding_snapshot += p.size * diff
        p.funding_snapshot = m.funding_index
        return owed

    def _unrealized(self, p: Position, price: int) -> int:
        if p.size == 0:
            return 0
        return s_div_down(p.size * price - p.open_notional, self.unit)

    def _notional_up(self, abs_size: int, price: int) -> int:
        return mul_div_up(abs_size, price, self.unit)

    def _trade_cost(self, c: MarketConfig, size_delta: int, price: int) -> tuple[int, int, int]:
        notional = self._notional_up(abs(size_delta), price)
        fee = mul_div_up(notional, c.taker_fee_bps, BPS)
        impact_wad = min(mul_div_up(notional, WAD, c.impact_depth), c.max_impact_bps * 10**14)
        impact = mul_div_up(notional, impact_wad, WAD)
        if size_delta > 0:
            execution = mul_div_up(price, WAD + impact_wad, WAD)
        else:
            execution = mul_div_down(price, WAD - impact_wad, WAD)
        return fee, impact, execution

    @staticmethod
    def _remove_open_interest(m: MarketState, size: int) -> None:
        if size > 0:
            m.long_open_interest = checked_uint(m.long_open_interest - size, 128)
        elif size < 0:
            m.short_open_interest = checked_uint(m.short_open_interest + size, 128)

    @staticmethod
    def _add_open_interest(m: MarketState, size: int) -> None:
        if size > 0:
            m.long_open_interest = checked_uint(m.long_open_interest + to_uint128(size), 128)
        elif size < 0:
            m.short_open_interest = checked_uint(m.short_open_interest + to_uint128(-size), 128)

    def _move_pool(self, delta: int) -> None:
        if delta >= 0:
            self.pool_cash += delta
        else:
            if -delta > self.pool_cash:
                raise InsufficientPoolLiquidity(self.pool_cash, -delta)
            self.pool_cash += delta

    def _pool_value(self, round_up: bool) -> int:
        value = self.pool_cash
        for mid in range(1, self.market_count + 1):
            m = copy.copy(self.states[mid])
            net = m.long_open_interest - m.short_open_interest
            if net == 0 and m.sum_open_notional == 0 and m.sum_funding_snapshot == 0:
                continue
            price = self._price(mid)
            self._accrue(mid, m, price)
            traders_pnl = net * price - m.sum_open_notional
            funding_to_pool = net * m.funding_index - m.sum_funding_snapshot
            market_value = funding_to_pool - traders_pnl
            value += s_div_up(market_value, self.unit) if round_up else s_div_down(market_value, self.unit)
        return value if value > 0 else 0

    def _require_market(self, mid: int) -> None:
        if mid == 0 or mid > self.market_count:
            raise UnknownMarket(mid)

    def _only_owner(self, caller: str) -> None:
        if caller != self.owner:
            raise OwnableUnauthorizedAccount(caller)

    @staticmethod
    def _validate(c: MarketConfig) -> None:
        ok = (
            c.feed is not None
            and 60 <= c.heartbeat <= 7 * DAY
            and c.taker_fee_bps <= 100
            and c.max_impact_bps <= 500
            and c.maintenance_margin_bps >= 50
            and c.maintenance_margin_bps < c.initial_margin_bps
            and c.initial_margin_bps <= 5000
            and c.liquidation_penalty_bps <= c.maintenance_margin_bps
            and c.liquidator_share_bps <= BPS
            and c.impact_depth > 0
            and c.max_funding_rate_per_day <= 10**16
            and c.max_open_interest > 0
        )
        if not ok:
            raise InvalidConfig()


# --------------------------------------------------------------------------------------------------
# Token
# --------------------------------------------------------------------------------------------------


class Action(IntEnum):
    """ILeveragedToken.Action."""

    NONE = 0
    REBALANCE = 1
    ITERATE = 2
    RIPCORD = 3


class Reason(IntEnum):
    """ILeveragedToken.Reason."""

    NONE = 0
    TIME = 1
    BAND = 2
    ITERATION = 3
    RIPCORD = 4


@dataclass
class Params:
    """ILeveragedToken.Params."""

    leverage_max: int
    leverage_min: int
    ripcord_leverage: int
    min_drift: int
    rebalance_interval: int
    mint_fee_bps: int
    redeem_fee_bps: int
    streaming_fee_per_day: int
    fee_recipient: str
    max_trade_notional: int
    ripcord_bounty: int
    supply_cap: int

    ABI_NAMES = {
        "leverage_max": "leverageMax",
        "leverage_min": "leverageMin",
        "ripcord_leverage": "ripcordLeverage",
        "min_drift": "minDrift",
        "rebalance_interval": "rebalanceInterval",
        "mint_fee_bps": "mintFeeBps",
        "redeem_fee_bps": "redeemFeeBps",
        "streaming_fee_per_day": "streamingFeePerDay",
        "fee_recipient": "feeRecipient",
        "max_trade_notional": "maxTradeNotional",
        "ripcord_bounty": "ripcordBounty",
        "supply_cap": "supplyCap",
    }

    @classmethod
    def from_abi(cls, values: Any) -> "Params":
        """From a mapping or struct with the Solidity field names (camelCase)."""
        raw = {py: _field(values, sol) for py, sol in cls.ABI_NAMES.items()}
        return cls(**{k: (str(v) if k == "fee_recipient" else int(v)) for k, v in raw.items()})

    def to_abi(self) -> dict[str, Any]:
        """To a mapping with the Solidity field names."""
        return {sol: getattr(self, py) for py, sol in self.ABI_NAMES.items()}

    @classmethod
    def defaults(cls, target_leverage: int, fee_recipient: str, unit: int = 10**6) -> "Params":
        """LeveragedTokenFactory.defaultParams."""
        target = abs(target_leverage)
        leverage_max = target * 4 // 3
        return cls(
            leverage_max=leverage_max,
            leverage_min=target * target // leverage_max,
            ripcord_leverage=target * 3 // 2,
            min_drift=target // 100,
            rebalance_interval=DAY,
            mint_fee_bps=10,
            redeem_fee_bps=10,
            streaming_fee_per_day=10**14,
            fee_recipient=fee_recipient,
            max_trade_notional=1_000_000 * unit,
            ripcord_bounty=10 * unit,
            supply_cap=UINT256_MAX,
        )


@dataclass
class Status:
    """ILeveragedToken.Status."""

    action: Action = Action.NONE
    reason: Reason = Reason.NONE
    leverage: int = 0
    size_delta: int = 0
    capped: bool = False
    equity: int = 0
    price: int = 0

    ABI_NAMES = {
        "action": "action",
        "reason": "reason",
        "leverage": "leverage",
        "size_delta": "sizeDelta",
        "capped": "capped",
        "equity": "equity",
        "price": "price",
    }

    @classmethod
    def from_abi(cls, values: Any) -> "Status":
        """From a mapping or struct with the Solidity field names."""
        return cls(
            action=Action(int(_field(values, "action"))),
            reason=Reason(int(_field(values, "reason"))),
            leverage=int(_field(values, "leverage")),
            size_delta=int(_field(values, "sizeDelta")),
            capped=bool(_field(values, "capped")),
            equity=int(_field(values, "equity")),
            price=int(_field(values, "price")),
        )


@dataclass
class Snapshot:
    """LeveragedToken.Snapshot."""

    value: int
    size: int
    price: int
    idle: int
    equity: int
    supply: int


@dataclass
class RedeemPlan:
    """LeveragedToken.RedeemPlan."""

    burn_shares: int = 0
    fee_shares: int = 0
    gross: int = 0
    size_delta: int = 0


@dataclass
class LeveragedToken:
    """LeveragedToken: streaming fee, ERC-4626 entry and exit with hedges, rebalancing, ripcord."""

    model: "Model" = field(repr=False)
    address: str
    market_id: int
    target_leverage: int
    max_leverage: int
    params: Params
    admin: str = "gov"
    keepers: set[str] = field(default_factory=set)
    guardians: set[str] = field(default_factory=set)
    asset_decimals: int = 6
    balances: dict[str, int] = field(default_factory=dict)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    total_supply: int = 0
    last_rebalance: int = 0
    last_fee_accrual: int = 0
    iterating: bool = False
    paused: bool = False

    MAX_HARD_CAP = 20 * WAD
    MAX_STREAMING_FEE_PER_DAY = 10**15
    MAX_FEE_BPS = 100
    MAX_BOUNTY_BPS = 100

    def __post_init__(self) -> None:
        if self.target_leverage == 0 or abs(self.target_leverage) > self.max_leverage or self.max_leverage > self.MAX_HARD_CAP:
            raise LeverageOutOfRange(self.target_leverage)
        self._validate_params(self.params)
        if self.last_rebalance == 0:
            self.last_rebalance = self.model.now
        if self.last_fee_accrual == 0:
            self.last_fee_accrual = self.model.now

    @property
    def offset(self) -> int:
        return 18 - self.asset_decimals

    @property
    def virtual_shares(self) -> int:
        return 10**self.offset

    @property
    def asset_to_wad(self) -> int:
        return 10**self.offset

    @property
    def venue(self) -> PerpVenue:
        return self.model.venue

    # --- ERC-20 --------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return self.balances.get(account, 0)

    def transfer(self, caller: str, to: str, amount: int) -> bool:
        """ERC-20 transfer."""
        with self.model.transaction():
            self._transfer(caller, to, amount)
            return True

    def approve(self, caller: str, spender: str, amount: int) -> bool:
        """ERC-20 approve."""
        self.allowances[(caller, spender)] = amount
        return True

    def transfer_from(self, caller: str, owner: str, to: str, amount: int) -> bool:
        """ERC-20 transferFrom."""
        with self.model.transaction():
            self._spend_allowance(owner, caller, amount)
            self._transfer(owner, to, amount)
            return True

    def _transfer(self, sender: str, to: str, amount: int) -> None:
        if sender == ZERO_ADDRESS:
            raise ERC20InvalidSender(sender)
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        self._update(sender, to, amount)

    def _update(self, sender: str, to: str, amount: int) -> None:
        if sender == ZERO_ADDRESS:
            self.total_supply += amount
        else:
            balance = self.balance_of(sender)
            if balance < amount:
                raise ERC20InsufficientBalance(sender, balance, amount)
            self.balances[sender] = balance - amount
        if to == ZERO_ADDRESS:
            self.total_supply -= amount
        else:
            self.balances[to] = self.balance_of(to) + amount

    def _mint(self, to: str, amount: int) -> None:
        if to == ZERO_ADDRESS:
            raise ERC20InvalidReceiver(to)
        self._update(ZERO_ADDRESS, to, amount)

    def _burn(self, owner: str, amount: int) -> None:
        if owner == ZERO_ADDRESS:
            raise ERC20InvalidSender(owner)
        self._update(owner, ZERO_ADDRESS, amount)

    def _spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.allowances.get((owner, spender), 0)
        if current < UINT256_MAX:
            if current < amount:
                raise ERC20InsufficientAllowance(spender, current, amount)
            self.allowances[(owner, spender)] = current - amount

    # --- ERC-4626 entry and exit ---------------------------------------------------------------
    def deposit(self, caller: str, assets: int, receiver: str) -> int:
        """deposit: shares for `assets`, after the mint fee and the hedge's cost."""
        with self.model.transaction():
            return self._mint_flow(caller, assets, receiver, 0, UINT256_MAX)

    def mint(self, caller: str, shares: int, receiver: str) -> int:
        """mint: exactly `shares` for previewMint(shares) assets; returns the assets."""
        with self.model.transaction():
            if shares == 0:
                raise ZeroAmount()
            assets = self.preview_mint(shares)
            self._mint_flow(caller, assets, receiver, shares, shares)
            return assets

    def withdraw(self, caller: str, assets: int, receiver: str, owner: str) -> int:
        """withdraw: exactly `assets` for previewWithdraw(assets) shares; returns the shares."""
        with self.model.transaction():
            if assets == 0:
                raise ZeroAmount()
            shares = self.preview_withdraw(assets)
            max_shares = self.balance_of(owner)
            if shares > max_shares:
                # previewWithdraw rounds up; the whole balance may still pay `assets`.
                if self.preview_redeem(max_shares) < assets:
                    raise ExceedsMaxWithdraw(assets, self.max_withdraw(owner))
                shares = max_shares
            self._redeem_flow(caller, shares, receiver, owner, assets, assets)
            return shares

    def redeem(self, caller: str, shares: int, receiver: str, owner: str) -> int:
        """redeem: assets for `shares`, after the redeem fee and the closing trade's cost."""
        with self.model.transaction():
            return self._redeem_flow(caller, shares, receiver, owner, 0, 0)

    def deposit_with_min_shares(self, caller: str, assets: int, receiver: str, min_shares: int, deadline: int) -> int:
        """depositWithMinShares."""
        with self.model.transaction():
            self._check_deadline(deadline)
            return self._mint_flow(caller, assets, receiver, min_shares, UINT256_MAX)

    def redeem_with_min_assets(
        self, caller: str, shares: int, receiver: str, owner: str, min_assets: int, deadline: int
    ) -> int:
        """redeemWithMinAssets."""
        with self.model.transaction():
            self._check_deadline(deadline)
            return self._redeem_flow(caller, shares, receiver, owner, min_assets, 0)

    # --- rebalancing ---------------------------------------------------------------------------
    def rebalance(self, caller: str) -> Status:
        """rebalance (keeper role): trades toward target when rebalanceStatus says so."""
        with self.model.transaction():
            self._check_role(caller, self.keepers)
            s = self._snapshot()
            status = self._status(s)
            if status.action == Action.NONE:
                raise RebalanceNotDue()
            # A ripcord pays its bounty to whoever executes it, keepers included.
            self._rebalance(status, s, caller if status.action == Action.RIPCORD else None)
            return status

    def ripcord(self, caller: str) -> Status:
        """ripcord (anyone): back to target at the ripcord limit; pays the caller the bounty."""
        with self.model.transaction():
            s = self._snapshot()
            status = self._status(s)
            if status.action != Action.RIPCORD:
                raise RipcordNotDue(status.leverage)
            self._rebalance(status, s, caller)
            return status

    def check_upkeep(self) -> tuple[bool, Action]:
        """checkUpkeep: (upkeepNeeded, action)."""
        status = self.rebalance_status()
        return status.action != Action.NONE, status.action

    def perform_upkeep(self, caller: str) -> None:
        """performUpkeep: a ripcord for anyone (bounty to the caller), otherwise keeper role."""
        with self.model.transaction():
            s = self._snapshot()
            status = self._status(s)
            if status.action == Action.NONE:
                raise RebalanceNotDue()
            if status.action == Action.RIPCORD:
                self._rebalance(status, s, caller)
            else:
                self._check_role(caller, self.keepers)
                self._rebalance(status, s, None)

    def rebalance_status(self) -> Status:
        """rebalanceStatus: the action due now, why, and its trade (target net of the trade's cost)."""
        return self._status(self._snapshot())

    def _status(self, s: Snapshot) -> Status:
        """The rebalance decision for the state in `s` (reads the price into `s` if it has none)."""
        status = Status(equity=s.equity)
        if s.supply == 0 or s.equity <= 0:
            return status
        if s.price == 0:
            s.price = self.venue.index_price(self.market_id)
        status.price = s.price
        equity_wad = s.equity * self.asset_to_wad
        abs_leverage = mul_div_down(abs(s.size), s.price, equity_wad)
        status.leverage = -abs_leverage if s.size < 0 else abs_leverage
        target = self._target_size(s.equity, s.price)
        delta = target - s.size

        p = self.params
        drift = abs(status.leverage - self.target_leverage)
        if abs_leverage >= p.ripcord_leverage:
            status.action, status.reason = Action.RIPCORD, Reason.RIPCORD
        elif self.iterating and delta != 0:
            status.action, status.reason = Action.ITERATE, Reason.ITERATION
        elif abs_leverage > p.leverage_max or abs_leverage < p.leverage_min:
            status.action, status.reason = Action.REBALANCE, Reason.BAND
        elif self.model.now >= self.last_rebalance + p.rebalance_interval and drift >= p.min_drift and delta != 0:
            status.action, status.reason = Action.REBALANCE, Reason.TIME
        else:
            return status
        # A ripcord's bounty leaves the equity too: size the target on what stays.
        equity_units = s.equity
        if status.action == Action.RIPCORD:
            equity_units -= self._bounty(equity_units)
            target = self._target_size(equity_units, s.price)
            delta = target - s.size
        delta = self._net_of_cost(target, delta, equity_units)
        if status.action != Action.RIPCORD:
            max_size = mul_div_down(p.max_trade_notional * self.asset_to_wad, WAD, s.price)
            if abs(delta) > max_size:
                delta = max_size if delta > 0 else -max_size
                status.capped = True
        status.size_delta = delta
        return status

    # --- admin and guardian --------------------------------------------------------------------
    def set_params(self, caller: str, params: Params) -> None:
        """setParams (admin): accrues the streaming fee at the old rate, then validates and replaces."""
        with self.model.transaction():
            if caller != self.admin:
                raise AccessControlUnauthorizedAccount(caller)
            self._accrue_streaming_fee()
            self._validate_params(params)
            self.params = copy.copy(params)

    def pause(self, caller: str) -> None:
        """pause (guardian)."""
        with self.model.transaction():
            self._check_role(caller, self.guardians)
            if self.paused:
                raise EnforcedPause()
            self.paused = True

    def unpause(self, caller: str) -> None:
        """unpause (guardian)."""
        with self.model.transaction():
            self._check_role(caller, self.guardians)
            if not self.paused:
                raise ExpectedPause()
            self.paused = False

    def accrue_streaming_fee(self) -> None:
        """accrueStreamingFee."""
        with self.model.transaction():
            self._accrue_streaming_fee()

    # --- views ---------------------------------------------------------------------------------
    def equity(self) -> int:
        """Venue account value plus idle collateral, collateral units."""
        return self._snapshot().equity

    def leverage(self) -> int:
        """Signed leverage, WAD (0 without position or equity)."""
        s = self._snapshot()
        if s.equity <= 0 or s.size == 0:
            return 0
        abs_leverage = mul_div_down(abs(s.size), s.price, s.equity * self.asset_to_wad)
        return -abs_leverage if s.size < 0 else abs_leverage

    def nav_per_token(self) -> int:
        """Assets per 1e18 shares, streaming fee accrued, rounded down."""
        return self.convert_to_assets(WAD)

    def pending_streaming_fee(self) -> int:
        """Shares the streaming fee would mint now."""
        elapsed = self.model.now - self.last_fee_accrual
        supply = self.total_supply
        fee_per_day = self.params.streaming_fee_per_day
        if elapsed == 0 or supply == 0 or fee_per_day == 0:
            return 0
        fraction = min(mul_div_down(fee_per_day, elapsed, DAY), WAD // 2)
        return mul_div_down(supply, fraction, WAD - fraction)

    def total_assets(self) -> int:
        e = self.equity()
        return e if e > 0 else 0

    def convert_to_shares(self, assets: int) -> int:
        s = self._snapshot_with_fee()
        return mul_div_down(assets, s.supply + self.virtual_shares, self._equity_or_zero(s) + 1)

    def convert_to_assets(self, shares: int) -> int:
        s = self._snapshot_with_fee()
        return mul_div_down(shares, self._equity_or_zero(s) + 1, s.supply + self.virtual_shares)

    def max_deposit(self) -> int:
        if self.paused:
            return 0
        cap = self.params.supply_cap
        if cap == UINT256_MAX:
            return UINT256_MAX
        supply = self.total_supply + self.pending_streaming_fee()
        if supply >= cap:
            return 0
        return self.convert_to_assets(cap - supply)

    def max_mint(self) -> int:
        if self.paused:
            return 0
        cap = self.params.supply_cap
        supply = self.total_supply + self.pending_streaming_fee()
        return 0 if supply >= cap else cap - supply

    def max_withdraw(self, owner: str) -> int:
        shares = self.balance_of(owner)
        return 0 if shares == 0 else self.preview_redeem(shares)

    def max_redeem(self, owner: str) -> int:
        return self.balance_of(owner)

    def preview_deposit(self, assets: int) -> int:
        """previewDeposit: includes the mint fee and the hedge's fee and impact."""
        if assets == 0:
            return 0
        s = self._snapshot_with_fee()
        return self._quote_mint(s, assets)[1]

    def preview_mint(self, shares: int) -> int:
        """previewMint: assets that mint at least `shares` (iterated up to 16 times)."""
        if shares == 0:
            return 0
        s = self._snapshot_with_fee()
        gross = mul_div_up(shares, BPS, BPS - self.params.mint_fee_bps) + 1
        assets = self._shares_to_assets_up(s, gross)
        for _ in range(16):
            got = self._quote_mint(s, assets)[1]
            if got >= shares:
                return assets
            assets += self._shares_to_assets_up(s, shares - got) + 1
        raise SlippageExceeded(0, shares)

    def preview_withdraw(self, assets: int) -> int:
        """previewWithdraw: shares that pay at least `assets` (iterated up to 16 times)."""
        if assets == 0:
            return 0
        s = self._snapshot_with_fee()
        shares = mul_div_up(self._assets_to_shares_up(s, assets), BPS, BPS - self.params.redeem_fee_bps) + 1
        for _ in range(16):
            got = self._quote_redeem(s, shares, ZERO_ADDRESS)
            if got >= assets:
                return shares
            shares += self._assets_to_shares_up(s, assets - got) + 1
        raise SlippageExceeded(0, assets)

    def preview_redeem(self, shares: int) -> int:
        """previewRedeem: includes the redeem fee and the closing trade's fee and impact."""
        if shares == 0:
            return 0
        return self._quote_redeem(self._snapshot_with_fee(), shares, ZERO_ADDRESS)

    # --- internal: flows -----------------------------------------------------------------------
    def _mint_flow(self, caller: str, assets: int, receiver: str, min_shares: int, exact_shares: int) -> int:
        if self.paused:
            raise EnforcedPause()
        if assets == 0:
            raise ZeroAmount()
        self._accrue_streaming_fee()
        # The venue reports the account value before the trade, so equity needs no separate read.
        idle = self.model.collateral.balance_of(self.address)
        supply = self.total_supply
        price = self.venue.index_price(self.market_id)
        size_delta = self._hedge_size(assets, price)

        self.model.collateral.transfer(caller, self.address, assets)
        before, after = self.venue.modify_position(self.address, self.market_id, assets, size_delta, self.address)
        s = Snapshot(value=before, size=0, price=price, idle=idle, equity=before + idle, supply=supply)
        if s.supply != 0 and s.equity <= 0:
            raise NoEquity(s.equity)
        shares, fee_shares = self._shares_for(s, after - before)
        if exact_shares != UINT256_MAX:
            shares = exact_shares
        if shares == 0 or shares < min_shares:
            raise SlippageExceeded(shares, min_shares)
        supply_after = s.supply + shares + fee_shares
        if supply_after > self.params.supply_cap:
            raise SupplyCapExceeded(supply_after, self.params.supply_cap)
        self._mint(receiver, shares)
        if fee_shares != 0:
            self._mint(self.params.fee_recipient, fee_shares)
        checked_uint(assets - to_uint256_unchecked(after - before))
        return shares

    def _redeem_flow(
        self, caller: str, shares: int, receiver: str, owner: str, min_assets: int, exact_assets: int
    ) -> int:
        if shares == 0:
            raise ZeroAmount()
        self._accrue_streaming_fee()
        if caller != owner:
            self._spend_allowance(owner, caller, shares)
        s = self._snapshot()
        plan = self._redeem_split(s, shares, owner)
        self._burn(owner, plan.burn_shares)
        if plan.fee_shares != 0:
            self._transfer(owner, self.params.fee_recipient, plan.fee_shares)

        hedge_cost = self._close_cost(plan.size_delta)
        assets = plan.gross - hedge_cost if plan.gross > hedge_cost else 0
        if exact_assets != 0:
            if assets < exact_assets:
                raise SlippageExceeded(assets, exact_assets)
            assets = exact_assets
        if assets == 0 or assets < min_assets:
            raise SlippageExceeded(assets, min_assets)
        # Idle collateral pays first; the rest leaves margin in the closing trade's venue call, and idle
        # left over joins the margin before the trade.
        margin_delta = s.idle - assets
        if plan.size_delta != 0 or margin_delta != 0:
            self.venue.modify_position(self.address, self.market_id, margin_delta, plan.size_delta, receiver)
        from_idle = min(s.idle, assets)
        if from_idle != 0:
            self.model.collateral.transfer(self.address, receiver, from_idle)
        return assets

    def _rebalance(self, status: Status, s: Snapshot, bounty_to: str | None) -> None:
        self._accrue_streaming_fee()
        adds_exposure = abs(s.size + status.size_delta) > abs(s.size)
        if adds_exposure and self.paused:
            raise EnforcedPause()
        bounty = 0
        if bounty_to is not None:
            bounty = self._bounty(status.equity)
            margin_delta = -bounty
        else:
            margin_delta = s.idle
        to = self.address if bounty_to is None else bounty_to
        self.venue.modify_position(self.address, self.market_id, margin_delta, status.size_delta, to)
        completed = not status.capped
        self.iterating = not completed
        if completed:
            # The schedule stays anchored: it moves by whole intervals once an interval has passed.
            interval = self.params.rebalance_interval
            elapsed = self.model.now - self.last_rebalance
            if elapsed >= interval:
                self.last_rebalance = checked_uint(self.last_rebalance + (elapsed - elapsed % interval), 64)

    # --- internal: math ------------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        value, size, price = self.venue.account_state(self.market_id, self.address)
        idle = self.model.collateral.balance_of(self.address)
        return Snapshot(value, size, price, idle, value + idle, self.total_supply)

    def _snapshot_with_fee(self) -> Snapshot:
        s = self._snapshot()
        s.supply += self.pending_streaming_fee()
        return s

    def _hedge_size(self, assets: int, price: int) -> int:
        """L * (assets - cost) / P from one quote: g * assets / (assets + fee + impact re-weighted once)."""
        gross = mul_div_down(assets * self.asset_to_wad, abs(self.target_leverage), price)
        if gross == 0:
            return 0
        q = self.venue.quote_trade(self.market_id, sign_of(self.target_leverage, gross))
        if q.fee + q.impact >= assets:
            return 0
        impact_at_size = mul_div_down(q.impact, assets, assets + q.fee + q.impact)
        size = mul_div_down(gross, assets, assets + q.fee + impact_at_size)
        return sign_of(self.target_leverage, size)

    def _net_of_cost(self, target: int, delta: int, equity_units: int) -> int:
        """The trade toward `target` once its own cost has left the equity (LeveragedToken._netOfCost)."""
        if delta == 0:
            return 0
        q = self.venue.quote_trade(self.market_id, delta)
        abs_delta = abs(delta)
        scaled = equity_units * abs_delta
        adds_exposure = (delta > 0) == (target > 0)

        def denominator(cost_term: int) -> int:
            if adds_exposure:
                return scaled + cost_term
            return scaled - cost_term if scaled > cost_term else 0

        d = denominator(abs(target) * (q.fee + q.impact))
        if d == 0:
            return delta
        impact_at_size = mul_div_down(q.impact, scaled, d)
        d = denominator(abs(target) * (q.fee + impact_at_size))
        if d == 0:
            return delta
        size = mul_div_down(abs_delta, scaled, d)
        return -size if delta < 0 else size

    def _close_cost(self, size_delta: int) -> int:
        """A redemption's closing trade is charged the quoted fee and impact plus one unit of PnL rounding."""
        if size_delta == 0:
            return 0
        q = self.venue.quote_trade(self.market_id, size_delta)
        return q.fee + q.impact + 1

    def _bounty(self, equity_units: int) -> int:
        """Ripcord bounty: the parameter, capped at MAX_BOUNTY_BPS of equity."""
        return min(self.params.ripcord_bounty, mul_div_down(equity_units, self.MAX_BOUNTY_BPS, BPS))

    def _shares_for(self, s: Snapshot, contribution: int) -> tuple[int, int]:
        if contribution <= 0:
            return 0, 0
        total = mul_div_down(contribution, s.supply + self.virtual_shares, self._equity_or_zero(s) + 1)
        fee = mul_div_up(total, self.params.mint_fee_bps, BPS)
        return total - fee, fee

    def _quote_mint(self, s: Snapshot, assets: int) -> tuple[int, int, int]:
        if s.supply != 0 and s.equity <= 0:
            return 0, 0, 0
        price = self.venue.index_price(self.market_id) if s.price == 0 else s.price
        size_delta = self._hedge_size(assets, price)
        before, after, _ = self.venue.quote_modify(self.market_id, self.address, assets, size_delta)
        shares, fee_shares = self._shares_for(s, after - before)
        return size_delta, shares, fee_shares

    def _quote_redeem(self, s: Snapshot, shares: int, owner: str) -> int:
        plan = self._redeem_split(s, shares, owner)
        hedge_cost = self._close_cost(plan.size_delta)
        return plan.gross - hedge_cost if plan.gross > hedge_cost else 0

    def _redeem_split(self, s: Snapshot, shares: int, owner: str) -> RedeemPlan:
        plan = RedeemPlan()
        plan.fee_shares = 0 if owner == self.params.fee_recipient else mul_div_up(shares, self.params.redeem_fee_bps, BPS)
        plan.burn_shares = shares - plan.fee_shares
        plan.gross = mul_div_down(plan.burn_shares, self._equity_or_zero(s) + 1, s.supply + self.virtual_shares)
        if plan.burn_shares >= s.supply:
            plan.size_delta = -s.size
        else:
            plan.size_delta = -tdiv(s.size * plan.burn_shares, s.supply)
        return plan

    def _shares_to_assets_up(self, s: Snapshot, shares: int) -> int:
        return mul_div_up(shares, self._equity_or_zero(s) + 1, s.supply + self.virtual_shares)

    def _assets_to_shares_up(self, s: Snapshot, assets: int) -> int:
        return mul_div_up(assets, s.supply + self.virtual_shares, self._equity_or_zero(s) + 1)

    @staticmethod
    def _equity_or_zero(s: Snapshot) -> int:
        return s.equity if s.equity > 0 else 0

    def _target_size(self, equity_units: int, price: int) -> int:
        size = mul_div_down(equity_units * self.asset_to_wad, abs(self.target_leverage), price)
        return sign_of(self.target_leverage, size)

    def _accrue_streaming_fee(self) -> None:
        elapsed = self.model.now - self.last_fee_accrual
        if elapsed == 0:
            return
        fee_shares = self.pending_streaming_fee()
        self.last_fee_accrual = self.model.now
        if fee_shares != 0:
            self._mint(self.params.fee_recipient, fee_shares)

    def _check_deadline(self, deadline: int) -> None:
        if self.model.now > deadline:
            raise DeadlineExpired(deadline)

    @staticmethod
    def _check_role(caller: str, holders: set[str]) -> None:
        if caller not in holders:
            raise AccessControlUnauthorizedAccount(caller)

    def _validate_params(self, p: Params) -> None:
        target = abs(self.target_leverage)
        if p.leverage_max <= target:
            raise InvalidParameter(0)
        if p.leverage_min == 0 or p.leverage_min >= target:
            raise InvalidParameter(1)
        if p.ripcord_leverage <= p.leverage_max or p.ripcord_leverage > self.max_leverage:
            raise InvalidParameter(2)
        if p.min_drift >= p.leverage_max - target:
            raise InvalidParameter(3)
        if p.rebalance_interval < 60 or p.rebalance_interval > 7 * DAY:
            raise InvalidParameter(4)
        if p.mint_fee_bps > self.MAX_FEE_BPS:
            raise InvalidParameter(5)
        if p.redeem_fee_bps > self.MAX_FEE_BPS:
            raise InvalidParameter(6)
        if p.streaming_fee_per_day > self.MAX_STREAMING_FEE_PER_DAY:
            raise InvalidParameter(7)
        if p.fee_recipient == ZERO_ADDRESS:
            raise InvalidParameter(8)
        if p.max_trade_notional == 0:
            raise InvalidParameter(9)
        if p.ripcord_bounty > 1000 * 10**self.asset_decimals:
            raise InvalidParameter(10)
        if p.supply_cap == 0:
            raise InvalidParameter(11)


# --------------------------------------------------------------------------------------------------
# The whole system
# --------------------------------------------------------------------------------------------------

# Attributes that link objects to each other rather than hold state.
_LINKS = ("model",)


def _state_of(obj: Any) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(obj).items() if k not in _LINKS})


class Model:
    """The environment (time, feeds, collateral) with one venue and its tokens.

    `set_time(ts)` is the next block's timestamp; `set_price(price_wad)` publishes a feed round at
    that time. Entry points on `venue` and `tokens[...]` take the caller's address (any string) first.
    """

    def __init__(self, now: int = 1_700_000_000, venue_address: str = "venue", owner: str = "gov",
                 collateral_decimals: int = 6) -> None:
        self.now = now
        self.feeds: dict[str, Feed] = {}
        self.collateral = Collateral(decimals=collateral_decimals)
        self.venue = PerpVenue(self, address=venue_address, owner=owner, unit=10 ** (36 - collateral_decimals))
        self.tokens: dict[str, LeveragedToken] = {}
        self._depth = 0

    # --- environment ---------------------------------------------------------------------------
    def set_time(self, ts: int) -> None:
        """Sets the block timestamp; time never goes back."""
        if ts < self.now:
            raise ValueError(f"time goes forward only ({ts} < {self.now})")
        self.now = ts

    def advance(self, seconds: int) -> None:
        """Moves the block timestamp forward."""
        self.set_time(self.now + seconds)

    def add_feed(self, key: str, decimals: int = 8) -> Feed:
        """Registers a price feed under `key` (no answer yet)."""
        self.feeds[key] = Feed(decimals=decimals)
        return self.feeds[key]

    def set_answer(self, answer: int, feed: str | None = None) -> None:
        """PriceFeed.submit: publishes `answer` (feed decimals) as a new round at the current time."""
        key = feed if feed is not None else next(iter(self.feeds))
        f = self.feeds[key]
        if answer <= 0:
            raise ValueError("the feed rejects non-positive answers")
        f.round_id += 1
        f.answer = answer
        f.updated_at = self.now

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
        token = LeveragedToken(
            self,
            address=address,
            market_id=market_id,
            target_leverage=target_leverage,
            max_leverage=max_leverage or 2 * abs(target_leverage),
            params=copy.copy(params),
            admin=admin,
            keepers={keeper} if keeper else set(),
            guardians={guardian} if guardian else set(),
            asset_decimals=self.collateral.decimals,
        )
        self.tokens[address] = token
        return token

    # --- atomicity -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Runs a block atomically: on a Revert every object returns to its state before the block."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        objects = [self.collateral, self.venue, *self.feeds.values(), *self.tokens.values()]
        saved = [_state_of(obj) for obj in objects]
        self._depth = 1
        try:
            yield
        except Revert:
            for obj, state in zip(objects, saved):
                vars(obj).update(state)
            raise
        finally:
            self._depth = 0


def standard_model(
    price_wad: int,
    now: int = 1_700_000_000,
    pool_seed: int = 10_000_000 * 10**6,
    config: MarketConfig | None = None,
) -> Model:
    """A model with one market ("BTC", id 1, feed "feed") at `price_wad` and an LP pool of `pool_seed`."""
    model = Model(now=now)
    model.add_feed("feed", decimals=8)
    model.set_price(price_wad)
    model.venue.list_market("gov", "BTC", config or MarketConfig(feed="feed"))
    if pool_seed:
        model.collateral.mint("lp", pool_seed)
        model.venue.add_liquidity("lp", pool_seed, 0)
    return model


def zero_cost_config(feed: str = "feed") -> MarketConfig:
    """A market with no taker fee, no price impact (maxImpactBps 0) and no funding."""
    return MarketConfig(feed=feed, taker_fee_bps=0, max_impact_bps=0, max_funding_rate_per_day=0)



def model_from_chain(venue, feed, collateral, tokens, accounts, owner: str, keeper: str, lps=()) -> Model:
    """A Model mirroring deployed contracts now: venue market 1 and its feed, the tokens' state, the LP
    shares of `lps` and the collateral balances of `accounts`, the tokens and the venue. Takes contract
    handles (ape or anything with the same view methods), so it reads but never imports a chain library."""
    head_time = int(feed.latestRoundData()[3])
    model = Model(now=head_time, venue_address=str(venue.address), owner=str(owner))
    f = model.add_feed(str(feed.address), decimals=int(feed.decimals()))
    round_id, answer, _, updated_at, _ = feed.latestRoundData()
    f.round_id, f.answer, f.updated_at = int(round_id), int(answer), int(updated_at)

    v = model.venue
    v.market_count = int(venue.marketCount())
    if v.market_count != 1:
        raise ValueError("model_from_chain mirrors a venue with one market")
    v.symbols[1] = venue.marketSymbol(1)
    v.configs[1] = MarketConfig.from_abi(str(feed.address), venue.marketConfig(1))
    v.states[1] = MarketState.from_abi(venue.marketState(1))
    v.positions[1] = {}
    v.pool_cash = int(venue.poolCash())
    v.total_lp_shares = int(venue.totalLpShares())
    for lp in lps:
        v.lp_shares[str(lp.address)] = int(venue.lpShares(lp))

    for token in tokens:
        address = str(token.address)
        v.positions[1][address] = Position.from_abi(venue.position(1, token))
        t = model.add_token(
            address,
            int(token.marketId()),
            int(token.targetLeverage()),
            Params.from_abi(token.params()),
            max_leverage=int(token.maxLeverage()),
            admin=str(owner),
            keeper=str(keeper),
            guardian=str(owner),
        )
        t.total_supply = int(token.totalSupply())
        for account in accounts:
            balance = int(token.balanceOf(str(account.address)))
            if balance:
                t.balances[str(account.address)] = balance
        t.last_rebalance = int(token.lastRebalance())
        t.last_fee_accrual = int(token.lastFeeAccrual())
        t.iterating = bool(token.iterating())
        t.paused = bool(token.paused())
    for holder in [*accounts, *tokens, venue]:
        model.collateral.balances[str(holder.address)] = int(collateral.balanceOf(str(holder.address)))
    return model
