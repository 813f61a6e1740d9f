"""The deployment's commands: deploy (config in, contracts and record out) and status (what the deployed tokens
stand at, in levtoken.status's words)."""

from __future__ import annotations

from pathlib import Path

import click
from eth_utils import is_address

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import account_option, command, connect, console, load_account, network_option, record_option
from levtoken.deploy_config import DEFAULT_CONFIG, DeployConfig
from levtoken.deployment import Deployment
from levtoken.node import LOCAL_CHAIN_IDS


@command()
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


@command()
@record_option
@network_option()
@click.option("--account", default=None, help="Whose holding to show: test:N or an `ape accounts` alias "
              "(default: test:0 on a local chain, nobody's elsewhere).")
@friendly_errors
def status(record: Path, network: str, account: str | None):
    """NAV, leverage, band, the account's holding and its value, the next time rebalance and the action due,
    per token."""
    from ape import chain

    from levtoken.status import status_tables

    with connect(network):
        deployment = Deployment.load(record)
        if account is None and chain.chain_id in LOCAL_CHAIN_IDS:
            account = "test:0"
        holder = load_account(account, signs=False).address if account else None
        for table in status_tables(deployment, holder):
            console.print(table)


COMMANDS = (deploy, status)
