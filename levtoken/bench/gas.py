"""The gas table: the gas of each user, keeper and owner action beside a plain OpenZeppelin baseline, and the
deployed contracts' code sizes against their limits.

Everything runs on a fresh local anvil chain: the protocol is deployed from config/local.toml, and an
OpenZeppelin ERC20 + ERC20Permit token and ERC4626 vault (contracts/benchmarks/) are deployed beside it,
so both sides run on the same chain, compiler settings and hardfork. Each case says which storage it
touches for the first time: a first write of a balance, allowance or nonce costs 20,000 gas more than a
later one, so warm cases (accounts that already hold balances) are the fair comparison and the first-
time figures are listed as well."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ape import accounts, chain, networks, project
from rich.table import Table

from levtoken.code_size import DEPLOYED, FACTORY_INIT_ROOM, INITCODE_LIMIT, MARGIN, RUNTIME_LIMIT, TOKEN_ROOM, code_sizes
from levtoken.deploy_config import DEFAULT_CONFIG, DeployConfig
from levtoken.deployment import deploy
from levtoken.permit import sign_permit
from levtoken.shapes import Action, Params
from levtoken.units import DAY, to_feed, to_units, to_wad

NETWORK = "ethereum:local:foundry"
MAX_UINT = 2**256 - 1
BLOCK_SECONDS = 12

# Targets: each a limit on our gas, or on our gas over OpenZeppelin's.
TRANSFER_MAX_RATIO = 1.05
# Entry and exit per holder no worse than before tokens were clones (178,818 and 186,369 gas).
ENTRY_MAX_GAS = 178_819
EXIT_MAX_GAS = 186_370
SETTLEMENT_SIZES = (10, 50)  # mixed requests per settlement in the settlement rows
REBALANCE_MAX_GAS = 170_000
RIPCORD_MAX_GAS = 190_000
CREATE_TOKEN_MAX_GAS = 500_000


@dataclass
class Measurement:
    """Gas used by one operation in one case, ours and (where there is one) OpenZeppelin's; or, for a code-size
    row, the bytes a contract has left under a limit (`min_value` the room it must keep)."""

    operation: str
    case: str
    ours: int
    oz: int | None = None
    max_gas: int | None = None
    max_ratio: float | None = None
    min_value: int | None = None

    @property
    def ratio(self) -> float | None:
        """Ours over OpenZeppelin's, where there is a baseline."""
        return self.ours / self.oz if self.oz else None

    @property
    def target(self) -> str:
        """The target as the table prints it."""
        if self.max_ratio is not None:
            return f"<= {self.max_ratio:.2f} x OZ"
        if self.max_gas is not None:
            return f"< {self.max_gas:,}"
        if self.min_value is not None:
            return f">= {self.min_value:,}"
        return ""

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None where there is no target."""
        if self.max_ratio is not None:
            return self.ratio is not None and self.ratio <= self.max_ratio
        if self.max_gas is not None:
            return self.ours < self.max_gas
        if self.min_value is not None:
            return self.ours >= self.min_value
        return None


def _permit(token, owner, spender, value: int, relayer):
    """Signs an EIP-2612 permit with `owner`'s key and submits it from `relayer`; returns the receipt."""
    deadline = chain.pending_timestamp + DAY
    v, r, s = sign_permit(token, owner, spender, value, deadline)
    return token.permit(owner, spender, value, deadline, v, r, s, sender=relayer)


def _set_price(feed, gov, price: float) -> None:
    feed.submit(to_feed(price), sender=gov)


def _controller(batch: int, index: int, side: str) -> str:
    """A distinct controller address for request `index` of side `side` in the settlement of `batch`."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"controller-{batch}-{side}-{index}")[-20:])


def _approving(token, controller: str, operator) -> str:
    """`controller`, after it approved `operator` as its ERC-7540 operator on `token` (a request under another
    account's controller needs that): sent as the controller, which anvil impersonates."""
    _send_as(controller, token.address, token.setOperator.encode_input(operator.address, True))
    return controller


def _send_as(sender: str, to: str, data: bytes) -> int:
    """Sends `data` to `to` from `sender`, which anvil impersonates (funded for gas); returns the gas used."""
    from ape import chain

    provider = chain.provider
    provider.make_request("anvil_setBalance", [sender, hex(10**18)])
    provider.make_request("anvil_impersonateAccount", [sender])
    tx_hash = provider.web3.eth.send_transaction({"from": sender, "to": to, "data": data})
    receipt = provider.web3.eth.wait_for_transaction_receipt(tx_hash)
    provider.make_request("anvil_stopImpersonatingAccount", [sender])
    return int(receipt["gasUsed"])


def _require_action(token, action: int, what: str) -> None:
    status = token.rebalanceStatus()
    if status.action != action:
        raise RuntimeError(f"benchmark set-up: expected {what} to be due on {token.symbol()}, got {status}")


def _measure() -> list[Measurement]:
    test = accounts.test_accounts
    gov, keeper, whale, fish, stranger, relayer = test[0], test[1], test[3], test[4], test[5], test[7]
    rows: list[Measurement] = []
    # One block per transaction, 12 s apart (as on mainnet): every transaction accrues the streaming fee
    # and funding over the same interval, so the figures do not depend on the wall clock.
    chain.provider.make_request("anvil_setBlockTimestampInterval", [BLOCK_SECONDS])

    with tempfile.TemporaryDirectory() as tmp:
        record = deploy(
            DeployConfig.load(project.path / DEFAULT_CONFIG), gov, Path(tmp) / "bench.json", keeper=keeper.address, log=lambda *_: None
        )
    usd = record.collateral_contract()
    feed = record.feed_contract("BTC")
    factory = record.factory_contract()
    long, short = record.token("BTC3L"), record.token("BTC3S")
    ref = gov.deploy(project.OZReferenceToken)
    vault = gov.deploy(project.OZReferenceVault, usd)

    amount = to_units(10_000)
    for holder in (whale, fish):
        usd.mint(holder, 100 * amount, sender=holder)
        for spender in (long, short, vault):
            usd.approve(spender, MAX_UINT, sender=holder)
        ref.mint(holder, amount, sender=holder)

    def settle(*tokens) -> list[int]:
        # A round one block (12 s) after the requests qualifies them; the keeper settles in the next block.
        feed.submit(feed.latestRoundData()[1], sender=gov)
        return [token.settle(sender=keeper).gas_used for token in tokens]

    # --- ERC-7540 entry: request, settlement, claim ---------------------------------------
    first = long.requestDeposit(amount, whale, whale, sender=whale).gas_used
    rows.append(Measurement("requestDeposit", "first request into an empty token (opens an epoch)", first))
    (settled,) = settle(long)
    rows.append(Measurement("settle", "one deposit into an empty token (opens the position)", settled))
    claim = long.deposit(amount, whale, sender=whale).gas_used
    first_oz = vault.deposit(amount, whale, sender=whale).gas_used
    rows.append(Measurement("deposit (claim)", "first shares of a holder", claim, first_oz))
    long.requestDeposit(amount, whale, whale, sender=whale)
    joined = long.requestDeposit(amount, fish, fish, sender=fish).gas_used
    rows.append(Measurement("requestDeposit", "new requester joining an open epoch", joined))
    settle(long)
    long.deposit(amount, fish, sender=fish)
    long.requestDeposit(amount, whale, whale, sender=whale)
    warm_request = long.requestDeposit(amount, fish, fish, sender=fish).gas_used
    rows.append(Measurement("requestDeposit", "returning requester joining an open epoch (warm)", warm_request))
    settle(long)
    warm_claim = long.deposit(amount, fish, sender=fish).gas_used
    warm_oz = vault.deposit(amount, fish, sender=fish).gas_used
    rows.append(Measurement("deposit (claim)", "existing holder (warm)", warm_claim, warm_oz))
    long.requestDeposit(amount, fish, fish, sender=fish)
    settle(long)
    minted = long.mint(long.maxMint(fish) // 2, fish, sender=fish).gas_used
    minted_oz = vault.mint(vault.balanceOf(fish) // 10, fish, sender=fish).gas_used
    rows.append(Measurement("mint (claim exact shares)", "part of a claimable deposit (warm)", minted, minted_oz))
    long.mint(long.maxMint(fish), fish, sender=fish)

    # Settlements of N mixed requests: half deposits (the whale requesting for N/2 controllers, each having
    # approved it as operator), half redemptions (the whale's shares, for N/2 other controllers).
    per_request: dict[int, int] = {}
    for count in SETTLEMENT_SIZES:
        for index in range(count // 2):
            depositor = _approving(long, _controller(count, index, "d"), whale)
            redeemer = _approving(long, _controller(count, index, "r"), whale)
            long.requestDeposit(to_units(1_000), depositor, whale, sender=whale)
            long.requestRedeem(long.balanceOf(whale) // 200, redeemer, whale, sender=whale)
        (gas,) = settle(long)
        per_request[count] = gas // count
        rows.append(Measurement("settle", f"{count} mixed requests ({count // 2} deposits, {count // 2} redemptions): "
                                          f"{gas // count:,} per request", gas))

    # Entry and exit per holder in a settlement of 10, against OpenZeppelin's one-step deposit and redeem.
    rows.append(Measurement("entry per holder", "requestDeposit (warm) + settlement of 10 / 10 + deposit claim (warm)",
                            warm_request + per_request[10] + warm_claim, warm_oz, max_gas=ENTRY_MAX_GAS))

    # --- ERC-20 -------------------------------------------------------------------------
    share = long.balanceOf(whale) // 100
    unit = ref.balanceOf(whale) // 100
    fresh = long.transfer(stranger, share, sender=whale).gas_used
    fresh_oz = ref.transfer(stranger, unit, sender=whale).gas_used
    rows.append(Measurement("transfer", "to an account with no balance", fresh, fresh_oz))
    long.transfer(fish, share, sender=whale)
    ref.transfer(fish, unit, sender=whale)
    warm = long.transfer(fish, share, sender=whale).gas_used
    warm_oz = ref.transfer(fish, unit, sender=whale).gas_used
    rows.append(Measurement("transfer", "between holders (warm, second transfer)", warm, warm_oz, max_ratio=TRANSFER_MAX_RATIO))

    fresh = long.approve(relayer, share, sender=whale).gas_used
    fresh_oz = ref.approve(relayer, unit, sender=whale).gas_used
    rows.append(Measurement("approve", "zero to non-zero allowance", fresh, fresh_oz))
    warm = long.approve(relayer, 2 * share, sender=whale).gas_used
    warm_oz = ref.approve(relayer, 2 * unit, sender=whale).gas_used
    rows.append(Measurement("approve", "non-zero to non-zero (warm)", warm, warm_oz))

    fresh = _permit(long, fish, stranger, share, relayer).gas_used
    fresh_oz = _permit(ref, fish, stranger, unit, relayer).gas_used
    rows.append(Measurement("permit", "first permit of an owner (nonce 0)", fresh, fresh_oz))
    warm = _permit(long, fish, stranger, 2 * share, relayer).gas_used
    warm_oz = _permit(ref, fish, stranger, 2 * unit, relayer).gas_used
    rows.append(Measurement("permit", "later permit (warm nonce and allowance)", warm, warm_oz))

    # --- ERC-7540 exit: request, settlement, claim --------------------------------------
    long.requestRedeem(long.balanceOf(whale) // 10, whale, whale, sender=whale)
    redeem_request = long.requestRedeem(long.balanceOf(fish) // 4, fish, fish, sender=fish).gas_used
    rows.append(Measurement("requestRedeem", "part of a holding (warm)", redeem_request))
    settle(long)
    redeemed = long.redeem(long.maxRedeem(fish), fish, fish, sender=fish).gas_used
    partial_oz = vault.redeem(vault.balanceOf(fish) // 4, fish, fish, sender=fish).gas_used
    rows.append(Measurement("redeem (claim)", "all of a claimable redemption (warm)", redeemed, partial_oz))
    rows.append(Measurement("exit per holder", "requestRedeem (warm) + settlement of 10 / 10 + redeem claim",
                            redeem_request + per_request[10] + redeemed, partial_oz, max_gas=EXIT_MAX_GAS))
    long.requestRedeem(long.balanceOf(fish) // 4, fish, fish, sender=fish)
    settle(long)
    part = long.redeem(long.maxRedeem(fish) // 2, fish, fish, sender=fish).gas_used
    rows.append(Measurement("redeem (claim)", "part of a claimable redemption (warm)", part))
    withdrawn = long.withdraw(long.maxWithdraw(fish), fish, fish, sender=fish).gas_used
    rows.append(Measurement("withdraw (claim exact assets)", "the rest of a claimable redemption", withdrawn))

    # --- keeper and ripcord -------------------------------------------------------------
    short.requestDeposit(amount, whale, whale, sender=whale)
    settle(short)
    _set_price(feed, gov, 26_400)  # -12%: long 3x -> ~4.1x (above its 4x band), short 3x -> ~1.9x (below 2.25x)
    _require_action(long, Action.REBALANCE, "a band rebalance")
    rows.append(Measurement("rebalance", "band, long 4.1x -> 3x (reduce size)", long.rebalance(sender=keeper).gas_used,
                            max_gas=REBALANCE_MAX_GAS))
    _require_action(short, Action.REBALANCE, "a band rebalance")
    rows.append(Measurement("rebalance", "band, short 1.9x -> 3x (add size)", short.rebalance(sender=keeper).gas_used,
                            max_gas=REBALANCE_MAX_GAS))

    _set_price(feed, gov, 30_624)  # +16%: short 3x -> ~6.7x, past its 4.5x ripcord; long 3x -> ~2.35x
    _require_action(short, Action.RIPCORD, "a ripcord")
    rows.append(Measurement("ripcord", "short 6.7x -> 3x, bounty to caller", short.ripcord(sender=stranger).gas_used,
                            max_gas=RIPCORD_MAX_GAS))

    chain.pending_timestamp += DAY + 60
    _set_price(feed, gov, 30_624)
    _require_action(long, Action.REBALANCE, "a time rebalance")
    rows.append(Measurement("rebalance", "time, long 2.35x -> 3x after a day (adds streaming fee)",
                            long.rebalance(sender=keeper).gas_used, max_gas=REBALANCE_MAX_GAS))

    # --- factory ------------------------------------------------------------------------
    leverage = to_wad(2)
    params = Params.abi_dict(factory.defaultParams(leverage, gov))
    spec = (record.markets["BTC"], leverage, 0, Params.tuple_of(params), keeper, gov)
    # The factory is the governance's: the token is created by its call (the timelock's own bookkeeping apart).
    created = _send_as(record.governance, factory.address, factory.createToken.encode_input(spec))
    rows.append(Measurement("createToken", "BTC 2x long (a clone of the implementation, initialized), "
                            "as the governance's call", created, max_gas=CREATE_TOKEN_MAX_GAS))
    return rows


# Seamless Leverage Tokens' own figures, for the money-market rows: its forge gas snapshot (`.gas-snapshot` of
# seamless-protocol/leverage-tokens), whole test functions on a Base fork with Morpho, each with its own setup.
SEAMLESS = {
    "entry": ("LeverageRouterDepositTest:testFork_deposit_UniswapV3", 995_115),
    "exit": ("LeverageRouterRedeemTest:testFork_redeem_PartialRedeem", 1_345_036),
    "rebalance": ("PreLiquidationRebalanceTest:testFork_RebalanceStrategyOutsideOfDutchAuctionIfCloseToLiquidation",
                  1_474_157),
}


def _measure_money_market(perp: list[Measurement]) -> list[Measurement]:
    """The same entry, exit, rebalance and ripcord on the money-market venue (config/money-market.toml: Morpho Blue
    and a Uniswap v3 pool), each case naming the perpetual venue's figure for the same action (from `perp`) and
    Seamless' published one."""
    from decimal import Decimal

    from levtoken.deploy_config import MONEY_MARKET_CONFIG
    from levtoken.protocols import arbitrage

    test = accounts.test_accounts
    gov, keeper, whale, fish, stranger, arbitrageur = test[0], test[1], test[3], test[4], test[5], test[6]
    with tempfile.TemporaryDirectory() as tmp:
        record = deploy(DeployConfig.load(project.path / MONEY_MARKET_CONFIG), gov, Path(tmp) / "bench.json",
                        keeper=keeper.address, log=lambda *_: None)
    usd, feed, market = record.collateral_contract(), record.feed_contract("BTC"), record.money_market_of("BTC")
    long, short = record.token("BTC3L"), record.token("BTC3S")
    market.asset.mint(arbitrageur, 10**24, sender=arbitrageur)
    usd.mint(arbitrageur, 10**16, sender=arbitrageur)
    amount = to_units(10_000)
    for holder in (whale, fish):
        usd.mint(holder, 100 * amount, sender=holder)
        for token in (long, short):
            usd.approve(token, MAX_UINT, sender=holder)

    def move(price: float) -> None:
        _set_price(feed, gov, price)
        arbitrage(market.protocols, market.pool, market.asset, usd, Decimal(str(price)), arbitrageur)

    def settle(token) -> int:
        feed.submit(feed.latestRoundData()[1], sender=gov)
        return token.settle(sender=keeper).gas_used

    def seen(operation: str, case: str) -> str:
        row = next(r for r in perp if r.operation == operation and r.case.startswith(case))
        return f"{row.ours:,}"

    rows = []
    name, figure = SEAMLESS["entry"]
    long.requestDeposit(amount, whale, whale, sender=whale)
    rows.append(Measurement("settle (money market)", "one deposit into an empty 3x long: one swap whose callback "
                            f"supplies and borrows in Morpho (perpetual venue {seen('settle', 'one deposit')}; "
                            f"Seamless {figure:,}, {name})", settle(long)))
    long.requestDeposit(amount, fish, fish, sender=fish)
    rows.append(Measurement("settle (money market)", "one deposit into a held 3x long (grows the loop)", settle(long)))
    name, figure = SEAMLESS["exit"]
    long.deposit(amount, fish, sender=fish)  # the claim of its shares
    long.requestRedeem(long.balanceOf(fish) // 2, fish, fish, sender=fish)
    rows.append(Measurement("settle (money market)", "one redemption from a 3x long: one swap whose callback repays "
                            f"and withdraws (Seamless {figure:,}, {name})", settle(long)))
    short.requestDeposit(amount, whale, whale, sender=whale)
    settle(short)
    name, figure = SEAMLESS["rebalance"]
    move(26_400)  # -12%: long 3x -> ~4.1x, short 3x -> ~1.9x
    _require_action(long, Action.REBALANCE, "a band rebalance")
    rows.append(Measurement("rebalance (money market)", "band, long 4.1x -> 3x (sells BTC, repays) (perpetual venue "
                            f"{seen('rebalance', 'band, long')}; Seamless {figure:,}, {name})",
                            long.rebalance(sender=keeper).gas_used))
    _require_action(short, Action.REBALANCE, "a band rebalance")
    rows.append(Measurement("rebalance (money market)", "band, short 1.9x -> 3x (borrows BTC, sells it) (perpetual "
                            f"venue {seen('rebalance', 'band, short')})", short.rebalance(sender=keeper).gas_used))
    move(30_624)  # +16%: short 3x -> ~6.7x, past its ripcord
    _require_action(short, Action.RIPCORD, "a ripcord")
    rows.append(Measurement("ripcord (money market)", "short 6.7x -> 3x, bounty to caller (perpetual venue "
                            f"{seen('ripcord', 'short')})", short.ripcord(sender=stranger).gas_used))
    return rows


def size_rows() -> list[Measurement]:
    """The deployed contracts' room under EIP-170 and the factory's under EIP-3860, bytes, and the optimizer's
    runs, against the targets levtoken.code_size states."""
    rows = []
    for size in code_sizes(DEPLOYED):
        room = TOKEN_ROOM if size.name == "LeveragedToken" else MARGIN
        rows.append(Measurement("code size", f"{size.name} runtime, {size.runtime:,} B: room under EIP-170 "
                                             f"({RUNTIME_LIMIT:,} B)", size.runtime_room, min_value=room))
        if size.name == "LeveragedTokenFactory":
            rows.append(Measurement("code size", f"{size.name} init code, {size.initcode:,} B: room under EIP-3860 "
                                                 f"({INITCODE_LIMIT:,} B)", size.initcode_room, min_value=FACTORY_INIT_ROOM))
    rows.append(Measurement("compiler", "optimizer runs", project.config.solidity.optimization_runs, min_value=200))
    return rows


def gas_table() -> list[Measurement]:
    """Deploys the protocol and the OpenZeppelin references on a fresh local anvil chain (or on the
    chain ape is connected to) and measures the gas of each benchmarked operation; the code-size rows follow."""
    if networks.active_provider is not None and networks.active_provider.is_connected:
        rows = _measure()
        return rows + _measure_money_market(rows) + size_rows()
    with networks.parse_network_choice(NETWORK):
        rows = _measure()
        return rows + _measure_money_market(rows) + size_rows()


def _fmt(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _cells(row: Measurement) -> list[str]:
    ratio = f"{row.ratio:.3f}" if row.ratio is not None else "-"
    result = {True: "pass", False: "FAIL", None: ""}[row.passed]
    return [row.operation, row.case, _fmt(row.ours), _fmt(row.oz), ratio, row.target, result]


HEADERS = ["Operation", "Case", "levtoken", "OpenZeppelin", "Ratio", "Target", "Result"]


def to_markdown(rows: list[Measurement]) -> str:
    """The results as a Markdown page."""
    compiler = project.config.solidity
    lines = [
        "# Gas benchmarks",
        "",
        "Gas used per transaction (`receipt.gas_used`, including the 21,000 base and calldata) on a fresh local",
        f"anvil chain with one block every {BLOCK_SECONDS} s (so each transaction accrues fees and funding), solc {compiler.version} with the optimizer at runs = {compiler.optimization_runs}, EVM {compiler.evm_version}. Tokens are EIP-1167 clones of one implementation that delegates settlement and rebalancing to one shared logic contract, so every call to a token pays a cold DELEGATECALL into the implementation (2,600 gas) and every keeper call a second into the logic.",
        "OpenZeppelin columns: `contracts/benchmarks/OZReferenceToken.sol` (ERC20 + ERC20Permit) for transfer,",
        "approve and permit, `contracts/benchmarks/OZReferenceVault.sol` (ERC4626, same 12-decimal share offset)",
        "for deposit, mint and redeem. Entry and exit are now a request, a share of one settlement and a claim; the per-holder rows add them up for a settlement of 10 requests against OpenZeppelin's one-step vault. The code-size rows give the bytes each deployed contract has left under its limit (EIP-170 for runtime code, EIP-3860 for init code). Regenerate with `make bench`.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "| " + " | ".join(["---", "---", "---:", "---:", "---:", "---", "---"]) + " |",
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    failed = [row for row in rows if row.passed is False]
    lines += ["", f"Targets: {sum(row.passed is True for row in rows)} met, {len(failed)} missed."]
    return "\n".join(lines) + "\n"


def to_rich(rows: list[Measurement]) -> Table:
    """The results as a rich table."""
    table = Table(title="Gas benchmarks (levtoken vs OpenZeppelin)")
    for header in HEADERS:
        table.add_column(header, justify="right" if header in ("levtoken", "OpenZeppelin", "Ratio") else "left")
    for row in rows:
        cells = _cells(row)
        style = {True: "green", False: "bold red", None: ""}[row.passed]
        cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
        table.add_row(*cells)
    return table
