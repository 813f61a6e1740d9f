"""`levtoken keeper` as an operator runs it, on a real node: it follows a chain that goes back (a reverted
snapshot, as a reset node or a reorg would take it), and `kill PID` (SIGTERM) stops it whole, its silverback
process included."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.utils.cli import deployed_token, invoke, running, wait_for


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (children, their children, ...), read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_keeper__chain_goes_back__serves_its_new_head__then_sigterm_stops_it_whole(node, deployed):
    holder = node.w3.eth.accounts[3]
    token = deployed_token(node, deployed, "BTC3L")
    snapshot = node.w3.provider.make_request("evm_snapshot", [])["result"]
    log = node.tmp / "keeper.log"
    with running("levtoken keeper", node.env(deployed), log) as keeper:
        wait_for(lambda: "serve_tokens" in log.read_text(), 120, f"the keeper served no block: {log.read_text()}")
        node.w3.provider.make_request("anvil_mine", [hex(50)])
        ahead = node.w3.eth.block_number
        wait_for(lambda: f"not handled; going on from {ahead}" in log.read_text(), 30,
                 f"the keeper did not see block {ahead}: {log.read_text()}")

        node.w3.provider.make_request("evm_revert", [snapshot])  # 50 blocks back
        minted = invoke(node, deployed, "levtoken mint BTC3L 100 --no-wait --account test:3")
        assert minted.returncode == 0, minted.stderr
        node.publish_newer_round(deployed)
        wait_for(lambda: token.functions.pendingDepositRequest(0, holder).call() == 0, 60,
                 f"the request was not settled on the chain that went back: {log.read_text()}")
        assert node.w3.eth.block_number < ahead  # served below the height the keeper had seen
        assert "(a reset or a reorg)" in log.read_text() and "chain went back" in log.read_text()

        bots = descendants(keeper.pid)
        assert bots, "the keeper runs no silverback process"
        keeper.send_signal(signal.SIGTERM)  # `kill PID`
        assert keeper.wait(timeout=60) == 0
        wait_for(lambda: not any(alive(pid) for pid in bots), 30,
                 f"still running after SIGTERM to the keeper: {[pid for pid in bots if alive(pid)]}")
