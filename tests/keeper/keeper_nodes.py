"""An anvil of a test's own (not the session's): stopped and restarted by the node test, shared with
silverback subprocesses by the Redis test."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from ape import accounts, networks

from levtoken.node import free_port
from levtoken.deploy_config import DeployConfig
from levtoken.deployment import Deployment, deploy, mint_for
from levtoken.units import to_units


PROJECT = Path(__file__).resolve().parents[2]




class OwnNode:
    """An anvil of the test's own on a fixed port, whose state survives a stop and a start (--state)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = workdir / "anvil-state.json"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        anvil = shutil.which("anvil") or str(PROJECT / ".venv/bin/anvil")
        argv = [anvil, "--port", str(self.port), "--state", str(self.state), "--silent"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                                 timeout=1).ok:
                    self._keep_time_forward()
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"anvil did not answer on {self.url}")

    def _keep_time_forward(self) -> None:
        """A restarted anvil stamps new blocks with the wall clock, which can lie behind the saved head when the
        chain was moved ahead of it (a round published a second after the head): a real chain's time never goes
        back, so the next block comes after the head."""
        head = int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        if head >= time.time():
            self.rpc("evm_setNextBlockTimestamp", head + 1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # anvil writes --state on the way out
            self.proc.wait(timeout=20)
        self.proc = None

    def rpc(self, method: str, *params):
        return requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                             timeout=5).json()["result"]

    @contextmanager
    def connected(self):
        """ape talks to this node (instead of the session's) inside the block."""
        with networks.parse_network_choice(self.url) as provider:
            yield provider

    def deploy(self, record_path: Path, holder_deposit: float = 10_000) -> Deployment:
        """Deploys config/local.toml (account 0 deploys and publishes prices, account 1 is the keeper) and has
        account 3 mint `holder_deposit` tUSD of BTC3L (requested, settled and claimed). Call inside
        `connected()`."""
        test = accounts.test_accounts
        record = deploy(DeployConfig.load(PROJECT / "config/local.toml"), test[0], record_path, keeper=test[1].address,
                        log=lambda message: None)
        mint_for(record, [(test[3], "BTC3L", to_units(holder_deposit))], updater=test[0], keeper=test[1])
        return record

