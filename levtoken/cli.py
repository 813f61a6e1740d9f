"""The `levtoken` command: deploy, status, mint, redeem, keeper, replay and the end-to-end demo."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from levtoken.deployment import DEFAULT_CONFIG, DEFAULT_RECORD, DeployConfig, Deployment, DeploymentError
from levtoken.prices import DAILY_CSV, HOURLY_CSV, PriceDataError, load_prices, parse_date
from levtoken.shapes import Status
from levtoken.units import from_units, from_wad, leverage_label, to_units

console = Console()
LOCAL_NETWORK = "ethereum:local:foundry"
NODE_NETWORK = "ethereum:local:node"


def friendly_errors(func):
    """Turns the errors a user can cause into one clear line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ape.exceptions import ApeException, ContractLogicError, ProviderNotConnectedError

        try:
            return func(*args, **kwargs)
        except (DeploymentError, PriceDataError) as err:
            raise click.ClickException(str(err)) from None
        except ContractLogicError as err:
            raise click.ClickException(f"the transaction reverted: {err}") from None
        except ProviderNotConnectedError as err:
            raise click.ClickException(f"no node to talk to: {err}. Start one (`levtoken node`) or check --network") from None
        except ApeException as err:
            text = str(err)
            if any(k in text.lower() for k in ("node found", "connect", "refused")):
                network = kwargs.get("network", "the selected network")
                raise click.ClickException(
                    f"cannot reach a node for {network}; start one with `levtoken node` or fix --network"
                ) from None
            raise click.ClickException(text.splitlines()[0] if text else type(err).__name__) from None
        except (ConnectionError, OSError) as err:
            raise click.ClickException(f"the node is not reachable ({err}); start it (`levtoken node`) or fix --network") from None

    return wrapper


def network_option(default: str = NODE_NETWORK):
    """The --network option (an ape network choice), defaulting to a running local node."""
    return click.option(
        "--network",
        default=default,
        show_default=True,
        help="ape network choice: ethereum:local:node for a running local node (`levtoken node`), "
        "ethereum:local:foundry to start a fresh anvil, ethereum:sepolia:node for Sepolia.",
    )


record_option = click.option("--record", type=click.Path(path_type=Path), default=DEFAULT_RECORD, show_default=True, help="Deployment record (JSON).")
account_option = click.option("--account", default="test:0", show_default=True, help="test:N for a local test account, or an alias from `ape accounts list`.")


def load_account(spec: str):
    """An ape account from 'test:N' or an `ape accounts` alias."""
    from ape import accounts

    if spec.startswith("test:"):
        try:
            return accounts.test_accounts[int(spec[5:])]
        except (ValueError, IndexError):
            raise click.ClickException(f"--account {spec!r}: expected test:0 .. test:9") from None
    try:
        return accounts.load(spec)
    except Exception:
        raise click.ClickException(f"--account {spec!r} is neither test:N nor a known `ape accounts` alias") from None


def send(method, *args, sender):
    """Sends a contract transaction with 1.5x the estimated gas plus 50k: the estimate runs at the latest
    block's timestamp, the transaction in a later block, where fee and funding accrual cost more."""
    estimate = method.estimate_gas_cost(*args, sender=sender)
    return method(*args, sender=sender, gas_limit=int(estimate * 1.5) + 50_000)


def connect(network: str):
    """Context manager connecting ape to `network`, with a clear error when the node is down."""
    from ape import networks

    return networks.parse_network_choice(network)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show ape's transaction log lines.")
def cli(verbose: bool):
    """On-chain leveraged tokens: deploy, run a keeper, replay real prices, report."""
    if not verbose:
        from ape.logging import logger

        logger.set_level("WARNING")


@cli.command()
@click.option("--port", default=8545, show_default=True)
def node(port: int):
    """Runs a local anvil node (the project's own binary) with the standard test accounts, until Ctrl-C."""
    anvil = shutil.which("anvil")
    if anvil is None:
        raise click.ClickException("anvil not found on PATH; run `make setup` and use the project's .venv/bin")
    console.print(f"anvil on http://127.0.0.1:{port}; use --network {NODE_NETWORK} with the other commands")
    sys.exit(subprocess.call([anvil, "--port", str(port), "--silent"]))


@cli.command()
@click.option("--config", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True)
@record_option
@network_option()
@account_option
@click.option("--keeper", default=None, help="Address given KEEPER_ROLE on new tokens (default: the deployer).")
@friendly_errors
def deploy(config: Path, record: Path, network: str, account: str, keeper: str | None):
    """Deploys feeds, collateral (local only), venue, factory and tokens; idempotent for a record."""
    from levtoken.deployment import deploy as do_deploy

    spec = DeployConfig.load(config)
    with connect(network):
        deployment = do_deploy(spec, load_account(account), record, keeper=keeper, log=console.print)
    console.print(f"deployment record: {record} (chain {deployment.chain_id}, tokens: {', '.join(deployment.tokens)})")


def status_table(deployment: Deployment) -> Table:
    """Per token: NAV, leverage, band, next rebalance, supply, action due."""
    from ape import chain

    table = Table(title=f"levtoken on chain {deployment.chain_id}")
    for column in ("token", "NAV", "leverage", "band", "ripcord", "supply", "next time rebalance", "due now"):
        table.add_column(column)
    now = chain.pending_timestamp
    for symbol, token in deployment.token_contracts().items():
        params = token.params()
        due = Status.from_abi(token.rebalanceStatus())
        next_time = token.lastRebalance() + params.rebalanceInterval
        table.add_row(
            f"{symbol} ({leverage_label(deployment.tokens[symbol].leverage_wad)})",
            f"${from_units(token.navPerToken()):,.6f}",
            f"{from_wad(token.leverage()):.4f}x",
            f"{from_wad(params.leverageMin):.3f}-{from_wad(params.leverageMax):.3f}x",
            f"{from_wad(params.ripcordLeverage):.2f}x",
            f"{from_wad(token.totalSupply()):,.4f}",
            "now" if next_time <= now else f"in {(next_time - now) / 3600:.1f} h",
            due.action.name + (f" ({due.reason.name})" if due.due else ""),
        )
    return table


@cli.command()
@record_option
@network_option()
@friendly_errors
def status(record: Path, network: str):
    """NAV, leverage, band and next rebalance of every token."""
    with connect(network):
        console.print(status_table(Deployment.load(record)))


def _amount(text: str, decimals: int) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.ClickException(f"amount {text!r} is not a number") from None
    if value <= 0:
        raise click.ClickException("amount must be positive")
    return int(value * 10**decimals)


@dataclass
class Trade:
    """What a mint or redeem works with on the connected chain: the deployment, the token, the sender,
    and the bounds the user set (slippage in percent against the preview, deadline in seconds)."""

    deployment: Deployment
    symbol: str
    token: Any
    sender: Any
    slippage: float
    deadline_seconds: int

    def at_least(self, preview: int) -> int:
        """The least the trade may give: `preview` less the slippage."""
        return preview * int((100 - self.slippage) * 100) // 10_000

    def deadline(self) -> int:
        """The transaction's deadline, counted from the next block's time."""
        from ape import chain

        return chain.pending_timestamp + self.deadline_seconds


def trade_command(amount_name: str):
    """A command that trades one token, `func(trade, amount)`: arguments TOKEN_SYMBOL and the amount,
    options for slippage, deadline, record, network and account; connected while it runs."""

    def wrap(func: Callable[[Trade, str], None]):
        @functools.wraps(func)
        def command(token_symbol: str, slippage: float, deadline: int, record: Path, network: str, account: str,
                    **amount: str) -> None:
            with connect(network):
                deployment = Deployment.load(record)
                token = deployment.token(token_symbol)
                trade = Trade(deployment, token_symbol, token, load_account(account), slippage, deadline)
                func(trade, amount[amount_name])

        decorators = (
            cli.command(),
            click.argument("token_symbol"),
            click.argument(amount_name),
            click.option("--slippage", default=0.5, show_default=True, help="Largest accepted shortfall against the preview, percent."),
            click.option("--deadline", default=600, show_default=True, help="Seconds the transaction stays valid."),
            record_option,
            network_option(),
            account_option,
            friendly_errors,
        )
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return wrap


@trade_command("amount")
def mint(trade: Trade, amount: str) -> None:
    """Mints TOKEN_SYMBOL for AMOUNT of collateral (e.g. `levtoken mint BTC3L 1000`)."""
    token, sender = trade.token, trade.sender
    collateral = trade.deployment.collateral_contract()
    units = _amount(amount, collateral.decimals())
    if collateral.balanceOf(sender) < units:
        if not trade.deployment.collateral_is_test:
            raise click.ClickException(f"{sender.address} holds less than {amount} collateral")
        collateral.mint(sender, units, sender=sender)
    preview = token.previewDeposit(units)
    if collateral.allowance(sender, token.address) < units:
        collateral.approve(token.address, units, sender=sender)
    receipt = send(token.depositWithMinShares, units, sender, trade.at_least(preview), trade.deadline(), sender=sender)
    got = receipt.decode_logs(token.Deposit)[0].shares
    console.print(f"minted {from_wad(got):,.6f} {trade.symbol} for {amount} (preview {from_wad(preview):,.6f}); tx {receipt.txn_hash}")


@trade_command("shares")
def redeem(trade: Trade, shares: str) -> None:
    """Redeems SHARES of TOKEN_SYMBOL (a number of tokens, or `all`) for collateral."""
    token, sender = trade.token, trade.sender
    units = token.balanceOf(sender) if shares == "all" else _amount(shares, 18)
    if units == 0 or units > token.balanceOf(sender):
        raise click.ClickException(f"{sender.address} holds {from_wad(token.balanceOf(sender))} {trade.symbol}")
    preview = token.previewRedeem(units)
    receipt = send(token.redeemWithMinAssets, units, sender, sender, trade.at_least(preview), trade.deadline(), sender=sender)
    got = receipt.decode_logs(token.Withdraw)[0].assets
    console.print(f"redeemed {from_wad(units):,.6f} {trade.symbol} for {from_units(got):,.6f} collateral; tx {receipt.txn_hash}")


def _load_series(csv_path: Path | None, start: str | None, end: str | None, hourly: bool):
    if csv_path is None:
        csv_path = HOURLY_CSV if hourly else DAILY_CSV
        if start is None and end is None:
            start, end = ("2020-01-01", "2020-03-31T23:00:00") if hourly else ("2024-09-24", "2025-09-24")
    return csv_path, load_prices(csv_path, parse_date(start), parse_date(end))


def _replay_with_progress(replayer, points, label: str):
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task(label, total=len(points), info="")

        def on_step(index, step):
            progress.update(task, advance=1, info=f"{points[index].when:%Y-%m-%d %H:%M} ${step.price:,.0f}")

        return replayer.run(points, on_step=on_step)


def _write_report(result, out: Path, title: str) -> dict[str, Path]:
    from levtoken.report import COLUMNS, summarize, summary_rows, write_chart, write_csv, write_markdown

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
    files = {"report": out / "report.md", "series": out / "series.csv", "chart": out / "chart.png"}
    write_markdown(result, summaries, files["report"], title)
    write_csv(result, files["series"])
    write_chart(result, files["chart"], title)
    return files


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="date,close file (default: the shipped BTC daily series).")
@click.option("--start", default=None, help="First date (YYYY-MM-DD or ISO 8601).")
@click.option("--end", default=None, help="Last date.")
@click.option("--hourly", is_flag=True, help="Use the shipped BTC perpetual hourly series.")
@click.option("--market", default="BTC", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/replay"), show_default=True)
@click.option("--check-model", is_flag=True, help="Run the reference model beside the chain and report any divergence.")
@record_option
@network_option()
@account_option
@friendly_errors
def replay(csv_path, start, end, hourly, market, out, check_model, record, network, account):
    """Replays a price series through the feed of a running local deployment, keeper acting every step."""
    from levtoken.replay.replayer import Replayer

    csv_path, points = _load_series(csv_path, start, end, hourly)
    with connect(network):
        deployment = Deployment.load(record)
        if market not in deployment.markets:
            raise click.ClickException(f"unknown market {market!r}; deployed: {', '.join(deployment.markets)}")
        sender = load_account(account)
        replayer = Replayer(deployment, market, sender, liquidator=sender, check_model=check_model)
        result = _replay_with_progress(replayer, points, f"replaying {csv_path.name}")
        files = _write_report(result, out, f"{market} replay {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    _print_keeper_and_model(result)
    _print_files(files)


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
    for name, path in files.items():
        console.print(f"  {name:<10} {path.resolve()}")


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="date,close file (default: the shipped BTC daily series).")
@click.option("--start", default=None, help="First date (default: 2024-09-24, or 2020-01-01 with --hourly).")
@click.option("--end", default=None, help="Last date (default: 2025-09-24, or 2020-03-31 with --hourly).")
@click.option("--hourly", is_flag=True, help="Replay the BTC perpetual hourly series (default: Q1 2020).")
@click.option("--config", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
@click.option("--keeper", "keeper_kind", type=click.Choice(["fast", "bot"]), default="fast", show_default=True,
              help="fast: in-process keeper over batched RPC; bot: the silverback bot's Keeper, block by block (slower).")
@click.option("--check-model", is_flag=True, help="Run the reference model beside the chain and report any divergence.")
@friendly_errors
def demo(csv_path, start, end, hourly, config, out, keeper_kind, check_model):
    """The main job: start anvil, deploy BTC 3x long, 3x short and 1x short, mint from a few holders,
    replay a real period with the keeper acting, then print the report and write its files."""
    from ape import accounts

    from levtoken.deployment import deploy as do_deploy, mint_for
    from levtoken.replay.replayer import Replayer

    started = time.time()
    csv_path, points = _load_series(csv_path, start, end, hourly)
    spec = DeployConfig.load(config)
    console.print(f"[bold]levtoken demo[/bold]: {len(points)} prices from {csv_path.name}, {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    with connect(LOCAL_NETWORK):
        test = accounts.test_accounts
        gov, liquidator = test[0], test[9]
        record = out / "deployment.json"
        record.unlink(missing_ok=True)
        deployment = do_deploy(spec, gov, record, log=lambda message: console.print(f"  {message}"))
        market = spec.tokens[0].market
        replayer = Replayer(deployment, market, gov, keeper=keeper_kind, liquidator=liquidator, check_model=check_model)
        replayer.push_price(points[0].close)
        symbols = list(deployment.tokens)
        holders = [(test[1 + i % 4], symbols[i % len(symbols)], to_units(amount)) for i, amount in enumerate((100_000, 50_000, 25_000, 10_000))]
        mint_for(deployment, holders)
        for account, symbol, amount in holders:
            console.print(f"  {account.address[:10]}… minted {symbol} for ${from_units(amount):,.0f}")
        result = _replay_with_progress(replayer, points, "replaying")
        files = _write_report(result, out, f"{market} {', '.join(symbols)}: {points[0].when:%Y-%m-%d} to {points[-1].when:%Y-%m-%d}")
    files["deployment"] = record
    _print_keeper_and_model(result)
    _print_files(files)
    console.print(f"done in {time.time() - started:.0f} s")


@cli.command()
@record_option
@network_option()
@account_option
@friendly_errors
def keeper(record: Path, network: str, account: str):
    """Runs the keeper bot against a deployment until Ctrl-C (see docs/keeper.md)."""
    from levtoken.keeper import run_keeper

    run_keeper(record, account, network)


if __name__ == "__main__":
    cli()
