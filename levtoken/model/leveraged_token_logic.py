"""LeveragedTokenLogic (contracts/LeveragedTokenLogic.sol): the half of every leveraged token that settles,
rebalances and changes parameters, which each token runs by DELEGATECALL on its own storage: initialization,
settlement of requests (DESIGN.md 7.6), the rebalance decision and its trade, ripcord, Automation upkeep and the
parameter bounds. Here it is a base class of LeveragedToken over LeveragedTokenStorage. The file-level
constants (MAX_HARD_CAP and the fee and bounty maxima) live here too.

Entry points take the caller's address (msg.sender) first."""

from __future__ import annotations

from dataclasses import dataclass

from levtoken.model.errors import (
    AccessControlUnauthorizedAccount, AlreadyInitialized, FallbackNotOpen, LeverageOutOfRange, NoNewerPrice,
    NotInRedemptionBatch, NothingToSettle, RebalanceNotDue, Revert, RipcordNotDue, SettlementRejected,
)
from levtoken.model.journal import memory
from levtoken.model.leveraged_token_storage import LeveragedTokenStorage, Snapshot
from levtoken.model.libraries import hedge_math, rebalance_logic, request_queue, settlement_math, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up
from levtoken.model.libraries.safe_cast import checked_uint
from levtoken.shapes import Action, Params, Reason, Settlement, Status
from levtoken.units import BPS, WAD

MAX_HARD_CAP = 20 * WAD  # largest accepted hard leverage cap
MAX_STREAMING_FEE_PER_DAY = 10**15  # 0.1% per day
MAX_FEE_BPS = 100  # largest mint or redeem fee, 1%
MAX_BOUNTY_BPS = 100  # largest fraction of equity a ripcord bounty may take, 1%
DUST_UNITS = 2  # a settlement side trades only when its value exceeds its trade's quoted cost by this much
# Equity (18 decimals) below which a token is at rest, one unit of collateral: no rebalance is due, and deposits
# are taken even when its dust's value has fallen to zero or below.
DUST_EQUITY_WAD = WAD
FILL_STEPS = 4  # most pricings of one settlement's deposit side while it is filled up to the supply cap


@dataclass
class State:
    """LeveragedTokenLogic.State: the token's equity state (see LeveragedTokenStorage._snapshot)."""

    size: int
    price: int
    equity: int  # collateral units
    idle: int  # free idle collateral (escrow excluded)
    supply: int  # streaming fee not accrued (rebalances) or accrued (settlements)
    iterating: bool
    interval_elapsed: bool


@dataclass
class Plan:
    """LeveragedTokenLogic.Plan: one settlement: the batches it prices (epoch 0: none) and their pricing."""

    feasible: bool = False  # false when even the redemptions alone cannot settle now
    price_time: int = 0  # updatedAt of the latest round
    deposit_epoch: int = 0
    redeem_epoch: int = 0
    t: Settlement | None = None


class LeveragedTokenLogic(LeveragedTokenStorage):
    """Initialization, settlement, rebalancing, upkeep and parameters, on the token's own state."""

    # --- initialization --------------------------------------------------------------------------
    def initialize(self, params: Params, admin: str, keeper: str | None, guardian: str | None) -> None:
        """initialize (the factory, once): LeverageOutOfRange unless 0 < |target| <= max_leverage <=
        MAX_HARD_CAP; `params` validated; `keeper` and `guardian` may be None (no such role)."""
        if self.last_fee_accrual != 0:
            raise AlreadyInitialized()
        self._check_leverage()
        self._set_params(params)
        self.last_rebalance = self.clock.now
        self.last_fee_accrual = self.clock.now
        self.admin = admin
        self.keepers = frozenset({keeper} if keeper else ())
        self.guardians = frozenset({guardian} if guardian else ())

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
            status = self._status(s, False)
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
        status = self._status(s, True)
        if status.action == Action.RIPCORD:
            return status
        p = self._plan_settlement(True, s)
        if p.feasible and (p.deposit_epoch != 0 or p.redeem_epoch != 0):
            status.action, status.reason = Action.SETTLE, Reason.REQUESTS
            status.size_delta, status.capped, status.price = p.t.size_delta, False, p.t.price
            status.deposit_assets, status.redeem_shares, status.price_time = p.t.assets, p.t.shares, p.price_time
        return status

    # --- admin -----------------------------------------------------------------------------------
    def set_params(self, caller: str, params: Params) -> None:
        """setParams (admin): accrues the streaming fee at the old rate, then validates and replaces."""
        with self._atomic():
            if caller != self.admin:
                raise AccessControlUnauthorizedAccount(caller)
            self._accrue_streaming_fee()
            self._set_params(params)

    # --- internal: settlement --------------------------------------------------------------------
    def _settle(self, caller: str, keeper: bool) -> Settlement:
        self._accrue_streaming_fee()
        s = self._snapshot()
        p = self._plan_settlement(keeper, s)
        if not p.feasible:
            raise SettlementRejected()
        self._roll_deposits()
        request_queue.roll(self.redemptions, p.price_time, self.clock.now, 0, 0)
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
            a = self.redeem_accounts.get(caller)
            if a is None or a.pending == 0 or request_queue.resolve(self.redemptions, a.epoch) != p.redeem_epoch:
                raise NotInRedemptionBatch(caller)
        t = p.t
        recipient = self.params.fee_recipient
        if p.deposit_epoch != 0:
            request_queue.settle(self.deposits, p.deposit_epoch, t.shares_out, t.refunded)
            self.escrow_assets = checked_uint(self.escrow_assets - t.assets)
            self._mint(self.address, t.shares_out)
            if t.mint_fee != 0:
                self._mint(recipient, t.mint_fee)
        if p.redeem_epoch != 0:
            request_queue.settle(self.redemptions, p.redeem_epoch, t.assets_out, 0)
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
        pricing. When the two sides cannot settle together the redemptions settle alone, and failing that the
        deposits; `feasible` is False when redemptions wait and neither side can settle now. A side left out
        reads zero (its amount and its fee)."""
        p = Plan(feasible=True, price_time=self._round_time()[0], t=Settlement())
        if keeper:
            p.deposit_epoch, p.t.assets, fee_bps, _ = request_queue.peek_batch(
                self.deposits, p.price_time, self.clock.now, self._window()
            )
            p.t.mint_fee_bps = min(fee_bps, self.params.mint_fee_bps)
        batch_assets = p.t.assets
        p.redeem_epoch, p.t.shares, fee_bps, _ = request_queue.peek_batch(
            self.redemptions, p.price_time, self.clock.now, 0
        )
        p.t.redeem_fee_bps = min(fee_bps, self.params.redeem_fee_bps)
        if p.deposit_epoch == 0 and p.redeem_epoch == 0:
            return p
        p.t.price = s.price
        with_deposits, with_redemptions = self._price_settlement(
            self._state(s, s.supply + self.pending_streaming_fee()), self.params.supply_cap, not self.paused, p.t
        )
        p.feasible = with_deposits or with_redemptions or p.redeem_epoch == 0
        if not with_deposits:
            p.deposit_epoch, p.t.assets, p.t.mint_fee_bps = 0, 0, 0
        else:
            p.t.refunded = batch_assets - p.t.assets
        if not with_redemptions:
            p.redeem_epoch, p.t.shares, p.t.redeem_fee_bps = 0, 0, 0
        return p

    def _price_settlement(self, s: State, supply_cap: int, deposits_allowed: bool,
                          t: Settlement) -> tuple[bool, bool]:
        """_priceSettlement: (withDeposits, withRedemptions), pricing the batches in `t` in place on state `s`:
        both sides when they can settle; otherwise the redemptions alone; otherwise the deposits alone. Deposits
        settle only when allowed (not paused), the token has equity to mint against (or no supply, or is at rest
        with equity above -DUST_EQUITY_WAD), the cap holds and the venue accepts the trade."""
        if t.price == 0:
            try:
                t.price = self.venue.index_price(self.market_id)
            except Revert:
                return False, False
        assets, shares = t.assets, t.shares
        mintable = s.supply == 0 or s.equity > -(DUST_EQUITY_WAD // self.asset_to_wad)
        deposits = assets != 0 and deposits_allowed and mintable
        if not deposits:
            t.assets = 0
        if (deposits or shares != 0) and self._price_filled(s, supply_cap, t):
            return deposits, shares != 0
        if not deposits or shares == 0:
            return False, False
        t.assets = 0
        if self._price(s, supply_cap, t):
            return False, True
        t.assets, t.shares = assets, 0
        if self._price_filled(s, supply_cap, t):
            return True, False
        return False, False

    def _price_filled(self, s: State, supply_cap: int, t: Settlement) -> bool:
        """_priceFilled: prices `t` like `_price`, filling its deposits pro rata up to `supply_cap`: when only
        the cap refuses them, their assets shrink to what the cap's room takes at the shares they would mint
        (rounded down; none without room), then along the secant through the last two pricings (shares minted
        are concave in assets, so it lands at or just under the cap), up to FILL_STEPS pricings. False when the
        venue refuses."""
        last_assets = last_minted = 0
        for _ in range(FILL_STEPS):
            if self._price(s, supply_cap, t):
                return True
            assets, minted = t.assets, t.shares_out + t.mint_fee
            kept = s.supply - (t.shares - t.redeem_fee)
            if assets == 0 or kept + minted <= supply_cap:
                return False
            if kept >= supply_cap:
                t.assets = 0
            elif last_minted > minted:
                cut = mul_div_up(kept + minted - supply_cap, last_assets - assets, last_minted - minted)
                t.assets = assets - cut if cut < assets else 0
            else:
                t.assets = mul_div_down(assets, supply_cap - kept, minted)
            last_assets, last_minted = assets, minted
        return False

    def _price(self, s: State, supply_cap: int, t: Settlement) -> bool:
        """Prices `t` in place; False when the venue would reject its trade or the deposits would take the
        supply past `supply_cap`. A redemption too small to trade whose payout the venue would not release
        settles for nothing (it is worth less than its close's cost)."""
        t.shares_out, t.mint_fee, t.redeem_fee, t.cost = 0, 0, 0, 0
        equity_units = s.equity if s.equity > 0 else 0
        gross = 0
        close_r = quote_r = 0
        if t.shares != 0:
            t.redeem_fee = mul_div_up(t.shares, t.redeem_fee_bps, BPS)
            gross = shares_math.to_assets_down(t.shares - t.redeem_fee, equity_units, s.supply, self.virtual_shares)
            close_r = -hedge_math.pro_rata(s.size, t.shares - t.redeem_fee, s.supply)
            close_r, quote_r = self._unless_dust(close_r, gross)
        hedge_d = quote_d = 0
        if t.assets != 0:
            hedge_d, quote_d = self._unless_dust(self._hedge_size(t.assets, t.price), t.assets)
        t.size_delta = hedge_d + close_r
        margin_in = s.idle + t.assets
        if t.size_delta != 0:
            accepted, t.cost = self._quote_modify(margin_in, t.size_delta)
            if not accepted:
                return False
        t.cost_d, t.cost_r = settlement_math.split(t.cost, quote_d, quote_r, t.assets != 0, t.shares != 0)
        if t.assets != 0 and not self._mint_shares(t, equity_units, s.supply, supply_cap):
            return False
        t.assets_out = gross - t.cost_r if gross > t.cost_r else 0
        t.margin_delta = margin_in - t.assets_out
        if t.margin_delta < 0:
            accepted, _ = self._quote_modify(t.margin_delta, t.size_delta)
            if not accepted:
                # Redemptions too small to trade whose payout the venue will not release: they settle for nothing.
                if t.assets != 0 or quote_r != 0:
                    return False
                t.assets_out, t.margin_delta = 0, margin_in
        return True

    def _mint_shares(self, t: Settlement, equity_units: int, supply: int, supply_cap: int) -> bool:
        """_mintShares: the deposit side's shares (fee shares rounded up) for its assets net of its share of the
        cost, at NAV rounded down; False when they would take the supply past `supply_cap`."""
        contribution = t.assets - t.cost_d if t.assets > t.cost_d else 0
        minted = shares_math.to_shares_down(contribution, equity_units, supply, self.virtual_shares)
        t.mint_fee = mul_div_up(minted, t.mint_fee_bps, BPS)
        t.shares_out = minted - t.mint_fee
        return supply - (t.shares - t.redeem_fee) + minted <= supply_cap

    # --- internal: rebalancing -------------------------------------------------------------------
    def _rebalance_due(self, caller: str, keeper_unless_ripcord: bool) -> Status:
        """The rebalance due now, for rebalance() and performUpkeep(): a ripcord pays its bounty to whoever
        executes it, keepers included; with `keeper_unless_ripcord` any other action needs the keeper role."""
        s = self._snapshot()
        status = self._status(s, False)
        if status.action == Action.NONE:
            raise RebalanceNotDue()
        is_ripcord = status.action == Action.RIPCORD
        if keeper_unless_ripcord and not is_ripcord:
            self._check_role(caller, self.keepers)
        self._rebalance(status, s, caller if is_ripcord else None)
        return status

    def _rebalance(self, status: Status, s: Snapshot, bounty_to: str | None) -> None:
        """Trades `status.size_delta`. A ripcord (`bounty_to` set) pays the bounty out of margin; an
        ordinary rebalance first sweeps free idle collateral (donations) into margin. A trade the venue
        rejects raises the venue's own error (the execution does not simulate it first)."""
        self._accrue_streaming_fee()
        if abs(s.size + status.size_delta) > abs(s.size):
            self._require_not_paused()
        paid = 0 if bounty_to is None else self.bounty(checked_uint(status.equity), self.params.ripcord_bounty)
        margin_delta = s.idle if bounty_to is None else -paid
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
        self._record_valuation(s.equity - cost - paid)

    def _status(self, snapshot: Snapshot, check_margin: bool) -> Status:
        """_status: the rebalance due on the state in `snapshot`, why, and its trade: toward target size net of
        its own cost, capped at maxTradeNotional unless a ripcord (whose bounty leaves the equity first). NONE
        below DUST_EQUITY_WAD of equity and when the trade could not succeed: the equity does not exceed its
        quoted cost by DUST_UNITS, or (`check_margin`, for the view) the venue's margin check would reject it
        (DESIGN.md 4)."""
        s = self._state(snapshot, snapshot.supply)
        p = self.params
        status = Status(equity=s.equity)
        if s.supply == 0 or s.equity <= 0:
            return status
        price = self.venue.index_price(self.market_id) if s.price == 0 else s.price
        status.price = price
        status.leverage = hedge_math.leverage(s.size, price, s.equity * self.asset_to_wad)
        target = hedge_math.target_size(s.equity * self.asset_to_wad, self.target_leverage, price)
        if s.equity * self.asset_to_wad < DUST_EQUITY_WAD:
            return status
        status.action, status.reason = rebalance_logic.decide(
            status.leverage, self.target_leverage, target != s.size, s.iterating, s.interval_elapsed,
            p.leverage_min, p.leverage_max, p.ripcord_leverage, p.min_drift,
        )
        if status.action == Action.NONE:
            return status
        equity_units = s.equity
        if status.action == Action.RIPCORD:
            equity_units -= self.bounty(equity_units, p.ripcord_bounty)
            target = hedge_math.target_size(equity_units * self.asset_to_wad, self.target_leverage, price)
        status.size_delta = target - s.size
        if status.size_delta != 0:
            fee, impact = self._quote_cost(status.size_delta)
            status.size_delta = hedge_math.net_of_cost(target, status.size_delta, equity_units, fee, impact)
        if status.action != Action.RIPCORD:
            status.size_delta, status.capped = rebalance_logic.cap_trade(
                status.size_delta, p.max_trade_notional * self.asset_to_wad, price
            )
        # What the token sends with the trade: idle collateral in, or the ripcord's bounty out.
        margin_delta = -(s.equity - equity_units) if status.action == Action.RIPCORD else s.idle
        if not self._sendable(status.size_delta, margin_delta, equity_units, check_margin):
            status.action, status.reason, status.size_delta, status.capped = Action.NONE, Reason.NONE, 0, False
        return status

    @staticmethod
    def bounty(equity_units: int, ripcord_bounty: int) -> int:
        """bounty: `ripcord_bounty`, capped at MAX_BOUNTY_BPS of `equity_units`."""
        return min(ripcord_bounty, mul_div_down(equity_units, MAX_BOUNTY_BPS, BPS))

    # --- internal: venue quotes ------------------------------------------------------------------
    def _quote_cost(self, size_delta: int) -> tuple[int, int]:
        """Fee and impact (collateral units) the venue quotes now for a trade of `size_delta`."""
        q = self.venue.quote_trade(self.market_id, size_delta)
        return q.fee, q.impact

    def _sendable(self, size_delta: int, margin_delta: int, equity_units: int, check_margin: bool) -> bool:
        """_sendable: whether a rebalance of `size_delta` with `margin_delta` would succeed now: the equity left
        after the action exceeds the trade's quoted cost by DUST_UNITS and, when `check_margin`, the venue's
        margin check passes. (The contract skips the second quote when the first one's cost bound already
        clears the equity; the answer is the same.)"""
        if size_delta != 0:
            traded, _ = self._unless_dust(size_delta, equity_units)
            if traded == 0:
                return False
        if not check_margin:
            return True
        accepted, _ = self._quote_modify(margin_delta, size_delta)
        return accepted

    def _quote_modify(self, margin_delta: int, size_delta: int) -> tuple[bool, int]:
        """_quoteModify: whether the venue accepts the change on this token's account now, and the trade's
        exact cost (what the account's value loses beyond the margin moved)."""
        try:
            before, after, _ = self.venue.quote_modify(self.market_id, self.address, margin_delta, size_delta)
        except Revert:
            return False, 0
        return True, (before + margin_delta - after) % 2**256

    def _unless_dust(self, size_delta: int, value: int) -> tuple[int, int]:
        """_unlessDust: `size_delta` and its stand-alone quoted cost, or (0, 0) when `value` does not exceed that
        cost by DUST_UNITS (a dust request does not trade, so it never leaves a cost it cannot pay)."""
        if size_delta == 0:
            return 0, 0
        fee, impact = self._quote_cost(size_delta)
        if value < fee + impact + DUST_UNITS:
            return 0, 0
        return size_delta, fee + impact

    def _hedge_size(self, assets: int, price: int) -> int:
        """HedgeMath.hedgeSize of a deposit of `assets` at `price`, on the venue's quote of its gross size."""
        gross = hedge_math.target_size(assets * self.asset_to_wad, self.target_leverage, price)
        if gross == 0:
            return 0
        fee, impact = self._quote_cost(gross)
        return hedge_math.hedge_size(gross, assets, fee, impact)

    # --- internal: state and parameters ----------------------------------------------------------
    def _state(self, s: Snapshot, supply: int) -> State:
        interval_elapsed = self.clock.now >= self.last_rebalance + self.params.rebalance_interval
        return State(s.size, s.price, s.equity, s.idle, supply, self.iterating, interval_elapsed)

    def _check_leverage(self) -> None:
        """LeverageOutOfRange unless 0 < |target_leverage| <= max_leverage <= MAX_HARD_CAP."""
        if self.target_leverage == 0 or abs(self.target_leverage) > self.max_leverage or self.max_leverage > MAX_HARD_CAP:
            raise LeverageOutOfRange(self.target_leverage)

    def _set_params(self, p: Params) -> None:
        """Stores `p` once every field is within its bounds (RebalanceLogic.checkParams with this token's target,
        max_leverage and the hard maxima; the bounty at most 1000 collateral units)."""
        rebalance_logic.check_params(p, abs(self.target_leverage), self.max_leverage, MAX_FEE_BPS,
                                     MAX_STREAMING_FEE_PER_DAY, 1000 * WAD // self.asset_to_wad)
        self.params = memory(p)
