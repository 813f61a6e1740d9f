"""Keeper bot (silverback): on every new block, settle, rebalance or ripcord the tokens the chain says are due.

The logic lives in `levtoken.keeper.Keeper` (levtoken/keeper/logic.py); this module only wires it to
silverback. Settings come from the environment:

    LEVTOKEN_RECORD    deployment record to serve (default deployments/local.json)

One process (blocks are watched and handled in the same process, in-memory broker):

    silverback run bots.keeper:bot --network ethereum:local:node --account TEST::1 \
        --runner bots.keeper_runner:KeeperRunner
    levtoken keeper --network ethereum:local:node --account test:1     # the same, via run_keeper

(`--runner` is optional: silverback's own runners work too, but its PollingRunner stops on a quiet
chain or a node restart; bots/keeper_runner.py says exactly why.)

Scaled out: `silverback run` only watches the chain and queues one task per block in Redis;
`silverback worker` processes take the tasks and send the transactions. silverback 0.7.38 builds its
broker and result backend from `silverback.settings.Settings` (environment prefix SILVERBACK_); the
runner and every worker must see the same values:

    export SILVERBACK_BROKER_CLASS=taskiq_redis:ListQueueBroker
    export SILVERBACK_BROKER_KWARGS='{"url": "redis://127.0.0.1:6379/0", "queue_name": "levtoken-keeper"}'
    export SILVERBACK_RESULT_BACKEND_CLASS=taskiq_redis:RedisAsyncResultBackend
    export SILVERBACK_RESULT_BACKEND_KWARGS='{"redis_url": "redis://127.0.0.1:6379/0", "result_ex_time": 600}'
    silverback worker bots.keeper:bot --network ethereum:local:node --account TEST::1 --workers 2 &
    silverback run bots.keeper:bot --network ethereum:local:node --account TEST::1 \
        --runner bots.keeper_runner:KeeperRunner

`levtoken.keeper.keeper_env(record, broker_url)` returns exactly this environment (docs/keeper.md has
more). The result backend must be shared too: the runner waits for each task's result. Each worker
process keeps its own pending transactions: run one worker process per signing account (its
`--workers` threads share one Keeper), or give each process its own account.

The handler returns the keeper's metrics (levtoken.keeper.KeeperMetrics), which silverback logs and records.
"""

from __future__ import annotations

import logging
import os
import threading

from ape import chain
from ape.exceptions import BlockNotFoundError
from silverback import SilverbackBot

from levtoken.deploy_config import DeploymentError
from levtoken.deployment import Deployment
from levtoken.governance import governance_lines
from levtoken.keeper import CONFIG_ERROR_EXIT, Keeper, is_connection_error

bot = SilverbackBot()

log = logging.getLogger("levtoken.keeper")
if not log.handlers:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s keeper: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)

_build_lock = threading.Lock()
_keeper: Keeper | None = None


def get_keeper() -> Keeper:
    """The process's Keeper, built on first use from the deployment record."""
    global _keeper
    with _build_lock:
        if _keeper is None:
            if bot.signer is None:
                raise RuntimeError("the keeper needs a signer: pass --account (an alias, or TEST::<n> locally)")
            record_path = os.environ.get("LEVTOKEN_RECORD", "deployments/local.json")
            record = Deployment.load(record_path)
            orders = record.orders_contract() if record.orders else None
            changes = (lambda start, end: governance_lines(record, start, end)) if record.governance else None
            _keeper = Keeper(record.token_contracts(), bot.signer, log=log, orders=orders, changes=changes)
            log.info("serving %s from %s as %s", ", ".join(_keeper.tokens) or "no tokens", record_path,
                     bot.signer.address)
        return _keeper


@bot.on_worker_startup()
def build_keeper(state) -> None:
    """Builds the Keeper when a worker starts: a record that does not fit the chain fails here rather
    than on the first block (one line, exit status CONFIG_ERROR_EXIT); a node that is not up yet is only logged
    (the first block retries)."""
    try:
        get_keeper()
    except DeploymentError as err:
        # A missing, incomplete or foreign record: one line and an exit that run_keeper does not restart.
        log.error("%s", err)
        os._exit(CONFIG_ERROR_EXIT)
    except Exception as err:
        if not is_connection_error(err):
            raise
        log.warning("node unreachable at start-up (%s); the keeper is built on the first block", err)


@bot.on_(chain.blocks)
def serve_tokens(block) -> dict[str, int] | None:
    """Serves every token for the new block; returns the keeper's metrics (None when the node is down)."""
    try:
        keeper = get_keeper()
    except Exception as err:
        if not is_connection_error(err):
            raise
        log.warning("node unreachable (%s); block %s skipped", err, block.number)
        return None
    try:
        return keeper.on_block(block.number).as_dict()
    except BlockNotFoundError as err:  # the chain went back under the block (a reset node, a reorg)
        log.info("block %s is gone (%s); the next head is served", block.number, err)
        return None
