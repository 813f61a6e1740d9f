"""The replay's throughput over the hourly year beside the raw ceiling of the node it runs on (an anvil of the
demo's kind, `levtoken.node.own_node`)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ape import accounts

from levtoken.bench.model import MODEL_REPEATS, MODEL_SERIES, ModelRun, model_replay
from levtoken.demo import DEMO_DEPOSITS
from levtoken.deploy_config import DEFAULT_CONFIG, DeployConfig
from levtoken.prices import load_prices, parse_date

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
