"""Where a token's return went since its first mint (DESIGN.md section 8), from the chain's own history: the
history is read as the report reads a replay (one step per price the token's market published, the token's state
just before the next price, after the keeper acted; funding, rebalance costs, bounties and settlements from the
events of each step's blocks), then `levtoken.report` attributes it exactly as it does a replay's."""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Any

from levtoken.deploy_config import MORPHO
from levtoken.money_market import interest
from levtoken.replay.records import ReplayResult, Step, TokenStep
from levtoken.report import COLUMNS, summarize, summary_rows
from levtoken.shapes import Params, Settlement
from levtoken.units import to_feed


def token_states(reader, symbol: str, fee_recipient: str, blocks: list[int]) -> list[TokenStep]:
    """The token's NAV, leverage, supply, equity, fee recipient's shares and funding owed at each of `blocks`
    (fresh records: the steps add their events to them); ValueError when a view had no valid price then. On the
    money market nothing is owed apart from the debt (valued already): its interest per step comes from
    `debt_states`."""
    record = reader.deployment.tokens[symbol]
    token, venue = reader.token(symbol), reader.venue_of(symbol)
    owed = "book" if record.venue == MORPHO else "fundingOwed"
    key = lambda block: ("state", symbol, fee_recipient, block)  # noqa: E731
    missing = [b for b in dict.fromkeys(blocks) if key(b) not in reader.memo]
    values = reader.views_at([call for b in missing for call in (
        (token, "navPerToken", (), b), (token, "leverage", (), b), (token, "totalSupply", (), b),
        (token, "equity", (), b), (token, "balanceOf", (fee_recipient,), b),
        (venue, owed, (record.market_id, record.address), b))])
    for i, block in enumerate(missing):
        state = values[6 * i: 6 * i + 6]
        reader.memo[key(block)] = tuple(state[:5]) + ((0 if state[5] is not None else None,) if owed == "book"
                                                      else (state[5],))
    states = [reader.memo[key(b)] for b in blocks]
    if any(value is None for state in states for value in state):
        raise ValueError("a view of the token had no valid price in its history (a stale feed)")
    return [TokenStep(*state) for state in states]


def debt_states(reader, symbol: str, blocks: list[int]) -> list[tuple[int, tuple[int, int, int, int]]]:
    """A money-market token's borrow shares and its venue's `borrowTotals` at each of `blocks`: what the interest
    over each step is computed from (levtoken.money_market.interest)."""
    record = reader.deployment.tokens[symbol]
    venue = reader.venue_of(symbol)
    values = reader.views_at([call for b in blocks for call in (
        (venue, "book", (record.market_id, record.address), b), (venue, "borrowTotals", (record.market_id,), b))])
    return [(values[2 * i][4], tuple(values[2 * i + 1])) for i in range(len(blocks))]


def step_of(block: int, firsts: list[int]) -> int:
    """The index of the step whose blocks hold `block`, given each later step's first block."""
    return bisect.bisect_right(firsts, block)


def inception_result(reader, symbol: str, block: int) -> ReplayResult | None:
    """The token's history up to `block` as a replay's record, from the block of its first settlement (None
    before it has one or before its market published a price after it; ValueError when a view had no valid
    price at one of its steps)."""
    record = reader.deployment.tokens[symbol]
    token, venue = reader.token(symbol), reader.venue_of(symbol)
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
    params = token.functions.params().call(block_identifier=block)
    recipient = Params.from_abi(params).fee_recipient
    price_then = Decimal(feed.functions.latestRoundData().call(block_identifier=start_block)[1]) / scale
    ends = [r["blockNumber"] - 1 for r in rounds[1:]] + [block]
    first, *states = token_states(reader, symbol, recipient, [start_block, *ends])
    reader.block_times([start_block, *(r["blockNumber"] for r in rounds)])
    start = Step(rounds[0]["args"]["updatedAt"], reader.block_time(start_block), start_block, price_then,
                 {symbol: first})
    steps = [Step(r["args"]["updatedAt"], reader.block_time(r["blockNumber"]), r["blockNumber"],
                  Decimal(r["args"]["current"]) / scale, {symbol: state}) for r, state in zip(rounds, states)]
    firsts = [s.block for s in steps[1:]]
    after_start = {"from_block": start_block + 1, "to_block": block}
    account = {"account": record.address}
    paid = 0
    if record.venue == MORPHO:  # the interest on the debt in place of funding; Morpho's liquidations are not marked
        debts = debt_states(reader, symbol, [start_block, *ends])
        value_scale, _ = reader.money_scales(symbol)
        for step, (shares, before), (_, after) in zip(steps, debts, debts[1:]):
            accrued = interest(shares, before, after, record.leverage_wad > 0, to_feed(step.price) * 10**10, value_scale)
            step.tokens[symbol].funding += accrued
            paid += accrued
    else:
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
                        start=start, params={symbol: Params.abi_dict(params)})


def attribution_rows(reader, symbol: str, block: int) -> list[dict[str, Any]]:
    """The replay report's columns for the token since its first mint, as (label, value) rows; empty before it
    has a history to attribute, one row saying why when a view has no valid price in that history."""
    try:
        result = inception_result(reader, symbol, block)
    except ValueError as err:
        return [{"label": "unavailable", "value": str(err)}]
    if result is None:
        return []
    (row,) = summary_rows(summarize(result))
    return [{"label": label, "value": value} for label, value in zip(COLUMNS[1:], row[1:])]
