"""The replay's commands: replay (a price series through a running deployment) and demo (the same on an anvil
of its own, deployed and minted first), with the progress bar, the report's table and files, and the keeper's
and the model's lines."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import account_option, command, connect, console, load_account, network_option, record_option
from levtoken.deploy_config import DEFAULT_CONFIG, DeployConfig, named_for
from levtoken.deployment import Deployment
from levtoken.prices import asset_of, load_series
from levtoken.units import utc_text

DEMO_OUT, REPLAY_OUT = Path("out/demo"), Path("out/replay")  # each command's own folder for its report
CHECK_MODEL_HELP = "Run the reference model beside the chain and report any divergence."
CSV_HELP = "date,close file (default: the shipped BTC daily series)."
END_HELP = "Last date (default: 2025-09-24, or 2024-04-18 with --hourly)."


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
@click.option("--keeper", "keeper_kind", type=click.Choice(["fast", "bot"]), default="fast", show_default=True,
              help="fast: in-process keeper over batched RPC; bot: the silverback bot's Keeper, block by block (slower).")
@click.option("--check-model", is_flag=True, help=CHECK_MODEL_HELP)
@friendly_errors
def demo(csv_path, start, end, hourly, config, out, overwrite, asset, keeper_kind, check_model):
    """The main job: start anvil, deploy BTC 3x long, 3x short and 1x short, mint from a few holders,
    replay a real period with the keeper acting, then print the report and write its files."""
    from levtoken.demo import demo_replayer
    from levtoken.node import own_node

    started = time.time()
    csv_path, points = load_series(csv_path, start, end, hourly)
    spec = named_for(DeployConfig.load(config), asset or asset_of(csv_path))
    _check_out(out, DEMO_OUT, overwrite)
    console.print(f"[bold]levtoken demo[/bold]: {len(points)} prices from {csv_path.name}, {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    with own_node():
        record = out / "deployment.json"
        replayer = demo_replayer(spec, points, record, keeper_kind, check_model, log=lambda message: console.print(f"  {message}"))
        result = _replay_with_progress(replayer, points, "replaying")
        title = f"{replayer.market} {', '.join(replayer.deployment.tokens)}: {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}"
        files = _write_report(result, out, title)
    files["deployment"] = record
    _print_keeper_and_model(result)
    _print_files(files)
    console.print(f"done in {time.time() - started:.0f} s")


COMMANDS = (replay, demo)
