"""The governance's commands: `levtoken governance` lists the pending changes with the time each lands, in plain
words; `governance propose SUBJECT name=value...` schedules a token's or a market's new settings (a proposer);
`governance grant|revoke SYMBOL ROLE ACCOUNT` schedules a change of a token's role; `governance execute ID` lands
a ready one (anyone may); `governance cancel ID` revokes one (a proposer or a guardian). What they do lives in levtoken.governance."""

from __future__ import annotations

from pathlib import Path

import click

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import (Levtoken, account_option, command, connect, console, load_account, network_option,
                                  record_option)
from levtoken.deployment import Deployment
from levtoken.units import utc_text


@click.group(name="governance", cls=Levtoken, invoke_without_command=True)
@record_option
@network_option()
@click.pass_context
@friendly_errors
def governance(ctx: click.Context, record: Path, network: str):
    """The changes the governance has scheduled and not yet landed or cancelled, each with the time it lands."""
    if ctx.invoked_subcommand is not None:
        return
    from ape import chain

    from levtoken.governance import pending_changes

    with connect(network):
        deployment = Deployment.load(record)
        pending = pending_changes(deployment)
        delay = deployment.governance_contract().getMinDelay()
        console.print(f"governance {deployment.governance}: every change waits {delay} s")
        if not pending:
            console.print("no change is pending")
        now = chain.blocks.head.timestamp
        for change in pending:
            when = "ready now" if change.lands_at <= now else f"from {utc_text(change.lands_at)}"
            console.print(f"{change.id}: {change.description} ({when})")


@command()
@click.argument("subject")
@click.argument("settings", nargs=-1)
@record_option
@network_option()
@account_option
@friendly_errors
def propose(subject: str, settings: tuple[str, ...], record: Path, network: str, account: str):
    """Schedules new SETTINGS (name=value, human units, e.g. streaming_fee_per_day=0.0002) for SUBJECT, a token
    (its parameters) or a market (its configuration); they land after the governance's delay."""
    from levtoken.governance import GovernanceError, propose_settings

    pairs = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name or not value:
            raise GovernanceError(f"{setting!r} is not name=value (e.g. streaming_fee_per_day=0.0002)")
        pairs[name] = value
    with connect(network):
        deployment = Deployment.load(record)
        _print_proposed(*propose_settings(deployment, load_account(account), subject, pairs))


def _print_proposed(change, receipt) -> None:
    console.print(f"proposed {change.id}: {change.description}; lands from {utc_text(change.lands_at)}; "
                  f"tx {receipt.txn_hash}")


def _role_command(name: str, grant: bool):
    """`governance grant|revoke SYMBOL ROLE ACCOUNT`: schedules a change of a token's role."""

    @command(name=name, help=f"Schedules {'granting' if grant else 'revoking'} token SYMBOL's ROLE (admin, keeper or "
             f"guardian) {'to' if grant else 'from'} ACCOUNT; it lands after the governance's delay.")
    @click.argument("symbol")
    @click.argument("role")
    @click.argument("target_account", metavar="ACCOUNT")
    @record_option
    @network_option()
    @account_option
    @friendly_errors
    def run(symbol: str, role: str, target_account: str, record: Path, network: str, account: str):
        from levtoken.governance import propose_role

        with connect(network):
            deployment = Deployment.load(record)
            _print_proposed(*propose_role(deployment, load_account(account), symbol, role, target_account, grant))

    return run


def _operation_command(name: str, done: str, help_text: str, act):
    """A command that acts on one pending change OPERATION (its id from `levtoken governance`) with `act`."""

    @command(name=name, help=help_text)
    @click.argument("operation")
    @record_option
    @network_option()
    @account_option
    @friendly_errors
    def run(operation: str, record: Path, network: str, account: str):
        with connect(network):
            receipt = act(Deployment.load(record), load_account(account), operation)
            console.print(f"{done} {operation}; tx {receipt.txn_hash}")

    return run


def _execute(deployment, account, operation):
    from levtoken.governance import execute_pending

    return execute_pending(deployment, account, operation)


def _cancel(deployment, account, operation):
    from levtoken.governance import cancel_pending

    return cancel_pending(deployment, account, operation)


execute = _operation_command("execute", "executed", "Lands the pending change OPERATION (its id from `levtoken "
                             "governance`) once its time has come.", _execute)
cancel = _operation_command("cancel", "cancelled", "Revokes the pending change OPERATION (a proposer or a guardian "
                            "of the governance).", _cancel)


governance.add_command(propose)
governance.add_command(_role_command("grant", grant=True))
governance.add_command(_role_command("revoke", grant=False))
governance.add_command(execute)
governance.add_command(cancel)
COMMANDS = (governance,)
