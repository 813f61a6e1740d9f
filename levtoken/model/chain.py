"""The model's only chain-facing code: a Model read from deployed contracts.

It takes contract handles (ape's, or anything with the same view methods), so it reads a chain but never
imports a chain library."""

from __future__ import annotations

from typing import Any, Iterable

from levtoken.model.system import Model
from levtoken.shapes import MarketConfig, MarketState, Params, Position


def model_from_chain(venue: Any, feed: Any, collateral: Any, tokens: Iterable[Any], accounts: Iterable[Any],
                     owner: str, keeper: str, lps: Iterable[Any] = (), orders: Any = None) -> Model:
    """A Model mirroring deployed contracts now: venue market 1 and its feed, the tokens' state, the LP
    shares of `lps`, the venue's DelayedOrders `orders` (before its first order; None: not mirrored) and the
    collateral balances of `accounts`, the tokens, the venue and the orders contract. The model's time
    is the feed's latest update; set it to the head block's time to read views as the chain does.

    The request queues are the tokens' internal storage, which no view exposes: no account of `accounts` may
    have a request waiting or anything to claim, else ValueError; the model's queues start empty. What a token
    still holds in escrow then (shares and assets left by claims' rounding down, which nobody can claim) is
    mirrored as such; a request of an account not in `accounts` would show as a divergence when it settles. The valuation recorded for a
    stale oracle is read as `totalAssets()` and `totalSupply()` now."""
    tokens, accounts = list(tokens), list(accounts)
    round_id, answer, _, updated_at, _ = feed.latestRoundData()
    model = Model(now=int(updated_at), venue_address=str(venue.address), owner=str(owner))
    f = model.add_feed(str(feed.address), decimals=int(feed.decimals()))
    f.round_id, f.answer, f.updated_at = int(round_id), int(answer), int(updated_at)

    v = model.venue
    v.market_count = int(venue.marketCount())
    if v.market_count != 1:
        raise ValueError("model_from_chain mirrors a venue with one market")
    v.symbols[1] = venue.marketSymbol(1)
    v.configs[1] = MarketConfig.from_abi(venue.marketConfig(1), feed=str(feed.address))
    v.states[1] = MarketState.from_abi(venue.marketState(1))
    v.positions[1] = v._mapping()
    v.pool_cash = int(venue.poolCash())
    v.total_lp_shares = int(venue.totalLpShares())
    for lp in lps:
        v.lp_shares[str(lp.address)] = int(venue.lpShares(lp))
    for account in [*accounts, *lps]:
        if venue.isRegistered(account):
            v.registered[str(account.address)] = True

    for token in tokens:
        address = str(token.address)
        _require_no_request(token, accounts)
        v.positions[1][address] = Position.from_abi(venue.position(1, token))
        t = model.add_token(
            address, int(token.marketId()), int(token.targetLeverage()), Params.from_abi(token.params()),
            max_leverage=int(token.maxLeverage()), admin=str(owner), keeper=str(keeper), guardian=str(owner),
        )
        t.total_supply = int(token.totalSupply())
        t.escrow_assets = int(token.escrowAssets())
        for account in [*accounts, token]:
            balance = int(token.balanceOf(str(account.address)))
            if balance:
                t.balances[str(account.address)] = balance
        t.last_rebalance = int(token.lastRebalance())
        t.last_fee_accrual = int(token.lastFeeAccrual())
        t.iterating = bool(token.iterating())
        t.paused = bool(token.paused())
        t.last_equity = int(token.totalAssets())
        t.last_supply = int(token.totalSupply())
    holders = [*accounts, *tokens, venue]
    if orders is not None:
        if int(orders.orderCount()) != 0 or str(venue.orders()) != str(orders.address):
            raise ValueError("model_from_chain mirrors the venue's DelayedOrders before its first order")
        model.add_orders(keeper, int(orders.executionFee()), int(orders.window()), str(orders.address))
        holders.append(orders)
    for holder in holders:
        model.collateral.balances[str(holder.address)] = int(collateral.balanceOf(str(holder.address)))
    return model


def _require_no_request(token: Any, accounts: list[Any]) -> None:
    """Raises ValueError when any of `accounts` has a request on `token` waiting or something to claim."""
    for account in accounts:
        for view in ("pendingDepositRequest", "claimableDepositRequest", "pendingRedeemRequest",
                     "claimableRedeemRequest"):
            if int(getattr(token, view)(0, account)) != 0:
                raise ValueError(f"token {token.address}: {view} of {account.address} is not zero")
