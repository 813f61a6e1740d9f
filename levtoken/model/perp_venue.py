"""PerpVenue (contracts/PerpVenue.sol): a perpetual-futures venue where trades fill at the oracle price
plus a size-dependent price impact and a fee, funding flows from the open-interest skew, and an LP pool
is the counterparty of every trade.

Accounting (DESIGN.md section 3): positions keep their exact open notional (sum of size * price, 36
decimals), so unrealised PnL = (size * price - openNotional) / UNIT with a single rounding, and each
market keeps exact sums of every account's openNotional and funding snapshot, from which the pool is
valued. Rounding is always against the account: PnL down, funding owed up, fees up. Costs (fee + impact)
are paid to the pool as collateral at the trade.

Storage structs (`Position`, `MarketState`, `MarketConfig`) are changed as copies (`memory`) and
assigned back, as the contract does: see levtoken.model.journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from levtoken.model.clock import Clock
from levtoken.model.erc20 import ERC20
from levtoken.model.errors import (
    InsufficientFreeMargin, InsufficientMargin, InsufficientPoolLiquidity, InsufficientShares, InvalidConfig,
    NotLiquidatable, NotOrders, NotRegistered, NotRegistrar, OpenInterestCapExceeded, OwnableUnauthorizedAccount,
    PoolReserveBreached, SlippageExceeded, UnknownMarket, ZeroAmount, check_step,
)
from levtoken.model.journal import Journal, Journaled, memory
from levtoken.model.libraries import oracle_lib, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up, s_div_down, s_div_up, tdiv
from levtoken.model.libraries.safe_cast import checked_int128, checked_uint, to_int128, to_uint128
from levtoken.model.price_feed import Feed
from levtoken.shapes import UINT256_MAX, ZERO_ADDRESS, MarketConfig, MarketState, Position
from levtoken.units import BPS, DAY, WAD

# Collateral units a pro-rata exit may leave short of pro rata (see _is_pro_rata_exit).
PRO_RATA_SLACK = 2
# Hard bounds no owner can pass (DESIGN.md 11), and the most one configuration change may raise each field.
MAX_MAINTENANCE_MARGIN_BPS = 1_000
MAX_LIQUIDATION_PENALTY_BPS = 200
MAX_LIQUIDATOR_SHARE_BPS = 5_000
CONFIG_STEPS = (
    ("takerFeeBps", 5), ("maxImpactBps", 50), ("initialMarginBps", 500), ("maintenanceMarginBps", 100),
    ("liquidationPenaltyBps", 50), ("liquidatorShareBps", 1000), ("maxFundingRatePerDay", 10**15),
)
# Virtual LP shares and assets, so the first LP cannot be diluted by a donation.
VIRTUAL_LP_SHARES = 10**12
NO_POSITION = Position()


@dataclass
class Outcome:
    """PerpVenue.Outcome: everything one modification changes, computed in memory by `_simulate` and
    shared by the mutating path and the quote views, so a quote is exact to the unit."""

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


class PerpVenue(Journaled):
    """PerpVenue: markets, positions, funding, fees and impact, margin checks, LP pool, liquidation.
    Entry points take the caller's address first (msg.sender)."""

    # --- constructor -----------------------------------------------------------------------------
    def __init__(self, collateral: ERC20, owner: str, *, address: str, journal: Journal, clock: Clock,
                 feeds: Mapping[str, Feed]) -> None:
        """The constructor (`collateral`, `owner`). Deployed at `address` on a chain whose transaction boundary
        (`journal`), block time (`clock`) and price feeds by address (`feeds`, which a market's config names)
        it is given."""
        object.__setattr__(self, "_journal", journal)
        # accountState's results by (market, account), each with the (journal version, time) it is valid
        # at: not state, so not journaled.
        object.__setattr__(self, "_account_states", {})
        self.clock = clock
        self.feeds = feeds
        self.collateral = collateral
        self.address = address
        self.owner = owner
        # size (1e18) * price (1e18) / unit = collateral units.
        self.unit = 10 ** (36 - collateral.decimals)
        self.market_count = 0
        self.symbols = self._mapping()
        self.configs = self._mapping()
        self.states = self._mapping()
        self.positions = self._mapping()
        self.pool_cash = 0  # collateral owned by the LP pool (excludes traders' margin)
        self.total_lp_shares = 0
        self.lp_shares = self._mapping()
        self.registered = self._mapping()  # account -> True: trades and moves liquidity in one step
        self.registrar: str | None = None
        self.orders: str | None = None  # the DelayedOrders that executes other accounts' requests

    # --- owner functions -------------------------------------------------------------------------
    def list_market(self, caller: str, symbol: str, config: MarketConfig) -> int:
        """listMarket: validates and lists a market (owner only); returns its id (1, 2, ...)."""
        with self._atomic():
            self._only_owner(caller)
            self._validate(config)
            self.market_count += 1
            market_id = self.market_count
            self.symbols[market_id] = symbol
            self.configs[market_id] = memory(config)
            self.states[market_id] = MarketState(last_funding_time=self.clock.now)
            self.positions[market_id] = self._mapping()
            return market_id

    def set_market_config(self, caller: str, market_id: int, config: MarketConfig) -> None:
        """setMarketConfig: accrues funding at the old parameters (needs a valid price only if there is
        open interest), then replaces them (owner only, same bounds as listing)."""
        with self._atomic():
            self._only_owner(caller)
            self._require_market(market_id)
            self._validate(config)
            self._check_steps(self.configs[market_id], config)
            m = memory(self.states[market_id])
            if m.long_open_interest != 0 or m.short_open_interest != 0:
                price = self._price(market_id)
                m.funding_index = self._funding_index_now(market_id, m, price)
            m.last_funding_time = self.clock.now
            self.states[market_id] = m
            self.configs[market_id] = memory(config)

    def set_registrar(self, caller: str, registrar: str | None) -> None:
        """setRegistrar (owner): the account (the token factory) that may register accounts."""
        with self._atomic():
            self._only_owner(caller)
            self.registrar = registrar

    def set_orders(self, caller: str, orders: str | None) -> None:
        """setOrders (owner): the DelayedOrders that executes other accounts' requests."""
        with self._atomic():
            self._only_owner(caller)
            self.orders = orders

    def register(self, caller: str, account: str, registered: bool = True) -> None:
        """register (owner or registrar): lets `account` trade and move liquidity in one step, exempt from the
        open-interest cap, or stops it."""
        with self._atomic():
            if caller != self.owner and caller != self.registrar:
                raise NotRegistrar(caller)
            if registered:
                self.registered[account] = True
            else:
                self.registered.pop(account, None)

    def is_registered(self, account: str) -> bool:
        """isRegistered."""
        return self.registered.get(account, False)

    # --- margin and trading ----------------------------------------------------------------------
    def deposit_margin(self, caller: str, market_id: int, account: str, amount: int) -> None:
        """depositMargin: adds `amount` to the margin of `account` (anyone may top up any account)."""
        with self._atomic():
            self._require_market(market_id)
            if amount == 0:
                raise ZeroAmount()
            p = self.position(market_id, account)
            p.margin = checked_int128(p.margin + to_int128(amount))
            self.positions[market_id][account] = p
            self.collateral.transfer(caller, self.address, amount)

    def withdraw_margin(self, caller: str, market_id: int, amount: int, to: str) -> None:
        """withdrawMargin: the caller's margin to `to`; the account must stay above initial margin."""
        with self._atomic():
            if amount == 0:
                raise ZeroAmount()
            self._modify(market_id, caller, -amount, 0, to)

    def trade(self, caller: str, market_id: int, size_delta: int, acceptable_price: int = 0) -> Outcome:
        """trade (registered accounts): changes the caller's size; acceptable_price is the worst accepted
        execution price (a maximum for buys, a minimum for sells, 0 for none)."""
        with self._atomic():
            self._only_registered(caller)
            return self._trade(market_id, caller, size_delta, acceptable_price)

    def trade_for(self, caller: str, market_id: int, account: str, size_delta: int,
                  acceptable_price: int = 0) -> Outcome:
        """tradeFor (`orders` only): `trade` for `account`, executing its delayed order."""
        with self._atomic():
            self._only_orders(caller)
            return self._trade(market_id, account, size_delta, acceptable_price, via_orders=True)

    def _trade(self, market_id: int, account: str, size_delta: int, acceptable_price: int,
               via_orders: bool = False) -> Outcome:
        if size_delta == 0:
            raise ZeroAmount()
        o = self._modify(market_id, account, 0, size_delta, account, via_orders)
        if acceptable_price != 0:
            worse = o.execution_price > acceptable_price if size_delta > 0 else o.execution_price < acceptable_price
            if worse:
                raise SlippageExceeded(o.execution_price, acceptable_price)
        return o

    def modify_position(self, caller: str, market_id: int, margin_delta: int, size_delta: int,
                        to: str) -> tuple[int, int]:
        """modifyPosition: margin in, trade, margin out (to `to`), in that order, for the caller's account;
        returns (valueBefore, valueAfter)."""
        with self._atomic():
            self._only_registered(caller)
            if margin_delta == 0 and size_delta == 0:
                raise ZeroAmount()
            o = self._modify(market_id, caller, margin_delta, size_delta, to)
            return o.value_before, o.value_after

    def liquidate(self, caller: str, market_id: int, account: str) -> tuple[int, int, int]:
        """liquidate: closes an account below maintenance margin at the oracle price; the penalty is split
        between the caller and the pool, a deficit is absorbed by the pool. Returns (penalty, reward,
        badDebt)."""
        with self._atomic():
            self._require_market(market_id)
            m = memory(self.states[market_id])
            p = self.position(market_id, account)
            price = self._price(market_id)
            penalty, reward, bad_debt = self._liquidate(market_id, p, m, price)
            self.positions[market_id][account] = p
            self.states[market_id] = m
            if reward != 0:
                self.collateral.transfer(self.address, caller, reward)
            return penalty, reward, bad_debt

    def _liquidate(self, market_id: int, p: Position, m: MarketState, price: int) -> tuple[int, int, int]:
        """Checks `p` is below maintenance margin, closes it at `price`, takes the penalty and moves the
        pool's cash: it receives funding, the closed position's loss (pays its profit) and its share of the
        penalty, and absorbs any bad debt."""
        c = self.configs[market_id]
        self._accrue(market_id, m, price)
        owed = self._settle_funding(p, m)
        realized = self._unrealized(p, price)
        margin = p.margin + realized
        notional = self._notional_up(abs(p.size), price)
        maintenance = mul_div_up(notional, c.maintenance_margin_bps, BPS)
        if p.size == 0 or margin >= maintenance:
            raise NotLiquidatable(margin, maintenance)
        self._remove_open_interest(m, p.size)
        self._move_notional(m, p.size, -p.open_notional)
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

    # --- LP pool ---------------------------------------------------------------------------------
    def add_liquidity(self, caller: str, amount: int, min_shares: int = 0) -> int:
        """addLiquidity (registered accounts): pool shares for collateral; the pool's value rounded up and the
        shares down, so the new LP never gains at the others' expense."""
        with self._atomic():
            self._only_registered(caller)
            return self._add_liquidity(caller, caller, amount, min_shares)

    def add_liquidity_for(self, caller: str, provider: str, amount: int, min_shares: int = 0) -> int:
        """addLiquidityFor (`orders` only): `provider` gets the shares of `amount` the caller pays."""
        with self._atomic():
            self._only_orders(caller)
            return self._add_liquidity(caller, provider, amount, min_shares)

    def remove_liquidity(self, caller: str, shares: int, min_amount: int = 0) -> int:
        """removeLiquidity (registered accounts): burns pool shares for collateral, limited to the pool's cash;
        the cash left must cover the traders' unrealised profit."""
        with self._atomic():
            self._only_registered(caller)
            return self._remove_liquidity(caller, shares, min_amount)

    def remove_liquidity_for(self, caller: str, provider: str, shares: int, min_amount: int = 0) -> int:
        """removeLiquidityFor (`orders` only): removeLiquidity of `provider`'s shares, paid to `provider`."""
        with self._atomic():
            self._only_orders(caller)
            return self._remove_liquidity(provider, shares, min_amount)

    def _add_liquidity(self, payer: str, provider: str, amount: int, min_shares: int) -> int:
        if amount == 0:
            raise ZeroAmount()
        value, _ = self._pool(True)
        shares = shares_math.to_shares_down(amount, value, self.total_lp_shares, VIRTUAL_LP_SHARES)
        if shares == 0 or shares < min_shares:
            raise SlippageExceeded(shares, min_shares)
        self.total_lp_shares += shares
        self.lp_shares[provider] = self.lp_shares.get(provider, 0) + shares
        self.pool_cash += amount
        self.collateral.transfer(payer, self.address, amount)
        return shares

    def _remove_liquidity(self, provider: str, shares: int, min_amount: int) -> int:
        if shares == 0:
            raise ZeroAmount()
        balance = self.lp_shares.get(provider, 0)
        if balance < shares:
            raise InsufficientShares(balance, shares)
        value, owed = self._pool(False)
        amount = shares_math.to_assets_down(shares, value, self.total_lp_shares, VIRTUAL_LP_SHARES)
        if amount < min_amount:
            raise SlippageExceeded(amount, min_amount)
        if amount > self.pool_cash:
            raise InsufficientPoolLiquidity(self.pool_cash, amount)
        if self.pool_cash - amount < owed:
            raise PoolReserveBreached(self.pool_cash - amount, owed)
        self.lp_shares[provider] = balance - shares
        self.total_lp_shares -= shares
        self.pool_cash -= amount
        self.collateral.transfer(self.address, provider, amount)
        return amount

    # --- views -----------------------------------------------------------------------------------
    def market_config(self, market_id: int) -> MarketConfig:
        """marketConfig: parameters of market `market_id`."""
        return memory(self.configs[market_id])

    def market_feed(self, market_id: int) -> tuple[str, int]:
        """marketFeed: the feed market `market_id` reads now (its key) and its heartbeat."""
        c = self.configs.get(market_id)
        return (c.feed, c.heartbeat) if c is not None else ("", 0)

    def market_state(self, market_id: int) -> MarketState:
        """marketState: aggregates of market `market_id` (funding index as of its last update)."""
        return memory(self.states[market_id])

    def position(self, market_id: int, account: str) -> Position:
        """position: stored position of `account` in market `market_id` (funding not yet settled)."""
        return memory(self._stored_position(market_id, account))

    def index_price(self, market_id: int) -> int:
        """indexPrice: validated oracle price of market `market_id`, 18 decimals."""
        self._require_market(market_id)
        return self._price(market_id)

    def account_state(self, market_id: int, account: str) -> tuple[int, int, int]:
        """accountState: (value, size, price) of `account`. Reads the oracle only when the account has a
        position; with no position `price` is 0. Value = margin + unrealised PnL - funding owed, rounded
        down. Memoized until the state or the time changes."""
        stamp = (self._journal.version, self.clock.now)
        memo = self._account_states.get((market_id, account))
        if memo is not None and memo[0] == stamp:
            return memo[1]
        self._require_market(market_id)
        p = self._stored_position(market_id, account)
        if p.size == 0:
            state = p.margin, 0, 0
        else:
            price = self._price(market_id)
            # The contract settles funding into memory copies of the market and the position; the value
            # needs only the settled margin, computed here without the copies.
            margin = self._settled_margin(p, self._funding_index_now(market_id, self.states[market_id], price))
            state = margin + self._unrealized(p, price), p.size, price
        self._account_states[(market_id, account)] = (stamp, state)
        return state

    def account_value(self, market_id: int, account: str) -> int:
        """accountValue: margin + unrealised PnL - funding owed, rounded down."""
        return self.account_state(market_id, account)[0]

    def margin_ratio(self, market_id: int, account: str) -> int:
        """marginRatio: value / notional (WAD); UINT256_MAX without a position."""
        value, size, price = self.account_state(market_id, account)
        if size == 0:
            return UINT256_MAX
        if value <= 0:
            return 0
        return mul_div_down(value, WAD, self._notional_up(abs(size), price))

    def is_liquidatable(self, market_id: int, account: str) -> bool:
        """isLiquidatable: whether `account` is below maintenance margin now."""
        value, size, price = self.account_state(market_id, account)
        if size == 0:
            return False
        maintenance_bps = self.configs[market_id].maintenance_margin_bps
        maintenance = mul_div_up(self._notional_up(abs(size), price), maintenance_bps, BPS)
        return value < maintenance

    def funding_owed(self, market_id: int, account: str) -> int:
        """fundingOwed: funding `account` owes now (negative: is owed), rounded up."""
        self._require_market(market_id)
        p = self._stored_position(market_id, account)
        if p.size == 0:
            return 0
        price = self._price(market_id)
        return p.margin - self._settled_margin(p, self._funding_index_now(market_id, self.states[market_id], price))

    def funding_rate(self, market_id: int) -> int:
        """fundingRate: per day (WAD, positive: longs pay shorts)."""
        m = self.states[market_id]
        total = m.long_open_interest + m.short_open_interest
        if total == 0:
            return 0
        skew = m.long_open_interest - m.short_open_interest
        return tdiv(self.configs[market_id].max_funding_rate_per_day * skew, total)

    def open_interest(self, market_id: int) -> tuple[int, int]:
        """openInterest: (longs, shorts) in size units."""
        m = self.states[market_id]
        return m.long_open_interest, m.short_open_interest

    def quote_trade(self, market_id: int, size_delta: int) -> TradeQuote:
        """quoteTrade: price, execution price, fee and impact of a trade of `size_delta` now."""
        self._require_market(market_id)
        price = self._price(market_id)
        fee, impact, execution = self._trade_cost(self.configs[market_id], size_delta, price)
        return TradeQuote(price, execution, fee, impact)

    def quote_modify(self, market_id: int, account: str, margin_delta: int, size_delta: int) -> tuple[int, int, int]:
        """quoteModify: (valueBefore, valueAfter, price) of modifyPosition now, from the same arithmetic."""
        self._require_market(market_id)
        p = self.position(market_id, account)
        m = memory(self.states[market_id])
        o = self._simulate(market_id, p, m, margin_delta, size_delta, not self.is_registered(account))
        return o.value_before, o.value_after, o.price

    def pool_value(self) -> int:
        """poolValue: cash minus traders' unrealised PnL plus funding owed to the pool, rounded down."""
        return self._pool(False)[0]

    # --- internal: modify ------------------------------------------------------------------------
    def _modify(self, market_id: int, account: str, margin_delta: int, size_delta: int, to: str,
                via_orders: bool = False) -> Outcome:
        self._require_market(market_id)
        p = self.position(market_id, account)
        m = memory(self.states[market_id])
        # The open-interest cap binds what DelayedOrders executes and unregistered accounts, not registered ones.
        capped = via_orders or not self.is_registered(account)
        o = self._simulate(market_id, p, m, margin_delta, size_delta, capped)
        # Pool: funding owed to it, the trade's fee and impact, minus profit realised by the account.
        self._move_pool(o.funding_owed + (o.fee + o.impact) - o.realized_pnl)
        self.positions[market_id][account] = p
        if o.price != 0:
            self.states[market_id] = m
        if margin_delta > 0:
            self.collateral.transfer(account, self.address, margin_delta)
        elif margin_delta < 0:
            self.collateral.transfer(self.address, to, -margin_delta)
        return o

    def _simulate(self, market_id: int, p: Position, m: MarketState, margin_delta: int, size_delta: int,
                  capped: bool) -> Outcome:
        """Applies margin in, funding settlement, the trade and margin out to `p` and `m` in memory, and
        checks the result (the open-interest cap only when `capped`: an unregistered account). Reads the oracle
        only when the account has or takes a position."""
        o = Outcome()
        old_size = p.size
        if old_size != 0 or size_delta != 0:
            o.price = self._price(market_id)
            self._accrue(market_id, m, o.price)
            o.funding_owed = self._settle_funding(p, m)
        o.value_before = p.margin + self._unrealized(p, o.price)
        if margin_delta > 0:
            p.margin = checked_int128(p.margin + to_int128(margin_delta))

        c = self.configs[market_id]
        if size_delta != 0:
            o.fee, o.impact, o.execution_price = self._trade_cost(c, size_delta, o.price)
            p.margin = checked_int128(p.margin - to_int128(o.fee + o.impact))
            o.realized_pnl = self._apply_trade(p, m, size_delta, o.price)
        if margin_delta < 0:
            amount = -margin_delta
            if p.margin < amount and self._reduces(old_size, p.size):
                # An exit withdraws against value: as much of the rest of the position's profit as the withdrawal
                # lacks is realised into margin (the pool pays it now rather than at the close).
                gain = min(self._unrealized(p, o.price), amount - p.margin)
                if gain > 0:
                    o.realized_pnl += self._realize(p, m, gain)
            if p.margin < amount:
                raise InsufficientFreeMargin(p.margin, amount)
            p.margin = checked_int128(p.margin - amount)
        o.value_after = p.margin + self._unrealized(p, o.price)

        # Checks: anything that adds risk (more size, a flip, margin out) needs initial margin; a pure
        # reduction only needs the account to stay solvent.
        new_size = p.size
        adds_risk = abs(new_size) > abs(old_size) or (old_size ^ new_size) < 0
        if adds_risk or margin_delta < 0:
            required = mul_div_up(self._notional_up(abs(new_size), o.price), c.initial_margin_bps, BPS)
            if o.value_after < required and (adds_risk or not self._is_pro_rata_exit(o, old_size, new_size)):
                raise InsufficientMargin(o.value_after, required)
        elif size_delta != 0 and o.value_after < 0:
            raise InsufficientMargin(o.value_after, 0)
        if adds_risk and capped:
            oi = m.long_open_interest if new_size > 0 else m.short_open_interest
            if oi > c.max_open_interest:
                raise OpenInterestCapExceeded(oi, c.max_open_interest)
        if o.realized_pnl > 0 or o.funding_owed < 0:
            net = o.funding_owed + (o.fee + o.impact) - o.realized_pnl
            if net < 0 and -net > self.pool_cash:
                raise InsufficientPoolLiquidity(self.pool_cash, -net)
        return o

    @staticmethod
    def _is_pro_rata_exit(o: Outcome, old_size: int, new_size: int) -> bool:
        """Whether margin taken out together with a reduction leaves value / size no worse (a pro-rata
        exit, like a token's redemption, which must work even above the initial-margin leverage): short
        of pro rata by less than PRO_RATA_SLACK units, and solvent."""
        if o.value_after < 0 or o.value_before <= 0 or abs(new_size) >= abs(old_size):
            return False
        return (o.value_after + PRO_RATA_SLACK) * abs(old_size) >= o.value_before * abs(new_size)

    @staticmethod
    def _reduces(old_size: int, new_size: int) -> bool:
        """Whether a trade from `old_size` to `new_size` only reduces the position (no flip)."""
        return abs(new_size) < abs(old_size) and (old_size ^ new_size) >= 0

    def _realize(self, p: Position, m: MarketState, gain: int) -> int:
        """Moves `gain` (> 0, at most the unrealised profit) into the margin of `p`, its open notional and the
        market's sum by exactly gain * UNIT; returns `gain`, which the pool pays."""
        p.margin = checked_int128(p.margin + to_int128(gain))
        p.open_notional += gain * self.unit
        self._move_notional(m, p.size, gain * self.unit)
        return gain

    @staticmethod
    def _move_notional(m: MarketState, size: int, delta: int) -> None:
        """Adds `delta` to the open notional of the side of a position of `size` (and to the market's sum)."""
        m.sum_open_notional += delta
        if size > 0:
            m.long_open_notional += delta

    def _apply_trade(self, p: Position, m: MarketState, size_delta: int, price: int) -> int:
        """Changes the size of `p` by `size_delta` at `price`, keeping open notional and the market's sums
        exact; returns the PnL realised by the reduced part (rounded down)."""
        old_size = p.size
        new_size = old_size + size_delta
        realized = 0
        self._remove_open_interest(m, old_size)
        if old_size == 0 or (old_size ^ size_delta) >= 0:
            # Open or increase.
            p.open_notional += size_delta * price
            self._move_notional(m, new_size, size_delta * price)
        else:
            # Reduce, close or flip: the closed part takes its pro-rata share of open notional.
            abs_old = abs(old_size)
            closing = min(abs(size_delta), abs_old)
            removed = p.open_notional if closing == abs_old else tdiv(p.open_notional * closing, abs_old)
            closed_size = closing if old_size > 0 else -closing
            realized = s_div_down(closed_size * price - removed, self.unit)
            p.open_notional -= removed
            self._move_notional(m, old_size, -removed)
            p.margin = checked_int128(p.margin + to_int128(realized))
            if (old_size ^ new_size) < 0:
                # Flip: the remainder opens a new position at the same price.
                p.open_notional += new_size * price
                self._move_notional(m, new_size, new_size * price)
        # Funding sums: the account's snapshot is the current index, so its weight moves with size.
        m.sum_funding_snapshot += size_delta * m.funding_index
        p.size = to_int128(new_size)
        self._add_open_interest(m, new_size)
        return realized

    # --- internal: helpers -----------------------------------------------------------------------
    def _price(self, market_id: int) -> int:
        c = self.configs[market_id]
        feed = self.feeds[c.feed]
        return oracle_lib.read_wad(feed, c.heartbeat, feed.scale, self.clock.now)

    def _accrue(self, market_id: int, m: MarketState, price: int) -> None:
        """Brings the funding index of `m` to now at `price` (memory only)."""
        m.funding_index = self._funding_index_now(market_id, m, price)
        m.last_funding_time = self.clock.now

    def _funding_index_now(self, market_id: int, m: MarketState, price: int) -> int:
        elapsed = checked_uint(self.clock.now - m.last_funding_time)
        total = m.long_open_interest + m.short_open_interest
        if elapsed == 0 or total == 0:
            return m.funding_index
        skew = m.long_open_interest - m.short_open_interest
        rate_per_day = tdiv(self.configs[market_id].max_funding_rate_per_day * skew, total)
        delta = s_div_down(rate_per_day * price * elapsed, DAY * WAD)
        return to_int128(m.funding_index + delta)

    def _settle_funding(self, p: Position, m: MarketState) -> int:
        """Settles funding of `p` into its margin at the market's current index; returns the amount owed
        (rounded up; negative when the account is owed) and updates the market's snapshot sum."""
        margin = self._settled_margin(p, m.funding_index)
        owed = p.margin - margin
        if p.size != 0:
            m.sum_funding_snapshot += p.size * (m.funding_index - p.funding_snapshot)
        p.margin = margin
        p.funding_snapshot = m.funding_index
        return owed

    def _settled_margin(self, p: Position, funding_index: int) -> int:
        """The margin of `p` once the funding owed since its snapshot, rounded up, is settled at
        `funding_index`."""
        diff = funding_index - p.funding_snapshot
        if p.size == 0 or diff == 0:
            return p.margin
        return checked_int128(p.margin - to_int128(s_div_up(p.size * diff, self.unit)))

    def _unrealized(self, p: Position, price: int) -> int:
        if p.size == 0:
            return 0
        return s_div_down(p.size * price - p.open_notional, self.unit)

    def _notional_up(self, abs_size: int, price: int) -> int:
        return mul_div_up(abs_size, price, self.unit)

    def _trade_cost(self, c: MarketConfig, size_delta: int, price: int) -> tuple[int, int, int]:
        """Fee and impact of a trade, both rounded up (impact grows linearly with notional up to a cap),
        and the execution price."""
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
        """Moves collateral into (positive) or out of the pool's cash; the pool cannot go below zero."""
        if delta < 0 and -delta > self.pool_cash:
            raise InsufficientPoolLiquidity(self.pool_cash, -delta)
        self.pool_cash += delta

    def _pool(self, round_up: bool) -> tuple[int, int]:
        """(value, owed): pool value = cash - traders' unrealised PnL + funding they owe, over every market; and
        what the pool owes traders: each side's unrealised profit on each market (funding not netted), rounded
        up."""
        value = self.pool_cash
        owed = 0
        for market_id in range(1, self.market_count + 1):
            m = memory(self.states[market_id])
            net = m.long_open_interest - m.short_open_interest
            idle = m.long_open_interest == 0 and m.short_open_interest == 0
            if idle and m.sum_open_notional == 0 and m.sum_funding_snapshot == 0:
                continue
            price = self._price(market_id)
            self._accrue(market_id, m, price)
            traders_pnl = net * price - m.sum_open_notional
            funding_to_pool = net * m.funding_index - m.sum_funding_snapshot
            market_value = funding_to_pool - traders_pnl
            value += s_div_up(market_value, self.unit) if round_up else s_div_down(market_value, self.unit)
            # Each side's profit separately: one side's loss sits in its own margin until it closes.
            longs_pnl = m.long_open_interest * price - m.long_open_notional
            shorts_pnl = traders_pnl - longs_pnl
            owed += (s_div_up(longs_pnl, self.unit) if longs_pnl > 0 else 0) + (
                s_div_up(shorts_pnl, self.unit) if shorts_pnl > 0 else 0)
        return (value if value > 0 else 0), owed

    def _only_registered(self, caller: str) -> None:
        if not self.is_registered(caller):
            raise NotRegistered(caller)

    def _only_orders(self, caller: str) -> None:
        if self.orders is None or caller != self.orders:
            raise NotOrders(caller)

    def _stored_position(self, market_id: int, account: str) -> Position:
        """The stored position (not a copy: read it, never change it)."""
        positions = self.positions.get(market_id)
        stored = positions.get(account) if positions is not None else None
        return stored if stored is not None else NO_POSITION

    def _require_market(self, market_id: int) -> None:
        if market_id == 0 or market_id > self.market_count:
            raise UnknownMarket(market_id)

    def _only_owner(self, caller: str) -> None:
        if caller != self.owner:
            raise OwnableUnauthorizedAccount(caller)

    @staticmethod
    def _check_steps(current: MarketConfig, proposed: MarketConfig) -> None:
        """_checkSteps: ConfigStepTooLarge for the first field, in the struct's order, that `proposed` raises by
        more than its step."""
        for name, step in CONFIG_STEPS:
            field = MarketConfig.python_name(name)
            check_step(name, getattr(current, field), getattr(proposed, field), step)

    @staticmethod
    def _validate(c: MarketConfig) -> None:
        """Hard bounds of a market's parameters: InvalidConfig(field) for the first failing field, in the
        struct's order (`config_out_of_bounds`)."""
        failing = config_out_of_bounds(c)
        if failing:
            raise InvalidConfig(failing[0][0])


def config_out_of_bounds(c: MarketConfig) -> list[tuple[str, str]]:
    """Every field of a market's configuration outside its hard bounds, in the struct's order, each with the
    bound in a reader's words (the config file's units)."""
    rules = (
        ("feed", not c.feed or c.feed == ZERO_ADDRESS, "an address other than zero"),
        ("heartbeat", c.heartbeat < 60 or c.heartbeat > 7 * DAY, f"from 60 s to {7 * DAY} s (a week)"),
        ("takerFeeBps", c.taker_fee_bps > 100, "at most 100 bps"),
        ("maxImpactBps", c.max_impact_bps > 500, "at most 500 bps"),
        ("initialMarginBps", c.initial_margin_bps > 5000, "at most 5000 bps"),
        ("maintenanceMarginBps", c.maintenance_margin_bps < 50 or c.maintenance_margin_bps >= c.initial_margin_bps
         or c.maintenance_margin_bps > MAX_MAINTENANCE_MARGIN_BPS,
         f"from 50 bps to {MAX_MAINTENANCE_MARGIN_BPS} bps, and below initial_margin_bps ({c.initial_margin_bps} bps)"),
        ("liquidationPenaltyBps", c.liquidation_penalty_bps > c.maintenance_margin_bps
         or c.liquidation_penalty_bps > MAX_LIQUIDATION_PENALTY_BPS,
         f"at most {MAX_LIQUIDATION_PENALTY_BPS} bps and at most maintenance_margin_bps ({c.maintenance_margin_bps} bps)"),
        ("liquidatorShareBps", c.liquidator_share_bps > MAX_LIQUIDATOR_SHARE_BPS,
         f"at most {MAX_LIQUIDATOR_SHARE_BPS} bps"),
        ("impactDepth", c.impact_depth == 0, "above 0"),
        ("maxFundingRatePerDay", c.max_funding_rate_per_day > 10**16, "at most 0.01 per day"),
        ("maxOpenInterest", c.max_open_interest == 0, "above 0"),
    )
    return [(name, words) for name, fails, words in rules if fails]
