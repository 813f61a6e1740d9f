"""The mistakes a user can make with the `levtoken` command, each once: a non-zero exit, one or two lines of
output with no traceback, an error line that names the problem in the user's units, and nothing written or
changed on chain.

Most rows run in this process (`invoke`); the rows marked `console` run the real console script."""

import json
from pathlib import Path

import pytest

from tests.utils.cli import LocalNode, assert_one_clear_error, deployed_token, invoke

HOLDER = "test:1"  # holds BTC3L; test:5 has a mint request waiting on BTC3S; test:6 and test:7 hold nothing

CONFIG = (Path(__file__).resolve().parents[2] / "config" / "local.toml").read_text()
FILES = {
    "bad.toml": "[collateral\naddress = ''\n",
    "unknown_setting.toml": CONFIG.replace("leverage = 3\n", "leverage = 3\nslippage_bps = 50\n", 1),
    "leverage0.toml": CONFIG.replace("leverage = 3\n", "leverage = 0\n", 1),
    "unknown_market.toml": CONFIG.replace('market = "BTC"\nleverage = 3', 'market = "ETH"\nleverage = 3', 1),
    "negative_fee.toml": CONFIG.replace("mint_fee_bps = 10\n", "mint_fee_bps = -10\n", 1),
    "fee_too_high.toml": CONFIG.replace("mint_fee_bps = 10\n", "mint_fee_bps = 20000\n", 1),
    "price0.toml": CONFIG.replace("initial_price = 30_000", "initial_price = 0", 1),
    "other_fee.toml": CONFIG.replace("mint_fee_bps = 10\n", "mint_fee_bps = 20\n", 1),
    "negative.csv": "date,close\n2020-01-01,100\n2020-01-02,-5\n",
    "empty.csv": "",
    "unordered.csv": "date,close\n2020-01-02,100\n2020-01-01,101\n2020-01-03,102\n",
    "malformed.json": '{"chain_id": 31337, "tokens": ',
}

MISTAKES = [
    # amounts
    ("levtoken mint BTC3L 0", "got 0 collateral"),
    ("levtoken mint BTC3L -- -5", "got -5 collateral"),
    ("levtoken mint BTC3L nan", "'nan' is not a finite number; give an amount of collateral"),
    ("levtoken mint BTC3L inf", "'inf' is not a finite number; give an amount of collateral"),
    ("levtoken mint BTC3L ten", "'ten' is not a number; give an amount of collateral"),
    ("levtoken mint BTC3L 1e-9", "1e-9 collateral has more than 6 decimals"),
    ("levtoken mint BTC3L 1.0000001", "1.0000001 collateral has more than 6 decimals"),
    ("levtoken mint BTC3L 1e30", "is beyond any position the venue can hold (its amounts are 128-bit); nothing was sent"),
    ("levtoken redeem BTC3L 0.0000000000000000001 --account test:1", "BTC3L has more than 18 decimals"),
    ("levtoken redeem BTC3L 1000000 --account test:1", "less than the 1000000 BTC3L asked"),
    ("levtoken redeem BTC3L all --account test:6", "holds no BTC3L"),
    ("levtoken mint BTC3L 1000 --account test:7 --record {dir}/real_collateral.json",
     "holds 0.000000 collateral, less than the 1000 collateral asked"),
    # slippage and deadlines: requests are priced at a later round, and only waiting has a limit
    ("levtoken mint BTC3L 100 --slippage 1", "No such option: --slippage"),
    ("levtoken mint BTC3L 100 --timeout 0", "'--timeout': 0 is not a positive number of seconds"),
    ("levtoken redeem BTC3L all --account test:1 --timeout soon",
     "'--timeout': soon is not a positive number of seconds"),
    ("levtoken cancel BTC3S --account test:5", "CancelTooEarly(allowedAt=20"),
    ("levtoken cancel BTC3S", "NoPendingRequest(controller=0x"),
    ("levtoken settle BTC3L --account test:6", "NothingToSettle()"),
    ("levtoken claim BTC3S", "nothing to claim on BTC3S"),
    ("levtoken mint BTC3S 100 --settle --account test:5", "may not publish BTC prices"),
    # commands and symbols
    ("levtoken mnt BTC3L 100", "No such command 'mnt'"),
    ("levtoken mint BTC3L", "Missing argument 'AMOUNT'"),
    ("levtoken mint ETH3L 100", "unknown token 'ETH3L'; deployed tokens: BTC3L, BTC3S, BTC1S"),
    ("levtoken requests btc3l", "unknown token 'btc3l' (symbols are case-sensitive: BTC3L)"),
    # networks and accounts
    ("levtoken status --network ethereum:nowhere:node", "unknown network 'ethereum:nowhere:node'"),
    ("levtoken status --network http://127.0.0.1:9", "cannot reach a node at http://127.0.0.1:9"),
    ("levtoken status --network ethereum:sepolia:node", "no RPC URL for ethereum:sepolia:node: give your node's URL"),
    ("levtoken status --account test:12", "--account 'test:12': expected test:0 .. test:9"),
    ("levtoken mint BTC3L 100 --account nobody", "--account 'nobody' is neither test:N nor a known"),
    # records
    ("levtoken status --record {dir}/none.json", "none.json not found; run `levtoken deploy` first"),
    ("levtoken status --record {dir}/malformed.json", "malformed.json is malformed"),
    ("levtoken status --record {dir}/sepolia.json", "is for chain 11155111 but the connected chain is 31337"),
    ("levtoken status --record {dir}/half.json", "is incomplete"),
    ("levtoken deploy --record {dir}/sepolia.json", "belongs to chain 11155111"),
    ("console: levtoken keeper --record {dir}/none.json", "none.json not found; run `levtoken deploy` first"),
    # configs
    ("levtoken deploy --config {dir}/none.toml --record {dir}/new.json", "none.toml not found"),
    ("levtoken deploy --config {dir}/bad.toml --record {dir}/new.json", "bad.toml is not valid TOML"),
    ("levtoken deploy --config {dir}/unknown_setting.toml --record {dir}/new.json",
     "unknown token setting(s) ['slippage_bps']"),
    ("levtoken deploy --config {dir}/leverage0.toml --record {dir}/new.json", "token leverage must not be 0"),
    ("levtoken demo --config {dir}/unknown_market.toml --out {dir}/out", "token market 'ETH' is not among markets"),
    # configs the contracts would refuse: every value checked before the first transaction, on a new record or not
    ("levtoken deploy --config {dir}/negative_fee.toml --record {dir}/new.json",
     "negative_fee.toml: [tokens]: mint_fee_bps = -10 must not be negative"),
    ("levtoken deploy --config {dir}/negative_fee.toml", "[tokens]: mint_fee_bps = -10 must not be negative"),
    ("levtoken deploy --config {dir}/fee_too_high.toml --record {dir}/new.json",
     "[tokens]: mint_fee_bps = 20000 must be at most 100 bps"),
    ("levtoken deploy --config {dir}/price0.toml --record {dir}/new.json",
     "market BTC: initial_price = 0 must be a positive price in dollars"),
    # a config that differs from what the record deployed: refused with what differs, not ignored
    ("levtoken deploy --config {dir}/other_fee.toml",
     "other_fee.toml differs from the deployment in {record}: BTC3L mint_fee_bps 10 bps deployed, 20 bps in the file;"),
    # price files and periods
    ("levtoken replay --csv {dir}/none.csv --out {dir}/out", "none.csv not found"),
    ("levtoken demo --out {dir}/reported", "reported already holds a report (made 20"),
    ("levtoken replay --out {dir}/reported", "pass --overwrite to replace it, or give another --out"),
    ("levtoken demo --csv {dir}/negative.csv --out {dir}/out", "negative.csv:3: close must be a positive number"),
    ("levtoken replay --csv {dir}/empty.csv --out {dir}/out", "empty.csv is empty"),
    ("levtoken replay --csv {dir}/unordered.csv --out {dir}/out", "unordered.csv:3: dates must be strictly ascending"),
    ("levtoken replay --start 2024-9-1 --out {dir}/out", "date '2024-9-1' is neither YYYY-MM-DD nor ISO 8601"),
    ("levtoken replay --start 2024-05-01 --end 2024-04-01 --out {dir}/out",
     "--start 2024-05-01 is after --end 2024-04-01"),
    ("levtoken replay --start 1990-01-01 --end 1990-12-31 --out {dir}/out",
     "fewer than two rows from 1990-01-01 to 1990-12-31"),
    ("levtoken replay --start 2024-09-24 --end 2024-10-24 --out {dir}/out", "pass --force to replay it anyway"),
    ("levtoken replay --market ETH --start 2023-06-21 --end 2023-07-21 --out {dir}/out", "unknown market 'ETH'"),
    # a local chain's prices
    ("levtoken feed publish abc", "price 'abc' is not a positive number of dollars"),
    ("levtoken feed publish 0", "price '0' is not a positive number of dollars"),
    ("levtoken feed publish 100 --market ETH", "unknown market 'ETH'; markets of this deployment: BTC"),
    ("levtoken feed publish 100 --account test:5", "may not publish BTC prices (no UPDATER_ROLE"),
    ("levtoken feed push --csv {dir}/none.csv", "none.csv not found"),
    ("levtoken feed push --interval 0", "Invalid value for '--interval': 0.0 is not in the range x>=1"),
    # the node
    ("console: levtoken node --port {port}", "port {port} on 127.0.0.1 is already in use"),
]


@pytest.fixture(scope="module")
def mistakes_dir(node: LocalNode, deployed: Path, tmp_path_factory) -> Path:
    """The module's files for the mistakes (configs, price files, records), and the state they start from:
    HOLDER holds BTC3L, test:5 has a mint request waiting on BTC3S (no round published after it); the --out
    and new --record paths of the mistakes point into it."""
    folder = tmp_path_factory.mktemp("mistakes")
    for name, text in FILES.items():
        (folder / name).write_text(text)
    (folder / "reported").mkdir()
    (folder / "reported" / "report.md").write_text("# an earlier run's report\n")
    record = json.loads(deployed.read_text())
    (folder / "half.json").write_text(json.dumps({**record, "tokens": {}, "complete": False}))
    sepolia = {**record, "chain_id": 11155111, "network": "ethereum:sepolia:node"}
    (folder / "sepolia.json").write_text(json.dumps(sepolia))
    (folder / "real_collateral.json").write_text(json.dumps({**record, "collateral_is_test": False}))
    for command in (f"levtoken mint BTC3L 1000 --account {HOLDER} --no-wait", "levtoken mint BTC1S 10 --settle",
                    "levtoken settle BTC3L", f"levtoken claim BTC3L --account {HOLDER}",
                    "levtoken mint BTC3S 100 --no-wait --account test:5"):
        out = invoke(node, deployed, command)
        assert out.returncode == 0, f"{command}: {out.stderr}"
    waiting = invoke(node, deployed, "levtoken requests BTC3S --account test:5")
    assert waiting.returncode == 0 and "100.000000 collateral" in waiting.stdout, waiting.stderr
    return folder


def chain_state(node: LocalNode, record: Path) -> dict:
    """What a mistake must not change on chain: the block number and the collateral and token balances of the
    deployer, the holder and test:5."""
    from ape import project

    deployment = json.loads(record.read_text())
    collateral = node.contract(deployment["collateral"], project.TestStablecoin.contract_type)
    tokens = {symbol: deployed_token(node, record, symbol) for symbol in deployment["tokens"]}
    state = {"block": node.w3.eth.block_number}
    for index in (0, 1, 5):
        who = node.w3.eth.accounts[index]
        state[who] = [collateral.functions.balanceOf(who).call()] + [
            token.functions.balanceOf(who).call() for token in tokens.values()]
    return state


def files(*folders: Path) -> dict[Path, bytes | None]:
    """Everything under `folders`: each file with its bytes, each folder with None."""
    return {path: path.read_bytes() if path.is_file() else None for folder in folders for path in folder.rglob("*")}


@pytest.mark.parametrize("command, fragment", MISTAKES, ids=[command for command, _ in MISTAKES])
def test_mistake__one_clear_line__nothing_written_or_changed(node, deployed, mistakes_dir, command, fragment):
    values = {"dir": mistakes_dir, "port": node.port, "record": deployed}
    command, fragment = command.format(**values), fragment.format(**values)
    before = chain_state(node, deployed), files(mistakes_dir, node.tmp)

    if command.startswith("console: "):
        out = node.run(command.removeprefix("console: "), deployed, timeout=120)
    else:
        out = invoke(node, deployed, command)

    assert_one_clear_error(out, fragment)
    assert (chain_state(node, deployed), files(mistakes_dir, node.tmp)) == before
