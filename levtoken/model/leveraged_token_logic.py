"""LeveragedTokenLogic (contracts/LeveragedTokenLogic.sol): the view-only decisions of one LeveragedToken,
which deploys it: the rebalance decision and its trade, a settlement's outcomes and trade (DESIGN.md 7.6),
and the parameter bounds. It holds no state and moves nothing; the token passes its state in and acts on
the answer. The file-level constants (MAX_HARD_CAP and the fee and bounty maxima) live here too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from levtoken.model.errors import Revert
from levtoken.model.journal import memory
from levtoken.model.libraries import hedge_math, rebalance_logic, settlement_math, shares_math
from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up
from levtoken.shapes import Action, Params, Reason, Settlement, Status
from levtoken.units import BPS, WAD

if TYPE_CHECKING:
    from levtoken.model.perp_venue import PerpVenue

MAX_HARD_CAP = 20 * WAD  # largest accepted hard leverage cap
MAX_STREAMING_FEE_PER_DAY = 10**15  # 0.1% per day
MAX_FEE_BPS = 100  # largest mint or redeem fee, 1%
MAX_BOUNTY_BPS = 100  # largest fraction of equity a ripcord bounty may take, 1%
DUST_UNITS = 2  # a settlement side trades only when its value exceeds its trade's quoted cost by this much
# Equity (18 decimals) below which a token is at rest, one unit of collateral: no rebalance is due, and deposits
# are taken even when its dust's value has fallen to zero or below.
DUST_EQUITY_WAD = WAD


@dataclass
class State:
    """LeveragedTokenLogic.State: the token's equity state (see LeveragedToken._snapshot)."""

    size: int
    price: int
    equity: int  # collateral units
    idle: int  # free idle collateral (escrow excluded)
    supply: int  # streaming fee not accrued (rebalances) or accrued (settlements)
    iterating: bool
    interval_elapsed: bool


class LeveragedTokenLogic:
    """The logic contract of the token at `token`: immutables only."""

    def __init__(self, venue: "PerpVenue", market_id: int, target_leverage: int, asset_to_wad: int,
                 token: str) -> None:
        self.venue = venue
        self.market_id = market_id
        self.target_leverage = target_leverage
        self.token = token
        self.asset_to_wad = asset_to_wad
        self.virtual_shares = asset_to_wad

    def check_params(self, p: Params, max_leverage: int) -> None:
        """checkParams: raises InvalidParameter naming the first field of `p` out of bounds."""
        rebalance_logic.check_params(p, abs(self.target_leverage), max_leverage, MAX_FEE_BPS,
                                     MAX_STREAMING_FEE_PER_DAY, 1000 * WAD // self.asset_to_wad)

    def rebalance_decision(self, s: State, p: Params) -> Status:
        """rebalanceDecision: the rebalance due on state `s` under `p`, why, and its trade: toward target size
        net of its own cost, capped at maxTradeNotional unless a ripcord (whose bounty leaves the equity
        first). NONE below DUST_EQUITY_WAD of equity and when the trade could not succeed: the
        equity does not exceed its quoted cost by DUST_UNITS, or the venue's margin check would reject it
        (DESIGN.md 4)."""
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
        if not self._sendable(status.size_delta, margin_delta, equity_units):
            status.action, status.reason, status.size_delta, status.capped = Action.NONE, Reason.NONE, 0, False
        return status

    def plan_settlement(self, s: State, supply_cap: int, deposits_allowed: bool,
                        t: Settlement) -> tuple[bool, bool, Settlement]:
        """planSettlement: (feasible, withDeposits, the priced settlement) of the batches in `t` on state
        `s`: with the deposits when allowed (not paused), the token has equity to mint against (or no
        supply, or is at rest with equity above -DUST_EQUITY_WAD), the cap holds and the venue accepts the trade; otherwise the redemptions alone."""
        t = memory(t)  # an external call's argument is a copy
        if t.price == 0:
            try:
                t.price = self.venue.index_price(self.market_id)
            except Revert:
                return False, False, t
        mintable = s.supply == 0 or s.equity > -(DUST_EQUITY_WAD // self.asset_to_wad)
        if t.assets != 0 and deposits_allowed and mintable and self._price(s, supply_cap, t):
            return True, True, t
        t.assets = 0
        if t.shares == 0:
            return True, False, t
        return self._price(s, supply_cap, t), False, t

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
            try:
                before, after, _ = self.venue.quote_modify(self.market_id, self.token, margin_in, t.size_delta)
            except Revert:
                return False
            t.cost = (before + margin_in - after) % 2**256
        t.cost_d, t.cost_r = settlement_math.split(t.cost, quote_d, quote_r, t.assets != 0, t.shares != 0)
        if t.assets != 0:
            contribution = t.assets - t.cost_d if t.assets > t.cost_d else 0
            minted = shares_math.to_shares_down(contribution, equity_units, s.supply, self.virtual_shares)
            t.mint_fee = mul_div_up(minted, t.mint_fee_bps, BPS)
            t.shares_out = minted - t.mint_fee
            if s.supply - (t.shares - t.redeem_fee) + minted > supply_cap:
                return False
        t.assets_out = gross - t.cost_r if gross > t.cost_r else 0
        t.margin_delta = margin_in - t.assets_out
        if t.margin_delta < 0:
            try:
                self.venue.quote_modify(self.market_id, self.token, t.margin_delta, t.size_delta)
            except Revert:
                # Redemptions too small to trade whose payout the venue will not release: they settle for nothing.
                if t.assets != 0 or quote_r != 0:
                    return False
                t.assets_out, t.margin_delta = 0, margin_in
        return True

    @staticmethod
    def bounty(equity_units: int, ripcord_bounty: int) -> int:
        """bounty: `ripcord_bounty`, capped at MAX_BOUNTY_BPS of `equity_units`."""
        return min(ripcord_bounty, mul_div_down(equity_units, MAX_BOUNTY_BPS, BPS))

    def _quote_cost(self, size_delta: int) -> tuple[int, int]:
        """Fee and impact (collateral units) the venue quotes now for a trade of `size_delta`."""
        q = self.venue.quote_trade(self.market_id, size_delta)
        return q.fee, q.impact

    def _sendable(self, size_delta: int, margin_delta: int, equity_units: int) -> bool:
        """_sendable: whether a rebalance of `size_delta` with `margin_delta` would succeed now: the equity left
        after the action exceeds the trade's quoted cost by DUST_UNITS and the venue's margin check passes."""
        if size_delta != 0:
            traded, _ = self._unless_dust(size_delta, equity_units)
            if traded == 0:
                return False
        try:
            self.venue.quote_modify(self.market_id, self.token, margin_delta, size_delta)
        except Revert:
            return False
        return True

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
