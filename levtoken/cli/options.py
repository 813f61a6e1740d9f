"""The click plumbing every `levtoken` command shares: the console, the command and group classes whose usage
errors are one line, the common options (--network, --record, --account), accounts, and connecting."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator

import click
from rich.console import Console

from levtoken.deployment import DEFAULT_RECORD

console = Console(soft_wrap=True)  # one line per message, whatever the terminal's width
NODE_NETWORK = "ethereum:local:node"
DEFAULT_NODE_PORT = 8545  # where `levtoken node` listens and NODE_NETWORK looks (ape-config.yaml's node uri)


@contextlib.contextmanager
def one_line_usage(path: str) -> Iterator[None]:
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


def command(**attrs: Any) -> Callable[[Callable[..., Any]], LevtokenCommand]:
    """Declares a `levtoken` command (a LevtokenCommand), for the group to add."""
    return click.command(cls=LevtokenCommand, **attrs)


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


def connect(network: str):
    """Context manager connecting ape to `network`, with a clear error when the node is down."""
    from ape import networks

    return networks.parse_network_choice(network)
