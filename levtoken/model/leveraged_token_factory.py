"""LeveragedTokenFactory (contracts/LeveragedTokenFactory.sol): the default parameters of a new token and
its deployment with the factory's hard cap rule. (CREATE2 addresses, names and the registry are the
chain's business: a model token's address is whatever key the caller gives it.)"""

from __future__ import annotations

from collections.abc import Mapping

from levtoken.model.clock import Clock
from levtoken.model.journal import Journal
from levtoken.model.leveraged_token import LeveragedToken
from levtoken.model.perp_venue import PerpVenue
from levtoken.model.price_feed import Feed
from levtoken.shapes import UINT256_MAX, Params
from levtoken.units import COLLATERAL_DECIMALS, DAY


def default_params(target_leverage: int, fee_recipient: str, decimals: int = COLLATERAL_DECIMALS) -> Params:
    """defaultParams: the band at 3/4 and 4/3 of |target| (geometric around it), the ripcord at 3/2 of it,
    a 1% minimum drift, daily time rebalances, a one-hour settlement window, 0.1% mint and redeem fees,
    0.01% a day streaming fee, one rebalance trade at most 1M, a 10 bounty (collateral of `decimals`) and no supply cap."""
    target = abs(target_leverage)
    unit = 10**decimals
    leverage_max = target * 4 // 3
    return Params(
        leverage_max=leverage_max,
        leverage_min=target * target // leverage_max,
        ripcord_leverage=target * 3 // 2,
        min_drift=target // 100,
        rebalance_interval=DAY,
        settlement_window=3600,
        mint_fee_bps=10,
        redeem_fee_bps=10,
        streaming_fee_per_day=10**14,
        fee_recipient=fee_recipient,
        max_trade_notional=1_000_000 * unit,
        ripcord_bounty=10 * unit,
        supply_cap=UINT256_MAX,
    )


def create_token(venue: PerpVenue, address: str, market_id: int, target_leverage: int, params: Params,
                 max_leverage: int = 0, admin: str = "gov", keeper: str | None = "keeper",
                 guardian: str | None = "gov", *, journal: Journal, clock: Clock,
                 feeds: Mapping[str, Feed]) -> LeveragedToken:
    """createToken: deploys a token on `venue` under `address`, on the chain of `journal`, `clock` and `feeds`
    (see LeveragedToken); a `max_leverage` of 0 means twice |target| (the factory's rule). The factory's owner
    is the token's admin."""
    hard_cap = max_leverage or 2 * abs(target_leverage)
    token = LeveragedToken(venue, market_id, target_leverage, hard_cap, params, admin, keeper, guardian,
                           address=address, journal=journal, clock=clock, feeds=feeds)
    venue.registered[address] = True  # venue.register by the factory, the venue's registrar
    return token
