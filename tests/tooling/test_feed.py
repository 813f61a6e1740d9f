"""`levtoken feed`: a local chain's prices, one round at a time or pushed at an interval, on the module's node."""

from __future__ import annotations

import json
import signal
from decimal import Decimal

from ape import project

from levtoken.pusher import walk
from tests.utils.cli import invoke, running, wait_for


def feed_of(node, record):
    """The deployment's BTC PriceFeed, read with web3."""
    return node.contract(json.loads(record.read_text())["feeds"]["BTC"], project.PriceFeed.contract_type)


def test_publish__without_a_price__the_latest_answer_as_a_newer_round__with_one__that_price(node, deployed):
    feed = feed_of(node, deployed)
    round_id, answer, *_ = feed.functions.latestRoundData().call()
    again = invoke(node, deployed, "levtoken feed publish")
    assert again.returncode == 0, again.stderr
    assert feed.functions.latestRoundData().call()[:2] == [round_id + 1, answer]
    assert again.stdout.startswith(f"BTC / USD {Decimal(answer) / 10**8:,.2f} in block ")
    priced = invoke(node, deployed, "levtoken feed publish 31,250.5")
    assert priced.returncode == 0, priced.stderr
    assert feed.functions.latestRoundData().call()[:2] == [round_id + 2, 3_125_050_000_000]


def test_push__csv__the_files_moves_rebased_to_the_feeds_price__then_stops(node, deployed, written):
    feed = feed_of(node, deployed)
    start = Decimal(feed.functions.latestRoundData().call()[1]) / 10**8
    prices = written("moves.csv", "date,close\n2024-01-01,100\n2024-01-02,110\n2024-01-03,99\n")
    pushed = invoke(node, deployed, f"levtoken feed push --csv {prices} --interval 1")
    assert pushed.returncode == 0, pushed.stderr
    lines = pushed.stdout.splitlines()
    expected = [start * Decimal("1.1"), start * Decimal("0.99")]
    assert lines[0] == f"pushing BTC prices every 1 s from {start:,.2f}: the moves of {prices} (Ctrl-C stops)"
    assert [line.split(" in block")[0] for line in lines[1:3]] == [f"BTC / USD {p:,.2f}" for p in expected]
    assert lines[3] == f"pushed 2 prices: the end of {prices}"
    assert Decimal(feed.functions.latestRoundData().call()[1]) == expected[1] * 10**8


def test_push__walk__a_new_round_each_interval_until_ctrl_c(node, deployed):
    """The README's pusher in the background: rounds arrive one interval apart, each the seeded walk's next
    price; Ctrl-C stops it with exit 0."""
    feed = feed_of(node, deployed)
    first_round, answer, *_ = feed.functions.latestRoundData().call()
    log = node.tmp / "pusher.log"
    with running("levtoken feed push --interval 1 --seed 7", node.env(deployed), log) as pusher:
        wait_for(lambda: feed.functions.latestRoundData().call()[0] >= first_round + 3, 30, log.read_text())
        pusher.send_signal(signal.SIGINT)
        assert pusher.wait(timeout=30) == 0, log.read_text()
    last_round = feed.functions.latestRoundData().call()[0]
    expected = walk(Decimal(answer) / 10**8, 0.8, 1.0, seed=7)
    for round_id in range(first_round + 1, last_round + 1):
        assert feed.functions.getRoundData(round_id).call()[1] == int(next(expected) * 10**8)
    assert "Traceback" not in log.read_text()


def test_waiting_request__says_why__until_a_round_qualifies_it(node, deployed):
    """A mint with no round after it: `levtoken requests` says it waits for one and how to publish one on this
    chain; a plain `mint` that waits says so while it waits and in its error when it gives up; once a round is
    published, the request is said to be qualified and waiting for a keeper."""
    asked = invoke(node, deployed, "levtoken mint BTC3L 10 --no-wait --account test:4")
    assert asked.returncode == 0, asked.stderr
    shown = invoke(node, deployed, "levtoken requests BTC3L --account test:4")
    assert "pending: waits for a price round newer than the request (" in shown.stdout
    assert "on this local chain nothing else publishes one: `levtoken feed publish`" in shown.stdout
    waited = invoke(node, deployed, "levtoken mint BTC3L 10 --account test:4 --timeout 7")
    assert waited.returncode == 1
    assert "still waiting: waits for a price round newer than the request" in waited.stdout
    assert waited.stderr.startswith("Error: no settlement within 7 s: waits for a price round newer")
    assert invoke(node, deployed, "levtoken feed publish").returncode == 0
    qualified = invoke(node, deployed, "levtoken requests BTC3L --account test:4")
    assert "qualifies it; a keeper's settle() prices it" in qualified.stdout
    assert "a settlement is due now at the round of " in qualified.stdout


def test_mint__feed_stale_now__the_request_is_taken_and_waits_for_the_next_round(node, deployed):
    """Three days without a price (past the 2-day heartbeat): the venue has no price to judge a deposit by, so the
    up-front check stops nothing; the request waits, and the next round prices it."""
    head = node.w3.eth.get_block("latest")["timestamp"]
    node.w3.provider.make_request("evm_mine", [head + 3 * 86_400])
    asked = invoke(node, deployed, "levtoken mint BTC3S 10 --no-wait --account test:6")
    assert asked.returncode == 0, asked.stderr
    assert invoke(node, deployed, "levtoken feed publish").returncode == 0
    assert "qualifies it" in invoke(node, deployed, "levtoken requests BTC3S --account test:6").stdout
