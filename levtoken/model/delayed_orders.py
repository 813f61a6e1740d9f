"""DelayedOrders (contracts/DelayedOrders.sol): the venue's entry and exit for ordinary accounts. A trade, an LP
deposit or an LP withdrawal is a request, executed by a keeper at an oracle round published after it (the venue's
latest price then), within a window; a request the venue refuses at execution is cancelled and its escrow
refunded, the keeper paid either way; after the window the requester may cancel. Entry points take the caller
first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from levtoken.model.clock import Clock
from levtoken.model.errors import (
    CancelTooEarly, InsufficientShares, InvalidTerms, NoNewerPrice, NotKeeper, NotRequester, OrderExpired,
    OrderNotPending, OwnableUnauthorizedAccount, Revert, ZeroAmount,
)
from levtoken.model.journal import Journal, Journaled, memory
from levtoken.model.libraries.safe_cast import to_uint
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import OrderKind as Kind
from levtoken.shapes import OrderStatus as Status

MAX_EXECUTION_FEE_WAD = 10 * 10**18  # 10 whole collateral units


@dataclass
class Order:
    """IDelayedOrders.Order."""

    account: str = ""
    request_time: int = 0
    kind: Kind = Kind.TRADE
    status: Status = Status.NONE
    market_id: int = 0
    amount: int = 0  # size delta (trade), collateral units (add) or LP shares (remove)
    limit: int = 0  # acceptable price (trade), minimum shares (add) or assets (remove)
    escrow: int = 0  # collateral held for the order
    fee: int = 0  # execution fee held for the keeper


class DelayedOrders(Journaled):
    """DelayedOrders on `venue`, owned by `owner`."""

    def __init__(self, venue: PerpVenue, owner: str, execution_fee: int, window: int, *, address: str,
                 journal: Journal, clock: Clock, feeds: Mapping[str, Feed]) -> None:
        object.__setattr__(self, "_journal", journal)
        self.venue = venue
        self.collateral = venue.collateral
        self.clock = clock
        self.feeds = feeds
        self.address = address
        self.owner = owner
        self.max_execution_fee = MAX_EXECUTION_FEE_WAD // 10 ** (18 - self.collateral.decimals)
        self.execution_fee = 0
        self.window = 0
        self.keepers = self._mapping()
        self.order_count = 0
        self.orders = self._mapping()
        self._set_terms(execution_fee, window)

    # --- owner -----------------------------------------------------------------------------------
    def set_terms(self, caller: str, execution_fee: int, window: int) -> None:
        """setTerms (owner): the execution fee (at most 10 whole units) and the window (1 min to 1 day)."""
        with self._atomic():
            self._only_owner(caller)
            self._set_terms(execution_fee, window)

    def set_keeper(self, caller: str, keeper: str, allowed: bool) -> None:
        """setKeeper (owner): allows (or stops) `keeper` executing orders."""
        with self._atomic():
            self._only_owner(caller)
            if allowed:
                self.keepers[keeper] = True
            else:
                self.keepers.pop(keeper, None)

    # --- requests --------------------------------------------------------------------------------
    def request_trade(self, caller: str, market_id: int, size_delta: int, acceptable_price: int = 0) -> int:
        """requestTrade: a trade of `size_delta` for the caller's venue account; takes the execution fee."""
        with self._atomic():
            if size_delta == 0:
                raise ZeroAmount()
            self.venue.index_price(market_id)
            return self._request(caller, Kind.TRADE, market_id, size_delta, acceptable_price, 0)

    def request_add_liquidity(self, caller: str, amount: int, min_shares: int = 0) -> int:
        """requestAddLiquidity: `amount` escrowed with the execution fee."""
        with self._atomic():
            if amount == 0:
                raise ZeroAmount()
            return self._request(caller, Kind.ADD_LIQUIDITY, 0, amount, min_shares, amount)

    def request_remove_liquidity(self, caller: str, shares: int, min_amount: int = 0) -> int:
        """requestRemoveLiquidity: `shares` of the caller's LP shares; takes the execution fee."""
        with self._atomic():
            if shares == 0:
                raise ZeroAmount()
            balance = self.venue.lp_shares.get(caller, 0)
            if balance < shares:
                raise InsufficientShares(balance, shares)
            return self._request(caller, Kind.REMOVE_LIQUIDITY, 0, shares, min_amount, 0)

    # --- execution -------------------------------------------------------------------------------
    def execute(self, caller: str, order_id: int) -> bool:
        """execute (keepers): the order at the latest round, newer than its request, within the window; False
        (order cancelled, escrow refunded) when the venue refuses it. The keeper is paid either way."""
        with self._atomic():
            if not self.keepers.get(caller, False):
                raise NotKeeper(caller)
            o = self._pending(order_id)
            if self.clock.now >= o.request_time + self.window:
                raise OrderExpired(order_id)
            price_time = self._qualifying_time(o)
            if price_time <= o.request_time:
                raise NoNewerPrice(o.request_time, price_time)
            executed = self._call(o)
            self._set_status(order_id, Status.EXECUTED if executed else Status.CANCELLED)
            if not executed and o.escrow != 0:
                self.collateral.transfer(self.address, o.account, o.escrow)
            if o.fee != 0:
                self.collateral.transfer(self.address, caller, o.fee)
            return executed

    def cancel(self, caller: str, order_id: int) -> None:
        """cancel: the requester, once the window passed: escrow and fee back."""
        with self._atomic():
            o = self._pending(order_id)
            if caller != o.account:
                raise NotRequester(caller)
            allowed_at = o.request_time + self.window
            if self.clock.now < allowed_at:
                raise CancelTooEarly(allowed_at)
            self._set_status(order_id, Status.CANCELLED)
            self.collateral.transfer(self.address, o.account, o.escrow + o.fee)

    def order(self, order_id: int) -> Order:
        """order: order `order_id` (a zero Order when unknown)."""
        return memory(self.orders.get(order_id) or Order())

    # --- internal --------------------------------------------------------------------------------
    def _request(self, caller: str, kind: Kind, market_id: int, amount: int, limit: int, escrow: int) -> int:
        fee = self.execution_fee
        self.order_count += 1
        order_id = self.order_count
        self.orders[order_id] = Order(caller, self.clock.now, kind, Status.PENDING, to_uint(market_id, 64), amount,
                                      limit, to_uint(escrow, 128), to_uint(fee, 128))
        if escrow + fee != 0:
            self.collateral.transfer(caller, self.address, escrow + fee)
        return order_id

    def _call(self, o: Order) -> bool:
        """The venue call of `o`, made for its requester; False when the venue refuses it."""
        try:
            if o.kind == Kind.TRADE:
                self.venue.trade_for(self.address, o.market_id, o.account, o.amount, o.limit)
            elif o.kind == Kind.ADD_LIQUIDITY:
                self.venue.add_liquidity_for(self.address, o.account, o.amount, o.limit)
            else:
                self.venue.remove_liquidity_for(self.address, o.account, o.amount, o.limit)
        except Revert:
            return False
        return True

    def _qualifying_time(self, o: Order) -> int:
        """The round time the order would execute at: the market's latest round (a trade), or the oldest latest
        round among the markets with open interest (an LP flow; now when there is none)."""
        if o.kind == Kind.TRADE:
            return self._round_time(o.market_id)
        oldest = self.clock.now
        for market_id in range(1, self.venue.market_count + 1):
            longs, shorts = self.venue.open_interest(market_id)
            if longs == 0 and shorts == 0:
                continue
            oldest = min(oldest, self._round_time(market_id))
        return oldest

    def _round_time(self, market_id: int) -> int:
        key, _ = self.venue.market_feed(market_id)
        return self.feeds[key].latest_round_data()[3]

    def _pending(self, order_id: int) -> Order:
        o = self.orders.get(order_id)
        if o is None or o.status != Status.PENDING:
            raise OrderNotPending(order_id)
        return o

    def _set_status(self, order_id: int, status: Status) -> None:
        o = memory(self.orders[order_id])
        o.status = status
        self.orders[order_id] = o

    def _set_terms(self, execution_fee: int, window: int) -> None:
        if execution_fee > self.max_execution_fee:
            raise InvalidTerms("executionFee")
        if window < 60 or window > 86_400:
            raise InvalidTerms("window")
        self.execution_fee, self.window = execution_fee, window

    def _only_owner(self, caller: str) -> None:
        if caller != self.owner:
            raise OwnableUnauthorizedAccount(caller)
