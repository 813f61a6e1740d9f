"""Price replay: drives a real price series through the feed on a local chain, moving chain time
with the data, lets the keeper act after every price, and records what the tokens did."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from ape import chain

from levtoken.deployment import Deployment
from levtoken.prices import PricePoint
from levtoken.units import to_feed

ACTIONS = ("NONE", "REBALANCE", "ITERATE", "RIPCORD")
REASONS = ("NONE", "TIME", "BAND", "ITERATION", "RIPCORD")


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


KeeperFn = Callable[[], list[tuple[str, str, str, object]]]


def default_keeper(tokens: dict, sender) -> KeeperFn:
    """A keeper that, for every token, sends rebalance() (or ripcord()) until the chain says nothing is due.
    Returns (symbol, action, reason, receipt) per transaction."""

    def act() -> list[tuple[str, str, str, object]]:
        done = []
        for symbol, token in tokens.items():
            for _ in range(50):
                status = token.rebalanceStatus()
                if status.action == 0:
                    break
                if status.action == 3:
                    receipt = token.ripcord(sender=sender)
                else:
                    receipt = token.rebalance(sender=sender)
                done.append((symbol, ACTIONS[status.action], REASONS[status.reason], receipt))
        return done

    return act


class Replayer:
    """Replays prices through a deployment's feed. The chain's clock moves by the same intervals as the
    data (a chain's time cannot go back, so the first row maps to the chain's next block)."""

    def __init__(self, deployment: Deployment, market: str, updater, keeper: KeeperFn, liquidator=None):
        self.deployment = deployment
        self.market = market
        self.feed = deployment.feed_contract(market)
        self.venue = deployment.venue_contract()
        self.tokens = {s: deployment.token(s) for s, t in deployment.tokens.items() if t.market == market}
        self.updater = updater
        self.keeper = keeper
        self.liquidator = liquidator
        first = next(iter(self.tokens.values()))
        self.fee_recipient = first.params().feeRecipient

    def push_price(self, price: Decimal, chain_time: int | None = None):
        """Mines a new feed round with `price` (at `chain_time` if given)."""
        if chain_time is not None:
            chain.pending_timestamp = chain_time
        return self.feed.submit(to_feed(price), sender=self.updater)

    def snapshot(self) -> dict[str, TokenStep]:
        """Each token's NAV, leverage, supply, equity and fee shares now."""
        return {
            symbol: TokenStep(
                nav=token.navPerToken(),
                leverage=token.leverage(),
                supply=token.totalSupply(),
                equity=token.equity(),
                fee_shares=token.balanceOf(self.fee_recipient),
            )
            for symbol, token in self.tokens.items()
        }

    def run(self, points: list[PricePoint], on_step: Callable[[int, Step], None] | None = None) -> ReplayResult:
        """Replays `points` (the first sets the starting price) and returns every step's record."""
        start_chain = chain.pending_timestamp + 1
        steps: list[Step] = []
        for index, point in enumerate(points):
            chain_time = start_chain + (point.timestamp - points[0].timestamp)
            if chain_time > chain.pending_timestamp:
                chain.pending_timestamp = chain_time
            receipt = self.push_price(point.close)
            actions = self.keeper()
            liquidated = self._liquidate_if_possible()
            record = self.snapshot()
            for symbol, action, reason, tx in actions:
                step = record[symbol]
                step.rebalances += 1
                step.actions.append(f"{action}:{reason}")
                for log in tx.decode_logs(self.tokens[symbol].Rebalanced):
                    step.rebalance_cost += log.cost
            for symbol in liquidated:
                record[symbol].liquidated = True
            steps.append(Step(point.timestamp, receipt.timestamp, receipt.block_number, point.close, record))
            if on_step is not None:
                on_step(index, steps[-1])
        leverages = {s: t.leverage_wad for s, t in self.deployment.tokens.items() if s in self.tokens}
        return ReplayResult(steps, list(self.tokens), leverages, self.fee_recipient)

    def _liquidate_if_possible(self) -> list[str]:
        """Acts as the venue's liquidators would: liquidates any token account below maintenance margin."""
        if self.liquidator is None:
            return []
        market_id = self.deployment.markets[self.market]
        liquidated = []
        for symbol, token in self.tokens.items():
            if self.venue.isLiquidatable(market_id, token.address):
                self.venue.liquidate(market_id, token.address, sender=self.liquidator)
                liquidated.append(symbol)
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
