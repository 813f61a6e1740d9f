"""A holder's commands on one token: mint, redeem, requests, claim, cancel and settle (the flows themselves
are levtoken.flows')."""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

import click
from rich.table import Table

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import Seconds, account_option, command, connect, console, load_account, network_option, record_option
from levtoken.deployment import Deployment
from levtoken.flows import (Holder, check_settle, claim_all, deposit_refusal, describe_settlement, send,
                            send_after_window_poke, supply_room, wait_for_settlement, waiting_reason)
from levtoken.shapes import Action, Settlement, Status
from levtoken.units import from_units, from_wad, utc_text


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


def holder_command(*arguments: str, waits: bool = False):
    """A command on one token for one account, `func(holder, **options)`: argument TOKEN_SYMBOL and
    `arguments`, options for record, network and account (and, with `waits`, --wait/--no-wait, --settle and
    --timeout); connected while it runs."""

    def wrap(func: Callable[..., None]):
        @functools.wraps(func)
        def run(token_symbol: str, record: Path, network: str, account: str, **options: Any) -> None:
            with connect(network):
                deployment = Deployment.load(record)
                token = deployment.token(token_symbol)
                func(Holder(deployment, token_symbol, token, load_account(account)), **options)

        decorators = [command(), click.argument("token_symbol"), *(click.argument(a) for a in arguments)]
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
            run = decorator(run)
        return run

    return wrap


def _settle_and_claim(holder: Holder, deposit: bool, units: int, receipt, wait, settle_now_, timeout) -> None:
    event = wait_for_settlement(holder, deposit, receipt, wait, settle_now_, timeout, say=console.print)
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
    check_settle(holder, settle_now_)
    refusal = deposit_refusal(holder, units)
    if refusal is not None:
        raise click.ClickException(f"{refusal}; nothing was sent")
    room = supply_room(holder)
    if room is not None and token.convertToShares(units) > room:
        console.print(f"note: the supply cap leaves room for {from_wad(room):,.6f} {holder.symbol}, less than this "
                      "mint would make: it fills pro rata at settlement and the rest of the collateral is refunded")
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
    check_settle(holder, settle_now_)
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
    reason = waiting_reason(holder)
    if reason is not None:
        console.print(f"pending: {reason}")
    status = Status.from_abi(token.rebalanceStatus())
    if status.action == Action.SETTLE:
        console.print(f"a settlement is due now at the round of {utc_text(status.price_time)}: "
                      f"{from_units(status.deposit_assets):,.6f} collateral in, "
                      f"{from_wad(status.redeem_shares):,.6f} {holder.symbol} out")
    elif reason is None:
        console.print("no settlement due now")


@holder_command()
def claim(holder: Holder) -> None:
    """Claims the account's settled mints and redemptions on TOKEN_SYMBOL."""
    lines = claim_all(holder)
    if not lines:
        raise click.ClickException(f"nothing to claim on {holder.symbol} for {holder.sender.address} "
                                   f"(`levtoken requests {holder.symbol}` shows what waits)")
    for line in lines:
        console.print(line)


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
    """Settles TOKEN_SYMBOL's waiting requests. A keeper settles everything a newer round qualified; a redeemer
    with a request in the waiting batch may settle the redemptions once keepers left them unsettled for the
    settlement window (the fallback, so exit never depends on the keeper). A non-keeper's call too early pokes
    the token, so the window starts counting even when nothing else happens: run it again once the window has
    passed."""
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


COMMANDS = (mint, redeem, requests, claim, cancel, settle)
