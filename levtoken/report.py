"""Reports of a replay: a table per token, a CSV of the series and a PNG chart."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from levtoken.replay.records import ReplayResult
from levtoken.units import WAD, from_units, leverage_label


@dataclass
class TokenSummary:
    """The figures the report shows for one token (returns as fractions, money in collateral units)."""

    symbol: str
    leverage: float
    start_nav: int
    end_nav: int
    token_return: float
    underlying_return: float
    ideal_return: float  # daily-reset product prod(1 + L * r_i), no costs (DESIGN.md section 5)
    static_return: float  # a static L x position held from the start: L * underlying return
    volatility_decay: float  # static_return - token_return: what rebalancing lost (negative: gained)
    fees_paid: int  # value at the end of the shares the fee recipient received
    rebalances: int
    rebalance_cost: int
    settlements: int  # settle() transactions (waiting deposits and redemptions priced at a newer round)
    settlement_cost: int  # the settlements' trade cost (Settlement.cost), collateral units
    funding_paid: int  # settled by the token's venue account (negative: received)
    max_drawdown: float
    liquidated: bool


def _ideal(result: ReplayResult, leverage: float) -> float:
    """prod(1 + L * r_i) over daily returns (the last price of each UTC day), floored at zero."""
    closes: dict[str, Decimal] = {}
    for step in result.steps:
        closes[datetime.fromtimestamp(step.timestamp, tz=timezone.utc).date().isoformat()] = step.price
    values = list(closes.values())
    value = 1.0
    for prev, cur in zip(values, values[1:]):
        value *= max(0.0, 1 + leverage * float(cur / prev - 1))
    return value - 1


def summarize(result: ReplayResult) -> list[TokenSummary]:
    """Computes each token's summary from the recorded steps."""
    first, last = result.steps[0], result.steps[-1]
    underlying = float(last.price / first.price - 1)
    summaries = []
    for symbol in result.symbols:
        lev = result.leverages[symbol] / WAD
        navs = [step.tokens[symbol].nav for step in result.steps]
        start_nav, end_nav = navs[0], navs[-1]
        peak, drawdown = 0, 0.0
        for nav in navs:
            peak = max(peak, nav)
            if peak:
                drawdown = max(drawdown, 1 - nav / peak)
        token_return = end_nav / start_nav - 1 if start_nav else 0.0
        static = max(-1.0, lev * underlying)
        end = last.tokens[symbol]
        summaries.append(
            TokenSummary(
                symbol=symbol,
                leverage=lev,
                start_nav=start_nav,
                end_nav=end_nav,
                token_return=token_return,
                underlying_return=underlying,
                ideal_return=_ideal(result, lev),
                static_return=static,
                volatility_decay=static - token_return,
                fees_paid=end.fee_shares * end_nav // WAD,
                rebalances=sum(step.tokens[symbol].rebalances for step in result.steps),
                rebalance_cost=sum(step.tokens[symbol].rebalance_cost for step in result.steps),
                settlements=sum(step.tokens[symbol].settlements for step in result.steps),
                settlement_cost=sum(step.tokens[symbol].settlement_cost for step in result.steps),
                funding_paid=result.funding_paid.get(symbol, 0),
                max_drawdown=drawdown,
                liquidated=any(step.tokens[symbol].liquidated for step in result.steps),
            )
        )
    return summaries


def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def _usd(units: int) -> str:
    return ("-" if units < 0 else "") + f"${from_units(abs(units)):,.2f}"


COLUMNS = (
    "token", "start NAV", "end NAV", "return", "underlying", "ideal daily-reset", "static Lx",
    "volatility decay", "fees paid", "rebalances", "rebalance cost", "settlements", "settlement cost",
    "funding paid", "max drawdown",
)


def summary_rows(summaries: list[TokenSummary]) -> list[list[str]]:
    """The table's rows as strings, in COLUMNS order."""
    rows = []
    for s in summaries:
        rows.append([
            f"{s.symbol} ({leverage_label(int(s.leverage * WAD))})" + (" LIQUIDATED" if s.liquidated else ""),
            _usd(s.start_nav), _usd(s.end_nav), _pct(s.token_return), _pct(s.underlying_return),
            _pct(s.ideal_return), _pct(s.static_return), _pct(s.volatility_decay), _usd(s.fees_paid),
            str(s.rebalances), _usd(s.rebalance_cost), str(s.settlements), _usd(s.settlement_cost),
            _usd(s.funding_paid), f"{s.max_drawdown * 100:.2f}%",
        ])
    return rows


def write_csv(result: ReplayResult, path: Path) -> None:
    """One row per step: date, price, then NAV, leverage, supply, equity, fee shares, rebalances and
    settlements per token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["date", "chain_timestamp", "block", "price"]
        for symbol in result.symbols:
            header += [f"{symbol}_{k}" for k in ("nav", "leverage", "supply", "equity", "fee_shares", "rebalances", "rebalance_cost",
                                                  "settlements", "settlement_cost", "actions")]
        writer.writerow(header)
        for step in result.steps:
            row = [datetime.fromtimestamp(step.timestamp, tz=timezone.utc).isoformat(), step.chain_timestamp, step.block, str(step.price)]
            for symbol in result.symbols:
                t = step.tokens[symbol]
                row += [str(from_units(t.nav)), str(Decimal(t.leverage) / WAD), t.supply, str(from_units(t.equity)), t.fee_shares, t.rebalances, str(from_units(t.rebalance_cost)), t.settlements, str(from_units(t.settlement_cost)), " ".join(t.actions)]
            writer.writerow(row)


def write_markdown(result: ReplayResult, summaries: list[TokenSummary], path: Path, title: str) -> None:
    """The summary table as Markdown."""
    rows = summary_rows(summaries)
    lines = [f"# {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "NAV is per whole token in collateral units; returns are over the whole replay. 'ideal daily-reset' is",
              "prod(1 + L r_i) over daily closes with no costs; 'static Lx' is L times the underlying's return;",
              "'volatility decay' is static minus actual. Fees paid are the mint, redeem and streaming fees (value of",
              "the fee recipient's tokens at the end); rebalance cost is the venue's fee and impact on rebalance trades;",
              "settlements price waiting deposits and redemptions at a round newer than the requests, and their cost is",
              "the venue's fee and impact on the one trade each makes (split between depositors and redeemers);",
              "funding paid is what the token's venue position settled in funding (negative: received)."]
    path.write_text("\n".join(lines) + "\n")


def write_chart(result: ReplayResult, path: Path, title: str) -> None:
    """Underlying price and each token's NAV (log scale, start = 1) with rebalance markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = [datetime.fromtimestamp(s.timestamp, tz=timezone.utc) for s in result.steps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    top.plot(dates, [float(s.price) for s in result.steps], color="black", linewidth=1)
    top.set_ylabel("underlying (USD)")
    top.set_title(title)
    for symbol in result.symbols:
        start = result.steps[0].tokens[symbol].nav or 1
        navs = [max(s.tokens[symbol].nav / start, 1e-6) for s in result.steps]
        (line,) = bottom.plot(dates, navs, linewidth=1.2, label=f"{symbol} ({leverage_label(result.leverages[symbol])})")
        marks = [(d, n) for d, n, s in zip(dates, navs, result.steps) if s.tokens[symbol].rebalances]
        if marks:
            bottom.scatter([m[0] for m in marks], [m[1] for m in marks], s=6, color=line.get_color(), alpha=0.6)
    underlying = [float(s.price / result.steps[0].price) for s in result.steps]
    bottom.plot(dates, underlying, color="black", linewidth=0.8, linestyle="--", label="underlying (1x)")
    bottom.set_yscale("log")
    bottom.set_ylabel("NAV (start = 1, log scale); dots: rebalances")
    bottom.legend(loc="best", fontsize=8)
    bottom.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
