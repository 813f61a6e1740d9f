"""Local node processes: the project's own anvil (beside the virtual environment's interpreter), whether a port
is free, a fresh anvil of a command's own, and which chains are local ones."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

LOCAL_CHAIN_IDS = (1337, 31337)
# Where toolchain/setup.sh puts the project's own tools (anvil, solc): beside the interpreter of the venv.
TOOLS_DIR = Path(sys.executable).parent


class NodeError(Exception):
    """A node that cannot be found or started; the message says why and what to do."""


def put_tools_on_path() -> None:
    """Puts the project's tool directory first on PATH, so `.venv/bin/levtoken` finds the project's anvil (for
    `node` and `demo`) without an activated venv."""
    paths = os.environ.get("PATH", "").split(os.pathsep)
    if str(TOOLS_DIR) not in paths:
        os.environ["PATH"] = os.pathsep.join([str(TOOLS_DIR), *filter(None, paths)])


def anvil_binary() -> str:
    """The path of the anvil on PATH (the project's first, see put_tools_on_path); NodeError without one."""
    anvil = shutil.which("anvil")
    if anvil is None:
        raise NodeError(f"anvil not found in {TOOLS_DIR} or on PATH; run `make setup`")
    return anvil


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (the OS's words), or None when it can. It binds as anvil and
    uvicorn do (SO_REUSEADDR): connections left in TIME_WAIT by a server stopped a moment ago do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            return err.strerror
    return None


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the OS's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_node(timeout: float = 30.0) -> Iterator[None]:
    """A fresh anvil of this command's own (the project's binary, quiet, without the step traces ape's foundry
    provider asks for, which slow every transaction) on a free port, connected as the local network; stopped
    on the way out."""
    from ape import networks, project

    anvil = anvil_binary()
    port = free_port()
    argv = [anvil, "--port", str(port), "--silent", "--hardfork", project.config.solidity.evm_version,
            "--prune-history", "64"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while True:  # the node answering on the port must be this one: it fails at once if the port was taken
            if proc.poll() is not None:
                raise NodeError(f"anvil did not start on port {port}: {proc.stderr.read().strip()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise NodeError(f"anvil did not answer on port {port} within {timeout:.0f} s")
            time.sleep(0.1)
        with networks.parse_network_choice(f"ethereum:local:http://127.0.0.1:{port}"):
            yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
