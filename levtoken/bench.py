"""Benchmarks: the gas of each user, keeper and owner action beside a plain OpenZeppelin baseline, the
reference model's throughput (token-steps per second) over real price series, and the replay's beside the
raw ceiling of the node it runs on.

Everything runs on a fresh local anvil chain: the protocol is deployed from config/local.toml, and an
OpenZeppelin ERC20 + ERC20Permit token and ERC4626 vault (contracts/benchmarks/) are deployed beside it,
so both sides run on the same chain, compiler settings and hardfork. Each case says which storage it
touches for the first time: a first write of a balance, allowance or nonce costs 20,000 gas more than a
later one, so warm cases (accounts that already hold balances) are the fair comparison and the first-
time figures are listed as well.

The model's throughput needs no chain: `python -m levtoken.bench --model-only` measures it alone and
rewrites only its section of benchmarks/results.md. The replay's throughput runs on an anvil of the demo's
kind (`levtoken.node.own_node`) beside that node's raw ceiling; `--replay-only` measures it alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ape import accounts, chain, networks, project
from rich.console import Console
from rich.table import Table

from levtoken.code_size import DEPLOYED, FACTORY_INIT_ROOM, INITCODE_LIMIT, MARGIN, RUNTIME_LIMIT, TOKEN_ROOM, code_sizes
from levtoken.demo import DEMO_DEPOSITS
from levtoken.deployment import DEFAULT_CONFIG, DeployConfig, deploy
from levtoken.model import Revert, default_params, standard_model
from levtoken.permit import sign_permit
from levtoken.prices import DAILY_CSV, HOURLY_CSV, load_prices, parse_date
from levtoken.shapes import Action, Params
from levtoken.units import DAY, WAD, to_feed, to_units, to_wad

NETWORK = "ethereum:local:foundry"
DEFAULT_OUT = Path("benchmarks/results.md")
MAX_UINT = 2**256 - 1
BLOCK_SECONDS = 12

# Targets: each a limit on our gas, or on our gas over OpenZeppelin's.
TRANSFER_MAX_RATIO = 1.05
ENTRY_EXIT_MAX_GAS = 200_000
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

    # Settlements of N mixed requests: half deposits (the whale requesting for N/2 controllers), half
    # redemptions (the whale's shares, for N/2 other controllers).
    per_request: dict[int, int] = {}
    for count in SETTLEMENT_SIZES:
        for index in range(count // 2):
            long.requestDeposit(to_units(1_000), _controller(count, index, "d"), whale, sender=whale)
            long.requestRedeem(long.balanceOf(whale) // 200, _controller(count, index, "r"), whale, sender=whale)
        (gas,) = settle(long)
        per_request[count] = gas // count
        rows.append(Measurement("settle", f"{count} mixed requests ({count // 2} deposits, {count // 2} redemptions): "
                                          f"{gas // count:,} per request", gas))

    # Entry and exit per holder in a settlement of 10, against OpenZeppelin's one-step deposit and redeem.
    rows.append(Measurement("entry per holder", "requestDeposit (warm) + settlement of 10 / 10 + deposit claim (warm)",
                            warm_request + per_request[10] + warm_claim, warm_oz, max_gas=ENTRY_EXIT_MAX_GAS))

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
                            redeem_request + per_request[10] + redeemed, partial_oz, max_gas=ENTRY_EXIT_MAX_GAS))
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
    created = factory.createToken(spec, sender=gov).gas_used
    rows.append(Measurement("createToken", "BTC 2x long (a clone of the implementation, initialized)", created,
                            max_gas=CREATE_TOKEN_MAX_GAS))
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
        return _measure() + size_rows()
    with networks.parse_network_choice(NETWORK):
        return _measure() + size_rows()


# --- Reference model throughput -------------------------------------------------------------------

# (label, file, first date, last date): the series the model replays.
MODEL_SERIES = (
    ("BTC/USDT perpetual, hourly, 2023-04-18 to 2024-04-18", HOURLY_CSV, "2023-04-18", "2024-04-18"),
    ("BTC/USD, daily, 2020-09-24 to 2025-09-24", DAILY_CSV, "2020-09-24", "2025-09-24"),
)
MODEL_REPEATS = 3  # each series is replayed this many times and the fastest run counts
MODEL_TOKENS = (3, -3, -1)  # BTC 3x long, 3x short, 1x short
MODEL_POOL_SEED = to_units(10_000_000)
# (holder, token index, deposit in USD): the demo's four holders, depositing at the start.
MODEL_HOLDERS = (("holder0", 0, 100_000), ("holder1", 1, 50_000), ("holder2", 2, 25_000), ("holder3", 0, 10_000))
MODEL_MAX_ACTIONS = 64  # rebalance calls per token and price, at most (a capped rebalance iterates)
MODEL_SECTION = "Reference model throughput"


@dataclass
class ModelRun:
    """One replay of a price series through the reference model alone."""

    series: str
    prices: int
    tokens: int
    seconds: float
    actions: int
    liquidations: int
    reverts: int

    @property
    def token_steps(self) -> int:
        """Prices x tokens."""
        return self.prices * self.tokens

    @property
    def per_second(self) -> float:
        """Token-steps per second."""
        return self.token_steps / self.seconds


def model_replay(label: str, path: Path | str, first: str, last: str) -> ModelRun:
    """Replays `path` between `first` and `last` through the reference model alone: one market with the
    default config, a 10M pool, the three tokens of MODEL_TOKENS with the factory's default parameters
    and holders depositing at the start (request, settlement at the next second's round, claim); at each price the time moves and the price is published, each
    token acts while rebalanceStatus says something is due (ripcord() for RIPCORD, else rebalance()),
    and the venue's account of a token is liquidated when the venue says it can be."""
    points = load_prices(path, parse_date(first), parse_date(last))
    answers = [to_feed(p.close) for p in points]
    model = standard_model(answers[0] * 10**10, now=points[0].timestamp - 2, pool_seed=MODEL_POOL_SEED)
    tokens = []
    for i, leverage in enumerate(MODEL_TOKENS):
        target = leverage * WAD
        tokens.append(model.add_token(f"token{i}", 1, target, default_params(target, "fees")))
    for holder, index, usd in MODEL_HOLDERS:
        model.collateral.mint(holder, to_units(usd))
        tokens[index].request_deposit(holder, to_units(usd), holder, holder)
    # A round one second later qualifies the requests; the keeper settles, the holders claim.
    model.set_time(points[0].timestamp - 1)
    model.set_answer(answers[0])
    for token in tokens:
        token.settle("keeper")
    for holder, index, usd in MODEL_HOLDERS:
        tokens[index].deposit(holder, to_units(usd), holder)
    venue = model.venue
    actions = liquidations = reverts = 0

    started = time.process_time()
    for point, answer in zip(points, answers):
        model.set_time(point.timestamp)
        model.set_answer(answer)
        for token in tokens:
            for _ in range(MODEL_MAX_ACTIONS):
                status = token.rebalance_status()
                if status.action == Action.NONE:
                    break
                try:
                    if status.action == Action.RIPCORD:
                        token.ripcord("keeper")
                    elif status.action == Action.SETTLE:
                        token.settle("keeper")
                    else:
                        token.rebalance("keeper")
                except Revert:
                    reverts += 1
                    break
                actions += 1
            if venue.is_liquidatable(1, token.address):
                venue.liquidate("liquidator", 1, token.address)
                liquidations += 1
    seconds = time.process_time() - started
    return ModelRun(label, len(points), len(tokens), seconds, actions, liquidations, reverts)


def model_throughput(repeats: int = MODEL_REPEATS) -> list[ModelRun]:
    """The reference model's throughput over each series of MODEL_SERIES: the fastest of `repeats` runs
    (CPU time, so other work on the machine counts as little as it can)."""
    return [min((model_replay(*series) for _ in range(repeats)), key=lambda run: run.seconds) for series in MODEL_SERIES]


def model_total(runs: list[ModelRun]) -> ModelRun:
    """All series together."""
    return ModelRun(
        "all series", sum(r.prices for r in runs), runs[0].tokens if runs else 0, sum(r.seconds for r in runs),
        sum(r.actions for r in runs), sum(r.liquidations for r in runs), sum(r.reverts for r in runs),
    )


def model_markdown(runs: list[ModelRun]) -> str:
    """The model's throughput as a Markdown section."""
    lines = [
        f"## {MODEL_SECTION}",
        "",
        "The Python reference model (`levtoken.model`) alone, no chain: BTC 3x long, 3x short and 1x short with",
        "the factory's default parameters on a market with the default config and a 10M USD pool, four holders",
        "depositing at the start; at each price the time moves, the price is published, each token rebalances",
        "(or pulls the ripcord) while something is due and is liquidated when the venue says so.",
        f"Token-steps = prices x tokens; seconds of CPU time, the fastest of {MODEL_REPEATS} runs. Regenerate with",
        "`make bench`, or this section alone with `python -m levtoken.bench --model-only`.",
        "",
        "| Series | Prices | Token-steps | Keeper actions | Liquidations | CPU seconds | Token-steps / s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in [*runs, model_total(runs)]:
        lines.append(
            f"| {run.series} | {run.prices:,} | {run.token_steps:,} | {run.actions:,} | {run.liquidations:,} | "
            f"{run.seconds:.2f} | {run.per_second:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def write_section(path: Path | str, title: str, body: str) -> None:
    """Replaces the `## title` section of the Markdown file at `path` by `body` (appended when absent),
    leaving the rest of the file as it is."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    heading = f"## {title}"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + ("\n\n" if text else "") + body
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + body + ("\n" + text[end + 1:] if end != -1 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def print_model(runs: list[ModelRun], console: Console) -> None:
    """Prints the model's throughput as a rich table."""
    table = Table(title="Reference model throughput (token-steps per second)")
    for header in ("Series", "Prices", "Token-steps", "CPU seconds", "Token-steps / s"):
        table.add_column(header, justify="left" if header == "Series" else "right")
    for run in [*runs, model_total(runs)]:
        table.add_row(run.series, f"{run.prices:,}", f"{run.token_steps:,}", f"{run.seconds:.2f}", f"{run.per_second:,.0f}")
    console.print(table)


# --- Replay throughput against the raw ceiling of the same node ------------------------------------

REPLAY_SERIES = MODEL_SERIES[0]  # the hourly year, as the model replays it
CEILING_COUNT = 2_000  # transactions, and calls, sent one at a time for the ceiling
REPLAY_SECTION = "Replay throughput"
# The demo's first three holders, one per token: the fourth (a second holder of BTC3L) leaves one share of
# rounding dust in the token after the claims, and the model's chain reader refuses a token holding shares.
REPLAY_DEPOSITS = DEMO_DEPOSITS[:3]
REPLAY_MIN_FRACTION = 0.12  # of the raw transaction ceiling, in prices per second
REPLAY_MIN_PRICES = 50  # prices per second
CHECK_MODEL_MAX_COST = 0.25  # extra time --check-model may add
MODEL_MIN_STEPS = 20_000  # token-steps per second of the model alone


@dataclass
class ReplayBench:
    """One run of the replay benchmark: the node's ceiling, the replay plain and with the model check, and the
    model alone, on the same series."""

    ceilings: tuple[tuple[float, float], tuple[float, float]]  # (tx/s, calls/s) before the replay and after it
    prices: int
    tokens: int
    seconds: float  # the replay alone (no deployment), wall clock
    seconds_checked: float  # the same with --check-model
    waited: float  # of `seconds`, the time spent waiting for the node's answers
    actions: int
    model: ModelRun

    def rate(self, seconds: float) -> float:
        """Prices per second over `seconds`."""
        return self.prices / seconds

    @property
    def tx_per_s(self) -> float:
        """The transaction ceiling over the states the replay runs through: the harmonic mean of the ceilings
        before and after it (a node's time per block grows with its state, so the replay's average time per
        transaction lies between the two; this rate is the inverse of their mean)."""
        (before, _), (after, _) = self.ceilings
        return 2 / (1 / before + 1 / after)


def _ceiling(rpc, contract, sender: str, receiver: str, count: int = CEILING_COUNT) -> tuple[float, float]:
    """Plain transactions and calls per second, one request at a time, as the replay sends them."""
    started = time.perf_counter()
    for _ in range(count):
        rpc.request("eth_sendTransactionSync", [{"from": sender, "to": receiver, "value": "0x1"}], retry=False)
    tx_rate = count / (time.perf_counter() - started)
    call = contract.call("latestRoundData")
    started = time.perf_counter()
    for _ in range(count):
        rpc.call(call)
    return tx_rate, count / (time.perf_counter() - started)


def replay_bench(series: tuple = REPLAY_SERIES) -> ReplayBench:
    """On one fresh node of the demo's kind: the demo's deployment and holders, the raw ceiling, then the replay
    of `series` with the fast keeper, plain and with the model check (each from the same snapshot), and the
    model alone on the same series."""
    from levtoken.demo import demo_replayer
    from levtoken.node import own_node
    from levtoken.replay.replayer import Replayer

    label, path, first, last = series
    points = load_prices(path, parse_date(first), parse_date(last))
    with own_node(), tempfile.TemporaryDirectory() as tmp:
        replayer = demo_replayer(DeployConfig.load(DEFAULT_CONFIG), points, Path(tmp) / "deployment.json",
                                 deposits=REPLAY_DEPOSITS)
        rpc, test = replayer.rpc, accounts.test_accounts
        snapshot = rpc.request("evm_snapshot", [])
        ceiling = lambda: _ceiling(rpc, replayer.feed, test[8].address, test[7].address)  # noqa: E731
        ceilings, timings, waits, actions = [ceiling()], [], [], []
        for check_model in (False, True):
            rpc.request("evm_revert", [snapshot])
            snapshot = rpc.request("evm_snapshot", [])
            run = Replayer(replayer.deployment, replayer.market, test[0], liquidator=test[9], check_model=check_model)
            started, waited = time.perf_counter(), run.rpc.waited
            result = run.run(points)
            timings.append(time.perf_counter() - started)
            waits.append(run.rpc.waited - waited)
            actions.append(len(result.actions))
            assert not result.model_divergences, f"the model diverged: {result.model_divergences[:3]}"
            if not check_model:
                ceilings.append(ceiling())  # on the state the replay ends in
    assert actions[0] == actions[1], f"the two replays from one snapshot differ: {actions} keeper transactions"
    model = min((model_replay(*series) for _ in range(MODEL_REPEATS)), key=lambda r: r.seconds)
    return ReplayBench(tuple(ceilings), len(points), len(replayer.tokens), timings[0], timings[1], waits[0], actions[0],
                       model)


def replay_markdown(bench: ReplayBench) -> str:
    """The replay's throughput beside the node's ceiling and the model alone, as a Markdown section."""
    plain, checked = bench.rate(bench.seconds), bench.rate(bench.seconds_checked)
    fraction, extra = plain / bench.tx_per_s, bench.seconds_checked / bench.seconds - 1
    fresh_fraction = plain / bench.ceilings[0][0]
    verdict = lambda ok: "pass" if ok else "FAIL"  # noqa: E731
    (tx_before, call_before), (tx_after, call_after) = bench.ceilings
    rows = [
        ("raw ceiling before the replay: plain transactions, one at a time", f"{tx_before:,.0f} tx/s", "", "", ""),
        ("raw ceiling after the replay: plain transactions, one at a time", f"{tx_after:,.0f} tx/s", "", "", ""),
        ("raw ceiling over the replay (harmonic mean of the two)", f"{bench.tx_per_s:,.0f} tx/s", "", "", ""),
        ("raw ceiling before / after the replay: eth_call, one at a time",
         f"{call_before:,.0f} / {call_after:,.0f} calls/s", "", "", ""),
        ("replay, fast keeper", f"{plain:,.0f} prices/s", f"{plain * bench.tokens:,.0f} token-steps/s",
         f">= {REPLAY_MIN_FRACTION:.0%} of the tx ceiling over the replay and >= {REPLAY_MIN_PRICES} prices/s: "
         f"{fraction:.1%} ({fresh_fraction:.1%} of the ceiling before it)",
         verdict(fraction >= REPLAY_MIN_FRACTION and plain >= REPLAY_MIN_PRICES)),
        ("replay, fast keeper: time waiting for the node's answers", f"{bench.waited / bench.seconds:.0%} of its time",
         "", "", ""),
        ("replay with --check-model", f"{checked:,.0f} prices/s", f"{checked * bench.tokens:,.0f} token-steps/s",
         f"<= +{CHECK_MODEL_MAX_COST:.0%} time: {extra:+.0%}", verdict(extra <= CHECK_MODEL_MAX_COST)),
        ("reference model alone (CPU)", f"{bench.model.prices / bench.model.seconds:,.0f} prices/s",
         f"{bench.model.per_second:,.0f} token-steps/s", f">= {MODEL_MIN_STEPS:,} token-steps/s",
         verdict(bench.model.per_second >= MODEL_MIN_STEPS)),
    ]
    lines = [
        f"## {REPLAY_SECTION}",
        "",
        f"{REPLAY_SERIES[0]}: {bench.prices:,} prices, {bench.tokens} tokens (BTC 3x long, 3x short, 1x short,",
        "the demo's deployment and its first three holders, one per token), measured in one run on one fresh anvil",
        "of the demo's kind (quiet, no step traces). The ceiling is what that node accepts one request at a time",
        f"({CEILING_COUNT:,} ETH transfers, each answered once mined; {CEILING_COUNT:,} eth_calls of a view), measured on",
        "the deployment before the replay and again on the state the replay ends in. The node's time per block",
        "grows with the storage the chain holds (each price the feed keeps is one slot more), so the replay runs",
        "across that range; its fraction is its prices per second over the harmonic mean of the two transaction",
        "ceilings (the inverse of the mean time per transaction), with its fraction of the ceiling before it",
        f"beside. The replays start from the same snapshot (wall clock, deployment excluded; {bench.actions:,} keeper",
        "transactions); the time waiting for the node is the replay's time from sending each request to its",
        f"answer. The model alone is its fastest of {MODEL_REPEATS} runs in CPU time. Regenerate with `make bench`, or",
        "this section alone with `python -m levtoken.bench --replay-only` (from the project's folder).",
        "",
        "| Row | Rate | Token-steps / s | Target | Result |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines) + "\n"


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
        table.add_column(header, justify="right" if "gas" in header or header == "Ratio" else "left")
    for row in rows:
        cells = _cells(row)
        style = {True: "green", False: "bold red", None: ""}[row.passed]
        cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
        table.add_row(*cells)
    return table


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=160)


def main(out_path: Path | str = DEFAULT_OUT, model_only: bool = False, replay_only: bool = False) -> list[Measurement]:
    """Measures the gas table, the model's throughput and the replay's (only the model's with `model_only`, only
    the replay's with `replay_only`), writes them to `out_path` (only the sections measured) and prints them."""
    console = _console()
    out_path = Path(out_path)
    rows: list[Measurement] = []
    if not (model_only or replay_only):  # the gas table heads the file: it is written whole, the sections after it
        rows = gas_table()
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(to_markdown(rows))
        console.print(to_rich(rows))
    if not model_only:
        body = replay_markdown(replay_bench())
        write_section(out_path, REPLAY_SECTION, body)
        console.print(body)
        if replay_only:
            return rows
    runs = model_throughput()
    write_section(out_path, MODEL_SECTION, model_markdown(runs))
    print_model(runs, console)
    console.print(f"written to {out_path}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-only", action="store_true", help="only the reference model's throughput (no chain)")
    parser.add_argument("--replay-only", action="store_true", help="only the replay's throughput (its own node)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the Markdown file to write")
    arguments = parser.parse_args()
    main(arguments.out, model_only=arguments.model_only, replay_only=arguments.replay_only)
