"""The replayer: drives a real price series through a deployment's feed on a local chain, moving chain
time with the data. Each step runs one way: push the price, let the keeper act (settle waiting requests,
rebalance, ripcord), read the Rebalanced and Settled events back, let the liquidator act, snapshot the tokens (and, if asked, advance the model shadow),
append the records.

A step costs the chain's work and few round trips (levtoken.rpc): the price's time and its round (two
requests: a batch does not promise order), then one read of the state after it, a batch of two requests:
the keeper's events since the price, and one aggregated call (Multicall3) for every token's
`rebalanceStatus()`, the liquidator's checks and the tokens' snapshot. The fast keeper acts on those
statuses: when a token is due (about one price in eight on hourly data) it sends one transaction per due
token and the step's state is read again, until nothing is due. Every transaction keeps its own block, as
before: the keeper decides on the state after the price's block, and the series (blocks, the keeper's lag,
fees accrued between blocks) stays what it was.
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import Decimal
from typing import Any, Callable

from ape import chain
from eth_utils import to_checksum_address

from levtoken.deployment import Deployment
from levtoken.prices import PricePoint
from levtoken.deploy_config import MORPHO
from levtoken.replay.keepers import FastKeeper, Liquidator, ReplayKeeper, make_keeper
from levtoken.replay.money_market import MoneyMarketReplay, MorphoLiquidator
from levtoken.replay.records import KeeperAction, ReplayResult, Step, TokenStep
from levtoken.rpc import RPC, Request, quantity
from levtoken.shapes import Action, Params, Reason, Settlement, Status, address_topic
from levtoken.units import from_units, to_feed

MAX_START_GAP = Decimal("0.10")  # largest relative gap between the feed's answer and a series' first price


class ReplayStartError(ValueError):
    """A replay that would do harm before its first step (its message is one line for the user)."""


class Replayer:
    """Replays prices through a deployment's feed. The chain's clock moves by the same intervals as the
    data (a chain's time cannot go back, so the first row maps to the chain's next block).

    `updater` (an ape account) submits prices and, with KEEPER_ROLE, is the keeper's sender; `keeper` is
    "fast", "bot" or any `ReplayKeeper`; `liquidator` (an ape account) liquidates token accounts below
    maintenance margin; `check_model` runs the reference model beside the chain."""

    def __init__(self, deployment: Deployment, market: str, updater, keeper: str | ReplayKeeper = "fast",
                 liquidator=None, check_model: bool = False, arbitrageur=None):
        self.deployment = deployment
        self.market = market
        self.market_id = deployment.markets[market]
        self.kind = deployment.venue_kind(market)
        self.rpc = RPC.of(chain.provider)
        self.feed = self.rpc.contract(deployment.feed_contract(market))
        self.venue = self.rpc.contract(deployment.venue_contract(market))
        self.ape_tokens = {s: deployment.token(s) for s, t in deployment.tokens.items() if t.market == market}
        self.tokens = {s: self.rpc.contract(t) for s, t in self.ape_tokens.items()}
        self.updater = updater.address
        self.keeper = make_keeper(keeper, self.rpc, self.ape_tokens, updater) if isinstance(keeper, str) else keeper
        if check_model and self.kind == MORPHO:
            raise ReplayStartError("--check-model runs the reference model of the perpetual venue; market "
                                   f"{market} is on the money-market venue, whose replay checks every step "
                                   "against the protocols themselves instead")
        self.money = (MoneyMarketReplay(self.rpc, deployment, market, self.ape_tokens, arbitrageur)
                      if self.kind == MORPHO else None)
        liquidator_kind = MorphoLiquidator if self.kind == MORPHO else Liquidator
        self.liquidator = (
            liquidator_kind(self.rpc, self.venue, self.market_id, self.tokens, liquidator.address)
            if liquidator is not None else None
        )
        self.check_model = check_model
        self.shadow = None  # the ModelShadow of the last run with check_model
        self.fee_recipient = next(iter(self.ape_tokens.values())).params().feeRecipient
        self.actions: list[KeeperAction] = []
        self._by_address = {t.address.lower(): s for s, t in self.tokens.items()}
        # The venue's part of each token's snapshot: the funding it owes (perpetual venue), or its book (money
        # market: its borrow shares, behind the interest each step).
        owed = "book" if self.kind == MORPHO else "fundingOwed"
        self._snapshot_calls = [
            call for token in self.tokens.values() for call in (
                token.call("navPerToken"), token.call("leverage"), token.call("totalSupply"), token.call("equity"),
                token.call("balanceOf", self.fee_recipient), self.venue.call(owed, self.market_id, token.address))
        ] + ([self.venue.call("borrowTotals", self.market_id)] if self.kind == MORPHO else [])
        self._status_calls = [token.call("rebalanceStatus") for token in self.tokens.values()]
        self._times: dict[int, int] = {}  # block -> timestamp, of the blocks of the current step

    def feed_price(self) -> Decimal:
        """The feed's current answer, in USD."""
        (answer, decimals) = self.rpc.call_many([self.feed.call("latestRoundData"), self.feed.call("decimals")])
        return Decimal(answer[1]) / 10**decimals

    def preflight(self, first_price: Decimal, force: bool = False) -> list[str]:
        """What the replay will do before it does it: raises ReplayStartError when the series' first price is
        more than MAX_START_GAP away from the feed's answer (the first step would be that jump, on whatever the
        tokens hold) unless `force`; returns warnings (one line each) for the user."""
        feed = self.feed_price()
        gap = first_price / feed - 1 if feed > 0 else Decimal(1)
        jump = (f"the feed's price is ${feed:,.2f} and the series starts at ${first_price:,.2f} ({gap:+.1%}); "
                f"the first step would move every token by that jump")
        warnings = []
        if abs(gap) > MAX_START_GAP:
            if not force:
                raise ReplayStartError(f"{jump}: choose a period starting within {MAX_START_GAP:.0%} of the feed's "
                                       f"price, or pass --force to replay it anyway")
            warnings.append(f"warning: {jump} (--force)")
        for symbol, step in self.snapshot().items():
            if step.supply == 0:
                warnings.append(f"warning: no one holds {symbol} (supply 0): its NAV follows the market but no "
                                f"holder gains or loses anything; mint some first to see a holder's result")
            else:
                warnings.append(f"{symbol}: {step.supply / 10**18:,.4f} tokens outstanding at "
                                f"${from_units(step.nav):,.6f}; returns are measured from this state")
        return warnings

    def push_price(self, price: Decimal, chain_time: int | None = None) -> dict:
        """Mines a new feed round with `price` (at `chain_time` if given); returns the receipt (raw JSON-RPC)."""
        if chain_time is not None:
            self.rpc.request("evm_setNextBlockTimestamp", [chain_time])
        return self.rpc.send(self.feed, "submit", to_feed(price), sender=self.updater)

    def snapshot(self) -> dict[str, TokenStep]:
        """Each token's NAV, leverage, supply, equity and fee shares now (one batched request)."""
        return self._records(self.rpc.call_many(self._snapshot_calls))

    def _records(self, values: list) -> dict[str, TokenStep]:
        if self.money is not None:
            values = self.money.read(values)
        return {symbol: TokenStep(*values[6 * i : 6 * i + 6]) for i, symbol in enumerate(self.tokens)}

    def params(self) -> dict[str, dict[str, int]]:
        """Each token's Params by field name."""
        values = self.rpc.call_many([token.call("params") for token in self.tokens.values()])
        return {symbol: Params.abi_dict(value) for symbol, value in zip(self.tokens, values)}

    def run(self, points: list[PricePoint], on_step: Callable[[int, Step], None] | None = None) -> ReplayResult:
        """Replays `points` (the first sets the starting price) and returns every step's record."""
        head = self.rpc.block()
        head_time, head_number = quantity(head["timestamp"]), quantity(head["number"])
        start_chain = head_time + 1
        start = Step(points[0].timestamp, head_time, head_number, self.feed_price(), self.snapshot())
        if self.check_model:
            from levtoken.replay.shadow import ModelShadow  # the model loads only when asked for

            self.shadow = ModelShadow(self.block_time, self.deployment, self.market, self.ape_tokens,
                                      self.fee_recipient, self.updater)
        steps: list[Step] = []
        for index, point in enumerate(points):
            chain_time = start_chain + (point.timestamp - points[0].timestamp)
            receipt = self.push_price(point.close, chain_time)
            block = quantity(receipt["blockNumber"])
            self._times = {block: quantity(receipt["blockTimestamp"])} if "blockTimestamp" in receipt else {}
            if self.money is not None:
                self.money.arbitrage(point.close)
            if isinstance(self.keeper, FastKeeper):  # its reads of the statuses are the step's own reads
                for rounds_left in range(self.keeper.max_rounds, -1, -1):  # the last read follows the last sends
                    statuses, (actions, flags, record) = self._read_step(block, statuses=True)
                    if not rounds_left or not self.keeper.act(zip(self.tokens.values(), statuses)):
                        break
            else:
                self.keeper()
                _, (actions, flags, record) = self._read_step(block)
            self.actions.extend(actions)
            liquidated = self.liquidator.act(flags) if self.liquidator is not None else {}
            if liquidated:
                record = self.snapshot()
            if self.shadow is not None:
                liquidator = self.liquidator.sender if self.liquidator is not None else None
                self.shadow.step(index, block, to_feed(point.close), actions, liquidated, liquidator, record)
            for action in actions:
                step = record[action.symbol]
                if action.action == Action.SETTLE:
                    step.settlements += 1
                    step.settlement_cost += action.cost
                else:
                    step.rebalances += 1
                    step.rebalance_cost += action.cost
                step.actions.append(action.label)
            for symbol in liquidated:
                record[symbol].liquidated = True
            if self.money is not None:
                self.money.step(index, record, point.close)
            steps.append(Step(point.timestamp, chain_time, block, point.close, record))
            if on_step is not None:
                on_step(index, steps[-1])
        leverages = {s: t.leverage_wad for s, t in self.deployment.tokens.items() if s in self.tokens}
        divergences = self.shadow.divergences if self.shadow is not None else None
        funding = self._funding(start, steps)
        result = ReplayResult(steps, list(self.tokens), leverages, self.fee_recipient, list(self.actions), divergences,
                              funding, start, self.params(), venue=self.kind)
        if self.money is not None:
            result.protocol_checks, result.protocol_divergences = self.money.checks, self.money.divergences
        return result

    def _read_step(self, price_block: int, statuses: bool = False
                   ) -> tuple[list[Status], tuple[list[KeeperAction], list[bool], dict[str, TokenStep]]]:
        """Everything a step records, in one round trip on the same state: the keeper actions mined since the
        price, the liquidator's checks and the tokens' snapshot; with `statuses`, also every token's
        `rebalanceStatus()` (else no statuses)."""
        checks = self.liquidator.checks if self.liquidator is not None else []
        status_calls = self._status_calls if statuses else []
        (logs,), values = self.rpc.requests_and_calls([self._actions_request(price_block)],
                                                      [*status_calls, *checks, *self._snapshot_calls])
        found = [Status.from_abi(value) for value in values[: len(status_calls)]]
        values = values[len(status_calls):]
        return found, (self._actions(logs, price_block), values[: len(checks)], self._records(values[len(checks):]))

    def block_time(self, block: int) -> int:
        """A block's timestamp (from the receipts and logs of the current step when it has them)."""
        if block not in self._times:
            self._times[block] = quantity(self.rpc.block(block)["timestamp"])
        return self._times[block]

    def _logs(self, address: Any, from_block: int, topics: list) -> list[dict]:
        return self.rpc.logs(address, from_block, "latest", topics)

    def _per_step(self, steps: list[Step], logs: list[dict], field: int) -> list[int]:
        """The sum of a logged int256 `field` (its index among the data words) over the logs of each step's
        blocks (from the price to the next price)."""
        firsts = [step.block for step in steps[1:]]
        totals = [0] * len(steps)
        for log in logs:
            word = bytes.fromhex(log["data"][2 + 64 * field : 2 + 64 * field + 64])
            totals[bisect_right(firsts, quantity(log["blockNumber"]))] += int.from_bytes(word, "big", signed=True)
        return totals

    def _funding(self, start: Step, steps: list[Step]) -> dict[str, int]:
        """Sets each step's ripcord bounties (RipcordBountyPaid) and funding: on the perpetual venue what it settled
        in the step's blocks plus the change in what is owed, on the money-market venue the interest the debt
        accrued (`MoneyMarketReplay`). Returns the funding each token's venue account paid over the replay
        (positive: paid): the perpetual venue's FundingSettled events, read once per token, or the interest."""
        for symbol, token in self.tokens.items():
            if steps:
                bounty_topic = token.events["RipcordBountyPaid"].topic
                bounties = self._per_step(steps, self._logs(token.address, start.block + 1, [bounty_topic]), 0)
                for step, bounty in zip(steps, bounties):
                    step.tokens[symbol].bounty = bounty
        if self.money is not None:
            return self.money.interest_paid(steps)
        paid = {}
        settled_topic = self.venue.events["FundingSettled"].topic
        for symbol, token in self.tokens.items():
            logs = self._logs(self.venue.address, start.block + 1, [settled_topic, None, address_topic(token.address)])
            paid[symbol] = sum(self._per_step([start], logs, 0))
            if not steps:
                continue
            settled = self._per_step(steps, logs, 0)
            owed = start.tokens[symbol].funding_owed
            for step, amount in zip(steps, settled):
                step.tokens[symbol].funding = amount + step.tokens[symbol].funding_owed - owed
                owed = step.tokens[symbol].funding_owed
        return paid

    def _actions_request(self, due_block: int) -> Request:
        """The read of the Rebalanced and Settled events from the price update in `due_block` on (from that block,
        not the next, which may not exist yet; `_actions` keeps those mined after it)."""
        events = next(iter(self.tokens.values())).events
        topics = [[events["Rebalanced"].topic, events["Settled"].topic]]
        return self.rpc.logs_request([t.address for t in self.tokens.values()], due_block, "latest", topics)

    def actions_since(self, due_block: int) -> list[KeeperAction]:
        """Rebalances, ripcords and settlements mined after the price update in `due_block`, in chain order,
        read from the chain's Rebalanced and Settled events (whoever sent them)."""
        return self._actions(self.rpc.request(*self._actions_request(due_block)), due_block)

    def _actions(self, logs: list[dict], due_block: int) -> list[KeeperAction]:
        """The KeeperActions of the Rebalanced and Settled logs mined after `due_block`; notes their blocks'
        timestamps."""
        actions = []
        for log in logs:
            mined = quantity(log["blockNumber"])
            if mined <= due_block:
                continue
            symbol = self._by_address[log["address"].lower()]
            events = self.tokens[symbol].events
            if "blockTimestamp" in log:
                self._times[mined] = quantity(log["blockTimestamp"])
            if log["topics"][0] == events["Settled"].topic:
                event = events["Settled"].args(log)
                caller = to_checksum_address(self.rpc.request("eth_getTransactionByHash", [log["transactionHash"]])["from"])
                actions.append(KeeperAction(symbol, Action.SETTLE, Reason.REQUESTS,
                                            Settlement.from_abi(event["settlement"]).cost, due_block, mined, caller))
                continue
            event = events["Rebalanced"].args(log)
            actions.append(KeeperAction(symbol, Action(event["action"]), Reason(event["reason"]), event["cost"],
                                        due_block, mined, event["caller"]))
        return actions
