"""LeveragedTokenStorage (contracts/LeveragedTokenStorage.sol): the state of one leveraged token and the internals
both halves of its code share, the token (LeveragedToken with AsyncRequests) and the logic it delegates its
settlements, rebalances and parameter changes to (LeveragedTokenLogic). Here the two halves are the two base
classes of the model's LeveragedToken, both over this one.

The token's constants (the clone's immutable arguments: its venue, market, signed target, hard cap and the
collateral's scale) are plain attributes; its roles are sets of addresses; its ERC-20 shares are Solady's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from levtoken.model.clock import Clock
from levtoken.model.erc20 import ERC20, SoladyERC20
from levtoken.model.errors import AccessControlUnauthorizedAccount, EnforcedPause, Revert
from levtoken.model.journal import Journal
from levtoken.model.libraries import request_queue
from levtoken.model.libraries.fixed_point_math import mul_div_down
from levtoken.model.libraries.request_queue import Book
from levtoken.model.libraries.safe_cast import checked_uint
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import Params
from levtoken.units import DAY, WAD


@dataclass
class Snapshot:
    """LeveragedTokenStorage.Snapshot: equity state read from the venue in one call, plus free idle collateral
    (escrow excluded) and supply (escrowed shares included)."""

    value: int = 0
    size: int = 0
    price: int = 0
    idle: int = 0
    equity: int = 0
    supply: int = 0


class LeveragedTokenStorage(SoladyERC20):
    """The token's state: its constants, the request books, parameters, schedule, last valuation,
    roles and pause. Not initialized until LeveragedTokenLogic.initialize runs (the factory's createToken)."""

    def __init__(self, venue: PerpVenue, market_id: int, target_leverage: int, max_leverage: int, *,
                 address: str, journal: Journal, clock: Clock, feeds: Mapping[str, Feed]) -> None:
        """A clone with these immutable arguments at `address`, on a chain whose transaction boundary
        (`journal`), block time (`clock`) and price feeds by address (`feeds`) it is given."""
        super().__init__(journal, 18)
        # The clone's immutable arguments.
        self.venue = venue
        self.address = address
        self.market_id = market_id
        self.target_leverage = target_leverage
        self.max_leverage = max_leverage
        self.asset_decimals = venue.collateral.decimals
        self.asset_to_wad = 10 ** (18 - self.asset_decimals)  # collateral units * asset_to_wad = 18 decimals
        self.virtual_shares = self.asset_to_wad
        # Storage.
        self.deposits = Book(journal)
        self.redemptions = Book(journal)
        self.deposit_accounts = self._mapping()  # controller -> Account
        self.redeem_accounts = self._mapping()  # controller -> Account
        self.operators = self._mapping()  # (owner, operator) -> True
        self.escrow_assets = 0
        self.params: Params | None = None
        self.last_rebalance = 0
        self.last_fee_accrual = 0  # 0 only before initialization
        self.iterating = False  # a capped rebalance has not reached target
        self.last_equity = 0  # equity and supply after the last settlement or rebalance (stale-oracle views)
        self.last_supply = 0
        self.admin: str | None = None
        self.keepers: frozenset[str] = frozenset()
        self.guardians: frozenset[str] = frozenset()
        self.paused = False
        self.clock = clock
        self.feeds = feeds

    # --- valuation -------------------------------------------------------------------------------
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

    def _valuation(self) -> tuple[int, int]:
        """Equity and supply (streaming fee accrued) now, or at the last recorded valuation."""
        ok, s = self._try_snapshot()
        if not ok:
            return self.last_equity, self.last_supply
        return self._equity_or_zero(s), s.supply + self.pending_streaming_fee()

    @staticmethod
    def _equity_or_zero(s: Snapshot) -> int:
        return s.equity if s.equity > 0 else 0

    def _record_valuation(self, equity_after: int) -> None:
        """Stores the valuation after a settlement or rebalance, for views while the oracle is stale."""
        self.last_equity = (equity_after if equity_after > 0 else 0) % 2**128
        self.last_supply = self.total_supply % 2**128

    def _accrue_streaming_fee(self) -> None:
        elapsed = self.clock.now - self.last_fee_accrual
        if elapsed == 0:
            return
        fee_shares = self.pending_streaming_fee()
        self.last_fee_accrual = self.clock.now
        if fee_shares != 0:
            self._mint(self.params.fee_recipient, fee_shares)

    # --- request queues --------------------------------------------------------------------------
    def _round_time(self) -> tuple[int, int]:
        """`updatedAt` of the latest round of the feed the venue names for the market now (0 when the feed
        cannot answer; never later than now), and that feed's heartbeat."""
        key, heartbeat = self.venue.market_feed(self.market_id)
        feed = self.feeds.get(key)
        if feed is None or feed.reverts:
            return 0, heartbeat
        return min(feed.latest_round_data()[3], self._now()), heartbeat

    def _window(self) -> int:
        return self.params.settlement_window

    def _roll_deposits(self) -> int:
        """Rolls the deposit queue to the latest round (expiring what waited past its window or its deadline);
        returns the round time."""
        u, heartbeat = self._round_time()
        window = self._window()
        request_queue.roll(self.deposits, u, self._now(), window, heartbeat + window)
        return u

    def _roll_redemptions(self) -> int:
        """Rolls the redemption queue to the latest round (redemptions never expire); returns the round time."""
        u, _ = self._round_time()
        request_queue.roll(self.redemptions, u, self._now(), 0, 0)
        return u

    # --- context ---------------------------------------------------------------------------------
    def _asset(self) -> ERC20:
        return self.venue.collateral

    def _now(self) -> int:
        return self.clock.now

    def _require_not_paused(self) -> None:
        if self.paused:
            raise EnforcedPause()

    @staticmethod
    def _check_role(caller: str, holders: frozenset[str]) -> None:
        if caller not in holders:
            raise AccessControlUnauthorizedAccount(caller)
