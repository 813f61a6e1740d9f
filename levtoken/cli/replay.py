"""The replay's commands: replay (a price series through a running deployment) and demo (the same on an anvil
of its own, deployed and minted first), with the progress bar, the report's table and files, and the keeper's
and the model's lines."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click
from click.core import ParameterSource
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import account_option, command, connect, console, load_account, network_option, record_option
from levtoken.deploy_config import (
    DEFAULT_CONFIG, MONEY_MARKET_CONFIG, MORPHO, PERP, VENUE_NAMES, DeployConfig, named_for,
)
from levtoken.deployment import Deployment
from levtoken.prices import asset_of, load_series
from levtoken.units import utc_text

DEMO_OUT, REPLAY_OUT = Path("out/demo"), Path("out/replay")  # each command's own folder for its report
CHECK_MODEL_HELP = "Run the reference model beside the chain and report any divergence."
CSV_HELP = "date,close file (default: the shipped BTC daily series)."
END_HELP = "Last date (default: 2025-09-24, or 2024-04-18 with --hourly)."
BOTH = "both"  # the demo's --venue for both venues over the same prices


def _replay_with_progress(replayer, points, label: str):
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task(label, total=len(points), info="")

        def on_step(index, step):
            progress.update(task, advance=1, info=f"{points[index].when:%Y-%m-%d %H:%M} ${step.price:,.0f}")

        return replayer.run(points, on_step=on_step)


OVERWRITE_HELP = "Replace a report already in --out (the default folder's is replaced anyway, and said so)."


def _check_out(out: Path, default: Path, overwrite: bool) -> None:
    """Before a report is made: a folder of the user's that holds one already is refused unless `overwrite`; the
    command's own default folder is replaced, with a line that says so."""
    existing = out / "report.md"
    if not existing.is_file():
        return
    made = utc_text(int(existing.stat().st_mtime))
    if out == default or overwrite:
        console.print(f"replacing the report in {out} (made {made})")
        return
    raise click.ClickException(f"{out} already holds a report (made {made}); pass --overwrite to replace it, or "
                               "give another --out")


def _write_report(result, out: Path, title: str) -> dict[str, Path]:
    from levtoken.report import COLUMNS, summarize, summary_rows, write_attribution, write_chart, write_csv, write_markdown

    out.mkdir(parents=True, exist_ok=True)
    summaries = summarize(result)
    rows = summary_rows(summaries)
    # One column per token keeps the table narrow enough for any terminal.
    table = Table(title=title)
    table.add_column("")
    for row in rows:
        table.add_column(row[0], justify="right")
    for index, name in enumerate(COLUMNS[1:], start=1):
        table.add_row(name, *(row[index] for row in rows))
    console.print(table)
    files = {"report": out / "report.md", "series": out / "series.csv", "chart": out / "chart.png",
             "attribution": out / "attribution.png"}
    write_markdown(result, summaries, files["report"], title, files["chart"].name, files["attribution"].name)
    write_csv(result, files["series"])
    write_chart(result, files["chart"], title)
    write_attribution(summaries, files["attribution"], title)
    return files


def _print_keeper_and_model(result) -> None:
    mean_lag, max_lag = result.lag_blocks()
    console.print(f"keeper: {len(result.actions)} transactions, lag from due to mined {mean_lag:.2f} blocks on average, {max_lag} at most")
    if result.venue == MORPHO:
        if not result.protocol_divergences:
            console.print(f"protocols: each token's equity equals its position read from Morpho, the feed and the venue "
                          f"to the unit at all {result.protocol_checks} token-steps")
        else:
            console.print(f"[bold red]protocols: {len(result.protocol_divergences)} token-steps differ[/bold red]; first ones:")
            for step, symbol, got, want in result.protocol_divergences[:5]:
                console.print(f"  step {step} {symbol}: equity {got}, from the protocols {want}")
    if result.model_divergences is not None:
        compared = len(result.steps) * len(result.symbols)
        if not result.model_divergences:
            console.print(f"reference model: agrees with the chain to the unit on all {compared} token-steps")
        else:
            console.print(f"[bold red]reference model: {len(result.model_divergences)} divergences[/bold red]; first ones:")
            for step, symbol, name, got, want in result.model_divergences[:5]:
                console.print(f"  step {step} {symbol} {name}: chain {got}, model {want}")


def _print_files(files: dict[str, Path]) -> None:
    console.print("\n[bold]Files written[/bold]")
    width = max(map(len, files))
    for name, path in files.items():
        console.print(f"  {name:<{width}} {path.resolve()}")


@command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help=CSV_HELP)
@click.option("--start", default=None, help="First date, YYYY-MM-DD or ISO 8601 (default: 2024-09-24, or 2023-04-18 with --hourly).")
@click.option("--end", default=None, help=END_HELP)
@click.option("--hourly", is_flag=True, help="Use the shipped BTC perpetual hourly series.")
@click.option("--market", default="BTC", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=REPLAY_OUT, show_default=True)
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--check-model", is_flag=True, help=CHECK_MODEL_HELP)
@click.option("--force", is_flag=True, help="Replay even when the series' first price is more than 10% away from the feed's.")
@record_option
@network_option()
@account_option
@friendly_errors
def replay(csv_path, start, end, hourly, market, out, overwrite, check_model, force, record, network, account):
    """Replays a price series through the feed of a running local deployment, keeper acting every step; returns
    are measured from the state it finds. It refuses a series that starts far from the feed's price (--force)."""
    from levtoken.replay.replayer import Replayer, ReplayStartError

    csv_path, points = load_series(csv_path, start, end, hourly)
    _check_out(out, REPLAY_OUT, overwrite)
    with connect(network):
        deployment = Deployment.load(record)
        if market not in deployment.markets:
            raise click.ClickException(f"unknown market {market!r}; deployed: {', '.join(deployment.markets)}")
        sender = load_account(account)
        replayer = Replayer(deployment, market, sender, liquidator=sender, check_model=check_model, arbitrageur=sender)
        try:
            notes = replayer.preflight(points[0].close, force)
        except ReplayStartError as err:
            raise click.ClickException(str(err)) from None
        for note in notes:
            console.print(note)
        result = _replay_with_progress(replayer, points, f"replaying {csv_path.name}")
        files = _write_report(result, out, f"{market} replay of {csv_path.name}, {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    _print_keeper_and_model(result)
    _print_files(files)


@command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help=CSV_HELP)
@click.option("--start", default=None, help="First date (default: 2024-09-24, or 2023-04-18 with --hourly).")
@click.option("--end", default=None, help=END_HELP)
@click.option("--hourly", is_flag=True, help="Replay the BTC perpetual hourly series (default: its last year, 2023-04-18 to 2024-04-18).")
@click.option("--config", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=DEMO_OUT, show_default=True)
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--asset", default=None, help="The market's name (default: the price file's, as in eth_usd_daily.csv: "
              "ETH; else the config's).")
@click.option("--venue", type=click.Choice([PERP, MORPHO, BOTH]), default=PERP, show_default=True,
              help=f"Where the tokens hold their exposure: the perpetual venue ({DEFAULT_CONFIG}), the money market "
                   f"({MONEY_MARKET_CONFIG}, opened at the series' first price), or both over the same prices, "
                   "side by side.")
@click.option("--keeper", "keeper_kind", type=click.Choice(["fast", "bot"]), default="fast", show_default=True,
              help="fast: in-process keeper over batched RPC; bot: the silverback bot's Keeper, block by block (slower).")
@click.option("--check-model", is_flag=True, help=CHECK_MODEL_HELP)
@friendly_errors
def demo(csv_path, start, end, hourly, config, out, overwrite, asset, venue, keeper_kind, check_model):
    """The main job: start anvil, deploy BTC 3x long, 3x short and 1x short, mint from a few holders,
    replay a real period with the keeper acting, then print the report and write its files."""
    from levtoken.demo import demo_replayer
    from levtoken.node import own_node

    started = time.time()
    csv_path, points = load_series(csv_path, start, end, hourly)
    kinds = [PERP, MORPHO] if venue == BOTH else [venue]
    given = click.get_current_context().get_parameter_source("config") != ParameterSource.DEFAULT
    if given and venue == BOTH:
        raise click.ClickException(f"--venue both replays {DEFAULT_CONFIG} and {MONEY_MARKET_CONFIG}; --config names "
                                   "one venue's tokens: pass it with --venue perp or --venue morpho")
    specs = {kind: _demo_spec(kind, config if given else None, asset or asset_of(csv_path), points[0].close)
             for kind in kinds}
    if check_model and MORPHO in kinds:
        raise click.ClickException("--check-model runs the reference model of the perpetual venue; the money-market "
                                   "replay checks every step against the protocols themselves instead")
    _check_out(out, DEMO_OUT, overwrite)
    console.print(f"[bold]levtoken demo[/bold]: {len(points)} prices from {csv_path.name}, {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    results, files = {}, {}
    with own_node():
        for kind, spec in specs.items():
            folder = out / kind if len(specs) > 1 else out
            folder.mkdir(parents=True, exist_ok=True)
            record = folder / "deployment.json"
            if len(specs) > 1:
                console.print(f"[bold]{VENUE_NAMES[kind]}[/bold]")
            replayer = demo_replayer(spec, points, record, keeper_kind, check_model, log=lambda message: console.print(f"  {message}"))
            result = _replay_with_progress(replayer, points, "replaying")
            where = f" on the {VENUE_NAMES[kind]}" if kind != PERP or len(specs) > 1 else ""
            title = (f"{replayer.market} {', '.join(replayer.deployment.tokens)}{where}: "
                     f"{points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
            made = _write_report(result, folder, title)
            made["deployment"] = record
            files.update({f"{name} ({kind})" if len(specs) > 1 else name: path for name, path in made.items()})
            _print_keeper_and_model(result)
            results[kind] = result
    if len(results) > 1:
        files["side by side"] = _write_side_by_side(results, out / "side-by-side.md",
                                                    f"{points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    _print_files(files)
    console.print(f"done in {time.time() - started:.0f} s")


def _demo_spec(kind: str, config: Path | None, asset: str, first_price) -> DeployConfig:
    """The demo's config for venue `kind`: `config`, or without one the venue's own file, its market named for the
    data's asset; a money market's pool and lending markets open at the series' first price, where its liquidity
    is. A config whose first market is on the other venue is one line."""
    path = config or (MONEY_MARKET_CONFIG if kind == MORPHO else DEFAULT_CONFIG)
    spec = named_for(DeployConfig.load(path), asset)
    market = next(m for m in spec.markets if m.symbol == spec.tokens[0].market)
    if market.venue != kind:
        raise click.ClickException(f"{path}: market {market.symbol} is on venue {market.venue!r}, not {kind!r}; pass "
                                   f"the config of a {kind} market, or --venue {market.venue}")
    if kind == MORPHO and not market.feed:
        spec = replace(spec, markets=[replace(m, initial_price=float(first_price)) if m is market else m
                                      for m in spec.markets])
    return spec


# The side-by-side table's rows: the report's, less those that repeat the data (start NAV, underlying, ideal).
SIDE_BY_SIDE_SKIP = ("start NAV", "underlying", "ideal daily-reset")


def _write_side_by_side(results: dict, path: Path, period: str) -> Path:
    """The same tokens on both venues over the same prices, one column per token and venue, as a table on the
    terminal and in `path` (Markdown); returns `path`."""
    from levtoken.report import COLUMNS, summarize, summary_rows

    columns = []  # (header, row)
    rows = {kind: {row[0].split(" (")[0]: row for row in summary_rows(summarize(result))}
            for kind, result in results.items()}
    for symbol in rows[PERP]:
        for kind in results:
            if symbol in rows[kind]:
                columns.append((f"{symbol} {kind}", rows[kind][symbol]))
    names = [(i, name) for i, name in enumerate(COLUMNS[1:], start=1) if name not in SIDE_BY_SIDE_SKIP]
    table = Table(title=f"the same tokens on both venues, {period}")
    table.add_column("")
    for header, _ in columns:
        table.add_column(header, justify="right")
    for index, name in names:
        table.add_row(name, *(row[index] for _, row in columns))
    console.print(table)
    perp, money = results[PERP], results[MORPHO]
    lines = [f"# The same tokens on both venues, {period}", "",
             f"The tokens of {DEFAULT_CONFIG} on the perpetual venue and of {MONEY_MARKET_CONFIG} on the money market "
             "(Morpho Blue and Uniswap v3), each deployed on its own and replayed over the same prices by the same "
             "keeper; each column is a token on one venue. On the money market 'funding' is the interest its debt "
             "accrued in Morpho (its collateral earns nothing) and 'trading costs' the swaps' pool fee and price "
             "impact against the oracle. Underlying " + perp.steps[-1].price.__format__(",.2f") + " USD at the end.",
             "", "| | " + " | ".join(header for header, _ in columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(row[index] for _, row in columns) + " |" for index, name in names]
    lines += ["", f"On the money market each token's equity equalled its position read from the protocols at all "
                  f"{money.protocol_checks} token-steps." if not money.protocol_divergences else
              f"On the money market {len(money.protocol_divergences)} token-steps had a token's equity differ from "
              "its position read from the protocols.", ""]
    path.write_text("\n".join(lines) + "\n")
    return path


COMMANDS = (replay, demo)
