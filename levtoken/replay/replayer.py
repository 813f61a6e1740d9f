"""The replayer: drives a real price series through a deployment's feed on a local chain, moving chain
time with the data. Each step runs one way: push the price, let the keeper act (settle waiting requests,
rebalance, ripcord), read the Rebalanced and Settled events back, let the liquidator act, snapshot the tokens (and, if asked, advance the model shadow),
append the records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ape import chain
from eth_utils import keccak

from levtoken.deployment import Deployment
from levtoken.prices import PricePoint
from levtoken.replay.keepers import Liquidator, ReplayKeeper, make_keeper
from levtoken.replay.records import KeeperAction, ReplayResult, Step, TokenStep
from levtoken.rpc import FastRPC
from levtoken.shapes import Action, Reason, Settlement, address_topic, event_topic
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
                 liquidator=None, check_model: bool = False):
        self.deployment = deployment
        self.market = market
        self.market_id = deployment.markets[market]
        self.rpc = FastRPC(chain.provider)
        self.feed = self.rpc.contract(deployment.feed_contract(market))
        self.venue = self.rpc.contract(deployment.venue_contract())
        self.ape_tokens = {s: deployment.token(s) for s, t in deployment.tokens.items() if t.market == market}
        self.tokens = {s: self.rpc.contract(t) for s, t in self.ape_tokens.items()}
        self.updater = updater.address
        self.keeper = make_keeper(keeper, self.rpc, self.ape_tokens, updater) if isinstance(keeper, str) else keeper
        self.liquidator = (
            Liquidator(self.rpc, self.venue, self.market_id, self.tokens, liquidator.address)
            if liquidator is not None else None
        )
        self.check_model = check_model
        self.shadow = None  # the ModelShadow of the last run with check_model
        self.fee_recipient = next(iter(self.ape_tokens.values())).params().feeRecipient
        self.actions: list[KeeperAction] = []
        self._by_address = {t.address: s for s, t in self.tokens.items()}

    def feed_price(self) -> Decimal:
        """The feed's current answer, in USD."""
        answer = self.feed.functions.latestRoundData().call()[1]
        return Decimal(answer) / 10 ** self.feed.functions.decimals().call()

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
        """Mines a new feed round with `price` (at `chain_time` if given); returns the receipt."""
        if chain_time is not None:
            self.rpc.w3.provider.make_request("evm_setNextBlockTimestamp", [chain_time])
        return self.rpc.send(self.feed.functions.submit(to_feed(price)), self.updater)

    def snapshot(self) -> dict[str, TokenStep]:
        """Each token's NAV, leverage, supply, equity and fee shares now (one batched request)."""
        calls = []
        for token in self.tokens.values():
            f = token.functions
            calls += [f.navPerToken(), f.leverage(), f.totalSupply(), f.equity(), f.balanceOf(self.fee_recipient),
                      self.venue.functions.fundingOwed(self.market_id, token.address)]
        values = self.rpc.call_many(calls)
        return {symbol: TokenStep(*values[6 * i : 6 * i + 6]) for i, symbol in enumerate(self.tokens)}

    def params(self) -> dict[str, dict[str, int]]:
        """Each token's Params by field name."""
        names = [c["name"] for c in self.tokens[next(iter(self.tokens))].get_function_by_name("params").abi
                 ["outputs"][0]["components"]]
        values = self.rpc.call_many([token.functions.params() for token in self.tokens.values()])
        return {symbol: dict(zip(names, value)) for symbol, value in zip(self.tokens, values)}

    def run(self, points: list[PricePoint], on_step: Callable[[int, Step], None] | None = None) -> ReplayResult:
        """Replays `points` (the first sets the starting price) and returns every step's record."""
        head = self.rpc.w3.eth.get_block("latest")
        start_chain = head["timestamp"] + 1
        start = Step(points[0].timestamp, head["timestamp"], head["number"], self.feed_price(), self.snapshot())
        if self.check_model:
            from levtoken.replay.shadow import ModelShadow  # the model loads only when asked for

            self.shadow = ModelShadow(self.rpc.w3, self.deployment, self.market, self.ape_tokens, self.fee_recipient,
                                      self.updater)
        steps: list[Step] = []
        for index, point in enumerate(points):
            chain_time = start_chain + (point.timestamp - points[0].timestamp)
            block = self.push_price(point.close, chain_time)["blockNumber"]
            self.keeper()
            actions = self.actions_since(block)
            self.actions.extend(actions)
            liquidated = self.liquidator() if self.liquidator is not None else {}
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
            steps.append(Step(point.timestamp, chain_time, block, point.close, record))
            if on_step is not None:
                on_step(index, steps[-1])
        leverages = {s: t.leverage_wad for s, t in self.deployment.tokens.items() if s in self.tokens}
        divergences = self.shadow.divergences if self.shadow is not None else None
        funding = self.funding_paid(start.block + 1)
        self._funding_by_step(start, steps)
        return ReplayResult(steps, list(self.tokens), leverages, self.fee_recipient, list(self.actions), divergences,
                            funding, start, self.params())

    def _per_step(self, start: Step, steps: list[Step], address: str, topics: list, field: str) -> list[int]:
        """The sum of an event's `field` over the logs of each step's blocks (from the price to the next price)."""
        firsts = [step.block for step in steps[1:]]
        totals = [0] * len(steps)
        for log in self._logs(address, start.block + 1, "latest", topics):
            index = sum(1 for first in firsts if log["blockNumber"] >= first)
            totals[index] += int.from_bytes(bytes(log["data"])[32 * field : 32 * field + 32], "big", signed=True)
        return totals

    def _funding_by_step(self, start: Step, steps: list[Step]) -> None:
        """Sets each step's funding (what the venue settled in the step's blocks plus the change in what is
        owed) and ripcord bounties (RipcordBountyPaid)."""
        if not steps:
            return
        bounty_topic = "0x" + keccak(text="RipcordBountyPaid(address,uint256)").hex()
        for symbol, token in self.tokens.items():
            settled = self._per_step(start, steps, self.venue.address,
                                     [event_topic("FundingSettled"), None, address_topic(token.address)], 0)
            bounties = self._per_step(start, steps, token.address, [bounty_topic], 0)
            owed = start.tokens[symbol].funding_owed
            for step, paid, bounty in zip(steps, settled, bounties):
                step.tokens[symbol].funding = paid + step.tokens[symbol].funding_owed - owed
                step.tokens[symbol].bounty = bounty
                owed = step.tokens[symbol].funding_owed

    def _logs(self, address: Any, from_block: int, to_block: int | str, topics: list) -> list:
        return self.rpc.w3.eth.get_logs({"address": address, "fromBlock": from_block, "toBlock": to_block, "topics": topics})

    def funding_paid(self, from_block: int) -> dict[str, int]:
        """Funding each token's venue account settled since `from_block` (positive: paid), from the
        venue's FundingSettled events."""
        decode = self.venue.events.FundingSettled().process_log
        paid = {}
        for symbol, token in self.tokens.items():
            logs = self._logs(self.venue.address, from_block, "latest",
                              [event_topic("FundingSettled"), None, address_topic(token.address)])
            paid[symbol] = sum(decode(log)["args"]["amount"] for log in logs)
        return paid

    def actions_since(self, due_block: int) -> list[KeeperAction]:
        """Rebalances, ripcords and settlements mined after the price update in `due_block`, in chain order,
        read from the chain's Rebalanced and Settled events (whoever sent them)."""
        latest = self.rpc.w3.eth.block_number
        if latest <= due_block:
            return []
        actions = []
        rebalanced, settled = event_topic("Rebalanced"), event_topic("Settled")
        for log in self._logs(list(self._by_address), due_block + 1, latest, [[rebalanced, settled]]):
            symbol = self._by_address[log["address"]]
            events = self.tokens[symbol].events
            if "0x" + bytes(log["topics"][0]).hex() == settled:
                event = events.Settled().process_log(log)["args"]
                caller = self.rpc.w3.eth.get_transaction(log["transactionHash"])["from"]
                actions.append(KeeperAction(symbol, Action.SETTLE, Reason.REQUESTS,
                                            Settlement.from_abi(event["settlement"]).cost, due_block,
                                            log["blockNumber"], caller))
                continue
            event = events.Rebalanced().process_log(log)["args"]
            actions.append(KeeperAction(symbol, Action(event["action"]), Reason(event["reason"]), event["cost"],
                                        due_block, log["blockNumber"], event["caller"]))
        return actions
