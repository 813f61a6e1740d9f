"""The reference model's throughput (token-steps per second) over real price series, no chain."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from levtoken.model import Revert, default_params, standard_model
from levtoken.prices import DAILY_CSV, HOURLY_CSV, load_prices, parse_date
from levtoken.shapes import Action
from levtoken.units import WAD, to_feed, to_units

# (label, file, first date, last date): the series the model replays.
MODEL_SERIES = (
    ("BTC/USDT perpetual, hourly, 2023-04-18 to 2024-04-18", HOURLY_CSV, "2023-04-18", "2024-04-18"),
    ("BTC/USD, daily, 2020-09-24 to 2025-09-24", DAILY_CSV, "2020-09-24", "2025-09-24"),
)
MODEL_REPEATS = 3  # each series is replayed this many times and the fastest run counts
MODEL_TOKENS = (3, -3, -1)  # BTC 3x long, 3x short, 1x short
MODEL_POOL_SEED = to_units(10_000_000)
# (holder, token index, deposit in USD): the demo's four holders, depositing at the start.
MODEL_HOLDERS = (("holder0", 0, 100_000), ("holder1", 1, 50_000), ("holder2", 2, 25_000), ("holder3", 0, 10_000))
MODEL_MAX_ACTIONS = 64  # rebalance calls per token and price, at most (a capped rebalance iterates)
MODEL_SECTION = "Reference model throughput"


@dataclass
class ModelRun:
    """One replay of a price series through the reference model alone."""

    series: str
    prices: int
    tokens: int
    seconds: float
    actions: int
    liquidations: int
    reverts: int

    @property
    def token_steps(self) -> int:
        """Prices x tokens."""
        return self.prices * self.tokens

    @property
    def per_second(self) -> float:
        """Token-steps per second."""
        return self.token_steps / self.seconds


def model_replay(label: str, path: Path | str, first: str, last: str) -> ModelRun:
    """Replays `path` between `first` and `last` through the reference model alone: one market with the
    default config, a 10M pool, the three tokens of MODEL_TOKENS with the factory's default parameters
    and holders depositing at the start (request, settlement at the next second's round, claim); at each price the time moves and the price is published, each
    token acts while rebalanceStatus says something is due (ripcord() for RIPCORD, else rebalance()),
    and the venue's account of a token is liquidated when the venue says it can be."""
    points = load_prices(path, parse_date(first), parse_date(last))
    answers = [to_feed(p.close) for p in points]
    model = standard_model(answers[0] * 10**10, now=points[0].timestamp - 2, pool_seed=MODEL_POOL_SEED)
    tokens = []
    for i, leverage in enumerate(MODEL_TOKENS):
        target = leverage * WAD
        tokens.append(model.add_token(f"token{i}", 1, target, default_params(target, "fees")))
    for holder, index, usd in MODEL_HOLDERS:
        model.collateral.mint(holder, to_units(usd))
        tokens[index].request_deposit(holder, to_units(usd), holder, holder)
    # A round one second later qualifies the requests; the keeper settles, the holders claim.
    model.set_time(points[0].timestamp - 1)
    model.set_answer(answers[0])
    for token in tokens:
        token.settle("keeper")
    for holder, index, usd in MODEL_HOLDERS:
        tokens[index].deposit(holder, to_units(usd), holder)
    venue = model.venue
    actions = liquidations = reverts = 0

    started = time.process_time()
    for point, answer in zip(points, answers):
        model.set_time(point.timestamp)
        model.set_answer(answer)
        for token in tokens:
            for _ in range(MODEL_MAX_ACTIONS):
                status = token.rebalance_status()
                if status.action == Action.NONE:
                    break
                try:
                    if status.action == Action.RIPCORD:
                        token.ripcord("keeper")
                    elif status.action == Action.SETTLE:
                        token.settle("keeper")
                    else:
                        token.rebalance("keeper")
                except Revert:
                    reverts += 1
                    break
                actions += 1
            if venue.is_liquidatable(1, token.address):
                venue.liquidate("liquidator", 1, token.address)
                liquidations += 1
    seconds = time.process_time() - started
    return ModelRun(label, len(points), len(tokens), seconds, actions, liquidations, reverts)


def model_throughput(repeats: int = MODEL_REPEATS) -> list[ModelRun]:
    """The reference model's throughput over each series of MODEL_SERIES: the fastest of `repeats` runs
    (CPU time, so other work on the machine counts as little as it can)."""
    return [min((model_replay(*series) for _ in range(repeats)), key=lambda run: run.seconds) for series in MODEL_SERIES]


def model_total(runs: list[ModelRun]) -> ModelRun:
    """All series together."""
    return ModelRun(
        "all series", sum(r.prices for r in runs), runs[0].tokens if runs else 0, sum(r.seconds for r in runs),
        sum(r.actions for r in runs), sum(r.liquidations for r in runs), sum(r.reverts for r in runs),
    )


def model_markdown(runs: list[ModelRun]) -> str:
    """The model's throughput as a Markdown section."""
    lines = [
        f"## {MODEL_SECTION}",
        "",
        "The Python reference model (`levtoken.model`) alone, no chain: BTC 3x long, 3x short and 1x short with",
        "the factory's default parameters on a market with the default config and a 10M USD pool, four holders",
        "depositing at the start; at each price the time moves, the price is published, each token rebalances",
        "(or pulls the ripcord) while something is due and is liquidated when the venue says so.",
        f"Token-steps = prices x tokens; seconds of CPU time, the fastest of {MODEL_REPEATS} runs. Regenerate with",
        "`make bench`, or this section alone with `python -m levtoken.bench --model-only`.",
        "",
        "| Series | Prices | Token-steps | Keeper actions | Liquidations | CPU seconds | Token-steps / s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in [*runs, model_total(runs)]:
        lines.append(
            f"| {run.series} | {run.prices:,} | {run.token_steps:,} | {run.actions:,} | {run.liquidations:,} | "
            f"{run.seconds:.2f} | {run.per_second:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def print_model(runs: list[ModelRun], console: Console) -> None:
    """Prints the model's throughput as a rich table."""
    table = Table(title="Reference model throughput (token-steps per second)")
    for header in ("Series", "Prices", "Token-steps", "CPU seconds", "Token-steps / s"):
        table.add_column(header, justify="left" if header == "Series" else "right")
    for run in [*runs, model_total(runs)]:
        table.add_row(run.series, f"{run.prices:,}", f"{run.token_steps:,}", f"{run.seconds:.2f}", f"{run.per_second:,.0f}")
    console.print(table)
