"""A polling runner for the keeper bot that outlives quiet chains and node restarts.

    silverback run bots.keeper:bot --runner bots.keeper_runner:KeeperRunner --network ... --account ...

`--runner` is silverback's own extension point for how blocks reach the bot; this module uses it because
silverback's PollingRunner (silverback 0.7.38, `runner.py`) cannot keep a keeper alive. Its
`_block_task` is one loop over ape's `chain.blocks.poll_blocks()` (ape_ethereum `Web3Provider.poll_blocks`),
which:

1. raises `ProviderError("Timed out waiting for next block.")` when no block arrives within
   `new_block_timeout`, which silverback does not pass: 10 s on a local network, 50 x the configured
   block time elsewhere (at once when none is configured). A local anvil mines only on transactions, so
   a quiet chain ends the loop within 10 s;
2. reads the head outside its own try block, so a node that stops answering raises out of the loop;
3. sleeps half the configured block time between reads: not at all on a local network, a busy loop
   of JSON-RPC requests.

An exception out of `_block_task` fails silverback's runtime task group, which shuts the runner down.
The WebsocketRunner has the same end when the node goes away (its subscription breaks), and `bot.cron`
fires once a minute at best. So `KeeperRunner` replaces only `_block_task` (the abstract method of
silverback's `BaseRunner` that each runner implements): it reads the head every LEVTOKEN_KEEPER_POLL
seconds (default 1) and queues one task for each new head the way PollingRunner does (`run_task` in the
runtime task group). A head is new when its hash is, so a chain that goes back (a reset node, a reverted
snapshot, a reorg) is followed from its new head rather than ignored until it passes the old height. When
the node goes away it logs and waits with `levtoken.keeper.Backoff` (1 s doubling to 60 s), then resumes
from the head. Blocks missed meanwhile are
not replayed: the keeper only needs the newest state. Events and cron tasks stay silverback's.

It lives in its own module because silverback imports the runner before it connects to the network
(and bots/keeper.py creates the bot, which needs that connection, when imported).
"""

from __future__ import annotations

import asyncio
import os

from ape import chain
from ape.logging import logger
from ape.exceptions import BlockNotFoundError
from silverback.runner import PollingRunner

from levtoken.keeper.backoff import Backoff, is_connection_error


class KeeperRunner(PollingRunner):
    """PollingRunner whose block task polls the head at a fixed interval and survives quiet chains and
    node restarts (see the module docstring for the silverback behaviour this works around)."""

    poll_interval = float(os.environ.get("LEVTOKEN_KEEPER_POLL", "1.0"))

    async def run_task(self, task_data, *args, raise_on_error: bool = False):
        """silverback's run_task, except that a block gone before its task was sent (the chain went back between the
        poll and the send: sending reads the block again) is said and skipped instead of stopping the runner."""
        try:
            return await super().run_task(task_data, *args, raise_on_error=raise_on_error)
        except BlockNotFoundError as err:
            logger.info(f"a block went away before its task ran (the chain went back): {err}; the next head is served")

    async def _block_task(self, task_data) -> None:
        """Queues the newest block for the bot's block handler whenever the head moves, until shutdown."""
        last: tuple[int, bytes] | None = None  # the newest block handled: its number and hash
        backoff = Backoff(initial=1.0, maximum=60.0)
        while not self.shutdown_event.is_set():
            try:
                block = await asyncio.to_thread(chain.provider.get_block, "latest")
                height, head = block.number, bytes(block.hash)
                if last is None or head != last[1]:
                    if last is not None and height > last[0] + 1:
                        logger.info(f"blocks {last[0] + 1}..{height - 1} not handled; going on from {height}")
                    elif last is not None and height <= last[0]:
                        # A reset (a restarted or reverted local node) or a reorg: the chain's head is the truth.
                        logger.info(f"the chain went back from block {last[0]} to {height} (a reset or a reorg); "
                                    f"going on from {height}")
                    self._runtime_task_group.create_task(self.run_task(task_data, block))
                    last = (height, head)
                if backoff.reset():
                    logger.info(f"node answering again at block {height}")
                await asyncio.sleep(self.poll_interval)
            except BlockNotFoundError as err:  # the chain went back between two reads of its head
                logger.info(f"the head moved under the poll ({err}); polling again")
                await asyncio.sleep(self.poll_interval)
            except Exception as err:
                if not is_connection_error(err):
                    raise
                delay = backoff.failed()
                logger.warning(f"node unreachable ({type(err).__name__}); polling again in {delay:.0f}s")
                await asyncio.sleep(delay)
