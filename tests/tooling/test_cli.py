"""The `levtoken` command's errors: one clear line, non-zero exit, nothing half-done.

These run the real console script in a subprocess, as a user would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEVTOKEN = str(Path(sys.executable).parent / "levtoken")


def levtoken(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([LEVTOKEN, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_clear_error(out: subprocess.CompletedProcess, fragment: str) -> None:
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    error_lines = [line for line in out.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and fragment in error_lines[0], out.stderr


def test_replay__missing_csv__clear_error(tmp_path):
    out = levtoken("replay", "--csv", str(tmp_path / "nope.csv"), "--record", str(tmp_path / "r.json"))
    assert_one_clear_error(out, "nope.csv not found")


def test_demo__malformed_csv__clear_error_and_no_output(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,close\n2020-01-01,100\n2020-01-02,-5\n")
    out_dir = tmp_path / "out"
    out = levtoken("demo", "--csv", str(bad), "--out", str(out_dir))
    assert_one_clear_error(out, "bad.csv:3: close must be a positive number")
    assert not out_dir.exists()


def test_status__node_not_reachable__clear_error(tmp_path):
    out = levtoken("status", "--network", "http://127.0.0.1:9", "--record", str(tmp_path / "r.json"))
    assert_one_clear_error(out, "node")


def test_status__missing_record__says_to_deploy(tmp_path):
    # A node is needed to get that far: use a fresh anvil started by ape.
    out = levtoken("status", "--network", "ethereum:local:foundry", "--record", str(tmp_path / "none.json"))
    assert_one_clear_error(out, "run `levtoken deploy` first")


def test_status__record_for_another_chain__refused(tmp_path):
    record = tmp_path / "sepolia.json"
    record.write_text(json.dumps({
        "chain_id": 11155111, "network": "ethereum:sepolia:node", "block": 1, "deployer": "0x" + "11" * 20,
        "collateral": "0x" + "22" * 20, "collateral_is_test": False, "venue": "0x" + "33" * 20,
        "factory": "0x" + "44" * 20, "feeds": {}, "markets": {}, "tokens": {}, "parameters": {},
    }))
    out = levtoken("status", "--network", "ethereum:local:foundry", "--record", str(record))
    assert_one_clear_error(out, "is for chain 11155111")


def test_deploy_then_mint__unknown_token_and_bad_amount__clear_errors(tmp_path):
    """One anvil for the whole flow: `levtoken demo`-style commands against a node the test starts."""
    import socket
    import time

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    anvil = subprocess.Popen([str(Path(sys.executable).parent / "anvil"), "--port", str(port), "--silent"])
    try:
        time.sleep(1.5)
        network = f"http://127.0.0.1:{port}"
        record = str(tmp_path / "record.json")
        deployed = levtoken("deploy", "--network", network, "--record", record)
        assert deployed.returncode == 0, deployed.stderr
        assert json.loads(Path(record).read_text())["tokens"].keys() == {"BTC3L", "BTC3S", "BTC1S"}
        assert_one_clear_error(levtoken("mint", "ETH3L", "100", "--network", network, "--record", record), "unknown token 'ETH3L'")
        assert_one_clear_error(levtoken("mint", "BTC3L", "0", "--network", network, "--record", record), "amount must be positive")
        assert_one_clear_error(levtoken("mint", "BTC3L", "ten", "--network", network, "--record", record), "is not a number")
        minted = levtoken("mint", "BTC3L", "1000", "--network", network, "--record", record)
        assert minted.returncode == 0 and "minted" in minted.stdout, minted.stderr
        status = levtoken("status", "--network", network, "--record", record)
        assert status.returncode == 0 and "BTC3L" in status.stdout
        redeemed = levtoken("redeem", "BTC3L", "all", "--network", network, "--record", record)
        assert redeemed.returncode == 0 and "redeemed" in redeemed.stdout, redeemed.stderr
    finally:
        anvil.terminate()
        anvil.wait(timeout=10)
