"""Prices on a local chain, where the deployment's own PriceFeed is the market's price and nothing else
publishes one: a single round (`publish`), or a pusher that publishes a new round every interval, following a
random walk or the moves of a price file (`push`). Requests wait for a round newer than themselves, so without one
nothing settles; on a testnet the feed is the chain's (Chainlink) and this module does not apply.

The walk is geometric Brownian motion with no drift: each step multiplies the price by
exp(sigma * sqrt(dt) * z - sigma^2 * dt / 2), z standard normal, dt the interval in years, sigma the annual
volatility. A file is followed by its moves, rebased to the feed's price when pushing starts (the file's first
close stands for the feed's price), so a 30,000 feed following a 60,000 file does not jump.
"""

from __future__ import annotations

import math
import random
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

from ape import chain

from levtoken.deploy_config import MORPHO, DeploymentError
from levtoken.deployment import Deployment, updatable_feed
from levtoken.keeper.backoff import Backoff, is_connection_error
from levtoken.node import LOCAL_CHAIN_IDS
from levtoken.prices import load_prices
from levtoken.units import FEED_DECIMALS, to_feed, utc_text

YEAR = 365 * 86_400


def market_follower(deployment: Deployment, market: str, arbitrageur) -> Callable[[Decimal], str] | None:
    """On a money-market market, what brings its pool to each new price as the market's arbitrageurs would
    (`arbitrageur`, a local test account, is minted what it sells); None on the perpetual venue, which prices at the
    oracle alone."""
    if deployment.venue_kind(market) != MORPHO:
        return None
    from levtoken.protocols import arbitrage

    money = deployment.money_market_of(market)
    collateral = deployment.collateral_contract()

    def follow_price(price: Decimal) -> str:
        for token in (money.asset, collateral):
            if token.balanceOf(arbitrageur) < 10 ** (token.decimals() + 9):
                token.mint(arbitrageur, 10 ** (token.decimals() + 10), sender=arbitrageur)
        arbitrage(money.protocols, money.pool, money.asset, collateral, price, arbitrageur)
        return f"its pool arbitraged to {price:,.2f}"

    return follow_price


def local_feed(deployment: Deployment, market: str, updater):
    """The market's PriceFeed on a local chain, which `updater` may publish to; DeploymentError (one line) on a
    chain that is not local, for an unknown market or without UPDATER_ROLE."""
    if chain.chain_id not in LOCAL_CHAIN_IDS:
        raise DeploymentError(f"chain {chain.chain_id} is not a local chain: its prices are its own feed's "
                              "(Chainlink), which this command does not publish to")
    if market not in deployment.feeds:
        raise DeploymentError(f"unknown market {market!r}; markets of this deployment: {', '.join(deployment.feeds)}")
    return updatable_feed(deployment, market, updater)


def current_price(feed) -> Decimal:
    """The feed's latest answer in dollars."""
    return Decimal(feed.latestRoundData()[1]) / 10**FEED_DECIMALS


def publish(feed, price: Decimal, updater, market: Callable[[Decimal], str] | None = None) -> str:
    """Publishes `price` (dollars) as a new round, in a block at least a second after the head (a round in the same
    second as a request does not price it), on a local chain; then `market(price)`, which moves what else follows
    the price there (a money market's pool) and says how. Returns one line saying what and when (chain time)."""
    head = chain.provider.web3.eth.get_block("latest")["timestamp"]
    chain.provider.make_request("evm_setNextBlockTimestamp", [max(head + 1, int(time.time()))])
    receipt = feed.submit(to_feed(price), sender=updater)
    block = chain.provider.get_block(receipt.block_number)
    line = (f"{feed.description()} {price:,.2f} in block {receipt.block_number} "
            f"(chain time {utc_text(block.timestamp)}, round {feed.latestRoundData()[0]})")
    return f"{line}; {market(price)}" if market is not None else line


def walk(start: Decimal, volatility: float, interval: float, seed: int | None = None) -> Iterator[Decimal]:
    """An endless random walk from `start` (see the module docstring), one price per `interval` seconds,
    rounded to the feed's 8 decimals."""
    rng = random.Random(seed)
    dt = interval / YEAR
    price = float(start)
    while True:
        price *= math.exp(volatility * math.sqrt(dt) * rng.gauss(0.0, 1.0) - volatility**2 * dt / 2)
        yield Decimal(price).quantize(Decimal(1).scaleb(-FEED_DECIMALS))


def follow(path: Path | str, start: Decimal) -> Iterator[Decimal]:
    """The closes of a price file after its first, rebased so that its first close is `start` (the file is read
    and checked at once: PriceDataError before anything is published)."""
    points = load_prices(path)
    first = points[0].close
    return ((start * point.close / first).quantize(Decimal(1).scaleb(-FEED_DECIMALS)) for point in points[1:])


def push(feed, updater, prices: Iterator[Decimal], interval: float, say: Callable[[str], None],
         stop: threading.Event | None = None, market: Callable[[Decimal], str] | None = None) -> int:
    """Publishes each of `prices` as a new round, one every `interval` seconds, until they run out (a file) or
    `stop` is set (Ctrl-C, between two rounds, never in the middle of one), each followed by `market` (see
    `publish`); says each in one line. A node that
    stops answering is said and retried with back-off (the price waits, none is skipped). Returns how many were
    published."""
    stop = stop or threading.Event()
    published = 0
    backoff = Backoff(initial=1.0, maximum=60.0)
    for price in prices:
        while not stop.is_set():
            try:
                say(publish(feed, price, updater, market))
                published += 1
                if backoff.reset():
                    say("node answering again")
                break
            except Exception as err:
                if not is_connection_error(err):
                    raise
                delay = backoff.failed()
                say(f"node unreachable ({type(err).__name__}); trying again in {delay:.0f} s")
                stop.wait(delay)
        if stop.wait(interval):
            break
    return published
