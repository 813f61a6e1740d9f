"""Reports of a replay: a table per token, a CSV of the series and a PNG chart."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
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
    compounding: float  # the ideal daily reset against the static position, up to any gap: pure mathematics,
    # negative in a choppy market (volatility decay), positive in a trend
    gap: float  # a day whose move takes the ideal L x position below zero (a move past -1/L), and what the
    # static position moved after it, which the wiped-out position does not get (zero without such a day)
    schedule: float  # the token's own rebalance schedule at zero cost minus the ideal: band and timing
    fees: float  # the streaming fee (mint and redeem fees are charged to the requesters' shares, not the NAV)
    funding: float  # funding accrued on the venue position
    trading: float  # the venue's fee and impact on rebalances, and ripcord bounties (a settlement's trade is
    # charged to its requesters)
    liquidation: float  # what the liquidation took beyond the zero-cost path (zero unless liquidated)
    rounding: float  # what the measured costs leave unexplained: unit rounding of the chain's integer math
    actual: float  # the token's NAV return

    TERMS = (
        ("static Lx", "static"), ("compounding", "compounding"), ("gap", "gap"), ("schedule effect", "schedule"),
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
    liquidation_equity: int = 0  # the token's equity before that step, collateral units
    liquidation_leverage: float = 0.0  # its leverage before that step
    term_dollars: dict[str, int] = field(default_factory=dict)  # each attribution term in dollars (`attribute`)

    def dollars(self, term: str) -> int:
        """An attribution term (Attribution's attribute name, or "actual": their sum) in collateral units, on the
        tokens outstanding at each step (`attribute`)."""
        if term == "actual":
            return sum(self.term_dollars.values())
        return self.term_dollars[term]


def _day(timestamp: int) -> str:
    """The UTC date of a data timestamp, YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).date().isoformat()


def _daily_closes(result: ReplayResult) -> list[Step]:
    """The states daily returns are measured over: the start, then the last step of each UTC day."""
    closes: dict[str, Step] = {}
    for step in result.steps:
        closes[_day(step.timestamp)] = step
    return [result.origin(), *closes.values()]


def ideal_path(result: ReplayResult, leverage: float) -> list[tuple[int, float]]:
    """The ideal daily-reset value prod(1 + L * r_i), start = 1, over daily returns (the start's price, then the
    last price of each UTC day), each factor floored at zero: (data timestamp, value) at the start and at each
    day's close."""
    closes = _daily_closes(result)
    points, value = [(closes[0].timestamp, 1.0)], 1.0
    for prev, step in zip(closes, closes[1:]):
        value *= max(0.0, 1 + leverage * float(step.price / prev.price - 1))
        points.append((step.timestamp, value))
    return points


def before_gap(result: ReplayResult, leverage: float) -> tuple[float, float] | None:
    """At the close before the first day whose move takes the ideal L x position to zero or below (a move past
    -1/L): (the ideal daily-reset return, the underlying's return) from the start; None when no day does."""
    closes = _daily_closes(result)
    value = 1.0
    for prev, step in zip(closes, closes[1:]):
        factor = 1 + leverage * float(step.price / prev.price - 1)
        if factor <= 0:
            return value - 1, float(prev.price / closes[0].price - 1)
        value *= factor
    return None


def _ideal(result: ReplayResult, leverage: float) -> float:
    """The ideal daily-reset return: the end of `ideal_path`, minus 1."""
    return ideal_path(result, leverage)[-1][1] - 1


def _path(result: ReplayResult) -> list[Step]:
    """The states returns are measured over: the start (if recorded), then every step."""
    return ([result.start] if result.start is not None else []) + list(result.steps)


def _move(path: list[Step], index: int) -> float:
    """The price move into `path[index]` from the state before it."""
    return float(path[index].price / path[index - 1].price - 1)


def liquidation_step(result: ReplayResult, symbol: str) -> int | None:
    """The index in `_path(result)` of the step in which the token was liquidated, None if it was not."""
    return next((i for i, step in enumerate(_path(result)) if i and step.tokens[symbol].liquidated), None)


def attribute(result: ReplayResult, symbol: str, static: float, ideal: float,
              gap: float = 0.0) -> tuple[Attribution, float, dict[str, int]]:
    """The attribution of one token's return, its zero-cost schedule return, and each term in dollars.

    Per step i, the zero-cost factor is g_i = max(0, 1 + L_(i-1) r_i) (the leverage the token held after the
    previous step times the price move) and the actual factor f_i is the NAV's ratio. Their products give the
    schedule and actual returns, and prod g - prod f = sum_i f_1..f_(i-1) (g_i - f_i) g_(i+1)..g_n exactly; each
    step's g_i - f_i is split into the measured funding and rebalance cost (as fractions of the equity before
    the step), the streaming fee (its dilution over the step's time) and what is left (rounding, or the
    liquidation in the step that had one). `gap` is the part of ideal - static a gap took (`before_gap`); the
    rest is the compounding.

    Dollars count the holders present at each step: a cost's dollars are the sum over steps of its part in that
    step (valued at the end, as the percentage) times the tokens outstanding during it, at the start's NAV; the
    market's terms (static to schedule, whose sum is prod g - 1 = sum_i g_1..g_(i-1) (g_i - 1)) share the
    market's dollars counted the same way, in proportion to their percentages. With the same tokens outstanding
    throughout, dollars are the percentages of the start's value."""
    path = _path(result)
    fee_per_day = result.params.get(symbol, {}).get("streamingFeePerDay", 0) / WAD
    g, f, parts, supplies = [], [], [], []
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
        supplies.append(a.supply / WAD)
    totals, held = [0.0] * 5, [0.0] * 5  # each cost's percentage, and its sum weighted by the tokens held
    market, market_held = 0.0, 0.0
    before, zero_cost = 1.0, 1.0
    for i, part in enumerate(parts):
        after = 1.0
        for gj in g[i + 1 :]:
            after *= gj
        for k, value in enumerate(part):
            totals[k] += before * value * after
            held[k] += before * value * after * supplies[i]
        step_market = zero_cost * (g[i] - 1)
        market += step_market
        market_held += step_market * supplies[i]
        before *= f[i]
        zero_cost *= g[i]
    schedule = zero_cost - 1
    actual = before - 1
    fees, funding, trading, liquidation, rounding = totals
    attribution = Attribution(static, ideal - static - gap, gap, schedule - ideal, fees, funding, trading, liquidation,
                              rounding, actual)
    start_nav = path[0].tokens[symbol].nav
    average = sum(supplies) / len(supplies) if supplies else 0.0
    per_market = market_held / market if abs(market) > 1e-12 else average  # tokens the market's terms apply to
    dollars = {name: round(value * per_market * start_nav)
               for name, value in (("static", static), ("compounding", ideal - static - gap), ("gap", gap),
                                   ("schedule", schedule - ideal))}
    for name, value in zip(("fees", "funding", "trading", "liquidation", "rounding"), held):
        dollars[name] = round(value * start_nav)
    return attribution, schedule, dollars


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
        ideal = _ideal(result, lev)
        gap = 0.0
        if (pre := before_gap(result, lev)) is not None:
            ideal_pre, underlying_pre = pre
            gap = ideal - ideal_pre - (static - max(-1.0, lev * underlying_pre))
        attribution, schedule, dollars = attribute(result, symbol, static, ideal, gap)
        end = last.tokens[symbol]
        start = first.tokens[symbol]
        equities = [max(step.tokens[symbol].equity, 0) for step in path]
        mean_equity = sum(equities) / len(equities)
        accrued = sum(step.tokens[symbol].funding for step in path[1:])
        liquidation = liquidation_step(result, symbol)
        liquidated_on, move = (_day(path[liquidation].timestamp), _move(path, liquidation)) if liquidation else ("", 0.0)
        held = path[liquidation - 1].tokens[symbol] if liquidation else None  # the token as the move found it
        summaries.append(
            TokenSummary(
                symbol=symbol,
                leverage=lev,
                start_nav=start_nav,
                end_nav=end_nav,
                start_value=start.supply * start_nav // WAD,
                token_return=attribution.actual,
                underlying_return=underlying,
                ideal_return=ideal,
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
                liquidation_equity=held.equity if held else 0,
                liquidation_leverage=held.leverage / WAD if held else 0.0,
                term_dollars=dollars,
            )
        )
    return summaries


def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def _usd(units: int) -> str:
    return ("-" if units < 0 else "") + f"${from_units(abs(units)):,.2f}"


def _nav(units: int) -> str:
    return f"${from_units(units):,.6f}"


def _term(summary: TokenSummary, term: str) -> str:
    fraction = getattr(summary.attribution, term)
    dollars = summary.dollars(term)
    return f"{_pct(fraction)} ({'+' if dollars >= 0 else ''}{_usd(dollars)})"


def _liquidation(s: TokenSummary) -> str:
    """When a liquidated token went, the move that did it, and the token that move found."""
    return (f"{s.liquidated_on} ({s.liquidation_move * 100:+.1f}% close to close; before it: equity "
            f"{_usd(s.liquidation_equity)} at {s.liquidation_leverage:+.1f}x)")


ATTRIBUTION_ROWS = tuple(name for name, _ in Attribution.TERMS)
# The attribution's dollars are each term's effect on the end (as its percentage); the last columns' are what was
# paid when it was paid: two figures for funding and trading, named apart.
COLUMNS = (
    "token", "start NAV", "end NAV", "return", "underlying", "ideal daily-reset", "schedule at zero cost",
    *(f"{name} % ($ at the end)" for name in ATTRIBUTION_ROWS), "= actual % ($ at the end)", "liquidated",
    "fees paid (recipient's tokens)", "rebalances", "rebalance cost (as paid)", "settlements",
    "settlement cost (as paid)", "funding paid (as settled)", "funding rate", "max drawdown",
)


def summary_rows(summaries: list[TokenSummary]) -> list[list[str]]:
    """The table's rows as strings, in COLUMNS order."""
    rows = []
    for s in summaries:
        rows.append([
            f"{s.symbol} ({leverage_label(int(s.leverage * WAD))})" + (" LIQUIDATED" if s.liquidated else ""),
            _nav(s.start_nav), _nav(s.end_nav), _pct(s.token_return), _pct(s.underlying_return),
            _pct(s.ideal_return), _pct(s.schedule_return),
            *(_term(s, attr) for _, attr in Attribution.TERMS), _term(s, "actual"),
            _liquidation(s) if s.liquidated else "no",
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
                   chart: str | None = "chart.png", attribution: str | None = "attribution.png") -> None:
    """The report as Markdown: the chart, the summary table (attribution included) with the attribution's
    waterfall under it, the keeper's lag and the tokens' parameters (`chart`, `attribution`: the pictures' paths
    relative to the report, None for none)."""
    rows = summary_rows(summaries)
    lines = [f"# {title}", ""]
    if chart:
        lines += [f"![NAV of each token and the underlying]({chart})", ""]
    lines += ["| | " + " | ".join(r[0] for r in rows) + " |", "|---|" + "---|" * len(rows)]
    lines += [f"| {name} | " + " | ".join(r[i] for r in rows) + " |" for i, name in enumerate(COLUMNS[1:], start=1)]
    if attribution:
        lines += ["", f"![Where each token's return went, from static Lx to the actual return]({attribution})"]
    lines += [
        "",
        "NAV is per whole token in collateral units; returns are a holder's, from the replay's start (the state the",
        "replay found, before its first price) to its end. Where the return went (DESIGN.md section 8): 'static Lx'",
        "is L times the underlying's return; 'compounding' takes it to the ideal daily-reset product",
        "prod(1 + L r_i) over daily closes: the daily reset against a static position, negative in a choppy market",
        "(volatility decay), positive in a trend; 'gap' is a day whose move takes that ideal position below zero",
        "(a move past -1/L, which no daily reset survives) and what the static position moved after it, which a",
        "wiped-out position does not get; 'schedule effect' takes it to the token's own leverage step by step at",
        "zero cost (band and timing); then the streaming fee, funding and the rebalances' trading costs (ripcord",
        "bounties included), each with what the money it took would have earned since; 'liquidation' what a",
        "liquidation took beyond that; 'rounding' what the measured costs leave unexplained. They add up to the",
        "actual return. Their dollars ('$ at the end') count the holders present at each step: each step's part",
        "applies to the tokens outstanding during it, so holders who came or left during the replay are counted",
        "while they held.",
        "The last rows are dollars as they were paid, not effects at the end: 'funding paid (as settled)' is what the",
        "venue settled (negative: received), 'rebalance cost (as paid)' the rebalances' venue fee and impact; the",
        "attribution's funding and trading rows differ from them by what that money would have earned since.",
        "Mint and redeem fees and the settlements' trade costs are charged to the requesters' shares, not to the",
        "holders' NAV: 'fees paid' (the fee recipient's tokens at the end, at the end's NAV) and",
        "'settlement cost (as paid)' show them. 'funding rate' is the funding accrued as a share of the mean",
        "equity per year.",
        "",
    ]
    mean_lag, max_lag = result.lag_blocks()
    lines += ["## Keeper", "",
              f"{len(result.actions)} transactions (rebalances, ripcords, settlements); lag from the price update that "
              f"made an action due to the block that mined it: {mean_lag:.2f} blocks on average, {max_lag} at most.", ""]
    lines += _params_rows(result)
    path.write_text("\n".join(lines) + "\n")


# The rebalances the chart marks, by the reason in "ACTION:REASON": (marker, legend entry). Daily (time) rebalances,
# iterations and settlements are left unmarked.
MARKED = {"BAND": ("o", "band rebalance (leverage left its band)"), "RIPCORD": ("^", "ripcord (leverage past the ripcord)")}


def _when(timestamp: int) -> datetime:
    """A data timestamp as a UTC datetime (the chart's x values)."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def nav_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log NAV axis from `low` to `high` that read as plain numbers (0.5, 1, 1.5, 2, 3): evenly
    spaced round numbers when the range is within a factor of 3, else 1-1.5-2-3-5-7 in each decade (1-2-5 over
    more than two decades)."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    if high / low < 3:
        ticks = MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    else:
        ticks = LogLocator(subs=(1, 1.5, 2, 3, 5, 7) if high / low < 100 else (1, 2, 5)).tick_values(low, high)
    return [float(f"{t:.6g}") for t in ticks if low <= t <= high]


def _spread(fractions: list[float], gap: float) -> list[float]:
    """Positions (axes fractions) at least `gap` apart, each as close as it can stay to its own, order kept."""
    order = sorted(range(len(fractions)), key=fractions.__getitem__)
    placed: dict[int, float] = {}
    floor = -1.0
    for i in order:
        placed[i] = floor = max(fractions[i], floor + gap)
    shift = max(0.0, floor - 1.0)  # pushed past the top: move the whole column down
    return [placed[i] - shift for i in range(len(fractions))]


def _marks(states: list[Step], symbol: str, reason: str, upto: int) -> list[int]:
    """Indices of the states up to `upto` holding a rebalance for `reason` (one per transaction)."""
    return [i for i in range(upto + 1) for action in states[i].tokens[symbol].actions if action.split(":")[1] == reason]


def nav_figure(result: ReplayResult, title: str = ""):
    """The chart as a matplotlib Figure: the underlying's price above; below, on a log scale with start = 1, each
    token's NAV (solid, line gid "nav:SYMBOL") and its ideal daily-reset path `ideal_path` (dashed, same colour,
    "ideal:SYMBOL"), the underlying ("underlying"), markers for band rebalances and ripcords ("band:SYMBOL",
    "ripcord:SYMBOL"), each line's return at its right end; a liquidated token's line (and an ideal path that
    reaches zero) drops to the axis' bottom at that step and ends there, with an X ("liquidated:SYMBOL") and the
    date and move."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    states = _path(result)
    dates = [_when(s.timestamp) for s in states]
    underlying = [float(s.price / states[0].price) for s in states]
    lines = {}  # symbol -> (NAV path, ideal path up to a wipe-out, liquidation index or None)
    for symbol in result.symbols:
        liquidation = liquidation_step(result, symbol)
        start = states[0].tokens[symbol].nav or 1
        navs = [s.tokens[symbol].nav / start for s in states[: len(states) if liquidation is None else liquidation]]
        ideal = ideal_path(result, result.leverages[symbol] / WAD)
        lines[symbol] = (navs, ideal[: next((i + 1 for i, (_, v) in enumerate(ideal) if v == 0), len(ideal))],
                         liquidation)
    shown = underlying + [v for navs, ideal, _ in lines.values() for v in navs + [v for _, v in ideal] if v > 0]
    # A wipe-out (a liquidation, an ideal path at zero) is drawn down to `low`, the axis' bottom, well below the rest.
    wiped = any(liquidation is not None or ideal[-1][1] == 0 for _, ideal, liquidation in lines.values())
    low, high = min(shown) / (1.6 if wiped else 1.1), max(shown) * 1.1

    fig = Figure(figsize=(11, 7.5), layout="constrained")
    top, nav = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2]})
    top.plot(dates, [float(s.price) for s in states], color="black", linewidth=1)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    top.set_ylabel("underlying price")
    top.set_title(title)
    top.grid(True, alpha=0.25)

    ends = [(underlying[-1], f"underlying {underlying[-1] - 1:+.2%}", "black")]  # (value, label, colour)
    nav.plot(dates, underlying, color="black", linewidth=0.8, linestyle=":", label="underlying (1x)", gid="underlying")
    for index, symbol in enumerate(result.symbols):
        colour, (navs, ideal, liquidation) = f"C{index}", lines[symbol]
        ideal_values = [max(v, low) for _, v in ideal]
        nav.plot([_when(t) for t, _ in ideal], ideal_values, color=colour, linewidth=1, linestyle="--", alpha=0.55,
                 gid=f"ideal:{symbol}")
        ends.append((ideal_values[-1], f"{symbol} ideal {ideal[-1][1] - 1:+.2%}", colour))
        if liquidation is not None:
            navs = navs + [low]
        nav.plot(dates[: len(navs)], navs, color=colour, linewidth=1.5,
                 label=f"{symbol} ({leverage_label(result.leverages[symbol])})", gid=f"nav:{symbol}")
        for reason, (marker, _) in MARKED.items():
            marks = _marks(states, symbol, reason, len(navs) - 1)
            nav.plot([dates[i] for i in marks], [navs[i] for i in marks], linestyle="none", marker=marker,
                     markersize=5, markerfacecolor=colour, markeredgecolor="white", markeredgewidth=0.5,
                     gid=f"{reason.lower()}:{symbol}")
        if liquidation is None:
            ends.append((navs[-1], f"{symbol} {navs[-1] - 1:+.2%}", colour))
        else:
            nav.plot([dates[liquidation]], [low], marker="X", markersize=11, color=colour, markeredgecolor="black",
                     linestyle="none", clip_on=False, zorder=5, gid=f"liquidated:{symbol}")
            nav.annotate(f"{symbol} liquidated {_day(states[liquidation].timestamp)}: underlying "
                         f"{_move(states, liquidation):+.1%} close to close", xy=(dates[liquidation], low),
                         xytext=(10, 8), textcoords="offset points", fontsize=8, color=colour,
                         bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})

    nav.set_yscale("log")
    nav.set_ylim(low, high)
    nav.yaxis.set_major_locator(FixedLocator(nav_ticks(low, high)))
    nav.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    nav.yaxis.set_minor_locator(NullLocator())
    nav.yaxis.set_minor_formatter(NullFormatter())
    nav.set_ylabel("value of 1 at the start (log scale)")
    nav.grid(True, alpha=0.25)
    span = math.log(high / low)
    placed = _spread([math.log(v / low) / span for v, _, _ in ends], gap=0.045)
    for (_, text, colour), y in zip(ends, placed):
        nav.text(1.01, y, text, transform=nav.transAxes, color=colour, fontsize=8, va="center", clip_on=False)

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    nav.xaxis.set_major_locator(locator)
    nav.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    key = [Line2D([], [], color="grey", linewidth=1, linestyle="--", label="ideal daily reset (same colour, no costs)")]
    key += [Line2D([], [], color="grey", linestyle="none", marker=marker, label=text) for marker, text in MARKED.values()]
    if any(liquidation is not None for _, _, liquidation in lines.values()):
        key.append(Line2D([], [], color="grey", markeredgecolor="black", linestyle="none", marker="X", label="liquidated"))
    handles, _ = nav.get_legend_handles_labels()
    # Below the axes: inside, it would cover lines or the liquidation note wherever it went.
    nav.legend(handles=handles + key, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=4, fontsize=8, frameon=False)
    return fig


def waterfall(summary: TokenSummary) -> list[tuple[str, float, float]]:
    """One token's waterfall as (name, bottom, height) bars: static Lx from zero, each non-zero term from where the
    previous bar ended, then the actual return from zero (the terms sum to it)."""
    (_, static), *terms = summary.attribution.terms()
    bars = [(f"static {leverage_label(int(summary.leverage * WAD))}", 0.0, static)]
    for name, value in terms:
        if value:
            bars.append((name, bars[-1][1] + bars[-1][2], value))
    return bars + [("actual", 0.0, summary.attribution.actual)]


def attribution_figure(summaries: list[TokenSummary], title: str = ""):
    """Where each token's return went as a matplotlib Figure: its `waterfall` in a subplot per token, in fractions
    of the start's NAV labelled in percentage points, the totals (static Lx, actual) in blue, the terms green up
    and red down."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(11, 0.6 + 3.2 * len(summaries)), layout="constrained")
    axes = fig.subplots(len(summaries), 1, squeeze=False)[:, 0]
    fig.suptitle(title)
    every = [waterfall(s) for s in summaries]
    slots = max(len(bars) for bars in every)  # the same bar width for every token
    for ax, s, bars in zip(axes, summaries, every):
        names, bottoms, heights = zip(*bars)
        colours = ["#4c72b0"] + ["#2ca02c" if h >= 0 else "#d62728" for h in heights[1:-1]] + ["#4c72b0"]
        drawn = ax.bar(range(len(bars)), heights, bottom=bottoms, color=colours, width=0.6)
        ax.bar_label(drawn, labels=[f"{h * 100:+.2f} pp" for h in heights], padding=2, fontsize=8)
        ends = [b + h for b, h in zip(bottoms, heights)]
        ax.hlines(ends[:-1], [i + 0.3 for i in range(len(bars) - 1)], [i + 0.7 for i in range(len(bars) - 1)],
                  color="grey", linewidth=0.7, linestyle=":")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(range(len(bars)), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
        ax.set_xlim(-0.5, slots - 0.5)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:g} pp"))
        edges = [0.0, *bottoms, *ends]
        pad = 0.15 * (max(edges) - min(edges) or 0.01)
        ax.set_ylim(min(edges) - pad, max(edges) + pad)
        ax.grid(True, axis="y", alpha=0.25)
        liquidated = f", liquidated {s.liquidated_on}" if s.liquidated else ""
        ax.set_title(f"{s.symbol}: {s.attribution.actual:+.2%} against the underlying's {s.underlying_return:+.2%}"
                     f"{liquidated}", fontsize=10)
    return fig


def _save(fig, path: Path) -> None:
    """Writes a Figure as a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def write_chart(result: ReplayResult, path: Path, title: str) -> None:
    """Writes `nav_figure` as a PNG."""
    _save(nav_figure(result, title), path)


def write_attribution(summaries: list[TokenSummary], path: Path, title: str) -> None:
    """Writes `attribution_figure` as a PNG."""
    _save(attribution_figure(summaries, title), path)
