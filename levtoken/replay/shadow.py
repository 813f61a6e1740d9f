"""The reference model beside the chain during a replay: every price, keeper action and liquidation the
chain saw (settlements included) is applied to the model at the same timestamp, and after each step the tokens' NAV, equity,
supply and leverage are compared to the unit."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ape.api.address import Address

from levtoken.model import model_from_chain
from levtoken.replay.records import Divergence, KeeperAction, TokenStep
from levtoken.shapes import Action


class ModelShadow:
    """Mirrors a deployment's market in the reference model and follows the chain step by step."""

    def __init__(self, block_time: Callable[[int], int], deployment: Any, market: str, tokens: Mapping[str, Any],
                 fee_recipient: str, keeper: str):
        """`block_time` gives a block's timestamp; `tokens`: ape contracts by symbol; the model starts from the chain's state now, which must hold no
        waiting request and nothing claimable (build it after the holders' mints are claimed)."""
        self.model = model_from_chain(
            deployment.venue_contract(), deployment.feed_contract(market), deployment.collateral_contract(),
            list(tokens.values()), [Address(fee_recipient)], owner=deployment.deployer, keeper=keeper,
        )
        self.block_time = block_time
        self.market_id = deployment.markets[market]
        self.addresses = {symbol: token.address for symbol, token in tokens.items()}
        self.divergences: list[Divergence] = []

    def _at(self, block: int) -> None:
        self.model.set_time(self.block_time(block))

    def price(self, block: int, answer: int) -> None:
        """The feed round mined in `block`."""
        self._at(block)
        self.model.set_answer(answer)

    def action(self, action: KeeperAction) -> None:
        """A rebalance, ripcord or settlement the chain executed."""
        self._at(action.mined_block)
        token = self.model.tokens[self.addresses[action.symbol]]
        if action.action == Action.SETTLE:
            token.settle(action.caller)
        elif action.action == Action.RIPCORD:
            token.ripcord(action.caller)
        else:
            token.rebalance(action.caller)

    def liquidation(self, block: int, symbol: str, caller: str) -> None:
        """A liquidation of a token's venue account."""
        self._at(block)
        self.model.venue.liquidate(caller, self.market_id, self.addresses[symbol])

    def step(self, index: int, price_block: int, answer: int, actions: list[KeeperAction],
             liquidations: Mapping[str, int], liquidator: str | None, record: Mapping[str, TokenStep]) -> None:
        """Applies one replay step in the chain's order (price, keeper actions, liquidations) and compares."""
        self.price(price_block, answer)
        for action in actions:
            self.action(action)
        for symbol, block in liquidations.items():
            self.liquidation(block, symbol, liquidator)
        self.compare(index, record)

    def compare(self, index: int, record: Mapping[str, TokenStep]) -> None:
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
