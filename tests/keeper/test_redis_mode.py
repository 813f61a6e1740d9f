"""Redis mode: `silverback run` queues blocks in Redis and a separate `silverback worker` process rebalances."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import redis
from ape import accounts, chain
from keeper_nodes import PROJECT, free_port

from levtoken.keeper import keeper_env, silverback_command
from levtoken.shapes import Action
from levtoken.units import WAD, to_feed


@pytest.fixture
def redis_url(tmp_path):
    server = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if server is None or not os.access(server, os.X_OK):
        pytest.fail("redis-server is not installed: run `toolchain/setup.sh --test` "
                    "(or set REDIS_SERVER=/path/to/redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.1)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_broker__worker_process_rebalances(own_node, redis_url, tmp_path):
    with own_node.connected():
        record_path = tmp_path / "record.json"
        record = own_node.deploy(record_path)
        token = record.token("BTC3L")
        record.feed_contract("BTC").submit(to_feed(26_000), sender=accounts.test_accounts[0])
        assert token.rebalanceStatus().action == Action.REBALANCE
        keeper_address = accounts.test_accounts[1].address

        env = keeper_env(record_path, redis_url)
        env["LEVTOKEN_KEEPER_POLL"] = "0.5"
        logs = {role: open(tmp_path / f"{role}.log", "w+") for role in ("worker", "run")}
        procs = {
            role: subprocess.Popen(silverback_command(role, own_node.url, "test:1", workers=1), cwd=PROJECT, env=env,
                                   stdout=logs[role], stderr=subprocess.STDOUT)
            for role in ("worker", "run")
        }
        try:
            deadline = time.monotonic() + 90
            while token.rebalanceStatus().action != Action.NONE:
                for role, proc in procs.items():
                    tail = (tmp_path / f"{role}.log").read_text()[-3000:]
                    assert proc.poll() is None, f"silverback {role} exited:\n{tail}"
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
                own_node.rpc("evm_mine")  # blocks for the runner to see
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for log in logs.values():
                log.close()

        assert abs(token.leverage() - 3 * WAD) < WAD // 100
        (event,) = token.Rebalanced.range(record.block, chain.blocks.height + 1)
        assert event.caller == keeper_address
        worker_log = (tmp_path / "worker.log").read_text()
        run_log = (tmp_path / "run.log").read_text()
        # The transaction went out from the worker process; the runner only queued blocks.
        assert "BTC3L rebalance reason=BAND" in worker_log and "tx=0x" in worker_log
        assert "BTC3L rebalance" not in run_log
        assert "Startup complete" in run_log
