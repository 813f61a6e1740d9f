"""LeveragedToken (contracts/LeveragedToken.sol): a constant-leverage token on a perpetual-futures venue, an
ERC-20 whose entry and exit are ERC-7540 requests (AsyncRequests) settled by keepers at a later oracle round.
Its decisions live in LeveragedTokenLogic, its arithmetic in SharesMath, HedgeMath, RebalanceLogic,
RequestQueue and SettlementMath; this contract values the token, settles, rebalances and moves the assets.

Accounting (DESIGN.md sections 3 and 7): equity E = venue account value + idle collateral not held in
escrow; NAV = E / S (escrowed shares included in S). Shares use OpenZeppelin's virtual offset. One
settlement nets the deposits' hedge and the redemptions' pro-rata close into one venue trade, whose exact
cost the two sides share (SettlementMath). Valuation views fall back on the equity and supply recorded by
the last settlement or rebalance while the oracle is stale.

Not modelled: events, signatures (permit), Automation's performData.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from levtoken.model.async_requests import AsyncRequests
from levtoken.model.clock import Clock
from levtoken.model.erc20 import ERC20
from levtoken.model.errors import (
    AccessControlUnauthorizedAccount, EnforcedPause, ExpectedPause, FallbackNotOpen, LeverageOutOfRange,
    NoNewerPrice, NothingToSettle, RebalanceNotDue, Revert, RipcordNotDue, SettlementRejected, SupplyCapExceeded,
)
from levtoken.model.journal import Journal, memory
from levtoken.model.leveraged_token_logic import (
    MAX_BOUNTY_BPS, MAX_FEE_BPS, MAX_HARD_CAP, MAX_STREAMING_FEE_PER_DAY, LeveragedTokenLogic, State,
)
from levtoken.model.libraries import hedge_math, rebalance_logic, request_queue, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down
from levtoken.model.libraries.safe_cast import checked_uint
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import Action, Params, Reason, Settlement, Status
from levtoken.units import DAY, WAD

__all__ = [
    "LeveragedToken", "Snapshot", "Plan", "MAX_HARD_CAP", "MAX_STREAMING_FEE_PER_DAY", "MAX_FEE_BPS", "MAX_BOUNTY_BPS",
]


@dataclass
class Snapshot:
    """LeveragedToken.Snapshot: equity state read from the venue in one call, plus free idle collateral
    (escrow excluded) and supply (escrowed shares included)."""

    value: int = 0
    size: int = 0
    price: int = 0
    idle: int = 0
    equity: int = 0
    supply: int = 0


@dataclass
class Plan:
    """LeveragedToken.Plan: one settlement: the batches it prices (epoch 0: none) and their pricing."""

    feasible: bool = False  # false when even the redemptions alone cannot settle now
    price_time: int = 0  # updatedAt of the latest round
    deposit_epoch: int = 0
    redeem_epoch: int = 0
    t: Settlement | None = None


class LeveragedToken(AsyncRequests):
    """LeveragedToken: requests and claims (AsyncRequests), settlement, streaming fee, rebalancing, ripcord.
    Entry points take the caller's address first (msg.sender)."""

    # --- constructor -----------------------------------------------------------------------------
    def __init__(self, venue: PerpVenue, market_id: int, target_leverage: int, max_leverage: int, params: Params,
                 admin: str = "gov", keeper: str | None = None, guardian: str | None = None, *, address: str,
                 journal: Journal, clock: Clock, feeds: Mapping[str, Feed]) -> None:
        """The constructor: `target_leverage` signed (WAD), non-zero, |target| <= `max_leverage` <=
        MAX_HARD_CAP; `params` validated; `keeper` and `guardian` may be None (no such role); the asset is the
        venue's collateral. Deployed at `address` on a chain whose transaction boundary (`journal`), block time
        (`clock`) and price feeds by address (`feeds`, of which the token reads its market's) it is given."""
        if target_leverage == 0 or abs(target_leverage) > max_leverage or max_leverage > MAX_HARD_CAP:
            raise LeverageOutOfRange(target_leverage)
        super().__init__(journal)
        self.venue = venue
        self.address = address
        self.market_id = market_id
        self.target_leverage = target_leverage
        self.max_leverage = max_leverage
        self.asset_decimals = asset_decimals = venue.collateral.decimals
        self.offset = 18 - asset_decimals
        self.virtual_shares = 10**self.offset
        self.asset_to_wad = 10**self.offset  # collateral units * asset_to_wad = 18 decimals
        self.logic = LeveragedTokenLogic(venue, market_id, target_leverage, 10**self.offset, address)
        self.admin = admin
        self.keepers = frozenset({keeper} if keeper else ())
        self.guardians = frozenset({guardian} if guardian else ())
        self.iterating = False  # a capped rebalance has not reached target
        self.paused = False
        self.last_equity = 0  # equity and supply after the last settlement or rebalance (stale-oracle views)
        self.last_supply = 0
        self._set_params(params)
        self.clock = clock
        self.last_rebalance = clock.now
        self.last_fee_accrual = clock.now
        self.feeds = feeds
        self.feed = venue.market_config(market_id).feed

    # --- settlement ------------------------------------------------------------------------------
    def settle(self, caller: str) -> Settlement:
        """settle: prices the qualified batches at the latest round and trades their netted hedge (keepers:
        deposits and redemptions; anyone else: redemptions only, once their window passed). Returns the
        Settlement the Settled event carries."""
        with self._atomic():
            return self._settle(caller, caller in self.keepers)

    # --- rebalancing -----------------------------------------------------------------------------
    def rebalance(self, caller: str) -> Status:
        """rebalance (keeper role): trades toward target when the rebalance decision says so (a ripcord
        pays the keeper the bounty like any other caller). Returns the decision it acted on."""
        with self._atomic():
            self._check_role(caller, self.keepers)
            return self._rebalance_due(caller, False)

    def ripcord(self, caller: str) -> Status:
        """ripcord (anyone): back to target when |leverage| reached the ripcord limit; pays the caller a
        bounty capped at ripcordBounty."""
        with self._atomic():
            s = self._snapshot()
            status = self._status(s)
            if status.action != Action.RIPCORD:
                raise RipcordNotDue(status.leverage)
            self._rebalance(status, s, caller)
            return status

    def check_upkeep(self) -> tuple[bool, Action]:
        """checkUpkeep: (upkeepNeeded, action); performUpkeep decides again."""
        status = self.rebalance_status()
        return status.action != Action.NONE, status.action

    def perform_upkeep(self, caller: str) -> None:
        """performUpkeep: settles when a settlement is due (keeper role), else the rebalance due (a ripcord
        is open to anyone and pays the bounty to the caller; other actions need the keeper role)."""
        with self._atomic():
            if self.rebalance_status().action == Action.SETTLE:
                self._check_role(caller, self.keepers)
                self._settle(caller, True)
            else:
                self._rebalance_due(caller, True)

    def rebalance_status(self) -> Status:
        """rebalanceStatus: RIPCORD, then SETTLE (a batch qualifies and its settlement would succeed), then
        ITERATE and REBALANCE; NONE when the venue cannot value the token."""
        ok, s = self._try_snapshot()
        if not ok:
            return Status()
        status = self._status(s)
        if status.action == Action.RIPCORD:
            return status
        p = self._plan_settlement(True, s)
        if p.feasible and (p.deposit_epoch != 0 or p.redeem_epoch != 0):
            status.action, status.reason = Action.SETTLE, Reason.REQUESTS
            status.size_delta, status.capped, status.price = p.t.size_delta, False, p.t.price
            status.deposit_assets, status.redeem_shares, status.price_time = p.t.assets, p.t.shares, p.price_time
        return status

    def _status(self, s: Snapshot) -> Status:
        """The rebalance decision for the state in `s` (LeveragedTokenLogic.rebalance_decision)."""
        return self.logic.rebalance_decision(self._state(s, s.supply), self.params)

    def _state(self, s: Snapshot, supply: int) -> State:
        interval_elapsed = self.clock.now >= self.last_rebalance + self.params.rebalance_interval
        return State(s.size, s.price, s.equity, s.idle, supply, self.iterating, interval_elapsed)

    # --- admin and guardian ----------------------------------------------------------------------
    def set_params(self, caller: str, params: Params) -> None:
        """setParams (admin): accrues the streaming fee at the old rate, then validates and replaces."""
        with self._atomic():
            if caller != self.admin:
                raise AccessControlUnauthorizedAccount(caller)
            self._accrue_streaming_fee()
            self._set_params(params)

    def pause(self, caller: str) -> None:
        """pause (guardian): stops deposit requests, deposit settlements and rebalances that add exposure."""
        with self._atomic():
            self._check_role(caller, self.guardians)
            if self.paused:
                raise EnforcedPause()
            self.paused = True

    def unpause(self, caller: str) -> None:
        """unpause (guardian)."""
        with self._atomic():
            self._check_role(caller, self.guardians)
            if not self.paused:
                raise ExpectedPause()
            self.paused = False

    def accrue_streaming_fee(self, caller: str | None = None) -> None:
        """accrueStreamingFee (anyone)."""
        with self._atomic():
            self._accrue_streaming_fee()

    # --- views -----------------------------------------------------------------------------------
    def equity(self) -> int:
        """Venue account value plus free idle collateral, collateral units (can be negative)."""
        return self._snapshot().equity

    def leverage(self) -> int:
        """Signed leverage, WAD (0 without position or equity)."""
        s = self._snapshot()
        if s.equity <= 0 or s.size == 0:
            return 0
        return hedge_math.leverage(s.size, s.price, s.equity * self.asset_to_wad)

    def nav_per_token(self) -> int:
        """Assets per 1e18 shares, streaming fee accrued, rounded down (never reverts)."""
        return self.convert_to_assets(WAD)

    def pending_streaming_fee(self) -> int:
        """Shares the streaming fee would mint if accrued now."""
        elapsed = self.clock.now - self.last_fee_accrual
        supply = self.total_supply
        fee_per_day = self.params.streaming_fee_per_day
        if elapsed == 0 or supply == 0 or fee_per_day == 0:
            return 0
        # Fraction f of the supply's value taken over `elapsed`: minting S*f/(1-f) shares dilutes by f.
        fraction = min(mul_div_down(fee_per_day, elapsed, DAY), WAD // 2)
        return mul_div_down(supply, fraction, WAD - fraction)

    def total_assets(self) -> int:
        """totalAssets: equity (0 when negative); on a stale oracle the last recorded equity."""
        ok, s = self._try_snapshot()
        return self._equity_or_zero(s) if ok else self.last_equity

    def convert_to_shares(self, assets: int) -> int:
        """convertToShares (streaming fee accrued, rounded down; last recorded valuation when stale)."""
        total, supply = self._valuation()
        return shares_math.to_shares_down(assets, total, supply, self.virtual_shares)

    def convert_to_assets(self, shares: int) -> int:
        """convertToAssets (streaming fee accrued, rounded down; last recorded valuation when stale)."""
        total, supply = self._valuation()
        return shares_math.to_assets_down(shares, total, supply, self.virtual_shares)

    # --- internal: settlement --------------------------------------------------------------------
    def _settle(self, caller: str, keeper: bool) -> Settlement:
        self._accrue_streaming_fee()
        self.feed = self.venue.market_config(self.market_id).feed
        s = self._snapshot()
        p = self._plan_settlement(keeper, s)
        if not p.feasible:
            raise SettlementRejected()
        self._roll_deposits()
        request_queue.roll(self.redemptions, p.price_time, self.clock.now, 0)
        if p.deposit_epoch == 0 and p.redeem_epoch == 0:
            last = request_queue.last_unqualified(self.redemptions)
            if keeper:
                last = max(last, request_queue.last_unqualified(self.deposits))
            if last != 0:
                raise NoNewerPrice(last, p.price_time)
            raise NothingToSettle()
        if not keeper:
            opens_at = self.redemptions.queue.batch_since + self.params.settlement_window
            if self.clock.now < opens_at:
                raise FallbackNotOpen(opens_at)
        t = p.t
        recipient = self.params.fee_recipient
        if p.deposit_epoch != 0:
            request_queue.settle(self.deposits, p.deposit_epoch, t.shares_out)
            self.escrow_assets = checked_uint(self.escrow_assets - t.assets)
            self._mint(self.address, t.shares_out)
            if t.mint_fee != 0:
                self._mint(recipient, t.mint_fee)
        if p.redeem_epoch != 0:
            request_queue.settle(self.redemptions, p.redeem_epoch, t.assets_out)
            self.escrow_assets = checked_uint(self.escrow_assets + t.assets_out)
            if t.redeem_fee != 0:
                self._transfer(self.address, recipient, t.redeem_fee)
            self._burn(self.address, t.shares - t.redeem_fee)
        if t.margin_delta != 0 or t.size_delta != 0:
            self.venue.modify_position(self.address, self.market_id, t.margin_delta, t.size_delta, self.address)
        self._record_valuation(s.equity + t.assets - t.assets_out - t.cost)
        return t

    def _plan_settlement(self, keeper: bool, s: Snapshot) -> Plan:
        """What a settlement now would do on the state in `s` (streaming fee not yet accrued): the batches
        a roll leaves qualified (deposits only for a keeper, and only when they can be settled) and their
        pricing; `feasible` is False when even the redemptions alone cannot be settled now."""
        p = Plan(feasible=True, price_time=self._round_time(), t=Settlement())
        if keeper:
            p.deposit_epoch, p.t.assets, fee_bps, _ = request_queue.peek_batch(
                self.deposits, p.price_time, self.clock.now, self._window()
            )
            p.t.mint_fee_bps = min(fee_bps, self.params.mint_fee_bps)
        p.redeem_epoch, p.t.shares, fee_bps, _ = request_queue.peek_batch(
            self.redemptions, p.price_time, self.clock.now, 0
        )
        p.t.redeem_fee_bps = min(fee_bps, self.params.redeem_fee_bps)
        if p.deposit_epoch == 0 and p.redeem_epoch == 0:
            return p
        p.t.price = s.price
        p.feasible, with_deposits, p.t = self.logic.plan_settlement(
            self._state(s, s.supply + self.pending_streaming_fee()), self.params.supply_cap, not self.paused, p.t
        )
        if not with_deposits:
            p.deposit_epoch = 0
        return p

    # --- internal: rebalancing -------------------------------------------------------------------
    def _rebalance_due(self, caller: str, keeper_unless_ripcord: bool) -> Status:
        """The rebalance due now, for rebalance() and performUpkeep(): a ripcord pays its bounty to whoever
        executes it, keepers included; with `keeper_unless_ripcord` any other action needs the keeper role."""
        s = self._snapshot()
        status = self._status(s)
        if status.action == Action.NONE:
            raise RebalanceNotDue()
        is_ripcord = status.action == Action.RIPCORD
        if keeper_unless_ripcord and not is_ripcord:
            self._check_role(caller, self.keepers)
        self._rebalance(status, s, caller if is_ripcord else None)
        return status

    def _rebalance(self, status: Status, s: Snapshot, bounty_to: str | None) -> None:
        """Trades `status.size_delta`. A ripcord (`bounty_to` set) pays the bounty out of margin; an
        ordinary rebalance first sweeps free idle collateral (donations) into margin."""
        self._accrue_streaming_fee()
        if abs(s.size + status.size_delta) > abs(s.size):
            self._require_not_paused()
        bounty = 0 if bounty_to is None else self.logic.bounty(checked_uint(status.equity), self.params.ripcord_bounty)
        margin_delta = s.idle if bounty_to is None else -bounty
        to = self.address if bounty_to is None else bounty_to
        before, after = self.venue.modify_position(self.address, self.market_id, margin_delta, status.size_delta, to)
        cost = before + margin_delta - after
        completed = not status.capped
        self.iterating = not completed
        if completed:
            last = self.last_rebalance
            following = rebalance_logic.next_last_rebalance(last, self.clock.now, self.params.rebalance_interval)
            if following != last:
                self.last_rebalance = checked_uint(following, 64)
        self._record_valuation(s.equity - cost - bounty)

    # --- internal: accounting --------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        """Equity state; reverts with the venue's price error when the venue cannot value the account."""
        ok, s = self._try_snapshot()
        if not ok:
            self.venue.index_price(self.market_id)
        return s

    def _try_snapshot(self) -> tuple[bool, Snapshot]:
        """_snapshot, or (False, zeros) when the venue cannot value the account (its price is invalid)."""
        try:
            value, size, price = self.venue.account_state(self.market_id, self.address)
        except Revert:
            return False, Snapshot()
        idle = checked_uint(self.venue.collateral.balance_of(self.address) - self.escrow_assets)
        return True, Snapshot(value, size, price, idle, value + idle, self.total_supply)

    @staticmethod
    def _equity_or_zero(s: Snapshot) -> int:
        return s.equity if s.equity > 0 else 0

    def _record_valuation(self, equity_after: int) -> None:
        """Stores the valuation after a settlement or rebalance, for views while the oracle is stale."""
        self.last_equity = (equity_after if equity_after > 0 else 0) % 2**128
        self.last_supply = self.total_supply % 2**128

    def record_valuation(self, equity_after: int) -> None:
        """_recordValuation, for callers that mirror a settlement or rebalance (see _record_valuation)."""
        self._record_valuation(equity_after)

    def _valuation(self) -> tuple[int, int]:
        """Equity and supply (streaming fee accrued) now, or at the last recorded valuation."""
        ok, s = self._try_snapshot()
        if not ok:
            return self.last_equity, self.last_supply
        return self._equity_or_zero(s), s.supply + self.pending_streaming_fee()

    # --- internal: request hooks -----------------------------------------------------------------
    def _round_time(self) -> int:
        """`updatedAt` of the latest round of the market's feed (read raw)."""
        return self.feeds[self.feed].latest_round_data()[3]

    def _fee_bps(self, is_deposit: bool) -> int:
        return self.params.mint_fee_bps if is_deposit else self.params.redeem_fee_bps

    def _window(self) -> int:
        return self.params.settlement_window

    def _check_deposit_request(self) -> None:
        """Paused: EnforcedPause. Supply at its cap: SupplyCapExceeded."""
        self._require_not_paused()
        supply = self.total_supply
        if supply >= self.params.supply_cap:
            raise SupplyCapExceeded(supply, self.params.supply_cap)

    def _asset(self) -> ERC20:
        return self.venue.collateral

    def _now(self) -> int:
        return self.clock.now

    # --- internal: fees, parameters, roles -------------------------------------------------------
    def _accrue_streaming_fee(self) -> None:
        elapsed = self.clock.now - self.last_fee_accrual
        if elapsed == 0:
            return
        fee_shares = self.pending_streaming_fee()
        self.last_fee_accrual = self.clock.now
        if fee_shares != 0:
            self._mint(self.params.fee_recipient, fee_shares)

    def _set_params(self, p: Params) -> None:
        """Stores `p` once every field is within its bounds (see LeveragedTokenLogic.check_params)."""
        self.logic.check_params(p, self.max_leverage)
        self.params = memory(p)

    def _require_not_paused(self) -> None:
        if self.paused:
            raise EnforcedPause()

    @staticmethod
    def _check_role(caller: str, holders: frozenset[str]) -> None:
        if caller not in holders:
            raise AccessControlUnauthorizedAccount(caller)
