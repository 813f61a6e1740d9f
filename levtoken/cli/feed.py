"""A local chain's prices: `levtoken feed publish [PRICE]` publishes one round on a market's PriceFeed, `levtoken
feed push` a new one every interval (a random walk, or a price file's moves) until stopped, so that requests
settle on a chain nothing else prices. What they do lives in levtoken.pusher."""

from __future__ import annotations

import signal
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from levtoken.cli.errors import friendly_errors
from levtoken.cli.options import (Levtoken, account_option, command, connect, console, load_account, network_option,
                                  record_option)
from levtoken.deployment import Deployment

market_option = click.option("--market", default="BTC", show_default=True, help="The market whose feed to publish to.")


@click.group(name="feed", cls=Levtoken)
def feed():
    """A local chain's prices: publish one round, or push a new one every interval. Requests settle only at a
    round newer than themselves; on a testnet the chain's own feed publishes them."""


def _price(text: str) -> Decimal:
    """A price a user typed, in dollars; one line when it is not a positive number."""
    try:
        price = Decimal(text.replace(",", "").removeprefix("$"))
    except InvalidOperation:
        price = Decimal("NaN")
    if not price.is_finite() or price <= 0:
        raise click.ClickException(f"price {text!r} is not a positive number of dollars")
    return price


@command()
@click.argument("price", required=False)
@market_option
@record_option
@network_option()
@account_option
@friendly_errors
def publish(price: str | None, market: str, record: Path, network: str, account: str):
    """Publishes PRICE (dollars) on the market's feed as a new round; without PRICE, the latest answer again (a
    newer round, which every request made so far waits for); a money market's pool is then arbitraged to it. Local
    chains only; the account needs the feed's UPDATER_ROLE (the deployer has it)."""
    from levtoken.pusher import current_price, local_feed, market_follower, publish as publish_price

    value = _price(price) if price is not None else None
    with connect(network):
        updater = load_account(account)
        deployment = Deployment.load(record)
        source = local_feed(deployment, market, updater)
        console.print(publish_price(source, value if value is not None else current_price(source), updater,
                                    market_follower(deployment, market, updater)))


@command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None,
              help="Follow this date,close file's moves, rebased to the feed's price, one row per interval; stops at "
              "its end. Without it: a random walk, until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=1), default=10.0, show_default=True,
              help="Seconds between prices.")
@click.option("--volatility", type=click.FloatRange(min=0, max=10), default=0.8, show_default=True,
              help="The walk's annual volatility (0.8: 80% a year).")
@click.option("--seed", type=int, default=None, help="The walk's random seed (the same seed, the same walk).")
@market_option
@record_option
@network_option()
@account_option
@friendly_errors
def push(csv_path: Path | None, interval: float, volatility: float, seed: int | None, market: str, record: Path,
         network: str, account: str):
    """Publishes a new price on the market's feed every --interval seconds, starting from the feed's price: a
    random walk (--volatility, --seed), or a price file's moves (--csv). Local chains only; stop it with Ctrl-C."""
    from levtoken.pusher import current_price, follow, local_feed, market_follower, push as push_prices, walk

    with connect(network):
        updater = load_account(account)
        deployment = Deployment.load(record)
        source = local_feed(deployment, market, updater)
        start = current_price(source)
        prices = follow(csv_path, start) if csv_path is not None else walk(start, volatility, interval, seed)
        kind = f"the moves of {csv_path}" if csv_path is not None else f"a random walk at {volatility:.0%} a year"
        console.print(f"pushing {market} prices every {interval:g} s from {start:,.2f}: {kind} (Ctrl-C stops)")
        stop = threading.Event()  # Ctrl-C or SIGTERM: stop between two rounds, never in the middle of one
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        count = push_prices(source, updater, prices, interval, console.print, stop,
                            market_follower(deployment, market, updater))
    console.print(f"stopped after {count} prices" if stop.is_set() else f"pushed {count} prices: the end of {csv_path}")


feed.add_command(publish)
feed.add_command(push)
COMMANDS = (feed,)
