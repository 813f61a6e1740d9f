"""What a replay records: one `Step` per price with a `TokenStep` per token, the keepers' `KeeperAction`s,
and the `ReplayResult` the report reads. Plain data: no chain, no model."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from levtoken.deploy_config import PERP
from levtoken.shapes import Action, Reason


@dataclass
class TokenStep:
    """One token's state after one replay step (after the keeper acted)."""

    nav: int  # collateral units per whole token (fees accrued)
    leverage: int  # signed WAD
    supply: int
    equity: int  # collateral units
    fee_shares: int  # fee recipient's balance (streaming, mint and redeem fees)
    funding_owed: int = 0  # funding accrued on the venue account and not yet settled, collateral units
    funding: int = 0  # funding accrued over this step (settled plus the change in owed), collateral units
    rebalances: int = 0  # rebalance and ripcord transactions this step
    rebalance_cost: int = 0  # equity lost to those trades, collateral units
    bounty: int = 0  # ripcord bounties paid out of equity this step, collateral units
    settlements: int = 0  # settle() transactions this step
    settlement_cost: int = 0  # the settlements' trade cost (Settlement.cost), collateral units
    actions: list[str] = field(default_factory=list)  # "ACTION:REASON" per transaction
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
class KeeperAction:
    """One rebalance, ripcord or settlement mined during the replay (whoever sent it), from its Rebalanced or
    Settled event."""

    symbol: str
    action: Action
    reason: Reason
    cost: int  # equity the trade cost the token (Rebalanced.cost, or Settlement.cost), collateral units
    due_block: int  # block in which the action became due (the price update)
    mined_block: int
    caller: str = ""

    @property
    def label(self) -> str:
        """The action as the series shows it: ACTION:REASON (e.g. REBALANCE:BAND)."""
        return f"{self.action.name}:{self.reason.name}"


# (step, token, field, chain value, model value): one disagreement of the reference model with the chain.
Divergence = tuple[int, str, str, int, int]


@dataclass
class ReplayResult:
    """Everything the report needs."""

    steps: list[Step]
    symbols: list[str]
    leverages: dict[str, int]
    fee_recipient: str
    actions: list[KeeperAction] = field(default_factory=list)
    model_divergences: list[Divergence] | None = None  # None when the model did not run
    funding_paid: dict[str, int] = field(default_factory=dict)  # collateral units, positive: paid
    start: Step | None = None  # the state before the first price: the feed's answer then, the tokens then
    params: dict[str, dict[str, int]] = field(default_factory=dict)  # each token's Params, by field name
    venue: str = PERP  # the venue kind the tokens hold their exposure on (deploy config's `venue`)
    protocol_checks: int = 0  # money-market venue: steps x tokens whose equity was checked against the protocols
    protocol_divergences: list[tuple[int, str, int, int]] = field(default_factory=list)  # (step, symbol, token, protocols)

    def origin(self) -> Step:
        """The state returns are measured from: before the first price if recorded, else the first step."""
        return self.start if self.start is not None else self.steps[0]

    def lag_blocks(self) -> tuple[float, int]:
        """Mean and largest keeper lag: blocks from the price update that made an action due to the
        block in which it was mined."""
        lags = [a.mined_block - a.due_block for a in self.actions]
        return (sum(lags) / len(lags), max(lags)) if lags else (0.0, 0)
