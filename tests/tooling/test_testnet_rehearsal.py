"""README.md's "On a testnet" commands, exactly as written, on a rehearsal of Sepolia.

There is no network here, so the chain is anvil with Sepolia's chain id and no accounts of its own (nothing
unlocked or funded), mining a block a second, behind ape's `ethereum:sepolia:node` network whose `uri` is set
in ape-config.yaml as the README says. The commands run from a project folder whose ape-config.yaml is the
project's plus that setting (and the rehearsal chain's block time); its other parts link to the project's.
ape's data folder, where the keyfile lives, is the test's own (APE_DATA_FOLDER). What the chain already has,
a 6-decimal stablecoin and an AggregatorV3 feed, is deployed beforehand by raw signed transactions from
another key, the feed's only updater. The commands' one signer is a keyfile account imported with
`ape accounts import`, its key and passphrase typed on stdin, the passphrase read back from the environment.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from ape import project
from eth_account import Account

from levtoken.units import to_feed, to_units
from tests.utils.cli import ROOT, LocalNode, assert_one_clear_error, readme_commands, running, user_env, wait_for

SEPOLIA = 11_155_111
ALIAS = "deployer"  # the README's
PASSPHRASE = "rehearsal passphrase"
POOL_SEED = 1_000_000  # of the chain's stablecoin, from the deployer
FUNDS = 1_100_000  # the deployer's stablecoin: the seed and the README's mint of 1000


class ChainKey:
    """A funded key outside ape that sends raw signed transactions: the owner of what the chain already has."""

    def __init__(self, w3):
        self.w3 = w3
        self.account = Account.create()
        w3.provider.make_request("anvil_setBalance", [self.account.address, hex(10**20)])

    def send(self, data: str, to: str | None = None) -> dict:
        """Signs and sends `data` to `to` (a deployment without it); the receipt, which must be a success."""
        fee = 2 * self.w3.eth.get_block("latest")["baseFeePerGas"] + 10**9
        tx = {"data": data, "chainId": SEPOLIA, "nonce": self.w3.eth.get_transaction_count(self.account.address),
              "gas": 6_000_000, "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9, **({"to": to} if to else {})}
        sent = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(sent)
        assert receipt["status"] == 1, receipt
        return receipt

    def deploy(self, contract_type, *args):
        """A web3 handle of `contract_type` (compiled by the project) deployed with `args`."""
        abi = json.loads(contract_type.model_dump_json(by_alias=True))["abi"]
        build = self.w3.eth.contract(abi=abi, bytecode=contract_type.deployment_bytecode.bytecode)
        data = build.constructor(*args).build_transaction({"from": self.account.address, "gas": 6_000_000})["data"]
        return self.w3.eth.contract(address=self.send(data)["contractAddress"], abi=abi)

    def transact(self, contract, function: str, *args) -> dict:
        """Calls `function` of `contract` with `args` in a transaction; its receipt."""
        return self.send(contract.encode_abi(function, list(args)), contract.address)


def project_folder(tmp: Path, node_url: str) -> Path:
    """The folder the commands run from: the project's ape-config.yaml with ape's sepolia node network pointed
    at `node_url` (README step 3) and, for ape's confirmation polling (every block_time // 2 s), the rehearsal
    chain's quick blocks; links to the project's contracts, build, node modules, bots and config/local.toml."""
    folder = tmp / "project"
    (folder / "config").mkdir(parents=True)
    for name in ("contracts", ".build", "node_modules", "bots", "config/local.toml"):
        (folder / name).symlink_to(ROOT / name)
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    config["node"]["ethereum"]["sepolia"] = {"uri": node_url}
    config["ethereum"]["sepolia"]["block_time"] = 2
    (folder / "ape-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def sepolia_config(collateral: str, feed: str) -> str:
    """config/local.toml edited as README step 2 says: the chain's stablecoin, the pool seed the deployer
    provides, the chain's feed in place of the market's initial price, and the governance's two-day delay."""
    text = (ROOT / "config" / "local.toml").read_text()
    for pattern, line in ((r'^address = ""', f'address = "{collateral}"'), (r"^pool_seed = .*", f"pool_seed = {POOL_SEED}"),
                          (r"^initial_price = .*", f'feed = "{feed}"'), (r"^delay = 0", "delay = 172_800")):
        text, count = re.subn(pattern, line, text, flags=re.MULTILINE)
        assert count == 1, pattern
    return text


class Rehearsal:
    """The rehearsal chain, what it already has, the project folder, and the commands' environment."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.node = LocalNode(tmp, anvil_args=("--chain-id", str(SEPOLIA), "--accounts", "0", "--block-time", "1"))
        self.w3 = self.node.w3
        self.owner = ChainKey(self.w3)
        self.usd = self.owner.deploy(project.TestStablecoin.contract_type)
        self.feed = self.owner.deploy(project.PriceFeed.contract_type, 8, "BTC / USD", self.owner.account.address)
        self.owner.transact(self.feed, "submit", to_feed(30_000))
        self.folder = project_folder(tmp, self.node.url)
        (self.folder / "config" / "sepolia.toml").write_text(sepolia_config(self.usd.address, self.feed.address))
        self.env = user_env(APE_DATA_FOLDER=str(tmp / "ape"))

    def funded_key(self):
        """A new key holding 10 ETH and FUNDS of the chain's stablecoin, sent by their owner."""
        key = Account.create()
        self.w3.provider.make_request("anvil_setBalance", [key.address, hex(10**19)])
        self.owner.transact(self.usd, "mint", key.address, to_units(FUNDS))
        return key

    def run(self, command: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """A command line (no shell) from the project folder, in a session of its own: no terminal, so any
        prompt reads `stdin`, as in a CI job."""
        return subprocess.run(shlex.split(command), cwd=self.folder, env=env or self.env, input=stdin,
                              capture_output=True, text=True, timeout=300, start_new_session=True)

    def import_account(self, command: str, key) -> subprocess.CompletedProcess:
        """`ape accounts import ALIAS` with the key and the passphrase (twice) typed on stdin."""
        return self.run(command, stdin=f"{key.key.to_0x_hex()}\n{PASSPHRASE}\n{PASSPHRASE}\n")


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The rehearsal chain (stopped afterwards), with its stablecoin and feed, and the project folder."""
    chain = Rehearsal(tmp_path_factory.mktemp("sepolia"))
    with chain.node:
        yield chain


def assert_ran(out: subprocess.CompletedProcess, command: str) -> None:
    """The command exited 0 without a traceback or an error line."""
    assert out.returncode == 0 and "Traceback" not in out.stderr, f"{command}:\n{out.stdout}\n{out.stderr}"
    assert not [line for line in out.stderr.splitlines() if line.startswith("Error")], out.stderr


def test_readme__on_a_testnet__every_command_as_written_with_a_keyfile_account(rehearsal):
    """The README's block in order: import, deploy on the chain's stablecoin and feed, status, the keeper in
    the background, a mint that only requests; the feed's updater publishes the next round, the keeper settles
    the request, and the claim mints. No test account signs anything: the chain has none."""
    commands = readme_commands("On a testnet")
    importing, deploying, showing, keeping, minting, claiming = commands
    assert importing == f"ape accounts import {ALIAS}" and keeping.endswith(" &")
    w3 = rehearsal.w3
    assert w3.eth.chain_id == SEPOLIA and w3.eth.accounts == []
    deployer = rehearsal.funded_key()
    env = {**rehearsal.env, f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE": PASSPHRASE}

    imported = rehearsal.import_account(importing, deployer)
    assert_ran(imported, importing)
    assert deployer.address in imported.stdout and (rehearsal.tmp / "ape" / "accounts" / f"{ALIAS}.json").is_file()

    deployed = rehearsal.run(deploying, env=env)
    assert_ran(deployed, deploying)
    record = json.loads((rehearsal.folder / "deployments" / "sepolia.json").read_text())
    assert (record["chain_id"], record["network"], record["deployer"]) == (SEPOLIA, "ethereum:sepolia:node", deployer.address)
    assert record["collateral"] == rehearsal.usd.address and not record["collateral_is_test"]
    assert record["feeds"] == {"BTC": rehearsal.feed.address} and record["parameters"]["market:BTC"]["feed_deployed"] is False
    assert record["complete"] and set(record["tokens"]) == {"BTC3L", "BTC3S", "BTC1S"}
    venue = rehearsal.node.contract(record["venue"], project.PerpVenue.contract_type)
    assert venue.functions.poolCash().call() == to_units(POOL_SEED)
    assert f"listed market BTC (id 1) with its own feed {rehearsal.feed.address}" in deployed.stdout

    shown = rehearsal.run(showing, env=env)
    assert_ran(shown, showing)
    assert f"levtoken on chain {SEPOLIA}" in shown.stdout and "BTC3L (3x long)" in shown.stdout

    token = rehearsal.node.contract(record["tokens"]["BTC3L"]["address"], project.LeveragedToken.contract_type)
    log = rehearsal.tmp / "keeper.log"
    with running(keeping.removesuffix("&").strip(), env, log, cwd=rehearsal.folder):
        wait_for(lambda: "serving BTC3L, BTC3S, BTC1S" in log.read_text(), 90, f"the keeper did not start:\n{log.read_text()}")
        requested = rehearsal.run(minting, env=env)
        assert_ran(requested, minting)
        assert "requested a mint of BTC3L for 1000 collateral" in requested.stdout and "waiting for a keeper" in requested.stdout
        assert token.functions.pendingDepositRequest(0, deployer.address).call() == to_units(1000)
        rehearsal.owner.transact(rehearsal.feed, "submit", to_feed(30_100))  # the feed's next round
        wait_for(lambda: "BTC3L settle reason=REQUESTS" in log.read_text(), 60, f"no settlement:\n{log.read_text()}")
    assert "Traceback" not in log.read_text()

    claimed = rehearsal.run(claiming, env=env)
    assert_ran(claimed, claiming)
    assert "minted " in claimed.stdout and token.functions.balanceOf(deployer.address).call() > 0
    assert token.functions.maxDeposit(deployer.address).call() == 0

    # The chain's feed is its own: `levtoken feed` publishes only on a local chain.
    refused = rehearsal.run(f"levtoken feed publish 1 --network ethereum:sepolia:node --account {ALIAS} "
                            "--record deployments/sepolia.json", env=env)
    assert_one_clear_error(refused, f"chain {SEPOLIA} is not a local chain: its prices are its own feed's")


def test_keyfile_account__wrong_passphrase_in_the_environment__one_clear_line(rehearsal):
    """A command that signs, with the keyfile's passphrase wrong in APE_ACCOUNTS_<alias>_PASSPHRASE: one line,
    exit 1, nothing sent (no prompt either: the command has no terminal)."""
    key = rehearsal.funded_key()
    assert rehearsal.import_account("ape accounts import ci", key).returncode == 0
    env = {**rehearsal.env, "APE_ACCOUNTS_ci_PASSPHRASE": "not the passphrase"}
    out = rehearsal.run("levtoken deploy --network ethereum:sepolia:node --account ci --config config/sepolia.toml "
                        "--record deployments/ci.json", env=env)
    assert_one_clear_error(out, "--account ci: wrong passphrase")
    assert rehearsal.w3.eth.get_transaction_count(key.address) == 0
