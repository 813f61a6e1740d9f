"""LeveragedTokenFactory (contracts/LeveragedTokenFactory.sol): the default parameters of a new token and
its deployment with the factory's hard cap rule. (CREATE2 addresses, names and the registry are the
chain's business: a model token's address is whatever key the caller gives it.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from levtoken.model.leveraged_token import LeveragedToken
from levtoken.shapes import UINT256_MAX, Params
from levtoken.units import COLLATERAL_DECIMALS, DAY

if TYPE_CHECKING:
    from levtoken.model.system import Model


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


def create_token(model: "Model", address: str, market_id: int, target_leverage: int, params: Params,
                 max_leverage: int = 0, admin: str = "gov", keeper: str | None = "keeper",
                 guardian: str | None = "gov") -> LeveragedToken:
    """createToken: deploys a token on `model`'s venue under `address`; a `max_leverage` of 0 means twice
    |target| (the factory's rule). The factory's owner is the token's admin."""
    hard_cap = max_leverage or 2 * abs(target_leverage)
    return LeveragedToken(model, address, market_id, target_leverage, hard_cap, params, admin=admin, keeper=keeper,
                          guardian=guardian, asset_decimals=model.collateral.decimals)
