"""The commands that run until stopped: node (a local anvil), keeper (the silverback bot) and serve (the
product page)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import DEFAULT_NODE_PORT, NODE_NETWORK, account_option, command, connect, console, load_account, network_option, record_option
from levtoken.deployment import Deployment
from levtoken.node import NodeError, anvil_binary, port_taken


@command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_NODE_PORT, show_default=True,
              help=f"Port to listen on (ethereum:local:node uses {DEFAULT_NODE_PORT}).")
def node(host: str, port: int):
    """Runs a local anvil node (the project's own binary) with the standard test accounts, until Ctrl-C or
    SIGTERM. anvil takes this process's place, so stopping its PID stops the node."""
    try:
        anvil = anvil_binary()
    except NodeError as err:
        raise click.ClickException(str(err)) from None
    taken = port_taken(host, port)
    if taken:
        raise click.ClickException(f"port {port} on {host} is already in use ({taken}): a node may already "
                                   "run there; stop it or choose another --port")
    if (host, port) == ("127.0.0.1", DEFAULT_NODE_PORT):
        console.print(f"anvil on http://{host}:{port} (chain 31337); the other commands use it by default "
                      f"(--network {NODE_NETWORK})")
    else:
        console.print(f"anvil on http://{host}:{port} (chain 31337); the other commands use "
                      f"127.0.0.1:{DEFAULT_NODE_PORT} by default (--network {NODE_NETWORK}), not this node")
    sys.stdout.flush()
    os.execv(anvil, [anvil, "--host", host, "--port", str(port), "--silent"])


@command()
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


@command()
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

    reason = port_taken(host, port)
    if reason == os.strerror(errno.EADDRINUSE):
        raise click.ClickException(f"something already listens on {host}:{port}; choose another --port")
    if reason:
        raise click.ClickException(f"cannot listen on {host}:{port} ({reason}); choose another --host or --port")
    with connect(network):
        deployment = Deployment.load(record)
        app = create_app(deployment, chain.provider.web3, RPC.of(chain.provider))
        console.print(f"product page on http://{host}:{port} (chain {chain.chain_id}, tokens: "
                      f"{', '.join(deployment.tokens)}); Ctrl-C stops it")
        sys.stdout.flush()
        uvicorn.run(app, host=host, port=port, log_level="warning")


COMMANDS = (node, keeper, serve)
