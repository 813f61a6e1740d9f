"""The `levtoken` command: deploy, status, mint, redeem, requests, claim, cancel, keeper, replay and the
end-to-end demo."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

import click
from eth_utils import is_address
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from levtoken.deployment import DEFAULT_CONFIG, DEFAULT_RECORD, DeployConfig, Deployment, DeploymentError
from levtoken.prices import DAILY_CSV, HOURLY_CSV, PriceDataError, load_prices, parse_date
from levtoken.shapes import UINT256_MAX, Action, Reason, Settlement, Status
from levtoken.units import from_units, from_wad, leverage_label, to_units

console = Console(soft_wrap=True)  # one line per message, whatever the terminal's width
NODE_NETWORK = "ethereum:local:node"
LOCAL_CHAIN_IDS = (1337, 31337)
# Where toolchain/setup.sh puts the project's own tools (anvil, solc): beside the interpreter of the venv.
TOOLS_DIR = Path(sys.executable).parent


def put_tools_on_path() -> None:
    """Puts the project's tool directory first on PATH, so `.venv/bin/levtoken` finds the project's anvil (for
    `node` and `demo`) without an activated venv."""
    paths = os.environ.get("PATH", "").split(os.pathsep)
    if str(TOOLS_DIR) not in paths:
        os.environ["PATH"] = os.pathsep.join([str(TOOLS_DIR), *filter(None, paths)])


def friendly_errors(func):
    """Turns the errors a user can cause into one clear line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ape.exceptions import (ApeException, ContractLogicError, EcosystemNotFoundError, NetworkNotFoundError,
                                    ProviderNotConnectedError, ProviderNotFoundError)

        try:
            return func(*args, **kwargs)
        except (DeploymentError, PriceDataError) as err:
            raise click.ClickException(str(err)) from None
        except ContractLogicError as err:
            raise click.ClickException(f"the transaction reverted: {describe_revert(err)}{revert_hint(err)}") from None
        except (EcosystemNotFoundError, NetworkNotFoundError, ProviderNotFoundError) as err:
            known = "ethereum:local:node, ethereum:local:foundry, ethereum:sepolia:node or a node's URL"
            why = str(err).splitlines()[0].removesuffix(" Options:").rstrip(".")
            raise click.ClickException(f"unknown network {kwargs.get('network')!r} ({why}); use {known}") from None
        except ProviderNotConnectedError as err:
            raise click.ClickException(f"no node to talk to: {err}. Start one (`levtoken node`) or check --network") from None
        except ApeException as err:
            text = str(err)
            if any(k in text.lower() for k in ("node found", "connect", "refused")):
                network = kwargs.get("network", "the selected network")
                raise click.ClickException(
                    f"cannot reach a node at {network}; start one with `levtoken node` or fix --network"
                ) from None
            raise click.ClickException(text.splitlines()[0] if text else type(err).__name__) from None
        except (ConnectionError, OSError) as err:
            raise click.ClickException(f"the node is not reachable ({err}); start it (`levtoken node`) or fix --network") from None

    return wrapper


def describe_revert(err: Exception) -> str:
    """A revert in one line: the custom error's name and its arguments in the user's units."""
    from levtoken.keeper.reverts import describe_revert as describe

    return describe(err)


# What to do about the reverts a holder's command meets, by the error's name.
REVERT_HINTS = {
    "CancelTooEarly": "a mint request can be cancelled once keepers left its priced batch unsettled for the "
                      "settlement window (never yet: no newer round has priced it); run it again then",
    "NoPendingRequest": "this account has no mint request waiting (`levtoken requests` shows what waits)",
    "RequestAlreadySettled": "the request was settled: `levtoken claim` claims it",
    "NothingToSettle": "no request waits on this token",
    "NoNewerPrice": "the waiting requests need a round published after the latest of them; try again after it",
    "FallbackNotOpen": "keepers have this long to settle; run it again once it has passed",
}


def revert_hint(err: Exception) -> str:
    """`; what to do` for a revert REVERT_HINTS knows, else nothing."""
    from levtoken.keeper.reverts import revert_name

    hint = REVERT_HINTS.get(revert_name(err))
    return f"; {hint}" if hint else ""


def network_option(default: str = NODE_NETWORK):
    """The --network option (an ape network choice), defaulting to a running local node."""
    return click.option(
        "--network",
        default=default,
        show_default=True,
        envvar="LEVTOKEN_NETWORK",
        help="ape network choice: ethereum:local:node for a running local node (`levtoken node`), "
        "ethereum:local:foundry to start a fresh anvil, ethereum:sepolia:node for Sepolia, or a node's URL; "
        "the environment's LEVTOKEN_NETWORK if set.",
    )


record_option = click.option("--record", type=click.Path(path_type=Path), default=DEFAULT_RECORD, show_default=True,
                             envvar="LEVTOKEN_RECORD", help="Deployment record (JSON); the environment's LEVTOKEN_RECORD "
                             "if set.")
account_option = click.option("--account", default="test:0", show_default=True, help="test:N for a local test account, or an alias from `ape accounts list`.")


def load_account(spec: str, signs: bool = True):
    """An ape account from 'test:N' or an `ape accounts` alias. With `signs`, a keyfile account is unlocked to
    sign this command's transactions without a prompt per transaction: its passphrase comes from
    APE_ACCOUNTS_<alias>_PASSPHRASE when set (as in CI), otherwise it is asked for once."""
    from ape import accounts
    from ape_accounts.accounts import InvalidPasswordError, KeyfileAccount

    if spec.startswith("test:"):
        try:
            return accounts.test_accounts[int(spec[5:])]
        except (ValueError, IndexError):
            raise click.ClickException(f"--account {spec!r}: expected test:0 .. test:9") from None
    try:
        account = accounts.load(spec)
    except Exception:
        raise click.ClickException(f"--account {spec!r} is neither test:N nor a known `ape accounts` alias") from None
    if signs and isinstance(account, KeyfileAccount):
        try:
            account.set_autosign(True)
        except InvalidPasswordError:
            raise click.ClickException(f"--account {spec}: wrong passphrase (APE_ACCOUNTS_{spec}_PASSPHRASE "
                                       "or the one typed)") from None
    return account


def send(method, *args, sender):
    """Sends a contract transaction with 1.5x the estimated gas plus 50k: the estimate runs at the latest
    block's timestamp, the transaction in a later block, where fee and funding accrual cost more."""
    estimate = method.estimate_gas_cost(*args, sender=sender)
    return method(*args, sender=sender, gas_limit=int(estimate * 1.5) + 50_000)


def connect(network: str):
    """Context manager connecting ape to `network`, with a clear error when the node is down."""
    from ape import networks

    return networks.parse_network_choice(network)


@contextlib.contextmanager
def one_line_usage(path: str):
    """Turns a usage error of the command `path` (an unknown command or option, a missing argument, a bad
    value) into one line that names it and points to the command's --help, instead of click's usage block
    (exit status 2 still)."""
    try:
        yield
    except click.UsageError as err:
        message = err.format_message().replace(" Did you mean", "; did you mean").rstrip(".")
        error = click.ClickException(f"{path}: {message} (see `{path} --help`)")
        error.exit_code = err.exit_code
        raise error from None


class LevtokenCommand(click.Command):
    """A `levtoken` command; its usage errors are one line (one_line_usage)."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """Parses the command's arguments and options."""
        with one_line_usage(f"{parent.command_path} {info_name}" if parent else info_name or self.name):
            return super().make_context(info_name, args, parent, **extra)


class Levtoken(click.Group):
    """The `levtoken` group; its usage errors are one line (one_line_usage), as are its commands'."""

    command_class = LevtokenCommand

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """Parses the group's own options."""
        with one_line_usage(info_name or self.name):
            return super().make_context(info_name, args, parent, **extra)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """The command named first in `args`."""
        with one_line_usage(ctx.command_path):
            return super().resolve_command(ctx, args)


class Seconds(click.ParamType):
    """A positive whole number of seconds."""

    name = "seconds"

    def convert(self, value, param, ctx) -> int:
        """The number of seconds, or a usage error that names the value."""
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            seconds = 0
        if seconds <= 0:
            self.fail(f"{value} is not a positive number of seconds", param, ctx)
        return seconds


@click.group(cls=Levtoken, name="levtoken")
@click.version_option(package_name="levtoken", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Show ape's transaction log lines.")
def cli(verbose: bool):
    """On-chain leveraged tokens: deploy, run a keeper, replay real prices, report."""
    put_tools_on_path()
    if not verbose:
        from ape.logging import logger
        from ape_ethereum.trace import Trace

        logger.set_level("WARNING")
        # A keyfile account the command unlocked (load_account) warns at every transaction it signs.
        logger._logger.addFilter(lambda record: not record.getMessage().startswith("Using cached key"))
        # A reverted estimate prints its call trace; the error's one line (friendly_errors) says what matters.
        Trace.show = lambda self, *args, **kwargs: None


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (the OS's words), or None when it can. It binds as anvil and
    uvicorn do (SO_REUSEADDR): connections left in TIME_WAIT by a server stopped a moment ago do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            return err.strerror
    return None


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the OS's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_node(timeout: float = 30.0):
    """A fresh anvil of this command's own (the project's binary, quiet, without the step traces ape's foundry
    provider asks for, which slow every transaction) on a free port, connected as the local network; stopped
    on the way out."""
    from ape import networks, project

    anvil = shutil.which("anvil")
    if anvil is None:
        raise click.ClickException(f"anvil not found in {TOOLS_DIR} or on PATH; run `make setup`")
    port = free_port()
    argv = [anvil, "--port", str(port), "--silent", "--hardfork", project.config.solidity.evm_version,
            "--prune-history", "64"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while True:  # the node answering on the port must be this one: it fails at once if the port was taken
            if proc.poll() is not None:
                raise click.ClickException(f"anvil did not start on port {port}: {proc.stderr.read().strip()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise click.ClickException(f"anvil did not answer on port {port} within {timeout:.0f} s")
            time.sleep(0.1)
        with networks.parse_network_choice(f"ethereum:local:http://127.0.0.1:{port}"):
            yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8545, show_default=True, help="Port to listen on (ethereum:local:node uses 8545).")
def node(host: str, port: int):
    """Runs a local anvil node (the project's own binary) with the standard test accounts, until Ctrl-C or
    SIGTERM. anvil takes this process's place, so stopping its PID stops the node."""
    anvil = shutil.which("anvil")
    if anvil is None:
        raise click.ClickException(f"anvil not found in {TOOLS_DIR} or on PATH; run `make setup`")
    taken = port_taken(host, port)
    if taken:
        raise click.ClickException(f"port {port} on {host} is already in use ({taken}): a node may already "
                                   "run there; stop it or choose another --port")
    console.print(f"anvil on http://{host}:{port} (chain 31337); the other commands use it by default "
                  f"(--network {NODE_NETWORK})")
    sys.stdout.flush()
    os.execv(anvil, [anvil, "--host", host, "--port", str(port), "--silent"])


@cli.command()
@click.option("--config", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True)
@record_option
@network_option()
@account_option
@click.option("--keeper", default=None, help="Address given KEEPER_ROLE on new tokens (default: the deployer).")
@click.option("--fee-recipient", default=None, help="Address that receives new tokens' fees (default: the config's "
              "fee_recipient, else test:8 on a local chain and the deployer elsewhere).")
@friendly_errors
def deploy(config: Path, record: Path, network: str, account: str, keeper: str | None, fee_recipient: str | None):
    """Deploys feeds, collateral (local only), venue, factory and tokens; idempotent for a record."""
    from levtoken.deployment import deploy as do_deploy

    spec = DeployConfig.load(config)
    for name, value in (("--keeper", keeper), ("--fee-recipient", fee_recipient)):
        if value is not None and not is_address(value):
            raise click.ClickException(f"{name} {value!r} is not an address (0x followed by 40 hex digits)")
    with connect(network):
        deployment = do_deploy(spec, load_account(account), record, keeper=keeper, fee_recipient=fee_recipient,
                               log=console.print)
    console.print(f"deployment record: {record} (chain {deployment.chain_id}, tokens: {', '.join(deployment.tokens)})")


STATUS_TOKENS_PER_TABLE = 3  # token columns per status table: three fit an 80-column terminal


def time_rebalance_text(status: Status, leverage: int, target: int, min_drift: int, next_time: int, now: int) -> str:
    """When the next time rebalance falls due, in the terms of the rebalance decision (`status`): `in N h`
    before the interval has passed; once it has, `now` when the decision says a time rebalance is due,
    `held: drift<X` when leverage is within minDrift of target, `held: on target` when a trade would not
    change the position, and `elapsed` when another action is due first."""
    if next_time > now:
        return f"in {(next_time - now) / 3600:.1f} h"
    if status.reason == Reason.TIME:
        return "now"
    if status.due:
        return "elapsed"
    if abs(leverage - target) < min_drift:
        return f"held: drift<{from_wad(min_drift):.2f}x"
    return "held: on target"


def status_tables(deployment: Deployment, holder: str | None) -> list[Table]:
    """Per token (a column each, three tokens a table): NAV, leverage, band, ripcord, supply, `holder`'s
    holding and its value in collateral (when `holder` is given), when the next time rebalance falls due, and
    the action due now."""
    from ape import chain

    now = chain.pending_timestamp
    rows: dict[str, list[str]] = {name: [] for name in (
        "NAV", "leverage", "band", "ripcord", "supply", *(("holding", "its value") if holder else ()),
        "time rebalance", "due now")}
    symbols = []
    for symbol, token in deployment.token_contracts().items():
        symbols.append(symbol)
        params = token.params()
        status = Status.from_abi(token.rebalanceStatus())
        leverage, target = token.leverage(), deployment.tokens[symbol].leverage_wad
        values = {
            "NAV": f"${from_units(token.navPerToken()):,.6f}",
            "leverage": f"{from_wad(leverage):.4f}x",
            "band": f"{from_wad(params.leverageMin):.3f}-{from_wad(params.leverageMax):.3f}x",
            "ripcord": f"{from_wad(params.ripcordLeverage):.2f}x",
            "supply": f"{from_wad(token.totalSupply()):,.4f}",
            "time rebalance": time_rebalance_text(status, leverage, target, params.minDrift,
                                                  token.lastRebalance() + params.rebalanceInterval, now),
            "due now": status.action.name + (f" ({status.reason.name})" if status.due else ""),
        }
        if holder:
            balance = token.balanceOf(holder)
            values["holding"] = f"{from_wad(balance):,.4f}"
            values["its value"] = f"${from_units(token.convertToAssets(balance)):,.2f}"
        for name, column in rows.items():
            column.append(values[name])
    title = f"levtoken on chain {deployment.chain_id}" + (f"; holding of {holder}" if holder else "")
    tables = []
    for first in range(0, len(symbols), STATUS_TOKENS_PER_TABLE):
        chunk = slice(first, first + STATUS_TOKENS_PER_TABLE)
        table = Table(title=title if first == 0 else None)
        table.add_column("")
        for symbol in symbols[chunk]:
            table.add_column(f"{symbol} ({leverage_label(deployment.tokens[symbol].leverage_wad)})", justify="right")
        for name, column in rows.items():
            table.add_row(name, *column[chunk])
        tables.append(table)
    return tables


@cli.command()
@record_option
@network_option()
@click.option("--account", default=None, help="Whose holding to show: test:N or an `ape accounts` alias "
              "(default: test:0 on a local chain, nobody's elsewhere).")
@friendly_errors
def status(record: Path, network: str, account: str | None):
    """NAV, leverage, band, the account's holding and its value, the next time rebalance and the action due,
    per token."""
    from ape import chain

    with connect(network):
        deployment = Deployment.load(record)
        if account is None and chain.chain_id in LOCAL_CHAIN_IDS:
            account = "test:0"
        holder = load_account(account, signs=False).address if account else None
        for table in status_tables(deployment, holder):
            console.print(table)


def _amount(text: str, decimals: int, unit: str = "collateral") -> int:
    """A positive, finite human amount (`1000`, `0.5`) in units of `decimals` decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.ClickException(f"amount {text!r} is not a number; give an amount of {unit} such as 1000") from None
    if not value.is_finite():
        raise click.ClickException(f"amount {text!r} is not a finite number; give an amount of {unit} such as 1000")
    if value <= 0:
        raise click.ClickException(f"amount must be positive (got {text} {unit})")
    units = value.scaleb(decimals)
    if units != units.to_integral_value():
        raise click.ClickException(f"amount {text} {unit} has more than {decimals} decimals (the smallest amount is "
                                   f"{Decimal(1).scaleb(-decimals):f} {unit})")
    return int(units)


@dataclass
class Holder:
    """What a request command works with on the connected chain: the deployment, the token and the account."""

    deployment: Deployment
    symbol: str
    token: Any
    sender: Any

    @property
    def local(self) -> bool:
        """Whether the chain is a local one (anvil), where waiting and --settle make sense."""
        from ape import chain

        return chain.chain_id in LOCAL_CHAIN_IDS


def holder_command(*arguments: str, waits: bool = False):
    """A command on one token for one account, `func(holder, **options)`: argument TOKEN_SYMBOL and
    `arguments`, options for record, network and account (and, with `waits`, --wait/--no-wait, --settle and
    --timeout); connected while it runs."""

    def wrap(func: Callable[..., None]):
        @functools.wraps(func)
        def command(token_symbol: str, record: Path, network: str, account: str, **options: Any) -> None:
            with connect(network):
                deployment = Deployment.load(record)
                token = deployment.token(token_symbol)
                func(Holder(deployment, token_symbol, token, load_account(account)), **options)

        decorators = [cli.command(), click.argument("token_symbol"), *(click.argument(a) for a in arguments)]
        if waits:
            decorators += [
                click.option("--wait/--no-wait", default=None,
                             help="Wait for the settlement and claim (default: on for local chains)."),
                click.option("--settle", "settle_now_", is_flag=True,
                             help="Local chains: publish a newer round and settle as this account "
                             "(it must hold the feed's UPDATER_ROLE and the token's KEEPER_ROLE), then claim."),
                click.option("--timeout", type=Seconds(), default=600, show_default=True,
                             help="Seconds to wait for the settlement."),
            ]
        decorators += [record_option, network_option(), account_option, friendly_errors]
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return wrap


def find_settlement(token, deposit: bool, request_block: int, request_time: int):
    """The Settled event that priced a request made in `request_block` at `request_time`: the first one after
    it that settled that side at a round published after the request (None while there is none)."""
    from ape import chain

    for event in token.Settled.range(request_block, chain.blocks.height + 1):
        epoch = event.depositEpoch if deposit else event.redeemEpoch
        if epoch and event.priceTime > request_time:
            return event
    return None


def check_settle_option(holder: Holder, settle: bool) -> None:
    """Before a request with --settle: refuses it, with nothing sent, unless the chain is local and the account
    may publish the market's prices and settle the token."""
    from levtoken.deployment import check_settle_now as check

    if not settle:
        return
    if not holder.local:
        raise click.ClickException("--settle publishes a price and settles: local chains only")
    check(holder.deployment, [holder.symbol], holder.sender, holder.sender)


def wait_for_settlement(holder: Holder, deposit: bool, receipt, wait: bool | None, settle: bool, timeout: int):
    """After a request: settles it (`settle`) or waits up to `timeout` seconds for a keeper to; returns the
    Settled event, or None when not waiting."""
    from ape import chain

    from levtoken.deployment import settle_now

    if wait is None:
        wait = holder.local
    if not (wait or settle):
        return None
    request_time = chain.blocks[receipt.block_number].timestamp
    if settle:
        settle_now(holder.deployment, [holder.symbol], holder.sender, holder.sender)
    deadline = time.monotonic() + timeout
    while (event := find_settlement(holder.token, deposit, receipt.block_number, request_time)) is None:
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"no settlement within {timeout} s; the request waits for a keeper and a newer price "
                f"(`levtoken requests {holder.symbol}`, then `levtoken claim {holder.symbol}`)"
            )
        time.sleep(1)
    return event


def round_block(holder: Holder, price_time: int, from_block: int) -> int | None:
    """The block that published the round of `price_time` on the token's market feed (None if not found)."""
    from ape import chain

    feed = holder.deployment.feed_contract(holder.deployment.tokens[holder.symbol].market)
    for event in feed.AnswerUpdated.range(from_block, chain.blocks.height + 1):
        if event.updatedAt == price_time:
            return event.block_number
    return None


def describe_settlement(holder: Holder, event, mine: int, deposit: bool, request_block: int) -> str:
    """One line on the settlement that priced `mine` (assets for a deposit, shares for a redemption): the
    holder's part of the fee and of the trade cost, the price and the block that published it."""
    t = Settlement.from_abi(event.settlement)
    if deposit:
        fee, fee_bps, cost_share = t.mint_fee * mine // t.assets, t.mint_fee_bps, t.cost_d * mine // t.assets
    else:
        fee, fee_bps, cost_share = t.redeem_fee * mine // t.shares, t.redeem_fee_bps, t.cost_r * mine // t.shares
    published = round_block(holder, event.priceTime, request_block)
    return (
        f"settled in block {event.block_number} at price ${from_wad(t.price):,.2f} (round published in block "
        f"{published if published is not None else '?'}); fee {fee_bps} bps = {from_wad(fee):,.6f} {holder.symbol}; "
        f"cost share ${from_units(cost_share):,.6f}"
    )


def claim_all(holder: Holder) -> list[str]:
    """Claims everything claimable on both sides for the account; returns one line per claim."""
    token, sender = holder.token, holder.sender
    lines = []
    assets = token.maxDeposit(sender)
    if assets:
        receipt = send(token.deposit, assets, sender, sender=sender)
        shares = receipt.decode_logs(token.Deposit)[0].shares
        lines.append(f"minted {from_wad(shares):,.6f} {holder.symbol} for {from_units(assets):,.6f} collateral "
                     f"(claimed); tx {receipt.txn_hash}")
    shares = token.maxRedeem(sender)
    if shares:
        receipt = send(token.redeem, shares, sender, sender, sender=sender)
        got = receipt.decode_logs(token.Withdraw)[0].assets
        lines.append(f"redeemed {from_wad(shares):,.6f} {holder.symbol} for {from_units(got):,.6f} collateral "
                     f"(claimed); tx {receipt.txn_hash}")
    return lines


def _settle_and_claim(holder: Holder, deposit: bool, units: int, receipt, wait, settle_now_, timeout) -> None:
    event = wait_for_settlement(holder, deposit, receipt, wait, settle_now_, timeout)
    if event is None:
        console.print(f"waiting for a keeper to settle at a newer price: `levtoken requests {holder.symbol}`, "
                      f"then `levtoken claim {holder.symbol}`")
        return
    console.print(describe_settlement(holder, event, units, deposit, receipt.block_number))
    for line in claim_all(holder):
        console.print(line)


@holder_command("amount", waits=True)
def mint(holder: Holder, amount: str, wait: bool | None, settle_now_: bool, timeout: int) -> None:
    """Requests a mint of TOKEN_SYMBOL for AMOUNT of collateral (e.g. `levtoken mint BTC3L 1000`), then waits
    for its settlement at a newer price and claims the tokens."""
    token, sender = holder.token, holder.sender
    collateral = holder.deployment.collateral_contract()
    units = _amount(amount, collateral.decimals())
    check_settle_option(holder, settle_now_)
    balance = collateral.balanceOf(sender)
    if balance < units:
        if not holder.deployment.collateral_is_test:
            raise click.ClickException(f"{sender.address} holds {from_units(balance):,.6f} collateral, less than the "
                                       f"{amount} collateral asked")
        collateral.mint(sender, units, sender=sender)
    if collateral.allowance(sender, token.address) < units:
        collateral.approve(token.address, units, sender=sender)
    receipt = send(token.requestDeposit, units, sender, sender, sender=sender)
    console.print(f"requested a mint of {holder.symbol} for {amount} collateral in block {receipt.block_number}; "
                  f"tx {receipt.txn_hash}")
    _settle_and_claim(holder, True, units, receipt, wait, settle_now_, timeout)


@holder_command("shares", waits=True)
def redeem(holder: Holder, shares: str, wait: bool | None, settle_now_: bool, timeout: int) -> None:
    """Requests the redemption of SHARES of TOKEN_SYMBOL (a number of tokens, or `all`), then waits for its
    settlement at a newer price and claims the collateral."""
    token, sender = holder.token, holder.sender
    balance = token.balanceOf(sender)
    units = balance if shares == "all" else _amount(shares, 18, holder.symbol)
    if balance == 0:
        raise click.ClickException(f"{sender.address} holds no {holder.symbol}; nothing to redeem")
    if units > balance:
        raise click.ClickException(f"{sender.address} holds {from_wad(balance):,.6f} {holder.symbol}, less than the "
                                   f"{shares} {holder.symbol} asked; redeem at most that, or `all`")
    check_settle_option(holder, settle_now_)
    receipt = send(token.requestRedeem, units, sender, sender, sender=sender)
    console.print(f"requested the redemption of {from_wad(units):,.6f} {holder.symbol} in block "
                  f"{receipt.block_number}; tx {receipt.txn_hash}")
    _settle_and_claim(holder, False, units, receipt, wait, settle_now_, timeout)


@holder_command()
def requests(holder: Holder) -> None:
    """The account's pending and claimable requests on TOKEN_SYMBOL, both sides, and whether a settlement is
    due now."""
    token, who = holder.token, holder.sender.address
    table = Table(title=f"{holder.symbol} requests of {who}")
    for column in ("side", "pending", "claimable", "claim gives"):
        table.add_column(column)
    table.add_row("mint", f"{from_units(token.pendingDepositRequest(0, who)):,.6f} collateral",
                  f"{from_units(token.claimableDepositRequest(0, who)):,.6f} collateral",
                  f"{from_wad(token.maxMint(who)):,.6f} {holder.symbol}")
    table.add_row("redeem", f"{from_wad(token.pendingRedeemRequest(0, who)):,.6f} {holder.symbol}",
                  f"{from_wad(token.claimableRedeemRequest(0, who)):,.6f} {holder.symbol}",
                  f"{from_units(token.maxWithdraw(who)):,.6f} collateral")
    console.print(table)
    status = Status.from_abi(token.rebalanceStatus())
    if status.action == Action.SETTLE:
        console.print(f"a settlement is due now at the round of {status.price_time}: "
                      f"{from_units(status.deposit_assets):,.6f} collateral in, "
                      f"{from_wad(status.redeem_shares):,.6f} {holder.symbol} out")
    else:
        console.print("no settlement due now (waiting requests need a round newer than the latest request)")


@holder_command()
def claim(holder: Holder) -> None:
    """Claims the account's settled mints and redemptions on TOKEN_SYMBOL."""
    lines = claim_all(holder)
    if not lines:
        raise click.ClickException(f"nothing to claim on {holder.symbol} for {holder.sender.address} "
                                   f"(`levtoken requests {holder.symbol}` shows what waits)")
    for line in lines:
        console.print(line)


def send_after_window_poke(holder: Holder, too_early: str, method, *args):
    """Sends `method(*args)` as the holder. When it would revert with `too_early` (the settlement window has
    not passed) naming a time, first pokes the token, so that window starts counting even when nothing else
    happens, then reports the revert; any other revert sends nothing."""
    from ape.exceptions import ContractLogicError

    from levtoken.keeper.reverts import decode_revert

    try:
        method.estimate_gas_cost(*args, sender=holder.sender)
    except ContractLogicError as err:
        name, inputs = decode_revert(err) or ("", {})
        if name == too_early and UINT256_MAX not in inputs.values():
            send(holder.token.poke, sender=holder.sender)
        raise
    return send(method, *args, sender=holder.sender)


@holder_command()
def cancel(holder: Holder) -> None:
    """Cancels the account's deposit request on TOKEN_SYMBOL once keepers left its batch unsettled for the
    settlement window, and refunds it. Too early, it pokes the token, so the window of a request that qualified
    starts counting even when nothing else happens (run it again once the window has passed)."""
    token, sender = holder.token, holder.sender
    receipt = send_after_window_poke(holder, "CancelTooEarly", token.cancelDepositRequest, sender, sender)
    assets = receipt.decode_logs(token.DepositRequestCancelled)[0].assets
    console.print(f"cancelled; {from_units(assets):,.6f} collateral refunded; tx {receipt.txn_hash}")


@holder_command()
def settle(holder: Holder) -> None:
    """Settles TOKEN_SYMBOL's waiting requests. A keeper settles everything a newer round qualified; any other
    account may settle the redemptions once keepers left them unsettled for the settlement window (the
    fallback, so exit never depends on the keeper). A non-keeper's call too early pokes the token, so the window
    starts counting even when nothing else happens: run it again once the window has passed."""
    token, sender = holder.token, holder.sender
    if token.hasRole(token.KEEPER_ROLE(), sender.address):
        receipt = send(token.settle, sender=sender)
    else:
        receipt = send_after_window_poke(holder, "FallbackNotOpen", token.settle)
    (event,) = receipt.decode_logs(token.Settled)
    t = Settlement.from_abi(event.settlement)
    console.print(f"settled in block {receipt.block_number} at price ${from_wad(t.price):,.2f}: "
                  f"{from_units(t.assets):,.6f} collateral in, {from_wad(t.shares):,.6f} {holder.symbol} out"
                  f"{' (fallback: redemptions only)' if event.fallback_ else ''}; cost ${from_units(t.cost):,.6f}; "
                  f"`levtoken claim {holder.symbol}` claims")


def _load_series(csv_path: Path | None, start: str | None, end: str | None, hourly: bool):
    if start is not None and end is not None and parse_date(start) > parse_date(end):
        raise click.ClickException(f"--start {start} is after --end {end}; give the earlier date first")
    if csv_path is None:
        csv_path = HOURLY_CSV if hourly else DAILY_CSV
        if start is None and end is None:
            start, end = ("2023-04-18", "2024-04-18") if hourly else ("2024-09-24", "2025-09-24")
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


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="date,close file (default: the shipped BTC daily series).")
@click.option("--start", default=None, help="First date, YYYY-MM-DD or ISO 8601 (default: 2024-09-24, or 2023-04-18 with --hourly).")
@click.option("--end", default=None, help="Last date (default: 2025-09-24, or 2024-04-18 with --hourly).")
@click.option("--hourly", is_flag=True, help="Use the shipped BTC perpetual hourly series.")
@click.option("--market", default="BTC", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/replay"), show_default=True)
@click.option("--check-model", is_flag=True, help="Run the reference model beside the chain and report any divergence.")
@click.option("--force", is_flag=True, help="Replay even when the series' first price is more than 10% away from the feed's.")
@record_option
@network_option()
@account_option
@friendly_errors
def replay(csv_path, start, end, hourly, market, out, check_model, force, record, network, account):
    """Replays a price series through the feed of a running local deployment, keeper acting every step; returns
    are measured from the state it finds. It refuses a series that starts far from the feed's price (--force)."""
    from levtoken.replay.replayer import Replayer, ReplayStartError

    csv_path, points = _load_series(csv_path, start, end, hourly)
    with connect(network):
        deployment = Deployment.load(record)
        if market not in deployment.markets:
            raise click.ClickException(f"unknown market {market!r}; deployed: {', '.join(deployment.markets)}")
        sender = load_account(account)
        replayer = Replayer(deployment, market, sender, liquidator=sender, check_model=check_model)
        try:
            notes = replayer.preflight(points[0].close, force)
        except ReplayStartError as err:
            raise click.ClickException(str(err)) from None
        for note in notes:
            console.print(note)
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
    width = max(map(len, files))
    for name, path in files.items():
        console.print(f"  {name:<{width}} {path.resolve()}")


DEMO_DEPOSITS = (100_000, 50_000, 25_000, 10_000)  # USD the demo's holders (test accounts 1 to 4) mint, one token each in turn


def demo_replayer(spec: DeployConfig, points, record: Path, keeper_kind: str = "fast", check_model: bool = False,
                  log: Callable[[str], None] = lambda message: None, deposits: tuple[int, ...] = DEMO_DEPOSITS):
    """The demo's chain before its replay, on the connected local chain: `spec` deployed by test account 0 (its
    record written to `record`), the series' first price published and the holders' mints (`deposits`, USD)
    settled and claimed; returns the Replayer (test account 9 liquidates) ready to run `points`."""
    from ape import accounts

    from levtoken.deployment import deploy as do_deploy, mint_for
    from levtoken.replay.replayer import Replayer

    test = accounts.test_accounts
    gov, liquidator = test[0], test[9]
    record.unlink(missing_ok=True)
    deployment = do_deploy(spec, gov, record, log=log)
    replayer = Replayer(deployment, spec.tokens[0].market, gov, keeper=keeper_kind, liquidator=liquidator,
                        check_model=check_model)
    replayer.push_price(points[0].close)
    symbols = list(deployment.tokens)
    holders = [(test[1 + i % 4], symbols[i % len(symbols)], to_units(usd)) for i, usd in enumerate(deposits)]
    mint_for(deployment, holders)
    for account, symbol, amount in holders:
        log(f"{account.address[:10]}… minted {symbol} for ${from_units(amount):,.0f}")
    return replayer


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="date,close file (default: the shipped BTC daily series).")
@click.option("--start", default=None, help="First date (default: 2024-09-24, or 2023-04-18 with --hourly).")
@click.option("--end", default=None, help="Last date (default: 2025-09-24, or 2024-04-18 with --hourly).")
@click.option("--hourly", is_flag=True, help="Replay the BTC perpetual hourly series (default: its last year, 2023-04-18 to 2024-04-18).")
@click.option("--config", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
@click.option("--keeper", "keeper_kind", type=click.Choice(["fast", "bot"]), default="fast", show_default=True,
              help="fast: in-process keeper over batched RPC; bot: the silverback bot's Keeper, block by block (slower).")
@click.option("--check-model", is_flag=True, help="Run the reference model beside the chain and report any divergence.")
@friendly_errors
def demo(csv_path, start, end, hourly, config, out, keeper_kind, check_model):
    """The main job: start anvil, deploy BTC 3x long, 3x short and 1x short, mint from a few holders,
    replay a real period with the keeper acting, then print the report and write its files."""
    started = time.time()
    csv_path, points = _load_series(csv_path, start, end, hourly)
    spec = DeployConfig.load(config)
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


@cli.command()
@record_option
@network_option()
@account_option
@friendly_errors
def keeper(record: Path, network: str, account: str):
    """Runs the keeper bot against a deployment until Ctrl-C (see docs/keeper.md)."""
    from levtoken.keeper import run_keeper

    if not Path("bots/keeper.py").is_file():
        raise click.ClickException("run `levtoken keeper` from the project's folder: the bot (bots/keeper.py) "
                                   "runs there, with its ape-config.yaml")
    with connect(network):
        Deployment.load(record)  # a missing, incomplete or foreign record is one line here, not a restart loop
        load_account(account, signs=False)  # the bot unlocks it (silverback, with the same passphrase variable)
    # The bot reads the same project (ape-config.yaml, bots/) as this command: the folder it is run from.
    sys.exit(run_keeper(record, account, network, project_dir=Path.cwd()))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@record_option
@network_option()
@friendly_errors
def serve(host: str, port: int, record: Path, network: str):
    """Serves the tokens' product page (list, token pages, wallet) at http://HOST:PORT, reading the chain live,
    until Ctrl-C."""
    import uvicorn
    from ape import chain

    from levtoken.rpc import RPC
    from levtoken.web.server import create_app

    if port_taken(host, port):
        raise click.ClickException(f"something already listens on {host}:{port}; choose another --port")
    with connect(network):
        deployment = Deployment.load(record)
        app = create_app(deployment, chain.provider.web3, RPC.of(chain.provider))
        console.print(f"product page on http://{host}:{port} (chain {chain.chain_id}, tokens: "
                      f"{', '.join(deployment.tokens)}); Ctrl-C stops it")
        sys.stdout.flush()
        uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    cli()
