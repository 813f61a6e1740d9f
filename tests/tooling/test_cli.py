"""The `levtoken` command as a user runs it: README.md's and docs/keeper.md's commands as written, `levtoken
node` from the venv's bin, a mint that waits for the keeper's settlement, and the exit fallback without keepers.
(The mistakes a user can make are tests/tooling/test_user_mistakes.py.)"""

import json
import os
import signal
import subprocess
import time

from web3 import Web3

from levtoken.shapes import Params

from tests.utils.cli import (DEFAULT_PORT, LEVTOKEN, PROJECT_FOLDER, ROOT, LocalNode, assert_one_clear_error,
                             deployed_token, free_port, invoke, levtoken, operation_id, port_open, readme_commands, running,
                             user_env, wait_for)

pytestmark = PROJECT_FOLDER


def test_readme__running_the_pieces__every_command_as_written_on_the_default_network(tmp_path):
    """README.md's commands, exactly as written and with no LEVTOKEN_NETWORK: `levtoken node` started as the
    reader does (on 8545, the default network's port), the others run in this process by `invoke`, `levtoken
    keeper` for a few seconds; then the node is stopped by its PID and the port is free."""
    commands = readme_commands("Running the pieces")
    assert commands[0] == "levtoken node &" and commands[-1] == "levtoken keeper"
    record = tmp_path / "local.json"
    node = LocalNode(tmp_path, reader=True)
    outputs = {}
    try:
        for command in commands[1:-1]:
            out = invoke(node, record, command)
            assert out.returncode == 0 and "Error" not in out.stderr, f"{command}:\n{out.stdout}\n{out.stderr}"
            outputs.setdefault(command, []).append(out.stdout)
        log = tmp_path / "keeper.log"
        with running(commands[-1], node.env(record), log):
            wait_for(lambda: "serving BTC3L, BTC3S, BTC1S" in log.read_text(), 60, "the keeper did not start")
        assert "Traceback" not in log.read_text()
    finally:
        node.stop()
    wait_for(lambda: not port_open(DEFAULT_PORT), 5, "anvil still listens on 8545 after `levtoken node` was stopped")
    assert json.loads(record.read_text())["tokens"].keys() == {"BTC3L", "BTC3S", "BTC1S"}
    assert "BTC3L" in outputs["levtoken status"][0]
    minted, waiting = outputs["levtoken mint BTC3L 1000 --settle"][0], outputs["levtoken mint BTC3L 500 --no-wait"][0]
    assert "requested a mint of BTC3L for 1000" in minted and "round published in block" in minted
    assert "fee 10 bps" in minted and "cost share $" in minted and "minted " in minted
    assert "redeemed " in outputs["levtoken redeem BTC3L all --settle"][0]
    assert "waiting for a keeper" in waiting
    # The replay's first price is newer than the waiting request: its keeper settled it; the claim mints.
    assert "minted " in outputs["levtoken claim BTC3L"][0]


KEEPER_DOC_COMMAND = "levtoken keeper --record deployments/local.json --network ethereum:local:node --account test:1"


def test_keeper_doc__command_as_written__settles_on_the_readers_node(tmp_path):
    """docs/keeper.md's `levtoken keeper` line, as written, against `levtoken node` (record deployments/local.json,
    with test:1 as the keeper of `levtoken deploy --keeper`): a waiting mint is settled at the next round."""
    assert KEEPER_DOC_COMMAND in (ROOT / "docs" / "keeper.md").read_text()
    record = ROOT / "deployments" / "local.json"
    kept = record.with_suffix(".kept") if record.exists() else None
    if kept:
        record.replace(kept)  # a reader's own record is put back afterwards
    node = LocalNode(tmp_path, reader=True)
    try:
        keeper_address = node.w3.eth.accounts[1]
        deployed = invoke(node, record, f"levtoken deploy --keeper {keeper_address}")
        assert deployed.returncode == 0, deployed.stderr
        log = tmp_path / "keeper.log"
        with running(KEEPER_DOC_COMMAND, node.env(None), log):
            wait_for(lambda: "serving BTC3L, BTC3S, BTC1S" in log.read_text(), 60, "the keeper did not start")
            assert invoke(node, record, "levtoken mint BTC1S 300 --no-wait").returncode == 0
            node.publish_newer_round(record)
            wait_for(lambda: "BTC1S settle reason=REQUESTS" in log.read_text(), 60, "the keeper did not settle")
        claimed = invoke(node, record, "levtoken claim BTC1S")
        assert claimed.returncode == 0 and "minted " in claimed.stdout, claimed.stderr
    finally:
        node.stop()
        record.unlink(missing_ok=True)
        if kept:
            kept.replace(record)


def test_node__venv_bin_without_activated_venv__runs_the_projects_anvil_and_stops_with_its_pid(tmp_path):
    """`.venv/bin/levtoken node` with a PATH that lacks the venv finds the project's anvil; SIGTERM to its PID
    frees the port (anvil is that process, nothing is left behind)."""
    port = free_port()
    env = {**user_env(), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([LEVTOKEN, "node", "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, 20, "levtoken node did not start")
        assert proc.poll() is None, proc.stderr.read()
        assert Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}")).eth.chain_id == 31337
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    wait_for(lambda: not port_open(port), 5, f"anvil still listens on {port} after SIGTERM to levtoken node")


def test_keeper__mint_waits_for_the_keepers_settlement_then_claims(node, deployed):
    """`levtoken keeper` running, `levtoken mint` (waiting, the default on a local chain) returns once the keeper
    settled the request at the round published after it, and prints what the settlement gave."""
    logs = node.tmp / "keeper.log"
    with logs.open("w") as log:
        keeper = subprocess.Popen(["levtoken", "keeper"], cwd=ROOT, env=node.env(deployed), stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    minting = subprocess.Popen(["levtoken", "mint", "BTC1S", "300"], cwd=ROOT, env=node.env(deployed),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        token = deployed_token(node, deployed, "BTC1S")
        owner = json.loads(deployed.read_text())["deployer"]
        while token.functions.pendingDepositRequest(0, owner).call() == 0:
            assert minting.poll() is None and time.monotonic() < deadline, minting.stderr and minting.stderr.read()
            time.sleep(0.5)
        published = node.publish_newer_round(deployed)
        stdout, stderr = minting.communicate(timeout=120)
    finally:
        if minting.poll() is None:
            minting.kill()
        keeper.send_signal(signal.SIGINT)  # run_keeper stops its silverback process on the way out
        try:
            keeper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(keeper.pid, signal.SIGKILL)
    assert minting.returncode == 0, stderr
    assert f"round published in block {published})" in stdout and "minted " in stdout
    assert "BTC1S settle reason=REQUESTS" in logs.read_text()
    assert token.functions.pendingDepositRequest(0, owner).call() == 0 and token.functions.maxDeposit(owner).call() == 0


def test_settle__keepers_down__redeemer_settles_redemptions_after_the_window(node, deployed):
    """The exit fallback from the command line, as the README shows it: with no keeper, the redeemer's
    `levtoken settle` is refused with the time the window opens (its poke keeps the window's start), a
    stranger's is refused once it has passed (it has no redemption in the batch), and the redeemer's settles
    the redemptions; the redeemer then claims."""
    run = lambda command: invoke(node, deployed, command)  # noqa: E731
    assert run("levtoken mint BTC1S 200 --no-wait --account test:6").returncode == 0
    node.publish_newer_round(deployed)
    assert run("levtoken settle BTC1S").returncode == 0  # the deployer is the keeper
    assert run("levtoken claim BTC1S --account test:6").returncode == 0
    assert run("levtoken redeem BTC1S all --no-wait --account test:6").returncode == 0
    node.publish_newer_round(deployed)
    assert_one_clear_error(run("levtoken settle BTC1S --account test:6"), "FallbackNotOpen(opensAt=")
    node.w3.provider.make_request("evm_mine", [node.w3.eth.get_block("latest")["timestamp"] + 3_600])
    node.publish_newer_round(deployed)
    assert_one_clear_error(run("levtoken settle BTC1S --account test:7"), "NotInRedemptionBatch(caller=")
    settled = run("levtoken settle BTC1S --account test:6")
    assert settled.returncode == 0 and "fallback: redemptions only" in settled.stdout, settled.stderr
    claimed = run("levtoken claim BTC1S --account test:6")
    assert claimed.returncode == 0 and "redeemed " in claimed.stdout, claimed.stderr


def test_keeper__outside_the_project_folder__one_line_and_exits(tmp_path):
    """The bot runs where `levtoken keeper` is run, so elsewhere it says where to run it (no restart loop)."""
    out = levtoken("keeper", "--record", str(tmp_path / "r.json"), cwd=tmp_path)
    assert_one_clear_error(out, "run `levtoken keeper` from the project's folder")


def test_cancel__keepers_down__first_call_starts_the_window_then_refunds(node, deployed):
    """A mint request a newer round qualified but no keeper settled: the first `levtoken cancel` is refused with
    the time the window opens (its poke starts the window's clock); once the window has passed, cancel refunds."""
    run = lambda command: invoke(node, deployed, command)  # noqa: E731
    assert run("levtoken mint BTC3S 100 --no-wait --account test:4").returncode == 0
    node.publish_newer_round(deployed)
    block = node.w3.eth.block_number
    assert_one_clear_error(run("levtoken cancel BTC3S --account test:4"), "CancelTooEarly(allowedAt=20")
    assert node.w3.eth.block_number == block + 1  # the poke
    node.w3.provider.make_request("evm_mine", [node.w3.eth.get_block("latest")["timestamp"] + 3_600])
    cancelled = run("levtoken cancel BTC3S --account test:4")
    assert cancelled.returncode == 0 and "100.000000 collateral refunded" in cancelled.stdout, cancelled.stderr


def test_governance__proposed_change_in_plain_words__executed_then_none(node, deployed):
    """The deployer proposes a token's higher streaming fee: `levtoken governance` and `levtoken status` list it
    with the setting it changes and when it lands, `governance execute` lands it (the local config's delay is 0),
    and nothing is pending after; a wrong setting or id is one line."""
    from ape import project

    run = lambda command: invoke(node, deployed, command)  # noqa: E731
    record = json.loads(deployed.read_text())
    token = node.contract(record["tokens"]["BTC3L"]["address"], project.LeveragedToken.contract_type)
    assert_one_clear_error(run("levtoken governance propose BTC3L streaming_fee=0.0002"),
                           "BTC3L has no setting 'streaming_fee'")
    assert_one_clear_error(run("levtoken governance propose ETH3L takerFeeBps=6"), "'ETH3L' is neither a token nor")
    proposed = run("levtoken governance propose BTC3L streaming_fee_per_day=0.0002")
    assert proposed.returncode == 0 and "BTC3L: streamingFeePerDay 0.0001 -> 0.0002" in proposed.stdout, proposed.stderr
    listed = run("levtoken governance")
    assert listed.returncode == 0, listed.stderr
    assert "BTC3L: streamingFeePerDay 0.0001 -> 0.0002" in listed.stdout and "(ready now)" in listed.stdout
    status = run("levtoken status")
    assert "changes the governance has scheduled" in status.stdout and "streamingFeePerDay" in status.stdout
    operation = operation_id(listed.stdout)
    assert_one_clear_error(run("levtoken governance execute 0x1234"), "no change 0x1234 was scheduled")
    executed = run(f"levtoken governance execute {operation}")
    assert executed.returncode == 0, executed.stderr
    fields = [name for name, _, _ in Params.table()]
    assert token.functions.params().call()[fields.index("streaming_fee_per_day")] == 2 * 10**14
    assert "no change is pending" in run("levtoken governance").stdout


def test_governance_grant__as_the_readme_writes_it__lands_the_role(node, deployed):
    """`levtoken governance grant BTC3L keeper ADDRESS` schedules the role in plain words, `execute` lands it and
    `revoke` schedules taking it back; an unknown role or a bad address is one line."""
    from ape import project
    from eth_utils import keccak

    run = lambda command: invoke(node, deployed, command)  # noqa: E731
    record = json.loads(deployed.read_text())
    token = node.contract(record["tokens"]["BTC3L"]["address"], project.LeveragedToken.contract_type)
    account = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
    assert_one_clear_error(run(f"levtoken governance grant BTC3L minter {account}"),
                           "'minter' is not a token role (admin, keeper, guardian)")
    assert_one_clear_error(run("levtoken governance grant BTC3L keeper 0x1234"), "'0x1234' is not an address")
    granted = run(f"levtoken governance grant BTC3L keeper {account}")
    assert granted.returncode == 0 and f"BTC3L: grant the keeper role to {account}" in granted.stdout, granted.stderr
    operation = operation_id(granted.stdout)
    assert not token.functions.hasRole(keccak(text="KEEPER_ROLE"), account).call()
    assert run(f"levtoken governance execute {operation}").returncode == 0
    assert token.functions.hasRole(keccak(text="KEEPER_ROLE"), account).call()
    revoked = run(f"levtoken governance revoke BTC3L keeper {account}")
    assert f"BTC3L: revoke the keeper role from {account}" in revoked.stdout, revoked.stderr
    operation = operation_id(revoked.stdout)
    assert run(f"levtoken governance execute {operation}").returncode == 0
    assert not token.functions.hasRole(keccak(text="KEEPER_ROLE"), account).call()
