"""Reports of a replay: a table per token, a CSV of the series and a PNG chart."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from levtoken.replay.records import ReplayResult, Step
from levtoken.units import DAY, WAD, from_units, leverage_label


@dataclass
class Attribution:
    """Where one token's return went (DESIGN.md section 8), as fractions of the NAV at the start; the terms add up
    to `actual`. Each cost also takes what the money it took would have earned since (its effect on the end)."""

    static: float  # a static L x position held from the start: L times the underlying's return
    decay: float  # ideal daily-reset product minus static: volatility decay, pure mathematics
    schedule: float  # the token's own rebalance schedule at zero cost minus the ideal: band and timing
    fees: float  # the streaming fee (mint and redeem fees are charged to the requesters' shares, not the NAV)
    funding: float  # funding accrued on the venue position
    trading: float  # the venue's fee and impact on rebalances, and ripcord bounties (a settlement's trade is
    # charged to its requesters)
    liquidation: float  # what the liquidation took beyond the zero-cost path (zero unless liquidated)
    rounding: float  # what the measured costs leave unexplained: unit rounding of the chain's integer math
    actual: float  # the token's NAV return

    TERMS = (
        ("static Lx", "static"), ("volatility decay", "decay"), ("schedule effect", "schedule"),
        ("streaming fee", "fees"), ("funding", "funding"), ("trading costs", "trading"),
        ("liquidation", "liquidation"), ("rounding", "rounding"),
    )

    def terms(self) -> list[tuple[str, float]]:
        """(row name, fraction) in order from static to the last cost; they sum to `actual`."""
        return [(name, getattr(self, attr)) for name, attr in self.TERMS]


@dataclass
class TokenSummary:
    """The figures the report shows for one token (returns as fractions, money in collateral units)."""

    symbol: str
    leverage: float
    start_nav: int
    end_nav: int
    start_value: int  # the tokens outstanding at the start, at the start's NAV: what the dollar terms apply to
    token_return: float
    underlying_return: float
    ideal_return: float  # daily-reset product prod(1 + L * r_i), no costs (DESIGN.md section 5)
    static_return: float  # a static L x position held from the start: L * underlying return
    schedule_return: float  # the token's own leverage step by step, at zero cost
    attribution: Attribution
    fees_paid: int  # value at the end of the fee recipient's tokens (streaming, mint and redeem fees)
    rebalances: int
    rebalance_cost: int
    settlements: int  # settle() transactions (waiting deposits and redemptions priced at a newer round)
    settlement_cost: int  # the settlements' trade cost (Settlement.cost), collateral units
    funding_paid: int  # settled by the token's venue account (negative: received)
    funding_rate: float  # funding accrued over the replay as a fraction of the mean equity per year
    max_drawdown: float
    liquidated: bool
    liquidated_on: str = ""  # the date of the step in which the token was liquidated
    liquidation_move: float = 0.0  # that step's price move, close to close

    def dollars(self, fraction: float) -> int:
        """A fraction of the start's NAV in collateral units, for the tokens outstanding at the start."""
        return round(fraction * self.start_value)


def _ideal(result: ReplayResult, leverage: float) -> float:
    """prod(1 + L * r_i) over daily returns (the start's price, then the last price of each UTC day), floored
    at zero."""
    closes: dict[str, Decimal] = {}
    for step in result.steps:
        closes[datetime.fromtimestamp(step.timestamp, tz=timezone.utc).date().isoformat()] = step.price
    values = [result.origin().price, *closes.values()]
    value = 1.0
    for prev, cur in zip(values, values[1:]):
        value *= max(0.0, 1 + leverage * float(cur / prev - 1))
    return value - 1


def _path(result: ReplayResult) -> list[Step]:
    """The states returns are measured over: the start (if recorded), then every step."""
    return ([result.start] if result.start is not None else []) + list(result.steps)


def attribute(result: ReplayResult, symbol: str, static: float, ideal: float) -> tuple[Attribution, float]:
    """The attribution of one token's return, and its zero-cost schedule return.

    Per step i, the zero-cost factor is g_i = max(0, 1 + L_(i-1) r_i) (the leverage the token held after the
    previous step times the price move) and the actual factor f_i is the NAV's ratio. Their products give the
    schedule and actual returns, and prod g - prod f = sum_i f_1..f_(i-1) (g_i - f_i) g_(i+1)..g_n exactly; each
    step's g_i - f_i is split into the measured funding and rebalance cost (as fractions of the equity before
    the step), the streaming fee (its dilution over the step's time) and what is left (rounding, or the
    liquidation in the step that had one)."""
    path = _path(result)
    fee_per_day = result.params.get(symbol, {}).get("streamingFeePerDay", 0) / WAD
    g, f, parts = [], [], []
    for prev, cur in zip(path, path[1:]):
        a, b = prev.tokens[symbol], cur.tokens[symbol]
        move = float(cur.price / prev.price - 1)
        gi = max(0.0, 1 + a.leverage / WAD * move) if a.nav else 1.0
        fi = b.nav / a.nav if a.nav else 1.0
        equity = a.equity if a.equity > 0 else 0
        funding = b.funding / equity if equity else 0.0
        trading = (b.rebalance_cost + b.bounty) / equity if equity else 0.0
        fee = min(fee_per_day * (cur.chain_timestamp - prev.chain_timestamp) / DAY, 0.5) if a.nav else 0.0
        if b.liquidated or gi == 0:
            parts.append((0.0, 0.0, 0.0, fi - gi if b.liquidated else 0.0, 0.0 if b.liquidated else fi - gi))
        else:
            after = gi - funding - trading
            parts.append((-(after * fee), -funding, -trading, 0.0, fi - after * (1 - fee)))
        g.append(gi)
        f.append(fi)
    totals = [0.0] * 5
    before = 1.0
    for i, part in enumerate(parts):
        after = 1.0
        for gj in g[i + 1 :]:
            after *= gj
        for k, value in enumerate(part):
            totals[k] += before * value * after
        before *= f[i]
    schedule = 1.0
    for gi in g:
        schedule *= gi
    actual = before - 1
    fees, funding, trading, liquidation, rounding = totals
    return Attribution(static, ideal - static, (schedule - 1) - ideal, fees, funding, trading, liquidation, rounding,
                       actual), schedule - 1


def summarize(result: ReplayResult) -> list[TokenSummary]:
    """Computes each token's summary from the recorded steps, measured from the replay's start."""
    path = _path(result)
    first, last = path[0], path[-1]
    underlying = float(last.price / first.price - 1)
    years = max(last.chain_timestamp - first.chain_timestamp, 1) / (365 * DAY)
    summaries = []
    for symbol in result.symbols:
        lev = result.leverages[symbol] / WAD
        navs = [step.tokens[symbol].nav for step in path]
        start_nav, end_nav = navs[0], navs[-1]
        peak, drawdown = 0, 0.0
        for nav in navs:
            peak = max(peak, nav)
            if peak:
                drawdown = max(drawdown, 1 - nav / peak)
        static = max(-1.0, lev * underlying)
        attribution, schedule = attribute(result, symbol, static, _ideal(result, lev))
        end = last.tokens[symbol]
        start = first.tokens[symbol]
        equities = [max(step.tokens[symbol].equity, 0) for step in path]
        mean_equity = sum(equities) / len(equities)
        accrued = sum(step.tokens[symbol].funding for step in path[1:])
        liquidated_on, move = "", 0.0
        for prev, cur in zip(path, path[1:]):
            if cur.tokens[symbol].liquidated and not liquidated_on:
                liquidated_on = datetime.fromtimestamp(cur.timestamp, tz=timezone.utc).date().isoformat()
                move = float(cur.price / prev.price - 1)
        summaries.append(
            TokenSummary(
                symbol=symbol,
                leverage=lev,
                start_nav=start_nav,
                end_nav=end_nav,
                start_value=start.supply * start_nav // WAD,
                token_return=attribution.actual,
                underlying_return=underlying,
                ideal_return=_ideal(result, lev),
                static_return=static,
                schedule_return=schedule,
                attribution=attribution,
                fees_paid=end.fee_shares * end_nav // WAD,
                rebalances=sum(step.tokens[symbol].rebalances for step in result.steps),
                rebalance_cost=sum(step.tokens[symbol].rebalance_cost for step in result.steps),
                settlements=sum(step.tokens[symbol].settlements for step in result.steps),
                settlement_cost=sum(step.tokens[symbol].settlement_cost for step in result.steps),
                funding_paid=result.funding_paid.get(symbol, 0),
                funding_rate=accrued / mean_equity / years if mean_equity else 0.0,
                max_drawdown=drawdown,
                liquidated=bool(liquidated_on),
                liquidated_on=liquidated_on,
                liquidation_move=move,
            )
        )
    return summaries


def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def _usd(units: int) -> str:
    return ("-" if units < 0 else "") + f"${from_units(abs(units)):,.2f}"


def _nav(units: int) -> str:
    return f"${from_units(units):,.6f}"


def _term(summary: TokenSummary, fraction: float) -> str:
    dollars = summary.dollars(fraction)
    return f"{_pct(fraction)} ({'+' if dollars >= 0 else ''}{_usd(dollars)})"


ATTRIBUTION_ROWS = tuple(name for name, _ in Attribution.TERMS)
COLUMNS = (
    "token", "start NAV", "end NAV", "return", "underlying", "ideal daily-reset", "schedule at zero cost",
    *(f"{name} % ($)" for name in ATTRIBUTION_ROWS), "= actual % ($)", "liquidated", "fees paid", "rebalances",
    "rebalance cost", "settlements", "settlement cost", "funding paid", "funding rate", "max drawdown",
)


def summary_rows(summaries: list[TokenSummary]) -> list[list[str]]:
    """The table's rows as strings, in COLUMNS order."""
    rows = []
    for s in summaries:
        rows.append([
            f"{s.symbol} ({leverage_label(int(s.leverage * WAD))})" + (" LIQUIDATED" if s.liquidated else ""),
            _nav(s.start_nav), _nav(s.end_nav), _pct(s.token_return), _pct(s.underlying_return),
            _pct(s.ideal_return), _pct(s.schedule_return),
            *(_term(s, value) for _, value in s.attribution.terms()), _term(s, s.attribution.actual),
            f"{s.liquidated_on} ({s.liquidation_move * 100:+.1f}% close to close)" if s.liquidated else "no",
            _usd(s.fees_paid), str(s.rebalances), _usd(s.rebalance_cost), str(s.settlements), _usd(s.settlement_cost),
            _usd(s.funding_paid), f"{s.funding_rate * 100:+.2f}% of equity/yr", f"{s.max_drawdown * 100:.2f}%",
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


def _params_rows(result: ReplayResult) -> list[str]:
    """The tokens' parameters as a Markdown table (one column per token)."""
    if not result.params:
        return []
    symbols = [s for s in result.symbols if s in result.params]
    shown = (
        ("target leverage", lambda s, p: leverage_label(result.leverages[s])),
        ("band", lambda s, p: f"{p['leverageMin'] / WAD:.3f}x-{p['leverageMax'] / WAD:.3f}x"),
        ("ripcord", lambda s, p: f"{p['ripcordLeverage'] / WAD:.2f}x"),
        ("time rebalance", lambda s, p: f"every {p['rebalanceInterval'] / 3600:g} h if off target by "
                                        f"{p['minDrift'] / WAD:.3f}x"),
        ("largest trade", lambda s, p: _usd(p["maxTradeNotional"])),
        ("mint / redeem fee", lambda s, p: f"{p['mintFeeBps']} / {p['redeemFeeBps']} bps"),
        ("streaming fee", lambda s, p: f"{p['streamingFeePerDay'] / WAD * 365 * 100:.2f}% a year"),
        ("settlement window", lambda s, p: f"{p['settlementWindow'] / 3600:g} h"),
    )
    lines = ["## Token parameters", "", "| | " + " | ".join(symbols) + " |", "|---|" + "---|" * len(symbols)]
    lines += [f"| {name} | " + " | ".join(show(s, result.params[s]) for s in symbols) + " |" for name, show in shown]
    return lines + [""]


def write_markdown(result: ReplayResult, summaries: list[TokenSummary], path: Path, title: str,
                   chart: str | None = "chart.png") -> None:
    """The report as Markdown: the summary table (attribution included), the keeper's lag, the tokens'
    parameters and the chart (`chart`: its path relative to the report, None for none)."""
    rows = summary_rows(summaries)
    lines = [f"# {title}", ""]
    if chart:
        lines += [f"![NAV of each token and the underlying]({chart})", ""]
    lines += ["| | " + " | ".join(r[0] for r in rows) + " |", "|---|" + "---|" * len(rows)]
    lines += [f"| {name} | " + " | ".join(r[i] for r in rows) + " |" for i, name in enumerate(COLUMNS[1:], start=1)]
    start_values = ", ".join(f"{s.symbol} {_usd(s.start_value)}" for s in summaries)
    lines += [
        "",
        "NAV is per whole token in collateral units; returns are a holder's, from the replay's start (the state the",
        "replay found, before its first price) to its end. Where the return went (DESIGN.md section 8): 'static Lx'",
        "is L times the underlying's return; 'volatility decay' takes it to the ideal daily-reset product",
        "prod(1 + L r_i) over daily closes; 'schedule effect' to the token's own leverage step by step at zero cost",
        "(band and timing); then the streaming fee, funding and the rebalances' trading costs (ripcord bounties",
        "included), each with what the money it took would have earned since; 'liquidation' what a liquidation took beyond that; 'rounding' what",
        "the measured costs leave unexplained. They add up to the actual return. Dollars apply the percentages to",
        f"the tokens outstanding at the start ({start_values}).",
        "Mint and redeem fees and the settlements' trade costs are charged to the requesters' shares, not to the",
        "holders' NAV: 'fees paid' (the fee recipient's tokens at the end, at the end's NAV) and",
        "'settlement cost' show them.",
        "'funding paid' is what the venue settled (negative: received); 'funding rate' is the funding accrued as a",
        "share of the mean equity per year.",
        "",
    ]
    mean_lag, max_lag = result.lag_blocks()
    lines += ["## Keeper", "",
              f"{len(result.actions)} transactions (rebalances, ripcords, settlements); lag from the price update that "
              f"made an action due to the block that mined it: {mean_lag:.2f} blocks on average, {max_lag} at most.", ""]
    lines += _params_rows(result)
    path.write_text("\n".join(lines) + "\n")


def write_chart(result: ReplayResult, path: Path, title: str) -> None:
    """Underlying price and each token's NAV (log scale, start = 1) with rebalance markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    states = _path(result)  # from the state the replay started in
    dates = [datetime.fromtimestamp(s.timestamp, tz=timezone.utc) for s in states]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    top.plot(dates, [float(s.price) for s in states], color="black", linewidth=1)
    top.set_ylabel("underlying (USD)")
    top.set_title(title)
    for symbol in result.symbols:
        start = states[0].tokens[symbol].nav or 1
        navs = [max(s.tokens[symbol].nav / start, 1e-6) for s in states]
        (line,) = bottom.plot(dates, navs, linewidth=1.2, label=f"{symbol} ({leverage_label(result.leverages[symbol])})")
        marks = [(d, n) for d, n, s in zip(dates, navs, states) if s.tokens[symbol].rebalances]
        if marks:
            bottom.scatter([m[0] for m in marks], [m[1] for m in marks], s=6, color=line.get_color(), alpha=0.6)
    underlying = [float(s.price / states[0].price) for s in states]
    bottom.plot(dates, underlying, color="black", linewidth=0.8, linestyle="--", label="underlying (1x)")
    bottom.set_yscale("log")
    bottom.set_ylabel("NAV (start = 1, log scale); dots: rebalances")
    bottom.legend(loc="best", fontsize=8)
    bottom.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
