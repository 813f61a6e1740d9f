"""A polling runner for the keeper bot that outlives quiet chains and node restarts.

silverback's PollingRunner stops when no block arrives for a while (10 s on a local network, at once on
a network without a configured block time) and when the node stops answering. This one polls the head
every LEVTOKEN_KEEPER_POLL seconds (default 1) and queues one task for the newest block; when the node
goes away it logs, backs off (1 s doubling to 60 s) and resumes from the head when the node answers.
Blocks missed meanwhile are not replayed: the keeper only needs the newest state.

    silverback run bots.keeper:bot --runner bots.keeper_runner:KeeperRunner --network ... --account ...

It lives in its own module because silverback imports the runner before it connects to the network
(and bots/keeper.py creates the bot, which needs that connection, when imported).
"""

from __future__ import annotations

import asyncio
import os

from ape import chain
from ape.logging import logger
from silverback.runner import PollingRunner

from levtoken.keeper import is_connection_error


class KeeperRunner(PollingRunner):
    """Polls the head and queues the newest block; survives quiet chains and node restarts."""

    poll_interval = float(os.environ.get("LEVTOKEN_KEEPER_POLL", "1.0"))

    async def _block_task(self, task_data):
        last: int | None = None
        backoff = 0.0
        while not self.shutdown_event.is_set():
            try:
                height = await asyncio.to_thread(lambda: chain.provider.web3.eth.block_number)
                if last is None or height > last:
                    if last is not None and height > last + 1:
                        logger.info(f"blocks {last + 1}..{height - 1} not handled; going on from {height}")
                    block = await asyncio.to_thread(chain.provider.get_block, height)
                    self._runtime_task_group.create_task(self.run_task(task_data, block))
                    last = height
                if backoff:
                    logger.info(f"node answering again at block {height}")
                    backoff = 0.0
                await asyncio.sleep(self.poll_interval)
            except Exception as err:
                if not is_connection_error(err):
                    raise
                backoff = min(60.0, backoff * 2 if backoff else 1.0)
                logger.warning(f"node unreachable ({type(err).__name__}); polling again in {backoff:.0f}s")
                await asyncio.sleep(backoff)
