"""Running the `levtoken` command in tests as a user would: the console script in a subprocess (or in this
process, `invoke`), against a local anvil of the test's own or `levtoken node` on the default port."""

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from levtoken.cli.options import DEFAULT_NODE_PORT
from levtoken.node import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LEVTOKEN = str(VENV_BIN / "levtoken")
README = ROOT / "README.md"


def user_env(**variables: str) -> dict[str, str]:
    """The environment of a reader who ran `source .venv/bin/activate` and set nothing else: the venv's bin ahead
    of the system's, HOME, and `variables` (the test's own, e.g. LEVTOKEN_NETWORK). Nothing the Makefile exports
    (no SOLCX_BINARY_PATH): a command that needed it would try to download a compiler and fail here."""
    system = os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"])
    return {"HOME": os.environ["HOME"], "PATH": f"{VENV_BIN}{os.pathsep}{system}", **variables}


def readme_commands(section: str) -> list[str]:
    """The commands of the first bash block of README.md's section `section` (its heading's text), comments
    stripped, in order."""
    text = README.read_text().split(f"## {section}\n", 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def levtoken(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Runs the console script with `args` from `cwd`, in a reader's environment (`user_env`); returns its
    outcome."""
    return subprocess.run([LEVTOKEN, *args], capture_output=True, text=True, cwd=cwd, env=user_env(), timeout=300)


def assert_one_clear_error(out: subprocess.CompletedProcess, fragment: str) -> None:
    """A user's mistake as the command must report it: a non-zero exit, no traceback, one or two lines of output
    in all, one of them the `Error:` line, which holds `fragment`."""
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.returncode != 0, lines
    assert "Traceback" not in out.stdout + out.stderr
    assert 1 <= len(lines) <= 2, lines
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and fragment in errors[0], lines


DEFAULT_PORT = DEFAULT_NODE_PORT  # the port of `levtoken node`, which the default network (ethereum:local:node) talks to

# A module whose tests use what the project's folder has one of (port 8545 and `levtoken serve`'s 8000, out/demo,
# deployments/local.json) sets `pytestmark = PROJECT_FOLDER`: `make test`'s workers run all such tests in one of
# them, one after another.
PROJECT_FOLDER = pytest.mark.xdist_group("project-folder")




def port_open(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, timeout: float, what: str) -> None:
    """Waits until `condition()` holds, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


class LocalNode:
    """A local anvil and the environment that points `levtoken` at it: with `reader`, `levtoken node` started
    as a reader does (on 8545, and commands use the default network, no LEVTOKEN_NETWORK); otherwise an anvil
    of the module's own on a free port, named by LEVTOKEN_NETWORK, started with `anvil_args` besides. As a
    context manager, stopped on the way out."""

    def __init__(self, tmp: Path, reader: bool = False, anvil_args: tuple[str, ...] = ()):
        self.reader = reader
        if reader:
            self.port = DEFAULT_PORT
            assert not port_open(self.port), f"something already listens on {self.port}, the port of `levtoken node`"
            argv = ["levtoken", "node"]
        else:
            self.port = free_port()
            argv = [str(Path(sys.executable).parent / "anvil"), "--port", str(self.port), "--silent", *anvil_args]
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env(None), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.w3 = Web3(Web3.HTTPProvider(self.url))
                self.w3.eth.chain_id
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def network(self) -> str | None:
        """The LEVTOKEN_NETWORK of commands run against this node (None: unset, the default network)."""
        return None if self.reader else self.url

    def env(self, record: Path | None) -> dict[str, str]:
        """The environment of a `levtoken` command run against this node and `record`: a reader's (`user_env`)."""
        env = user_env()
        if self.network:
            env["LEVTOKEN_NETWORK"] = self.network
        if record is not None:
            env["LEVTOKEN_RECORD"] = str(record)
        return env

    def run(self, command: str, record: Path, timeout: int = 300) -> subprocess.CompletedProcess:
        """Runs a shell command line (as a reader would type it) from the project's root against this node."""
        return subprocess.run(command, shell=True, capture_output=True, text=True, cwd=ROOT, env=self.env(record),
                              timeout=timeout)

    def contract(self, address: str, contract_type) -> Any:
        """A web3 contract on this node with an ape contract type's ABI."""
        abi = json.loads(contract_type.model_dump_json(by_alias=True))["abi"]
        return self.w3.eth.contract(address=address, abi=abi)

    def publish_newer_round(self, record: Path, market: str = "BTC") -> int:
        """Publishes the feed's latest answer again one second after the head block, as the deployer (anvil's
        unlocked account 0); returns the block."""
        from ape import project

        deployment = json.loads(record.read_text())
        feed = self.contract(deployment["feeds"][market], project.PriceFeed.contract_type)
        head = self.w3.eth.get_block("latest")["timestamp"]
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [head + 1])
        answer = feed.functions.latestRoundData().call()[1]
        tx = feed.functions.submit(answer).transact({"from": deployment["deployer"]})
        return self.w3.eth.wait_for_transaction_receipt(tx)["blockNumber"]

    def stop(self) -> None:
        """SIGTERM to the node's PID (as `kill PID` does), then waits for it to exit."""
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def __enter__(self) -> "LocalNode":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


@contextlib.contextmanager
def session_caches_kept():
    """Work on another local chain in this process (a command run in-process, a nested network) leaves ape's
    in-memory caches of contract types as they were: that chain is a local network like the test session's,
    with the same deployer and so the same contract addresses, and the caches (keyed by address) must not
    carry its contracts back into the session, where those addresses hold other contracts."""
    from ape import chain

    caches = [chain.contracts.contract_types, chain.contracts.proxy_infos, chain.contracts.contract_creations,
              chain.contracts.blueprints]
    saved = [dict(cache.memory) for cache in caches]
    try:
        yield
    finally:
        for cache, memory in zip(caches, saved):
            cache.memory = memory


def invoke(node: LocalNode, record: Path, command: str) -> subprocess.CompletedProcess:
    """Runs a `levtoken` command line in this process (click's runner: no interpreter start-up per command)
    against `node` and `record`; returns what a subprocess run would."""
    from click.testing import CliRunner

    from levtoken.cli import cli

    args = shlex.split(command)
    assert args[0] == "levtoken"
    # As a reader's shell has it (`user_env`): no compiler path, so nothing the command does may compile.
    env = {"LEVTOKEN_NETWORK": node.network, "LEVTOKEN_RECORD": str(record), "SOLCX_BINARY_PATH": None}
    with session_caches_kept():
        result = CliRunner(mix_stderr=False).invoke(cli, args[1:], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def running(command: str, env: dict[str, str], log: Path, cwd: Path = ROOT):
    """Runs a command line (no shell) from `cwd` (the project's root) in the background, output to `log`; on
    the way out sends it SIGINT (Ctrl-C) and waits, killing its process group if it lingers."""
    with log.open("w") as sink:
        proc = subprocess.Popen(shlex.split(command), cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def operation_id(stdout: str) -> str:
    """The operation id (0x and 64 hex digits) a `levtoken governance` command printed first."""
    return next(word.rstrip(":") for word in stdout.split() if word.startswith("0x") and len(word.rstrip(":")) == 66)


def deployed_token(node: LocalNode, record: Path, symbol: str):
    """A web3 handle of a deployed token."""
    from ape import project

    return node.contract(json.loads(record.read_text())["tokens"][symbol]["address"], project.LeveragedToken.contract_type)
