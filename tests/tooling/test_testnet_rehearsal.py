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
from decimal import Decimal
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


def chain_money_market(rehearsal) -> dict[str, str]:
    """What a testnet has for a money-market market, deployed beforehand by the chain's other key: an 18-decimal
    asset, Morpho Blue with its interest-rate model, a lending market each way priced by a FeedOracle on the chain's
    feed (with its lenders' supply), and Uniswap v3 with the asset/stablecoin pool at the feed's price and liquidity
    around it. Returns the addresses and market ids the config names."""
    from levtoken.protocols import NO_DESCRIPTOR, POOL_FEE, TICK_SPACING, artifact, market_id, sqrt_price_x96, tick_of

    owner, usd, feed = rehearsal.owner, rehearsal.usd, rehearsal.feed
    me = owner.account.address
    asset = owner.deploy(project.TestAsset.contract_type, "Test Bitcoin", "tBTC")
    morpho = owner.deploy(artifact("Morpho").contract_type, me)
    irm = owner.deploy(artifact("IrmMock").contract_type)
    owner.transact(morpho, "enableIrm", irm.address)
    owner.transact(morpho, "enableLltv", MONEY_MARKET_LLTV)
    oracles = [owner.deploy(project.FeedOracle.contract_type, feed.address, 86_400, held, lent, inverse)
               for held, lent, inverse in ((18, 6, False), (6, 18, True))]
    long_market = (usd.address, asset.address, oracles[0].address, irm.address, MONEY_MARKET_LLTV)
    short_market = (asset.address, usd.address, oracles[1].address, irm.address, MONEY_MARKET_LLTV)
    lent = {usd.address: to_units(20_000_000), asset.address: 700 * 10**18}  # about $20M on each side
    for params in (long_market, short_market):
        owner.transact(morpho, "createMarket", params)
        token = usd if params[0] == usd.address else asset
        owner.transact(token, "mint", me, lent[token.address])
        owner.transact(token, "approve", morpho.address, lent[token.address])
        owner.transact(morpho, "supply", params, lent[token.address], 0, me, b"")
    factory = owner.deploy(artifact("UniswapV3Factory").contract_type)
    positions = owner.deploy(artifact("NonfungiblePositionManager").contract_type, factory.address, asset.address,
                             NO_DESCRIPTOR)
    asset_is_token0 = int(asset.address, 16) < int(usd.address, 16)
    token0, token1 = (asset, usd) if asset_is_token0 else (usd, asset)
    owner.transact(factory, "createPool", token0.address, token1.address, POOL_FEE)
    pool = rehearsal.w3.eth.contract(address=factory.functions.getPool(token0.address, token1.address, POOL_FEE).call(),
                                     abi=json.loads(artifact("UniswapV3Pool").contract_type.model_dump_json(by_alias=True))["abi"])
    owner.transact(pool, "initialize", sqrt_price_x96(Decimal(30_000), 18, 6, asset_is_token0))
    spacing = TICK_SPACING[POOL_FEE]
    low, high = sorted(tick_of(Decimal(p), 18, 6, asset_is_token0) for p in (15_000, 60_000))
    amounts = {usd.address: to_units(20_000_000), asset.address: 700 * 10**18}
    for token in (usd, asset):
        owner.transact(token, "mint", me, amounts[token.address])
        owner.transact(token, "approve", positions.address, amounts[token.address])
    owner.transact(positions, "mint", (token0.address, token1.address, POOL_FEE, low // spacing * spacing,
                                       -(-high // spacing) * spacing, amounts[token0.address], amounts[token1.address],
                                       0, 0, me, 2**64))
    return {"morpho": morpho.address, "long_market": "0x" + market_id(long_market).hex(),
            "short_market": "0x" + market_id(short_market).hex(), "pool": pool.address}


MONEY_MARKET_LLTV = 860_000_000_000_000_000


def money_market_config(collateral: str, feed: str, names: dict[str, str]) -> str:
    """config/money-market.toml edited as README's "A money market on a testnet" says: the chain's stablecoin, no
    pool seed, the chain's feed, the governance's two-day delay, and the chain's protocols named in the market."""
    text = (ROOT / "config" / "money-market.toml").read_text()
    named = "\n".join(f'{name} = "{value}"' for name, value in names.items())
    for pattern, line in ((r'^address = ""', f'address = "{collateral}"'), (r"^pool_seed = .*", "pool_seed = 0"),
                          (r"^initial_price = .*", f'feed = "{feed}"'), (r"^delay = 0", "delay = 172_800"),
                          (r'^venue = "morpho"', f'venue = "morpho"\n{named}')):
        text, count = re.subn(pattern, line, text, flags=re.MULTILINE)
        assert count == 1, pattern
    return text


def test_readme__a_money_market_on_a_testnet__on_the_chains_own_protocols(rehearsal):
    """The README's money-market block in order, against protocols the chain already has (deployed from its other
    key): deploy names them and deploys only the venue, its factory and the tokens; status names the venue; the
    mint's request settles into a Morpho loop once the feed publishes its next round, and the claim mints."""
    deploying, showing, minting, settling, claiming = readme_commands("A money market on a testnet")
    names = chain_money_market(rehearsal)
    (rehearsal.folder / "config" / "sepolia-money-market.toml").write_text(
        money_market_config(rehearsal.usd.address, rehearsal.feed.address, names))
    keyfile = rehearsal.tmp / "ape" / "accounts" / f"{ALIAS}.json"
    if keyfile.is_file():  # the README's first block imported the deployer: give it what this block spends
        address = rehearsal.w3.to_checksum_address(json.loads(keyfile.read_text())["address"])
        rehearsal.w3.provider.make_request("anvil_setBalance", [address, hex(10**19)])
        rehearsal.owner.transact(rehearsal.usd, "mint", address, to_units(FUNDS))
    else:
        key = rehearsal.funded_key()
        assert_ran(rehearsal.import_account(f"ape accounts import {ALIAS}", key), "ape accounts import")
        address = key.address
    env = {**rehearsal.env, f"APE_ACCOUNTS_{ALIAS}_PASSPHRASE": PASSPHRASE}

    deployed = rehearsal.run(deploying, env=env)
    assert_ran(deployed, deploying)
    record = json.loads((rehearsal.folder / "deployments" / "sepolia-money-market.json").read_text())
    assert record["money_market"]["protocols"] == {"morpho": names["morpho"]} and record["money_market"]["markets"] == ["BTC"]
    assert {t["venue"] for t in record["tokens"].values()} == {"morpho"} and record["complete"]
    assert f"listed BTC on the chain's Morpho markets {names['long_market'][:10]}" in deployed.stdout
    shown = rehearsal.run(showing, env=env)
    assert_ran(shown, showing)
    assert "Morpho+Uniswap" in shown.stdout

    requested = rehearsal.run(minting, env=env)
    assert_ran(requested, minting)
    rehearsal.owner.transact(rehearsal.feed, "submit", to_feed(30_100))  # the feed's next round
    settled = rehearsal.run(settling, env=env)
    assert_ran(settled, settling)
    assert "1,000.000000 collateral in" in settled.stdout
    claimed = rehearsal.run(claiming, env=env)
    assert_ran(claimed, claiming)
    token = rehearsal.node.contract(record["tokens"]["BTC3L"]["address"], project.LeveragedToken.contract_type)
    assert token.functions.balanceOf(address).call() > 0
    venue = rehearsal.node.contract(record["money_market"]["venue"], project.MoneyMarketVenue.contract_type)
    side, collateral, debt, _, _ = venue.functions.book(1, token.address).call()
    assert side == 1 and collateral > 0 and debt > 0  # a 3x loop: BTC in Morpho against a dollar debt
