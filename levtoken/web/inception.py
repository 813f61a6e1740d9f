"""Where a token's return went since its first mint (DESIGN.md section 8), from the chain's own history: the
history is read as the report reads a replay (one step per price the token's market published, the token's state
just before the next price, after the keeper acted; funding, rebalance costs, bounties and settlements from the
events of each step's blocks), then `levtoken.report` attributes it exactly as it does a replay's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from levtoken.replay.records import ReplayResult, Step, TokenStep
from levtoken.report import COLUMNS, summarize, summary_rows
from levtoken.shapes import Action, Params, Settlement


def token_state(reader, symbol: str, fee_recipient: str, block: int) -> TokenStep:
    """The token's NAV, leverage, supply, equity, fee recipient's shares and funding owed at `block` (a fresh
    record each time: the steps add their events to it)."""
    record = reader.deployment.tokens[symbol]
    f = reader.token(symbol).functions
    at = {"block_identifier": block}
    values = reader.once(("state", symbol, fee_recipient, block), lambda: (
        f.navPerToken().call(**at), f.leverage().call(**at), f.totalSupply().call(**at), f.equity().call(**at),
        f.balanceOf(fee_recipient).call(**at),
        reader.venue.functions.fundingOwed(record.market_id, record.address).call(**at)))
    return TokenStep(*values)


def step_of(block: int, firsts: list[int]) -> int:
    """The index of the step whose blocks hold `block`, given each later step's first block."""
    return sum(1 for first in firsts if block >= first)


def inception_result(reader, symbol: str, block: int) -> ReplayResult | None:
    """The token's history up to `block` as a replay's record, from the block of its first settlement (None
    before it has one or before its market published a price after it)."""
    record = reader.deployment.tokens[symbol]
    token, venue = reader.token(symbol), reader.venue
    feed = reader.contract("PriceFeed", reader.deployment.feeds[record.market])
    window = {"from_block": reader.deployment.block, "to_block": block}
    settled = token.events.Settled.get_logs(**window)
    if not settled:
        return None
    start_block = settled[0]["blockNumber"]
    scale = Decimal(10) ** feed.functions.decimals().call()
    rounds = [e for e in feed.events.AnswerUpdated.get_logs(**window) if e["blockNumber"] > start_block]
    if not rounds:
        return None
    params = Params.from_abi(token.functions.params().call(block_identifier=block))
    recipient = params.fee_recipient
    price_then = Decimal(feed.functions.latestRoundData().call(block_identifier=start_block)[1]) / scale
    start = Step(rounds[0]["args"]["updatedAt"], reader.block_time(start_block), start_block, price_then,
                 {symbol: token_state(reader, symbol, recipient, start_block)})
    ends = [r["blockNumber"] - 1 for r in rounds[1:]] + [block]
    steps = [Step(r["args"]["updatedAt"], reader.block_time(r["blockNumber"]), r["blockNumber"],
                  Decimal(r["args"]["current"]) / scale, {symbol: token_state(reader, symbol, recipient, end)})
             for r, end in zip(rounds, ends)]
    firsts = [s.block for s in steps[1:]]
    after_start = {"from_block": start_block + 1, "to_block": block}
    account = {"account": record.address}
    paid = 0
    for event in venue.events.FundingSettled.get_logs(argument_filters=account, **after_start):
        steps[step_of(event["blockNumber"], firsts)].tokens[symbol].funding += event["args"]["amount"]
        paid += event["args"]["amount"]
    for event in venue.events.Liquidated.get_logs(argument_filters=account, **after_start):
        steps[step_of(event["blockNumber"], firsts)].tokens[symbol].liquidated = True
    for event in token.events.RipcordBountyPaid.get_logs(**after_start):
        steps[step_of(event["blockNumber"], firsts)].tokens[symbol].bounty += event["args"]["amount"]
    for event in token.events.Rebalanced.get_logs(**after_start):
        step = steps[step_of(event["blockNumber"], firsts)].tokens[symbol]
        step.rebalances += 1
        step.rebalance_cost += event["args"]["cost"]
        step.actions.append(f"{Action(event['args']['action']).name}")
    for event in token.events.Settled.get_logs(**after_start):
        step = steps[step_of(event["blockNumber"], firsts)].tokens[symbol]
        step.settlements += 1
        step.settlement_cost += Settlement.from_abi(event["args"]["settlement"]).cost
    owed = start.tokens[symbol].funding_owed
    for step in steps:
        state = step.tokens[symbol]
        state.funding += state.funding_owed - owed
        owed = state.funding_owed
    return ReplayResult(steps, [symbol], {symbol: record.leverage_wad}, recipient, funding_paid={symbol: paid},
                        start=start,
                        params={symbol: Params.abi_dict(token.functions.params().call(block_identifier=block))})


def attribution_rows(reader, symbol: str, block: int) -> list[dict[str, Any]]:
    """The replay report's columns for the token since its first mint, as (label, value) rows; empty before it
    has a history to attribute, one row saying why when a view has no valid price in that history."""
    from web3.exceptions import ContractCustomError, ContractLogicError

    from levtoken.keeper.reverts import decode_revert_data, format_error

    try:
        result = inception_result(reader, symbol, block)
    except (ContractCustomError, ContractLogicError) as err:
        decoded = decode_revert_data(str(err.data or ""))
        return [{"label": "unavailable", "value": format_error(*decoded) if decoded else str(err)}]
    if result is None:
        return []
    (row,) = summary_rows(summarize(result))
    return [{"label": label, "value": value} for label, value in zip(COLUMNS[1:], row[1:])]
