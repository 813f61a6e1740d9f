"""LeveragedToken (contracts/LeveragedToken.sol): a constant-leverage token on a perpetual-futures venue,
an ERC-20 with ERC-4626 entry and exit. Its arithmetic lives in SharesMath, HedgeMath and RebalanceLogic;
this contract holds the state, reads the venue and moves the assets.

Accounting (DESIGN.md section 3): equity E = venue account value + idle collateral; NAV = E / S. Shares
use OpenZeppelin's virtual offset (10^(18 - asset decimals) virtual shares, 1 virtual asset: see
SharesMath). Every share and asset amount rounds in favour of the holders who stay. Mint and redeem cost
is measured from the venue's own accounting (value before and after the hedge trade), so the caller pays
exactly its hedge, to the unit, and previews reproduce it with the venue's quote of the same arithmetic.

Not modelled: events, signatures (permit), Automation's performData.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from levtoken.model.erc20 import ERC20
from levtoken.model.errors import (
    AccessControlUnauthorizedAccount, DeadlineExpired, EnforcedPause, ExceedsMaxWithdraw, ExpectedPause,
    LeverageOutOfRange, NoEquity, RebalanceNotDue, RipcordNotDue, SlippageExceeded, SupplyCapExceeded, ZeroAmount,
)
from levtoken.model.journal import memory
from levtoken.model.libraries import hedge_math, rebalance_logic, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up
from levtoken.model.libraries.safe_cast import checked_uint, to_uint256_unchecked
from levtoken.shapes import UINT256_MAX, ZERO_ADDRESS, Action, Params, Status
from levtoken.units import BPS, DAY, WAD

if TYPE_CHECKING:
    from levtoken.model.system import Model

MAX_HARD_CAP = 20 * WAD  # largest accepted hard leverage cap
MAX_STREAMING_FEE_PER_DAY = 10**15  # 0.1% per day
MAX_FEE_BPS = 100  # largest mint or redeem fee, 1%
MAX_BOUNTY_BPS = 100  # largest fraction of equity a ripcord bounty may take, 1%
LEAST_INPUT_STEPS = 16  # previewMint's and previewWithdraw's search gives up after this many steps


@dataclass
class Snapshot:
    """LeveragedToken.Snapshot: equity state read from the venue in one call, plus idle collateral and
    supply."""

    value: int
    size: int
    price: int
    idle: int
    equity: int
    supply: int


@dataclass
class RedeemPlan:
    """LeveragedToken.RedeemPlan: how a redemption of shares splits, what it closes and what it pays."""

    burn_shares: int = 0
    fee_shares: int = 0
    gross: int = 0  # value of the burnt shares
    size_delta: int = 0  # the pro-rata close
    hedge_cost: int = 0  # what the close is charged (see _quote_redeem)
    assets: int = 0  # gross - hedge_cost, at least zero


class LeveragedToken(ERC20):
    """LeveragedToken: streaming fee, ERC-4626 entry and exit with hedges, rebalancing, ripcord.
    Entry points take the caller's address first (msg.sender)."""

    # --- constructor -----------------------------------------------------------------------------
    def __init__(self, model: "Model", address: str, market_id: int, target_leverage: int, max_leverage: int,
                 params: Params, admin: str = "gov", keeper: str | None = None, guardian: str | None = None,
                 asset_decimals: int = 6) -> None:
        """The constructor: `target_leverage` signed (WAD), non-zero, |target| <= `max_leverage` <=
        MAX_HARD_CAP; `params` validated; `keeper` and `guardian` may be None (no such role)."""
        if target_leverage == 0 or abs(target_leverage) > max_leverage or max_leverage > MAX_HARD_CAP:
            raise LeverageOutOfRange(target_leverage)
        super().__init__(model.journal)
        self.model = model
        self.venue = model.venue
        self.address = address
        self.market_id = market_id
        self.target_leverage = target_leverage
        self.max_leverage = max_leverage
        self.asset_decimals = asset_decimals
        self.offset = 18 - asset_decimals
        self.virtual_shares = 10**self.offset
        self.asset_to_wad = 10**self.offset  # collateral units * asset_to_wad = 18 decimals
        self.admin = admin
        self.keepers = frozenset({keeper} if keeper else ())
        self.guardians = frozenset({guardian} if guardian else ())
        self.iterating = False  # a capped rebalance has not reached target
        self.paused = False
        self._set_params(params)
        self.last_rebalance = model.now
        self.last_fee_accrual = model.now

    # --- ERC-4626 entry and exit -----------------------------------------------------------------
    def deposit(self, caller: str, assets: int, receiver: str) -> int:
        """deposit: shares for `assets`, after the mint fee and the hedge's cost."""
        with self._atomic():
            return self._mint_flow(caller, assets, receiver, 0, UINT256_MAX)

    def mint(self, caller: str, shares: int, receiver: str) -> int:
        """mint: pulls previewMint(shares) assets for exactly `shares`; any excess value over `shares` stays
        with the holders. Returns the assets."""
        with self._atomic():
            if shares == 0:
                raise ZeroAmount()
            assets = self.preview_mint(shares)
            self._mint_flow(caller, assets, receiver, shares, shares)
            return assets

    def withdraw(self, caller: str, assets: int, receiver: str, owner: str) -> int:
        """withdraw: burns previewWithdraw(assets) shares and pays exactly `assets`; any excess stays with
        the holders. Returns the shares."""
        with self._atomic():
            if assets == 0:
                raise ZeroAmount()
            shares = self.preview_withdraw(assets)
            max_shares = self.balance_of(owner)
            if shares > max_shares:
                # previewWithdraw rounds up; the whole balance may still pay `assets` (e.g. maxWithdraw).
                if self.preview_redeem(max_shares) < assets:
                    raise ExceedsMaxWithdraw(assets, self.max_withdraw(owner))
                shares = max_shares
            self._redeem_flow(caller, shares, receiver, owner, assets, assets)
            return shares

    def redeem(self, caller: str, shares: int, receiver: str, owner: str) -> int:
        """redeem: assets for `shares`, after the redeem fee and the closing trade's cost."""
        with self._atomic():
            return self._redeem_flow(caller, shares, receiver, owner, 0, 0)

    def deposit_with_min_shares(self, caller: str, assets: int, receiver: str, min_shares: int, deadline: int) -> int:
        """depositWithMinShares: ERC-4626 deposit with a minimum of shares and a deadline."""
        with self._atomic():
            if self.model.now > deadline:
                raise DeadlineExpired(deadline)
            return self._mint_flow(caller, assets, receiver, min_shares, UINT256_MAX)

    def redeem_with_min_assets(self, caller: str, shares: int, receiver: str, owner: str, min_assets: int,
                               deadline: int) -> int:
        """redeemWithMinAssets: ERC-4626 redeem with a minimum of assets and a deadline."""
        with self._atomic():
            if self.model.now > deadline:
                raise DeadlineExpired(deadline)
            return self._redeem_flow(caller, shares, receiver, owner, min_assets, 0)

    # --- rebalancing -----------------------------------------------------------------------------
    def rebalance(self, caller: str) -> Status:
        """rebalance (keeper role): trades toward target when rebalanceStatus says so. When the action due
        is a ripcord, the keeper is paid the ripcord bounty like any other caller."""
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
        """performUpkeep: a ripcord is open to anyone (and pays the bounty to the caller); other actions
        need the keeper role."""
        with self._atomic():
            self._rebalance_due(caller, True)

    def rebalance_status(self) -> Status:
        """rebalanceStatus: the action due now, why, and its trade (target net of the trade's cost)."""
        return self._status(self._snapshot())

    def _status(self, s: Snapshot) -> Status:
        """The rebalance decision for the state in `s` (the price is read if `s` has none), and the trade
        it makes: toward target size net of its own cost, capped at maxTradeNotional unless a ripcord."""
        status = Status(equity=s.equity)
        if s.supply == 0 or s.equity <= 0:
            return status
        if s.price == 0:
            s.price = self.venue.index_price(self.market_id)
        status.price = s.price
        status.leverage = hedge_math.leverage(s.size, s.price, s.equity * self.asset_to_wad)
        target = hedge_math.target_size(s.equity * self.asset_to_wad, self.target_leverage, s.price)
        p = self.params
        status.action, status.reason = rebalance_logic.decide(
            status.leverage, self.target_leverage, target != s.size, self.iterating,
            self.model.now >= self.last_rebalance + p.rebalance_interval,
            p.leverage_min, p.leverage_max, p.ripcord_leverage, p.min_drift,
        )
        if status.action == Action.NONE:
            return status
        # A ripcord's bounty leaves the equity too: size the target on what stays.
        equity_units = s.equity
        if status.action == Action.RIPCORD:
            equity_units -= self._bounty(equity_units)
            target = hedge_math.target_size(equity_units * self.asset_to_wad, self.target_leverage, s.price)
        status.size_delta = target - s.size
        if status.size_delta != 0:
            fee, impact = self._quote_cost(status.size_delta)
            status.size_delta = hedge_math.net_of_cost(target, status.size_delta, equity_units, fee, impact)
        if status.action != Action.RIPCORD:
            status.size_delta, status.capped = rebalance_logic.cap_trade(
                status.size_delta, p.max_trade_notional * self.asset_to_wad, s.price
            )
        return status

    # --- admin and guardian ----------------------------------------------------------------------
    def set_params(self, caller: str, params: Params) -> None:
        """setParams (admin): accrues the streaming fee at the old rate, then validates and replaces."""
        with self._atomic():
            if caller != self.admin:
                raise AccessControlUnauthorizedAccount(caller)
            self._accrue_streaming_fee()
            self._set_params(params)

    def pause(self, caller: str) -> None:
        """pause (guardian): stops mints and rebalances that add exposure."""
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

    def accrue_streaming_fee(self) -> None:
        """accrueStreamingFee (also done before every state change)."""
        with self._atomic():
            self._accrue_streaming_fee()

    # --- views -----------------------------------------------------------------------------------
    def equity(self) -> int:
        """Venue account value plus idle collateral, collateral units (can be negative)."""
        return self._snapshot().equity

    def leverage(self) -> int:
        """Signed leverage, WAD (0 without position or equity)."""
        s = self._snapshot()
        if s.equity <= 0 or s.size == 0:
            return 0
        return hedge_math.leverage(s.size, s.price, s.equity * self.asset_to_wad)

    def nav_per_token(self) -> int:
        """Assets per 1e18 shares, streaming fee accrued, rounded down."""
        return self.convert_to_assets(WAD)

    def pending_streaming_fee(self) -> int:
        """Shares the streaming fee would mint if accrued now."""
        elapsed = self.model.now - self.last_fee_accrual
        supply = self.total_supply
        fee_per_day = self.params.streaming_fee_per_day
        if elapsed == 0 or supply == 0 or fee_per_day == 0:
            return 0
        # Fraction f of the supply's value taken over `elapsed`: minting S*f/(1-f) shares dilutes by f.
        fraction = min(mul_div_down(fee_per_day, elapsed, DAY), WAD // 2)
        return mul_div_down(supply, fraction, WAD - fraction)

    def total_assets(self) -> int:
        """totalAssets: equity, 0 when negative."""
        return self._equity_or_zero(self._snapshot())

    def convert_to_shares(self, assets: int) -> int:
        """convertToShares (streaming fee accrued, rounded down)."""
        return self._convert_to_shares(assets, round_up=False)

    def convert_to_assets(self, shares: int) -> int:
        """convertToAssets (streaming fee accrued, rounded down)."""
        return self._convert_to_assets(shares, round_up=False)

    def max_deposit(self) -> int:
        """maxDeposit: what the supply cap leaves (0 while paused)."""
        if self.paused:
            return 0
        cap = self.params.supply_cap
        if cap == UINT256_MAX:
            return UINT256_MAX
        supply = self.total_supply + self.pending_streaming_fee()
        return 0 if supply >= cap else self._convert_to_assets(cap - supply, round_up=False)

    def max_mint(self) -> int:
        """maxMint: shares the supply cap leaves (0 while paused)."""
        if self.paused:
            return 0
        cap = self.params.supply_cap
        supply = self.total_supply + self.pending_streaming_fee()
        return 0 if supply >= cap else cap - supply

    def max_withdraw(self, owner: str) -> int:
        """maxWithdraw: what redeeming the owner's whole balance pays."""
        shares = self.balance_of(owner)
        return 0 if shares == 0 else self.preview_redeem(shares)

    def max_redeem(self, owner: str) -> int:
        """maxRedeem: the owner's balance."""
        return self.balance_of(owner)

    def preview_deposit(self, assets: int) -> int:
        """previewDeposit: includes the mint fee and the hedge's fee and impact, exactly as deposit()
        charges them."""
        if assets == 0:
            return 0
        return self._quote_mint(self._snapshot_with_fee(), assets)

    def preview_mint(self, shares: int) -> int:
        """previewMint: the least assets that mint `shares`."""
        if shares == 0:
            return 0
        s = self._snapshot_with_fee()
        # Start from NAV grossed up by the mint fee; _least_input adds what the hedge cost takes.
        gross = mul_div_up(shares, BPS, BPS - self.params.mint_fee_bps) + 1
        assets = shares_math.to_assets_up(gross, self._equity_or_zero(s), s.supply, self.virtual_shares)
        return self._least_input(s, True, shares, assets)

    def preview_withdraw(self, assets: int) -> int:
        """previewWithdraw: the least shares that redeem for `assets`."""
        if assets == 0:
            return 0
        s = self._snapshot_with_fee()
        # Start from NAV grossed up by the redeem fee; _least_input adds what the closing trade takes.
        shares = shares_math.to_shares_up(assets, self._equity_or_zero(s), s.supply, self.virtual_shares)
        return self._least_input(s, False, assets, mul_div_up(shares, BPS, BPS - self.params.redeem_fee_bps) + 1)

    def preview_redeem(self, shares: int) -> int:
        """previewRedeem: includes the redeem fee and the closing trade's fee and impact."""
        if shares == 0:
            return 0
        return self._quote_redeem(self._snapshot_with_fee(), shares, ZERO_ADDRESS).assets

    # --- internal: flows -------------------------------------------------------------------------
    def _mint_flow(self, caller: str, assets: int, receiver: str, min_shares: int, exact_shares: int) -> int:
        self._require_not_paused()
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
        s = Snapshot(value=0, size=0, price=price, idle=idle, equity=before + idle, supply=supply)
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
        checked_uint(assets - to_uint256_unchecked(after - before))  # the HedgeExecuted event's cost
        return shares

    def _redeem_flow(self, caller: str, shares: int, receiver: str, owner: str, min_assets: int,
                     exact_assets: int) -> int:
        if shares == 0:
            raise ZeroAmount()
        self._accrue_streaming_fee()
        if caller != owner:
            self._spend_allowance(owner, caller, shares)
        s = self._snapshot()
        plan = self._quote_redeem(s, shares, owner)
        # Effects on shares first; the venue (other than its quote) and the asset are called after.
        self._burn(owner, plan.burn_shares)
        if plan.fee_shares != 0:
            self._transfer(owner, self.params.fee_recipient, plan.fee_shares)
        assets = plan.assets
        if exact_assets != 0:
            if assets < exact_assets:
                raise SlippageExceeded(assets, exact_assets)
            assets = exact_assets
        if assets == 0 or assets < min_assets:
            raise SlippageExceeded(assets, min_assets)
        # Idle collateral pays first; what it does not pay comes out of margin in the same venue call as the
        # closing trade (a pro-rata exit). Idle left over joins the margin before the trade.
        margin_delta = s.idle - assets
        if plan.size_delta != 0 or margin_delta != 0:
            self.venue.modify_position(self.address, self.market_id, margin_delta, plan.size_delta, receiver)
        from_idle = min(s.idle, assets)
        if from_idle != 0:
            self.model.collateral.transfer(self.address, receiver, from_idle)
        return assets

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
        ordinary rebalance first sweeps idle collateral (donations) into margin."""
        self._accrue_streaming_fee()
        if abs(s.size + status.size_delta) > abs(s.size):
            self._require_not_paused()
        margin_delta = s.idle if bounty_to is None else -self._bounty(status.equity)
        to = self.address if bounty_to is None else bounty_to
        self.venue.modify_position(self.address, self.market_id, margin_delta, status.size_delta, to)
        completed = not status.capped
        self.iterating = not completed
        if completed:
            last = self.last_rebalance
            following = rebalance_logic.next_last_rebalance(last, self.model.now, self.params.rebalance_interval)
            if following != last:
                self.last_rebalance = checked_uint(following, 64)

    # --- internal: accounting --------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        value, size, price = self.venue.account_state(self.market_id, self.address)
        idle = self.model.collateral.balance_of(self.address)
        return Snapshot(value, size, price, idle, value + idle, self.total_supply)

    def _snapshot_with_fee(self) -> Snapshot:
        """Snapshot as it will be after the streaming fee accrues (for views)."""
        s = self._snapshot()
        s.supply += self.pending_streaming_fee()
        return s

    @staticmethod
    def _equity_or_zero(s: Snapshot) -> int:
        return s.equity if s.equity > 0 else 0

    def _shares_for(self, s: Snapshot, contribution: int) -> tuple[int, int]:
        """Shares for `contribution` (equity added net of the hedge cost) at the snapshot's NAV, split into
        the caller's and the mint fee's; both rounded against the caller."""
        if contribution <= 0:
            return 0, 0
        total = shares_math.to_shares_down(contribution, self._equity_or_zero(s), s.supply, self.virtual_shares)
        fee = mul_div_up(total, self.params.mint_fee_bps, BPS)
        return total - fee, fee

    def _convert_to_shares(self, assets: int, round_up: bool) -> int:
        s = self._snapshot_with_fee()
        convert = shares_math.to_shares_up if round_up else shares_math.to_shares_down
        return convert(assets, self._equity_or_zero(s), s.supply, self.virtual_shares)

    def _convert_to_assets(self, shares: int, round_up: bool) -> int:
        s = self._snapshot_with_fee()
        convert = shares_math.to_assets_up if round_up else shares_math.to_assets_down
        return convert(shares, self._equity_or_zero(s), s.supply, self.virtual_shares)

    # --- internal: quotes ------------------------------------------------------------------------
    def _quote_mint(self, s: Snapshot, assets: int) -> int:
        """Shares (net of the mint fee) a deposit of `assets` gets now, from the venue's quote of the
        hedge, the same arithmetic deposit() runs."""
        if s.supply != 0 and s.equity <= 0:
            return 0
        price = self.venue.index_price(self.market_id) if s.price == 0 else s.price
        size_delta = self._hedge_size(assets, price)
        before, after, _ = self.venue.quote_modify(self.market_id, self.address, assets, size_delta)
        return self._shares_for(s, after - before)[0]

    def _quote_redeem(self, s: Snapshot, shares: int, owner: str) -> RedeemPlan:
        """Splits redeemed shares of `owner` into fee (none for the fee recipient) and burnt, values the
        burnt ones (rounded down), sizes the pro-rata close (rounded toward zero, so the remaining holders
        keep at least their share) and subtracts what the close is charged: the venue's fee and impact plus
        one unit, because splitting unrealised PnL into a realised and a remaining part can round one unit
        against the account."""
        plan = RedeemPlan()
        p = self.params
        plan.fee_shares = 0 if owner == p.fee_recipient else mul_div_up(shares, p.redeem_fee_bps, BPS)
        plan.burn_shares = shares - plan.fee_shares
        plan.gross = shares_math.to_assets_down(
            plan.burn_shares, self._equity_or_zero(s), s.supply, self.virtual_shares
        )
        plan.size_delta = -hedge_math.pro_rata(s.size, plan.burn_shares, s.supply)
        if plan.size_delta != 0:
            fee, impact = self._quote_cost(plan.size_delta)
            plan.hedge_cost = fee + impact + 1
        plan.assets = plan.gross - plan.hedge_cost if plan.gross > plan.hedge_cost else 0
        return plan

    def _least_input(self, s: Snapshot, is_mint: bool, wanted: int, given: int) -> int:
        """The least input, searched upward from `given`, whose quote reaches `wanted`: assets that mint
        `wanted` shares (`is_mint`), or shares that redeem for `wanted` assets. Each step adds the shortfall
        converted at NAV (rounded up, plus one unit); the hedge's cost makes a few steps necessary."""
        total_assets = self._equity_or_zero(s)
        for _ in range(LEAST_INPUT_STEPS):
            got = self._quote_mint(s, given) if is_mint else self._quote_redeem(s, given, ZERO_ADDRESS).assets
            if got >= wanted:
                return given
            convert = shares_math.to_assets_up if is_mint else shares_math.to_shares_up
            given += convert(wanted - got, total_assets, s.supply, self.virtual_shares) + 1
        raise SlippageExceeded(0, wanted)

    def _quote_cost(self, size_delta: int) -> tuple[int, int]:
        """Fee and impact (collateral units) the venue quotes now for a trade of `size_delta`."""
        q = self.venue.quote_trade(self.market_id, size_delta)
        return q.fee, q.impact

    def _hedge_size(self, assets: int, price: int) -> int:
        """HedgeMath.hedge_size of a deposit of `assets` at `price`, on the venue's quote of its gross size."""
        gross = hedge_math.target_size(assets * self.asset_to_wad, self.target_leverage, price)
        if gross == 0:
            return 0
        fee, impact = self._quote_cost(gross)
        return hedge_math.hedge_size(gross, assets, fee, impact)

    def _bounty(self, equity_units: int) -> int:
        """Bounty of a ripcord on `equity_units`: the parameter, capped at MAX_BOUNTY_BPS of equity."""
        return min(self.params.ripcord_bounty, mul_div_down(equity_units, MAX_BOUNTY_BPS, BPS))

    # --- internal: fees, parameters, roles -------------------------------------------------------
    def _accrue_streaming_fee(self) -> None:
        elapsed = self.model.now - self.last_fee_accrual
        if elapsed == 0:
            return
        fee_shares = self.pending_streaming_fee()
        self.last_fee_accrual = self.model.now
        if fee_shares != 0:
            self._mint(self.params.fee_recipient, fee_shares)

    def _set_params(self, p: Params) -> None:
        """Stores `p` once every field is within its bounds (see RebalanceLogic.check_params)."""
        rebalance_logic.check_params(p, abs(self.target_leverage), self.max_leverage, MAX_FEE_BPS,
                                     MAX_STREAMING_FEE_PER_DAY, 1000 * 10**self.asset_decimals)
        self.params = memory(p)

    def _require_not_paused(self) -> None:
        if self.paused:
            raise EnforcedPause()

    @staticmethod
    def _check_role(caller: str, holders: frozenset[str]) -> None:
        if caller not in holders:
            raise AccessControlUnauthorizedAccount(caller)
