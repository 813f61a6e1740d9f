"""Price replay: drives a real price series through the feed on a local chain, moving chain time
with the data, lets the keeper act after every price, and records what the tokens did."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from ape import chain

from levtoken.deployment import Deployment
from levtoken.model import Action, Reason
from levtoken.rpc import FastRPC
from levtoken.prices import PricePoint
from levtoken.units import to_feed

# Names of ILeveragedToken.Action and Reason values, from the model's enums.
ACTIONS = tuple(a.name for a in Action)
REASONS = tuple(r.name for r in Reason)


@dataclass
class TokenStep:
    """One token's state after one replay step (after the keeper acted)."""

    nav: int  # collateral units per whole token (fees accrued)
    leverage: int  # signed WAD
    supply: int
    equity: int  # collateral units
    fee_shares: int  # fee recipient's balance (streaming, mint and redeem fees)
    rebalances: int = 0  # transactions this step
    rebalance_cost: int = 0  # equity lost to those trades, collateral units
    actions: list[str] = field(default_factory=list)
    liquidated: bool = False


@dataclass
class Step:
    """One row of the series as replayed."""

    timestamp: int  # the data's time
    chain_timestamp: int
    block: int
    price: Decimal
    tokens: dict[str, TokenStep]


@dataclass
class ReplayResult:
    """Everything the report needs."""

    steps: list[Step]
    symbols: list[str]
    leverages: dict[str, int]
    fee_recipient: str
    actions: list["KeeperAction"] = field(default_factory=list)
    # (step, token, field, chain value, model value) where the reference model disagreed; None if not run.
    model_divergences: list[tuple[int, str, str, int, int]] | None = None
    funding_paid: dict[str, int] = field(default_factory=dict)  # collateral units, positive: paid

    def lag_blocks(self) -> tuple[float, int]:
        """Mean and largest keeper lag: blocks from the price update that made an action due to the
        block in which it was mined."""
        lags = [a.mined_block - a.due_block for a in self.actions]
        return (sum(lags) / len(lags), max(lags)) if lags else (0.0, 0)


@dataclass
class KeeperAction:
    """One transaction a keeper sent during the replay."""

    symbol: str
    action: str
    reason: str
    cost: int  # equity the trade cost the token (Rebalanced.cost), collateral units
    due_block: int  # block in which the action became due (the price update)
    mined_block: int
    caller: str = ""


class FastKeeper:
    """The replay's in-process keeper: after each price it sends rebalance() (or ripcord()) for every
    token the chain says is due, repeating while an ITERATE is due. It decides nothing itself: the
    action comes from rebalanceStatus() and the trade from the contract. Sends through the local
    node's unlocked account in one round trip, which keeps long replays fast."""

    def __init__(self, rpc: FastRPC, tokens: dict, sender: str, max_steps: int = 50):
        self.rpc = rpc
        self.tokens = [rpc.contract(token) for token in tokens.values()]
        self.sender = sender
        self.max_steps = max_steps

    def __call__(self) -> None:
        """Acts until nothing is due."""
        pending = list(self.tokens)
        for _ in range(self.max_steps):
            if not pending:
                return
            statuses = self.rpc.call_many([t.functions.rebalanceStatus() for t in pending])
            pending = [t for t, st in zip(pending, statuses) if st[0] != 0]
            for token, status in zip(pending, [st for st in statuses if st[0] != 0]):
                fn = token.functions.ripcord() if status[0] == 3 else token.functions.rebalance()
                self.rpc.send(fn, self.sender)


class BotKeeper:
    """The production keeper (levtoken.keeper.Keeper, what the silverback bot runs) driven block by
    block: after each price it is called for new blocks until no token has anything due."""

    def __init__(self, rpc: FastRPC, tokens: dict, sender, max_blocks: int = 50):
        from levtoken.keeper import Keeper

        self.rpc = rpc
        self.keeper = Keeper(tokens, sender, receipt_wait=5.0)
        self.views = [rpc.contract(token) for token in tokens.values()]
        self.max_blocks = max_blocks

    def __call__(self) -> None:
        """Lets the keeper handle blocks until the chain says nothing is due."""
        for _ in range(self.max_blocks):
            self.keeper.on_block(self.rpc.w3.eth.block_number)
            statuses = self.rpc.call_many([t.functions.rebalanceStatus() for t in self.views])
            if all(st[0] == 0 for st in statuses):
                return

    @property
    def metrics(self):
        """The keeper's own counters (sent, failures, lag)."""
        return self.keeper.metrics


class ModelShadow:
    """Runs the reference model (levtoken.model) beside the chain during a replay: every price, keeper
    action and liquidation the chain sees is applied to the model at the same timestamp, and after
    each step the tokens' NAV, equity, supply and leverage are compared to the unit."""

    def __init__(self, replayer: "Replayer"):
        from types import SimpleNamespace

        from levtoken.model import model_from_chain

        d = replayer.deployment
        fee_recipient = SimpleNamespace(address=replayer.fee_recipient)
        self.model = model_from_chain(
            d.venue_contract(), d.feed_contract(replayer.market), d.collateral_contract(),
            list(replayer.ape_tokens.values()), [fee_recipient], owner=d.deployer, keeper=replayer.updater,
        )
        self.rpc = replayer.rpc
        self.market_id = replayer.market_id
        self.addresses = {s: t.address for s, t in replayer.tokens.items()}
        self.divergences: list[tuple[int, str, str, int, int]] = []

    def _at(self, block: int) -> None:
        self.model.set_time(self.rpc.w3.eth.get_block(block)["timestamp"])

    def price(self, block: int, answer: int) -> None:
        """The feed round mined in `block`."""
        self._at(block)
        self.model.set_answer(answer)

    def action(self, action: "KeeperAction", caller: str) -> None:
        """A rebalance or ripcord the chain executed."""
        self._at(action.mined_block)
        token = self.model.tokens[self.addresses[action.symbol]]
        if action.action == "RIPCORD":
            token.ripcord(caller)
        else:
            token.rebalance(caller)

    def liquidation(self, block: int, symbol: str, caller: str) -> None:
        """A liquidation of a token's venue account."""
        self._at(block)
        self.model.venue.liquidate(caller, self.market_id, self.addresses[symbol])

    def compare(self, index: int, record: dict[str, "TokenStep"]) -> None:
        """Records every field where the chain and the model differ."""
        for symbol, step in record.items():
            token = self.model.tokens[self.addresses[symbol]]
            for field_name, chain_value, model_value in (
                ("nav", step.nav, token.nav_per_token()),
                ("equity", step.equity, token.equity()),
                ("supply", step.supply, token.total_supply),
                ("leverage", step.leverage, token.leverage()),
            ):
                if chain_value != model_value:
                    self.divergences.append((index, symbol, field_name, chain_value, model_value))


class Replayer:
    """Replays prices through a deployment's feed. The chain's clock moves by the same intervals as the
    data (a chain's time cannot go back, so the first row maps to the chain's next block)."""

    def __init__(self, deployment: Deployment, market: str, updater, keeper=None, liquidator=None, check_model: bool = False):
        self.deployment = deployment
        self.market = market
        self.rpc = FastRPC(chain.provider)
        self.feed = self.rpc.contract(deployment.feed_contract(market))
        self.venue = self.rpc.contract(deployment.venue_contract())
        ape_tokens = {s: deployment.token(s) for s, t in deployment.tokens.items() if t.market == market}
        self.ape_tokens = ape_tokens
        self.check_model = check_model
        self.shadow: ModelShadow | None = None
        self.tokens = {s: self.rpc.contract(t) for s, t in ape_tokens.items()}
        self.updater = updater.address
        if keeper == "bot":
            keeper = BotKeeper(self.rpc, ape_tokens, updater)
        self.keeper = keeper if keeper is not None else FastKeeper(self.rpc, ape_tokens, self.updater)
        self._by_address = {t.address: s for s, t in self.tokens.items()}
        self.liquidator = liquidator.address if liquidator is not None else None
        self.market_id = deployment.markets[market]
        first = next(iter(ape_tokens.values()))
        self.fee_recipient = first.params().feeRecipient
        self.actions: list[KeeperAction] = []
        self._rebalanced_topic = self.rpc.w3.keccak(text="Rebalanced(uint8,uint8,address,int256,int256,uint256,uint256,bool)").to_0x_hex()

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
            calls += [f.navPerToken(), f.leverage(), f.totalSupply(), f.equity(), f.balanceOf(self.fee_recipient)]
        values = self.rpc.call_many(calls)
        return {symbol: TokenStep(*values[5 * i : 5 * i + 5]) for i, symbol in enumerate(self.tokens)}

    def run(self, points: list[PricePoint], on_step: Callable[[int, Step], None] | None = None) -> ReplayResult:
        """Replays `points` (the first sets the starting price) and returns every step's record."""
        start_chain = self.rpc.w3.eth.get_block("latest")["timestamp"] + 1
        if self.check_model:
            self.shadow = ModelShadow(self)
        steps: list[Step] = []
        for index, point in enumerate(points):
            chain_time = start_chain + (point.timestamp - points[0].timestamp)
            receipt = self.push_price(point.close, chain_time)
            self.keeper()
            actions = self.actions_since(receipt["blockNumber"])
            self.actions.extend(actions)
            liquidated = self._liquidate_if_possible()
            record = self.snapshot()
            if self.shadow is not None:
                self.shadow.price(receipt["blockNumber"], to_feed(point.close))
                for action in actions:
                    self.shadow.action(action, action.caller)
                for symbol, block in liquidated.items():
                    self.shadow.liquidation(block, symbol, self.liquidator)
                self.shadow.compare(index, record)
            for action in actions:
                step = record[action.symbol]
                step.rebalances += 1
                step.rebalance_cost += action.cost
                step.actions.append(f"{action.action}:{action.reason}")
            for symbol in liquidated:
                record[symbol].liquidated = True
            steps.append(Step(point.timestamp, chain_time, receipt["blockNumber"], point.close, record))
            if on_step is not None:
                on_step(index, steps[-1])
        leverages = {s: t.leverage_wad for s, t in self.deployment.tokens.items() if s in self.tokens}
        divergences = self.shadow.divergences if self.shadow is not None else None
        funding = self.funding_paid(steps[0].block if steps else 0)
        return ReplayResult(steps, list(self.tokens), leverages, self.fee_recipient, list(self.actions), divergences, funding)

    def funding_paid(self, from_block: int) -> dict[str, int]:
        """Funding each token's venue account settled since `from_block` (positive: paid), from the
        venue's FundingSettled events."""
        topic = self.rpc.w3.keccak(text="FundingSettled(uint256,address,int256,int256)").to_0x_hex()
        paid = {}
        for symbol, token in self.tokens.items():
            account_topic = "0x" + "00" * 12 + token.address[2:].lower()
            logs = self.rpc.w3.eth.get_logs(
                {"address": self.venue.address, "fromBlock": from_block, "toBlock": "latest", "topics": [topic, None, account_topic]}
            )
            paid[symbol] = sum(self.venue.events.FundingSettled().process_log(log)["args"]["amount"] for log in logs)
        return paid

    def actions_since(self, due_block: int) -> list[KeeperAction]:
        """Rebalances and ripcords mined after the price update in `due_block`, read from the chain's
        Rebalanced events (whoever sent them)."""
        latest = self.rpc.w3.eth.block_number
        if latest <= due_block:
            return []
        logs = self.rpc.w3.eth.get_logs(
            {"address": list(self._by_address), "fromBlock": due_block + 1, "toBlock": latest, "topics": [self._rebalanced_topic]}
        )
        actions = []
        for log in logs:
            symbol = self._by_address[log["address"]]
            event = self.tokens[symbol].events.Rebalanced().process_log(log)["args"]
            actions.append(
                KeeperAction(symbol, ACTIONS[event["action"]], REASONS[event["reason"]], event["cost"], due_block, log["blockNumber"], event["caller"])
            )
        return actions

    def _liquidate_if_possible(self) -> dict[str, int]:
        """Acts as the venue's liquidators would: liquidates any token account below maintenance margin.
        Returns the block of each liquidation by token symbol."""
        if self.liquidator is None:
            return {}
        flags = self.rpc.call_many([self.venue.functions.isLiquidatable(self.market_id, t.address) for t in self.tokens.values()])
        liquidated = {}
        for (symbol, token), flag in zip(self.tokens.items(), flags):
            if flag:
                receipt = self.rpc.send(self.venue.functions.liquidate(self.market_id, token.address), self.liquidator)
                liquidated[symbol] = receipt["blockNumber"]
        return liquidated


def mint_for(deployment: Deployment, holders: Iterable[tuple[object, str, int]], faucet_sender=None) -> None:
    """Mints tokens for (account, token symbol, collateral units) holders, funding them from the
    test stablecoin's faucet on local chains."""
    collateral = deployment.collateral_contract()
    for account, symbol, amount in holders:
        token = deployment.token(symbol)
        if deployment.collateral_is_test:
            collateral.mint(account, amount, sender=faucet_sender or account)
        collateral.approve(token.address, amount, sender=account)
        token.deposit(amount, account, sender=account)
