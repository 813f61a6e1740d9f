"""Replay of a short real slice (2020-03-09 .. 2020-03-16, with the -37% day), and the report's
numbers checked against the chain."""

import csv
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from levtoken.node import free_port
from levtoken.deploy_config import DeployConfig
from levtoken.deployment import deploy, mint_for
from levtoken.prices import DAILY_CSV, load_prices, parse_date
from levtoken.replay.replayer import Replayer, ReplayStartError
from levtoken.report import summarize, write_chart, write_csv, write_markdown
from levtoken.shapes import Action, Reason, Settlement
from levtoken.units import WAD, to_units
from tests.utils.cli import user_env


@pytest.fixture(scope="module")
def crash(accounts, tmp_path_factory):
    """Deploys, mints, replays the March 2020 crash week; returns (record, result, replayer)."""
    gov, liquidator = accounts[0], accounts[9]
    record = deploy(DeployConfig.load("config/local.toml"), gov, tmp_path_factory.mktemp("r") / "rec.json", log=lambda m: None)
    points = load_prices(DAILY_CSV, parse_date("2020-03-09"), parse_date("2020-03-16"))
    replayer = Replayer(record, "BTC", gov, liquidator=liquidator, check_model=True)
    replayer.push_price(points[0].close)
    mint_for(record, [(accounts[1], "BTC3L", to_units(10_000)), (accounts[2], "BTC3S", to_units(10_000)), (accounts[3], "BTC1S", to_units(5_000))])
    return record, replayer.run(points), replayer


def test_run__one_step_per_row__chain_time_follows_the_data(crash):
    _, result, _ = crash
    assert len(result.steps) == 8
    gaps = [b.chain_timestamp - a.chain_timestamp for a, b in zip(result.steps, result.steps[1:])]
    assert gaps == [86_400] * 7
    assert [float(s.price) for s in result.steps][3] < float(result.steps[2].price) * 0.65  # 2020-03-12


def test_run__gap_day__3x_long_is_wiped_out_and_shorts_gain(crash):
    record, result, _ = crash
    before, after = result.steps[2].tokens, result.steps[3].tokens
    assert before["BTC3L"].nav > 0 and after["BTC3L"].nav == 0
    assert after["BTC3L"].liquidated
    assert after["BTC3S"].nav > before["BTC3S"].nav * 2
    assert record.token("BTC3L").rebalanceStatus().action == Action.NONE  # nothing left to rebalance


def test_run__model_beside_the_chain__no_divergence_through_the_crash(crash):
    _, result, replayer = crash
    assert result.model_divergences == []
    assert replayer.shadow.model.tokens  # the model really ran: its 3x long was liquidated too
    long = replayer.shadow.model.tokens[replayer.tokens["BTC3L"].address]
    assert long.equity() <= 0


def test_report__end_figures__match_the_chain(crash, chain):
    record, result, replayer = crash
    summaries = {s.symbol: s for s in summarize(result)}
    for symbol, token in record.token_contracts().items():
        s = summaries[symbol]
        assert s.end_nav == token.navPerToken()
        last = result.steps[-1].tokens[symbol]
        assert last.supply == token.totalSupply()
        assert last.equity == token.equity()
        assert last.leverage == token.leverage()
        assert s.fees_paid == token.balanceOf(replayer.fee_recipient) * token.navPerToken() // WAD
        logs = list(token.Rebalanced.range(result.steps[0].block, chain.blocks.height + 1))
        assert s.rebalances == len(logs)
        assert s.rebalance_cost == sum(log.cost for log in logs)
        venue = record.venue_contract()
        funding = [log for log in venue.FundingSettled.range(result.steps[0].block, chain.blocks.height + 1) if log.account == token.address]
        assert funding and s.funding_paid == sum(log.amount for log in funding)


def test_report__files__written_and_consistent(crash, tmp_path):
    _, result, _ = crash
    summaries = summarize(result)
    write_csv(result, tmp_path / "series.csv")
    write_markdown(result, summaries, tmp_path / "report.md", "crash week")
    write_chart(result, tmp_path / "chart.png", "crash week")
    rows = list(csv.DictReader((tmp_path / "series.csv").open()))
    assert len(rows) == len(result.steps)
    assert rows[3]["date"].startswith("2020-03-12")
    assert "BTC3S (3x short)" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run__with_the_bot_keeper__same_chain_outcome_as_the_fast_keeper(accounts, tmp_path):
    """The production Keeper (what the silverback bot runs) and the replay's fast keeper act on the same
    on-chain decisions, so a replay ends in the same state with either; the lag is measured from events."""
    points = load_prices(DAILY_CSV, parse_date("2024-01-01"), parse_date("2024-01-06"))
    outcomes = []
    for kind in ("fast", "bot"):
        snapshot = accounts[0].provider.snapshot()
        record = deploy(DeployConfig.load("config/local.toml"), accounts[0], tmp_path / f"{kind}.json", log=lambda m: None)
        replayer = Replayer(record, "BTC", accounts[0], keeper=kind)
        replayer.push_price(points[0].close)
        mint_for(record, [(accounts[1], "BTC3L", to_units(10_000)), (accounts[2], "BTC1S", to_units(10_000))])
        result = replayer.run(points)
        outcomes.append([(s.tokens["BTC3L"].nav, s.tokens["BTC1S"].nav, s.tokens["BTC3L"].rebalances) for s in result.steps])
        assert result.actions and all(a.mined_block > a.due_block for a in result.actions)
        mean, worst = result.lag_blocks()
        assert 1 <= mean <= worst
        accounts[0].provider.restore(snapshot)
    assert outcomes[0] == outcomes[1]


def test_run__waiting_requests__settled_by_the_keeper_one_block_after_the_first_price(accounts, tmp_path, chain):
    """Requests waiting when the replay starts qualify at its first round: the keeper settles them in the
    next block, and the records and the report count the settlement and its cost apart from rebalances."""
    holder, redeemer = accounts[1], accounts[2]
    record = deploy(DeployConfig.load("config/local.toml"), accounts[0], tmp_path / "r.json", log=lambda m: None)
    points = load_prices(DAILY_CSV, parse_date("2024-01-01"), parse_date("2024-01-03"))
    replayer = Replayer(record, "BTC", accounts[0])
    replayer.push_price(points[0].close)
    (shares,) = mint_for(record, [(redeemer, "BTC3L", to_units(10_000))])
    token, usd = record.token("BTC3L"), record.collateral_contract()
    usd.mint(holder, to_units(2_000), sender=holder)
    usd.approve(token, to_units(2_000), sender=holder)
    token.requestDeposit(to_units(2_000), holder, holder, sender=holder)
    token.requestRedeem(shares // 2, redeemer, redeemer, sender=redeemer)

    result = replayer.run(points)

    (settle,) = [a for a in result.actions if a.action == Action.SETTLE]
    assert (settle.symbol, settle.reason, settle.label) == ("BTC3L", Reason.REQUESTS, "SETTLE:REQUESTS")
    assert settle.due_block == result.steps[0].block and settle.mined_block == settle.due_block + 1
    assert settle.caller == accounts[0].address
    (event,) = token.Settled.range(result.steps[0].block, chain.blocks.height + 1)
    settlement = Settlement.from_abi(event.settlement)
    assert (settlement.assets, settlement.shares) == (to_units(2_000), shares // 2)
    assert settle.cost == settlement.cost > 0
    first = result.steps[0].tokens["BTC3L"]
    assert (first.settlements, first.settlement_cost) == (1, settlement.cost)
    assert "SETTLE:REQUESTS" in first.actions
    summary = {s.symbol: s for s in summarize(result)}["BTC3L"]
    assert (summary.settlements, summary.settlement_cost) == (1, settlement.cost)
    assert summary.rebalances == len(list(token.Rebalanced.range(result.steps[0].block, chain.blocks.height + 1)))
    assert token.maxDeposit(holder) == to_units(2_000) and token.maxRedeem(redeemer) == shares // 2


def test_preflight__first_price_far_from_the_feed__refused_in_one_line_nothing_sent(accounts, tmp_path, chain):
    """An existing deployment's feed holds its own price: a series starting more than 10% away is refused
    before anything is sent (the first step would move every token by that jump), unless forced."""
    record = deploy(DeployConfig.load("config/local.toml"), accounts[0], tmp_path / "r.json", log=lambda m: None)
    replayer = Replayer(record, "BTC", accounts[0])
    replayer.push_price(Decimal("46000"))
    height = chain.blocks.height
    with pytest.raises(ReplayStartError) as refused:
        replayer.preflight(Decimal("7200"))
    message = str(refused.value)
    assert "\n" not in message and "$46,000.00" in message and "$7,200.00" in message and "-84.3%" in message
    assert "--force" in message
    assert chain.blocks.height == height
    assert replayer.preflight(Decimal("48000")) == [
        f"warning: no one holds {symbol} (supply 0): its NAV follows the market but no holder gains or loses "
        "anything; mint some first to see a holder's result" for symbol in ("BTC3L", "BTC3S", "BTC1S")
    ]
    forced = replayer.preflight(Decimal("7200"), force=True)
    assert forced[0].startswith("warning: the feed's price is $46,000.00") and forced[0].endswith("(--force)")
    assert chain.blocks.height == height


def test_run__on_an_existing_deployment__returns_measured_from_the_state_it_found(accounts, tmp_path):
    """A forced replay from far below the feed's price: the report measures from the NAV and price before the
    first step, so the jump shows as the loss it is (not +0.00% from a NAV already hit)."""
    record = deploy(DeployConfig.load("config/local.toml"), accounts[0], tmp_path / "r.json", log=lambda m: None)
    replayer = Replayer(record, "BTC", accounts[0], liquidator=accounts[9])
    replayer.push_price(Decimal("46000"))
    mint_for(record, [(accounts[1], "BTC1S", to_units(10_000)), (accounts[2], "BTC3S", to_units(10_000))])
    before = {s: record.token(s).navPerToken() for s in ("BTC1S", "BTC3S")}
    points = load_prices(DAILY_CSV, parse_date("2024-01-01"), parse_date("2024-01-04"))  # about $44k
    assert any("tokens outstanding at" in note for note in replayer.preflight(points[0].close))
    result = replayer.run(points)
    assert result.start.price == Decimal("46000") and result.start.tokens["BTC1S"].nav == before["BTC1S"]
    summaries = {s.symbol: s for s in summarize(result)}
    for symbol in ("BTC1S", "BTC3S"):
        s = summaries[symbol]
        assert s.start_nav == before[symbol]
        assert s.underlying_return == pytest.approx(float(points[-1].close / Decimal(46000) - 1))
        assert s.token_return == pytest.approx(s.end_nav / before[symbol] - 1)
    # The first step's move (46k -> 42.3k) made the shorts gain: it is counted.
    first_move = float(points[0].close / Decimal(46000) - 1)
    assert result.steps[0].tokens["BTC3S"].nav > before["BTC3S"] * (1 - 2.5 * first_move)


@pytest.fixture
def node_url():
    """An anvil of the test's own on a free port (what `levtoken node` runs)."""
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "anvil"), "--port", str(port), "--silent"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not Web3(Web3.HTTPProvider(url)).is_connected():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_replay_command__far_from_the_feed__one_line_and_exit_1__force_replays_and_warns(node_url, tmp_path):
    """`levtoken replay` on a fresh deployment (feed at the config's $30,000) of a period starting near $44k:
    refused in one line, nothing sent; with --force it says what it does (the jump, no holders) and reports."""
    levtoken = str(Path(sys.executable).parent / "levtoken")
    env = user_env(LEVTOKEN_NETWORK=node_url, LEVTOKEN_RECORD=str(tmp_path / "r.json"))
    run = lambda *args: subprocess.run([levtoken, *args], capture_output=True, text=True, env=env, timeout=300)  # noqa: E731
    assert run("deploy").returncode == 0
    w3 = Web3(Web3.HTTPProvider(node_url))
    height = w3.eth.block_number
    refused = run("replay", "--start", "2024-01-01", "--end", "2024-01-04", "--out", str(tmp_path / "out"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "Error: the feed's price is $30,000.00 and the series starts at $44,220.78 (+47.4%); the first step would "
        "move every token by that jump: choose a period starting within 10% of the feed's price, or pass --force "
        "to replay it anyway"
    ]
    assert w3.eth.block_number == height and not (tmp_path / "out").exists()
    forced = run("replay", "--start", "2024-01-01", "--end", "2024-01-04", "--out", str(tmp_path / "out"), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "warning: the feed's price is $30,000.00" in forced.stdout and "(--force)" in forced.stdout
    assert "warning: no one holds BTC3L (supply 0)" in forced.stdout
    assert "compounding" in (tmp_path / "out" / "report.md").read_text()
