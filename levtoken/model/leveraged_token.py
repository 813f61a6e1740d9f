"""LeveragedToken (contracts/LeveragedToken.sol): a constant-leverage token on a perpetual-futures venue, an
ERC-20 whose entry and exit are ERC-7540 requests (AsyncRequests) settled by keepers at a later oracle round.
What holders and integrators call lives here and in AsyncRequests; settlement, rebalancing, initialization and
parameter changes in LeveragedTokenLogic, which the contract delegates them to (here: a second base class);
the state in LeveragedTokenStorage; the arithmetic in SharesMath, HedgeMath, RebalanceLogic, RequestQueue and
SettlementMath.

Accounting (DESIGN.md sections 3 and 7): equity E = venue account value + idle collateral not held in
escrow; NAV = E / S (escrowed shares included in S). Shares use OpenZeppelin's virtual offset. One
settlement nets the deposits' hedge and the redemptions' pro-rata close into one venue trade, whose exact
cost the two sides share (SettlementMath). Valuation views fall back on the equity and supply recorded by
the last settlement or rebalance while the oracle is stale.

Not modelled: events, signatures (permit), Automation's performData, the clone's bytecode.
"""

from __future__ import annotations

from collections.abc import Mapping

from levtoken.model.async_requests import AsyncRequests
from levtoken.model.clock import Clock
from levtoken.model.errors import AccessControlUnauthorizedAccount, EnforcedPause, ExpectedPause
from levtoken.model.journal import Journal
from levtoken.model.leveraged_token_logic import LeveragedTokenLogic
from levtoken.model.libraries import hedge_math, rebalance_logic, shares_math
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import Params
from levtoken.units import WAD

class LeveragedToken(AsyncRequests, LeveragedTokenLogic):
    """LeveragedToken: ERC-20 shares, requests and claims (AsyncRequests), pause, valuation views; settlement,
    streaming fee, rebalancing and ripcord (LeveragedTokenLogic). Entry points take the caller's address first
    (msg.sender)."""

    # --- creation --------------------------------------------------------------------------------
    def __init__(self, venue: PerpVenue, market_id: int, target_leverage: int, max_leverage: int, params: Params,
                 admin: str = "gov", keeper: str | None = None, guardian: str | None = None, *, address: str,
                 journal: Journal, clock: Clock, feeds: Mapping[str, Feed]) -> None:
        """The factory's createToken: a clone with these constants at `address`, initialized at once (see
        LeveragedTokenStorage for the chain it is given and LeveragedTokenLogic.initialize for the checks)."""
        super().__init__(venue, market_id, target_leverage, max_leverage, address=address, journal=journal,
                         clock=clock, feeds=feeds)
        self.initialize(params, admin, keeper, guardian)

    # --- guardian and fees -----------------------------------------------------------------------
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

    def set_params(self, caller: str, params: Params) -> None:
        """setParams (admin): the change's steps against the parameters in force and the equity
        (RebalanceLogic.checkSteps), then the logic's setParams."""
        if caller != self.admin:
            raise AccessControlUnauthorizedAccount(caller)
        rebalance_logic.check_steps(self.params, params, self._valuation()[0])
        super().set_params(caller, params)

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
