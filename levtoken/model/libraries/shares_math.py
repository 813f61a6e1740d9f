"""SharesMath (contracts/libraries/SharesMath.sol): conversion between shares and assets with virtual
shares, rounding in the name. Used by the token (its shares) and the venue (its LP pool's shares).

Virtual shares and one virtual asset stop the inflation attack: a first depositor cannot be robbed by
a donation, since the attacker would have to donate about `virtual_shares` times what they hope to steal.
`total_assets` is never negative (the caller passes max(equity, 0)).
"""

from __future__ import annotations

from levtoken.model.libraries.fixed_point_math import mul_div_down, mul_div_up


def to_shares_down(assets: int, total_assets: int, total_shares: int, virtual_shares: int) -> int:
    """assets * (totalShares + virtualShares) / (totalAssets + 1), rounded down."""
    return mul_div_down(assets, total_shares + virtual_shares, total_assets + 1)


def to_shares_up(assets: int, total_assets: int, total_shares: int, virtual_shares: int) -> int:
    """assets * (totalShares + virtualShares) / (totalAssets + 1), rounded up."""
    return mul_div_up(assets, total_shares + virtual_shares, total_assets + 1)


def to_assets_down(shares: int, total_assets: int, total_shares: int, virtual_shares: int) -> int:
    """shares * (totalAssets + 1) / (totalShares + virtualShares), rounded down."""
    return mul_div_down(shares, total_assets + 1, total_shares + virtual_shares)


def to_assets_up(shares: int, total_assets: int, total_shares: int, virtual_shares: int) -> int:
    """shares * (totalAssets + 1) / (totalShares + virtualShares), rounded up."""
    return mul_div_up(shares, total_assets + 1, total_shares + virtual_shares)
