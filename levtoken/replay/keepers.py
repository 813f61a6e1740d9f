"""Who acts on the chain after each price of a replay: the tokens' keepers, behind one callable protocol,
and the venue's liquidator. None of them decides anything itself: each does what the chain says is due
(`rebalanceStatus()`, `isLiquidatable()`) and the contracts compute the trade."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from levtoken.keeper import Keeper, KeeperMetrics, method_for
from levtoken.rpc import RPC, Call, Contract, quantity
from levtoken.shapes import Status

KEEPER_KINDS = ("fast", "bot")


class ReplayKeeper(Protocol):
    """What the replayer calls after each price: act until the chain says nothing is due."""

    def __call__(self) -> None:
        """Acts on every token that is due, until none is (or a bound on rounds is reached)."""


def due_tokens(rpc: RPC, tokens: Iterable[Contract]) -> list[tuple[Contract, Status]]:
    """The tokens with an action due and their status, in one batched read."""
    tokens = list(tokens)
    statuses = rpc.call_many([token.call("rebalanceStatus") for token in tokens])
    return [(token, status) for token, status in zip(tokens, map(Status.from_abi, statuses)) if status.due]


class FastKeeper:
    """The replay's in-process keeper: after each price it sends rebalance() (or ripcord()) for every
    token the chain says is due, repeating while an ITERATE is due. Sends through the local node's
    unlocked account in one round trip, which keeps long replays fast."""

    def __init__(self, rpc: RPC, tokens: Mapping[str, Any], sender: str, max_rounds: int = 50):
        self.rpc = rpc
        self.tokens = [rpc.contract(token) for token in tokens.values()]
        self.sender = sender
        self.max_rounds = max_rounds

    def __call__(self) -> None:
        """Acts until nothing is due."""
        pending = list(self.tokens)
        for _ in range(self.max_rounds):
            if not pending:
                return
            pending = self.act(due_tokens(self.rpc, pending))

    def act(self, due: Iterable[tuple[Contract, Status]]) -> list[Contract]:
        """Sends, for each token and its status read on the current state, the action its status says is due;
        returns the tokens it sent for (the ones to read again)."""
        sent = []
        for token, status in due:
            if status.due:
                self.rpc.send(token, method_for(status.action), sender=self.sender)
                sent.append(token)
        return sent


class BotKeeper:
    """The production keeper (levtoken.keeper.Keeper, what the silverback bot runs) driven block by
    block: after each price it is called for new blocks until no token has anything due."""

    def __init__(self, rpc: RPC, tokens: Mapping[str, Any], sender, max_blocks: int = 50):
        self.rpc = rpc
        self.keeper = Keeper(tokens, sender, receipt_wait=5.0)
        self.views = [rpc.contract(token) for token in tokens.values()]
        self.max_blocks = max_blocks

    def __call__(self) -> None:
        """Lets the keeper handle blocks until the chain says nothing is due."""
        for _ in range(self.max_blocks):
            self.keeper.on_block(self.rpc.block_number())
            if not due_tokens(self.rpc, self.views):
                return

    @property
    def metrics(self) -> KeeperMetrics:
        """The keeper's own counters (sent, failures, lag)."""
        return self.keeper.metrics


def make_keeper(kind: str, rpc: RPC, tokens: Mapping[str, Any], sender) -> ReplayKeeper:
    """The replay keeper of a kind: "fast" (in-process, batched) or "bot" (the production Keeper);
    `tokens` are ape contracts by symbol, `sender` the ape account that holds KEEPER_ROLE."""
    if kind == "fast":
        return FastKeeper(rpc, tokens, sender.address)
    if kind == "bot":
        return BotKeeper(rpc, tokens, sender)
    raise ValueError(f"keeper kind {kind!r} is not one of {KEEPER_KINDS}")


class Liquidator:
    """Acts as the venue's liquidators would: liquidates any token account below maintenance margin. Its
    `checks` (isLiquidatable per token) are read with the rest of a step's state, then `act` sends."""

    def __init__(self, rpc: RPC, venue: Contract, market_id: int, tokens: Mapping[str, Contract], sender: str):
        self.rpc = rpc
        self.venue = venue
        self.market_id = market_id
        self.tokens = dict(tokens)  # by symbol
        self.sender = sender
        self.checks: list[Call] = [venue.call("isLiquidatable", market_id, t.address) for t in self.tokens.values()]

    def act(self, flags: list[bool]) -> dict[str, int]:
        """Liquidates the tokens whose `checks` said liquidatable (`flags`, in the order of `checks`); returns the
        block of each liquidation by token symbol."""
        liquidated = {}
        for (symbol, token), flag in zip(self.tokens.items(), flags):
            if flag:
                receipt = self.rpc.send(self.venue, "liquidate", self.market_id, token.address, sender=self.sender)
                liquidated[symbol] = quantity(receipt["blockNumber"])
        return liquidated
