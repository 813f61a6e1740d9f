"""The demo's chain before its replay (`levtoken demo`, the benchmarks, the replay's regression fixtures): the
tokens deployed, the series' first price published and a few holders' mints settled and claimed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from levtoken.deploy_config import DeployConfig
from levtoken.deployment import deploy, mint_for
from levtoken.prices import PricePoint
from levtoken.replay.replayer import Replayer
from levtoken.units import from_units, to_units

DEMO_DEPOSITS = (100_000, 50_000, 25_000, 10_000)  # USD the demo's holders (test accounts 1 to 4) mint, one token each in turn
DEMO_ARBITRAGEUR = 7  # the test account that keeps a money-market pool at the price


def demo_replayer(spec: DeployConfig, points: Sequence[PricePoint], record: Path, keeper_kind: str = "fast",
                  check_model: bool = False, log: Callable[[str], None] = lambda message: None,
                  deposits: tuple[int, ...] = DEMO_DEPOSITS) -> Replayer:
    """The demo's chain before its replay, on the connected local chain: `spec` deployed by test account 0 (its
    record written to `record`), the series' first price published and the holders' mints (`deposits`, USD)
    settled and claimed; returns the Replayer (test account 9 liquidates; on the money-market venue
    DEMO_ARBITRAGEUR keeps the pool at the price) ready to run `points`."""
    from ape import accounts

    test = accounts.test_accounts
    gov, liquidator, arbitrageur = test[0], test[9], test[DEMO_ARBITRAGEUR]
    record.unlink(missing_ok=True)
    deployment = deploy(spec, gov, record, log=log)
    replayer = Replayer(deployment, spec.tokens[0].market, gov, keeper=keeper_kind, liquidator=liquidator,
                        check_model=check_model, arbitrageur=arbitrageur)
    replayer.push_price(points[0].close)
    symbols = list(deployment.tokens)
    holders = [(test[1 + i % 4], symbols[i % len(symbols)], to_units(usd)) for i, usd in enumerate(deposits)]
    mint_for(deployment, holders)
    for account, symbol, amount in holders:
        log(f"{account.address[:10]}… minted {symbol} for ${from_units(amount):,.0f}")
    return replayer
