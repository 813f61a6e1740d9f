"""A holder's requests on the connected chain, from request to claim: sending with room for later blocks' gas,
settling at once (`--settle` on a local chain) or waiting for a keeper's settlement, the line that describes it,
the claims, and a send that first starts a settlement window when it is too early."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from levtoken.deployment import Deployment, check_settle_now, settle_now
from levtoken.node import LOCAL_CHAIN_IDS
from levtoken.shapes import UINT256_MAX, Settlement
from levtoken.units import from_units, from_wad, utc_text


# Seconds a waiting command waits before it says why the request has not settled yet.
EXPLAIN_AFTER = 5


class FlowError(Exception):
    """A request flow that cannot go on (a settlement that did not come, --settle where it cannot work); the
    message says what to do."""


@dataclass
class Holder:
    """What a request flow works with on the connected chain: the deployment, the token and the account."""

    deployment: Deployment
    symbol: str
    token: Any
    sender: Any

    @property
    def venue(self):
        """The venue the token holds its exposure on (either kind)."""
        return self.deployment.venue_contract(self.deployment.tokens[self.symbol].market)

    @property
    def local(self) -> bool:
        """Whether the chain is a local one (anvil), where waiting and --settle make sense."""
        from ape import chain

        return chain.chain_id in LOCAL_CHAIN_IDS


def send(method, *args, sender):
    """Sends a contract transaction with 1.5x the estimated gas plus 50k: the estimate runs at the latest
    block's timestamp, the transaction in a later block, where fee and funding accrual cost more."""
    estimate = method.estimate_gas_cost(*args, sender=sender)
    return method(*args, sender=sender, gas_limit=int(estimate * 1.5) + 50_000)


def find_settlement(token, deposit: bool, request_block: int, request_time: int):
    """The Settled event that priced a request made in `request_block` at `request_time`: the first one after
    it that settled that side at a round published after the request (None while there is none)."""
    from ape import chain

    for event in token.Settled.range(request_block, chain.blocks.height + 1):
        epoch = event.depositEpoch if deposit else event.redeemEpoch
        if epoch and event.priceTime > request_time:
            return event
    return None


def check_settle(holder: Holder, settle: bool) -> None:
    """Before a request that is to be settled at once (`settle`): refuses it, with nothing sent, unless the
    chain is local and the account may publish the market's prices and settle the token."""
    if not settle:
        return
    if not holder.local:
        raise FlowError("--settle publishes a price and settles: local chains only")
    check_settle_now(holder.deployment, [holder.symbol], holder.sender, holder.sender)


def wait_for_settlement(holder: Holder, deposit: bool, receipt, wait: bool | None, settle: bool, timeout: int,
                        say=lambda line: None):
    """After a request: settles it (`settle`) or waits up to `timeout` seconds for a keeper to; returns the
    Settled event, or None when not waiting (`wait` None: wait on local chains). A wait that lasts says once,
    through `say`, why the request waits (`waiting_reason`)."""
    from ape import chain

    if wait is None:
        wait = holder.local
    if not (wait or settle):
        return None
    request_time = chain.blocks[receipt.block_number].timestamp
    if settle:
        settle_now(holder.deployment, [holder.symbol], holder.sender, holder.sender)
    started = time.monotonic()
    explained = False
    while (event := find_settlement(holder.token, deposit, receipt.block_number, request_time)) is None:
        waited = time.monotonic() - started
        if waited > timeout:
            raise FlowError(f"no settlement within {timeout} s: {waiting_reason(holder) or 'it waits for a keeper'} "
                            f"(`levtoken requests {holder.symbol}`, then `levtoken claim {holder.symbol}`)")
        if waited > EXPLAIN_AFTER and not explained:
            explained = True
            say(f"still waiting: {waiting_reason(holder) or 'for a keeper'}")
        time.sleep(1)
    return event


def deposit_refusal(holder: Holder, assets: int) -> str | None:
    """Why a deposit of `assets` (collateral units) could not settle now, in one line; None when nothing stops it.
    What stops one: a paused token, a supply cap already reached (below it a deposit fills pro rata: see
    `supply_room`), or a venue that refuses the hedge such a deposit adds (its open-interest cap, the pool's
    liquidity, its margin rules), asked at the deposit's gross size, which its trading cost only lowers. A feed with
    no valid price now stops nothing: the round the request waits for brings one."""
    from levtoken.keeper.reverts import format_error

    token = holder.token
    if token.paused():
        return f"{holder.symbol} is paused: deposits wait until its guardian unpauses it"
    params = token.params()
    if params.supplyCap != UINT256_MAX and token.totalSupply() >= params.supplyCap:
        return (f"{holder.symbol} is at its supply cap of {from_wad(params.supplyCap):,.6f} tokens: a mint settles "
                "only as holders redeem")
    venue, market = holder.venue, token.marketId()
    decimals = holder.deployment.collateral_contract().decimals()
    priced, price = view_outcome(venue.indexPrice, market)
    if not priced:
        return None  # no price to judge by now (stale, incomplete, invalid); the round the request waits for brings one
    size = assets * 10 ** (18 - decimals) * token.targetLeverage() // int.from_bytes(bytes(price), "big")
    if assets >= 2**128 or abs(size) >= 2**127:
        return (f"{from_units(assets, decimals):,.6f} collateral is beyond any position the venue can hold (its "
                "amounts are 128-bit)")
    accepted, error = view_outcome(venue.quoteModify, market, token.address, assets, size)
    if accepted:
        return None
    return (f"the venue would refuse the hedge of {from_units(assets, decimals):,.6f} collateral on {holder.symbol} "
            f"now: {format_error(*error) if isinstance(error, tuple) else error}")


def view_outcome(view, *args) -> tuple[bool, Any]:
    """A contract view called through web3, which keeps a nested revert's selector that ape's own call drops: (True,
    its raw return data) when it answers, else (False, the custom error as (name, arguments), or the revert data
    when it is none of the project's errors)."""
    from ape import chain
    from web3.exceptions import ContractCustomError, ContractLogicError

    from levtoken.keeper.reverts import decode_revert_data

    try:
        return True, chain.provider.web3.eth.call({"to": view.contract.address, "data": view.encode_input(*args)})
    except (ContractCustomError, ContractLogicError) as err:
        data = str(err.data or "")
        return False, decode_revert_data(data) or data


def supply_room(holder: Holder) -> int | None:
    """Tokens the supply cap leaves room for (18 decimals); None without a cap."""
    cap = holder.token.params().supplyCap
    return None if cap == UINT256_MAX else max(cap - holder.token.totalSupply(), 0)


def waiting_reason(holder: Holder) -> str | None:
    """Why the account's pending requests on the token have not settled yet, in one line (None with none
    pending): no round newer than the latest of them yet (and, on a local chain, how to publish one), a round
    that qualifies them and a keeper's settlement to come, or what keeps a qualified deposit from settling."""
    from ape import chain

    token, who = holder.token, holder.sender.address
    deposit, redeem = token.pendingDepositRequest(0, who), token.pendingRedeemRequest(0, who)
    if not deposit and not redeem:
        return None
    requested = [e.block_number for kind in (token.DepositRequest, token.RedeemRequest)
                 for e in kind.range(holder.deployment.block, chain.blocks.height + 1, search_topics={"controller": who})]
    request_time = chain.blocks[max(requested)].timestamp if requested else 0
    feed = holder.deployment.feed_contract(holder.deployment.tokens[holder.symbol].market)
    round_time = feed.latestRoundData()[3]
    if round_time <= request_time:
        publish = ("; on this local chain nothing else publishes one: `levtoken feed publish` (or `levtoken feed "
                   "push &`, or `--settle`)") if holder.local else ""
        return (f"waits for a price round newer than the request ({utc_text(request_time, seconds=True)}); the "
                f"latest round is from {utc_text(round_time, seconds=True)}{publish}")
    refusal = deposit_refusal(holder, deposit) if deposit else None
    if refusal is not None:
        return f"the round of {utc_text(round_time)} qualifies it, but {refusal}"
    return f"the round of {utc_text(round_time)} qualifies it; a keeper's settle() prices it"


def round_block(holder: Holder, price_time: int, from_block: int) -> int | None:
    """The block that published the round of `price_time` on the token's market feed (None if not found)."""
    from ape import chain

    feed = holder.deployment.feed_contract(holder.deployment.tokens[holder.symbol].market)
    for event in feed.AnswerUpdated.range(from_block, chain.blocks.height + 1):
        if event.updatedAt == price_time:
            return event.block_number
    return None


def describe_settlement(holder: Holder, event, mine: int, deposit: bool, request_block: int) -> str:
    """One line on the settlement that priced `mine` (assets for a deposit, shares for a redemption): the
    holder's part of the fee and of the trade cost, the price and the block that published it."""
    t = Settlement.from_abi(event.settlement)
    if deposit:
        fee, fee_bps, cost_share = t.mint_fee * mine // t.assets, t.mint_fee_bps, t.cost_d * mine // t.assets
    else:
        fee, fee_bps, cost_share = t.redeem_fee * mine // t.shares, t.redeem_fee_bps, t.cost_r * mine // t.shares
    published = round_block(holder, event.priceTime, request_block)
    return (
        f"settled in block {event.block_number} at price ${from_wad(t.price):,.2f} (round published in block "
        f"{published if published is not None else '?'}); fee {fee_bps} bps = {from_wad(fee):,.6f} {holder.symbol}; "
        f"cost share ${from_units(cost_share):,.6f}"
    )


def claim_all(holder: Holder) -> list[str]:
    """Claims everything claimable on both sides for the account; returns one line per claim."""
    token, sender = holder.token, holder.sender
    lines = []
    assets = token.maxDeposit(sender)
    if assets:
        receipt = send(token.deposit, assets, sender, sender=sender)
        shares = receipt.decode_logs(token.Deposit)[0].shares
        lines.append(f"minted {from_wad(shares):,.6f} {holder.symbol} for {from_units(assets):,.6f} collateral "
                     f"(claimed); tx {receipt.txn_hash}")
    shares = token.maxRedeem(sender)
    if shares:
        receipt = send(token.redeem, shares, sender, sender, sender=sender)
        got = receipt.decode_logs(token.Withdraw)[0].assets
        lines.append(f"redeemed {from_wad(shares):,.6f} {holder.symbol} for {from_units(got):,.6f} collateral "
                     f"(claimed); tx {receipt.txn_hash}")
    return lines


def send_after_window_poke(holder: Holder, too_early: str, method, *args):
    """Sends `method(*args)` as the holder. When it would revert with `too_early` naming the end of a batch's
    settlement window (at most the window after the latest round), first pokes the token, so that window starts
    counting even when nothing else happens, then reports the revert; any other revert (a later deadline, which
    no poke moves, included) sends nothing."""
    from ape.exceptions import ContractLogicError

    from levtoken.keeper.reverts import decode_revert

    try:
        method.estimate_gas_cost(*args, sender=holder.sender)
    except ContractLogicError as err:
        name, inputs = decode_revert(err) or ("", {})
        if name == too_early and any(_window_end(holder, t) for t in inputs.values() if isinstance(t, int)):
            send(holder.token.poke, sender=holder.sender)
        raise
    return send(method, *args, sender=holder.sender)


def _window_end(holder: Holder, when: int) -> bool:
    """Whether time `when` can be the end of a batch's settlement window: no later than the window after the
    market's latest round (a deposit's dead-feed deadline adds the feed's heartbeat, and never moves)."""
    venue = holder.venue
    feed, _ = venue.marketFeed(holder.token.marketId())
    latest = holder.deployment.feed_contract_at(feed).latestRoundData()[3]
    return when != UINT256_MAX and when <= latest + holder.token.params().settlementWindow
