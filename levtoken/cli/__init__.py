"""The `levtoken` command (the console script's entry point): deploy, status, mint, redeem, requests, claim,
cancel, settle, feed, governance, keeper, node, serve, replay and the end-to-end demo, one module per group of commands:

    options.py    the click plumbing the commands share (one-line usage errors, common options, accounts)
    errors.py     the errors a user can cause, as one line
    deploy.py     deploy, status
    feed.py       feed publish, feed push (a local chain's prices)
    governance.py governance (pending changes), governance execute, governance cancel
    requests.py   mint, redeem, requests, claim, cancel, settle
    replay.py     replay, demo
    servers.py    node, keeper, serve

The commands are thin: what they do lives in the modules below (levtoken.flows, levtoken.status,
levtoken.node, levtoken.demo, levtoken.deployment, levtoken.replay), which never import this package."""

from __future__ import annotations

import click

from levtoken.cli import deploy, feed, governance, replay, requests, servers
from levtoken.cli.options import Levtoken
from levtoken.node import put_tools_on_path


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
        # A network with no RPC URL of its own makes ape try public ones, a warning per retry; the error after
        # them says what to set.
        logger._logger.addFilter(lambda record: "not available, retrying" not in record.getMessage())
        # A reverted estimate prints its call trace; the error's one line (friendly_errors) says what matters.
        Trace.show = lambda self, *args, **kwargs: None


for command in (*deploy.COMMANDS, *feed.COMMANDS, *governance.COMMANDS, *requests.COMMANDS, *replay.COMMANDS, *servers.COMMANDS):
    cli.add_command(command)
