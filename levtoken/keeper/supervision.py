"""Supervision of the keeper bot: the silverback processes that run `Keeper.on_block` each block, their
environment (in-memory or Redis broker) and their restarts with the one back-off policy.

The per-block logic is `levtoken.keeper.logic`; the block-watching runner is `bots/keeper_runner.py`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Mapping

from levtoken.keeper.backoff import Backoff

logger = logging.getLogger("levtoken.keeper")

# A bot process that ran this long (seconds) before exiting was not crash-looping: the restart delay
# starts over.
HEALTHY_RUN = 300.0
# The bot's exit status when its deployment record cannot serve (missing, incomplete, another chain's):
# restarting would not help, so run_keeper returns it (EX_CONFIG of sysexits.h).
CONFIG_ERROR_EXIT = 78


def keeper_env(
    record_path: Path | str,
    broker_url: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for `silverback run` / `silverback worker` with bots/keeper.py.

    With `broker_url` (redis://host:port/db) tasks go through taskiq-redis: a list queue for the tasks and
    a Redis result backend, so `silverback run` only watches blocks and the workers send transactions.
    """
    env = dict(os.environ if base is None else base)
    env["LEVTOKEN_RECORD"] = str(Path(record_path).resolve())
    if broker_url:
        env["SILVERBACK_BROKER_CLASS"] = "taskiq_redis:ListQueueBroker"
        env["SILVERBACK_BROKER_KWARGS"] = json.dumps({"url": broker_url, "queue_name": "levtoken-keeper"})
        env["SILVERBACK_RESULT_BACKEND_CLASS"] = "taskiq_redis:RedisAsyncResultBackend"
        env["SILVERBACK_RESULT_BACKEND_KWARGS"] = json.dumps({"redis_url": broker_url, "result_ex_time": 600})
    return env


def silverback_account(account: str) -> str:
    """silverback's spelling of an account: `test:1` (levtoken's) becomes `TEST::1`; aliases stay."""
    if account.lower().startswith("test:") and not account.startswith("TEST::"):
        return f"TEST::{account.split(':', 1)[1]}"
    return account


def silverback_command(role: str, network_choice: str, account: str, workers: int = 2) -> list[str]:
    """argv for `silverback run` (role "run") or `silverback worker` (role "worker") on the keeper bot."""
    exe = Path(sys.executable).with_name("silverback")
    argv = [str(exe) if exe.exists() else "silverback", role, "bots.keeper:bot", "--network", network_choice,
            "--account", silverback_account(account)]
    if role == "run":
        argv += ["--runner", "bots.keeper_runner:KeeperRunner"]
    else:
        argv += ["--workers", str(workers)]
    return argv


def run_keeper(
    record_path: Path | str,
    account: str,
    network_choice: str,
    *,
    broker_url: str | None = None,
    workers: int = 0,
    project_dir: Path | str | None = None,
    restart_backoff_max: float = 60.0,
    log: logging.Logger = logger,
) -> int:
    """Runs the keeper bot until interrupted, restarting it (with back-off) if it exits on an error.

    - `account`: an ape account alias, or `test:<n>` (or `TEST::<n>`) for a test account on a local chain.
    - `network_choice`: e.g. `http://127.0.0.1:8545` for a running anvil, or `ethereum:sepolia:alchemy`.
    - `broker_url`: a Redis URL to hand tasks to workers; with `workers` > 0 that many worker threads
      are started here as well (`silverback worker`), otherwise start workers elsewhere against the same
      Redis, record and node (see docs/keeper.md).
    Returns the exit code of the last run (0 after Ctrl-C or SIGTERM, which stop the bot's processes too;
    CONFIG_ERROR_EXIT, without a restart, when the deployment record cannot serve).
    """
    cwd = Path(project_dir) if project_dir else Path(__file__).resolve().parents[2]
    env = keeper_env(record_path, broker_url)
    # SIGTERM (`kill PID`) stops the keeper as Ctrl-C does: through the `finally` that stops its silverback
    # processes, which Python's default SIGTERM (an immediate exit) would leave running.
    stopping = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _supervise(network_choice, account, broker_url, workers, cwd, env, restart_backoff_max, log)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stopping)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _supervise(network_choice: str, account: str, broker_url: str | None, workers: int, cwd: Path,
               env: dict[str, str], restart_backoff_max: float, log: logging.Logger) -> int:
    """run_keeper's loop: runs the bot, restarting it with back-off after an error exit, until interrupted."""
    backoff = Backoff(initial=2.0, maximum=restart_backoff_max)
    while True:
        started = time.monotonic()
        try:
            code = _run_once(network_choice, account, broker_url, workers, cwd, env)
        except KeyboardInterrupt:
            return 0
        if code in (0, CONFIG_ERROR_EXIT):
            return code
        if time.monotonic() - started > HEALTHY_RUN:
            backoff.reset()  # it ran for a while: not a crash loop
        delay = backoff.failed()
        log.warning("keeper bot exited with code %d; restarting in %.0fs", code, delay)
        try:
            time.sleep(delay)
        except KeyboardInterrupt:
            return code


def _run_once(network_choice: str, account: str, broker_url: str | None, workers: int, cwd: Path,
              env: dict[str, str]) -> int:
    """Starts the bot (and local workers with a broker), waits for the runner to exit, stops the rest."""
    procs: list[subprocess.Popen] = []
    try:
        if broker_url and workers:
            procs.append(subprocess.Popen(silverback_command("worker", network_choice, account, workers),
                                          cwd=cwd, env=env))
        runner = subprocess.Popen(silverback_command("run", network_choice, account), cwd=cwd, env=env)
        procs.append(runner)
        return runner.wait()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
