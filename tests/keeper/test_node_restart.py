"""The node goes away under the keeper and comes back: the keeper logs, backs off and resumes."""

from __future__ import annotations

import logging
import time

from ape import accounts, chain

from levtoken.keeper import Keeper
from levtoken.shapes import Action
from levtoken.units import WAD, to_feed


def test_node_restart__keeper_backs_off_then_resumes(own_node, tmp_path, caplog):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    with own_node.connected():
        record = own_node.deploy(tmp_path / "record.json")
        token = record.token("BTC3L")
        bot = Keeper(record.token_contracts(), accounts.test_accounts[1], backoff_initial=0.3)
        bot.on_block(chain.blocks.height)
        assert (bot.metrics.checks, bot.metrics.sent, bot.metrics.node_errors) == (3, 0, 0)
        height = chain.blocks.height

        own_node.stop()
        bot.on_block(height + 1)  # does not raise
        assert bot.metrics.node_errors == 1
        bot.on_block(height + 2)  # inside the back-off: not even tried
        assert bot.metrics.node_errors == 1
        time.sleep(0.35)
        bot.on_block(height + 3)  # still down: the back-off doubles
        assert bot.metrics.node_errors == 2
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2 and "node unreachable" in warnings[0]
        assert "backing off 0.3s" in warnings[0] and "backing off 0.6s" in warnings[1]

        own_node.start()  # same port, same chain state
        record.feed_contract("BTC").submit(to_feed(26_000), sender=accounts.test_accounts[0])
        assert token.rebalanceStatus().action == Action.REBALANCE
        bot.on_block(chain.blocks.height)
        assert bot.metrics.sent == 0  # the back-off (0.6 s) is not over yet
        time.sleep(0.65)
        bot.on_block(chain.blocks.height)

        assert (bot.metrics.rebalances, bot.metrics.node_errors, bot.metrics.failures) == (1, 2, 0)
        assert abs(token.leverage() - 3 * WAD) < WAD // 100
        assert any("answering again" in r.getMessage() for r in caplog.records)
