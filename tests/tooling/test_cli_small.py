"""The smaller `levtoken` points: `--version`, and `status` in an 80-column terminal with the caller's holding
and a time-rebalance column that agrees with the rebalance decision."""

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from levtoken.status import time_rebalance_text
from levtoken.shapes import Action, Reason, Status
from tests.utils.cli import (LEVTOKEN, ROOT, LocalNode, deployed_token, free_port, invoke, running, user_env,
                             wait_for)

WAD = 10**18
TEST_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's (and ape's) first test account
TEST_3 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def test_version__prints_the_installed_distributions_version():
    out = subprocess.run([LEVTOKEN, "--version"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"levtoken {version('levtoken')}"


def status_at_80_columns(node: LocalNode, record: Path, *args: str) -> dict[str, dict[str, str]]:
    """Runs `levtoken status` (the console script) with COLUMNS=80, checks that it fits and cuts nothing, and
    returns its cells: {row name: {token symbol: cell}}."""
    out = subprocess.run([LEVTOKEN, "status", *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**node.env(record), "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, out.stdout
    assert "…" not in out.stdout and "..." not in out.stdout, out.stdout
    rows = [[cell.strip() for cell in line.strip("│┃").split(line[0])] for line in lines if line[:1] in "│┃"]
    symbols = [header.split(" (")[0] for header in rows[0][1:]]
    return {"title": {"": lines[0]}} | {row[0]: dict(zip(symbols, row[1:])) for row in rows[1:]}


def test_status__fits_80_columns_and_shows_the_callers_holding_and_its_value(node, deployed):
    minted = invoke(node, deployed, "levtoken mint BTC3L 1000 --settle")
    assert minted.returncode == 0, minted.stderr
    token = deployed_token(node, deployed, "BTC3L")
    balance = token.functions.balanceOf(TEST_0).call()
    assert balance > 0
    value = token.functions.convertToAssets(balance).call()

    cells = status_at_80_columns(node, deployed)
    assert set(cells["due now"]) == {"BTC3L", "BTC3S", "BTC1S"}
    assert TEST_0 in cells["title"][""]
    assert cells["holding"]["BTC3L"] == f"{balance / WAD:,.4f}"
    assert cells["its value"]["BTC3L"] == f"${value / 10**6:,.2f}"
    assert cells["holding"]["BTC3S"] == "0.0000" and cells["its value"]["BTC3S"] == "$0.00"

    other = status_at_80_columns(node, deployed, "--account", "test:3")
    assert TEST_3 in other["title"][""]
    assert other["holding"]["BTC3L"] == "0.0000" and other["its value"]["BTC3L"] == "$0.00"


def publish(node: LocalNode, record: Path, factor_percent: int, at: int) -> None:
    """Publishes the BTC feed's latest answer times `factor_percent`/100 in a block of timestamp `at`."""
    from ape import project

    deployment = json.loads(record.read_text())
    feed = node.contract(deployment["feeds"]["BTC"], project.PriceFeed.contract_type)
    answer = feed.functions.latestRoundData().call()[1]
    node.w3.provider.make_request("evm_setNextBlockTimestamp", [at])
    tx = feed.functions.submit(answer * factor_percent // 100).transact({"from": deployment["deployer"]})
    node.w3.eth.wait_for_transaction_receipt(tx)


def test_status__time_rebalance_column_agrees_with_the_decision(node, deployed):
    """Before the interval: `in N h`. After it, at the same price, the 3x long's leverage is within minDrift of
    target: `held: drift<0.03x` beside `NONE` (never `now`); the empty tokens are on target. After a 2% move
    the decision says REBALANCE (TIME) and the column says `now`."""
    minted = invoke(node, deployed, "levtoken mint BTC3L 500 --settle")
    assert minted.returncode == 0, minted.stderr
    cells = status_at_80_columns(node, deployed)
    assert cells["due now"]["BTC3L"] == "NONE" and cells["time rebalance"]["BTC3L"].startswith("in ")

    head = node.w3.eth.get_block("latest")["timestamp"]
    publish(node, deployed, 100, head + 2 * 86_400)
    cells = status_at_80_columns(node, deployed)
    assert cells["due now"] == {"BTC3L": "NONE", "BTC3S": "NONE", "BTC1S": "NONE"}
    assert cells["time rebalance"] == {"BTC3L": "held: drift<0.03x", "BTC3S": "held: on target",
                                       "BTC1S": "held: on target"}

    publish(node, deployed, 102, head + 2 * 86_400 + 60)
    cells = status_at_80_columns(node, deployed)
    assert cells["due now"]["BTC3L"] == "REBALANCE (TIME)" and cells["time rebalance"]["BTC3L"] == "now"


@given(
    action=st.sampled_from(Action), reason=st.sampled_from(Reason),
    leverage=st.integers(-10 * WAD, 10 * WAD), target=st.sampled_from([3 * WAD, -3 * WAD, -WAD]),
    min_drift=st.integers(1, WAD), next_time=st.integers(0, 2 * 86_400), now=st.integers(0, 2 * 86_400),
)
def test_time_rebalance_text__says_now_only_when_the_decision_does(action, reason, leverage, target, min_drift,
                                                                    next_time, now):
    status = Status(action=action, reason=reason)
    text = time_rebalance_text(status, leverage, target, min_drift, next_time, now)
    assert (text == "now") == (next_time <= now and reason == Reason.TIME)
    assert text.startswith("in ") == (next_time > now)
    if text.startswith("held"):
        assert action == Action.NONE and next_time <= now
    if text.startswith("held: drift"):
        assert abs(leverage - target) < min_drift


def test_node__another_port__says_the_other_commands_do_not_use_it(tmp_path):
    """`levtoken node --port P` away from 8545 says the default network looks elsewhere, instead of promising that
    the other commands use it."""
    port = free_port()
    log = tmp_path / "node.log"
    with running(f"levtoken node --port {port}", user_env(), log):
        wait_for(lambda: "anvil on" in log.read_text(), 30, f"levtoken node did not start: {log.read_text()}")
    assert (f"anvil on http://127.0.0.1:{port} (chain 31337); the other commands use 127.0.0.1:8545 by default "
            "(--network ethereum:local:node), not this node") in log.read_text()
