"""Keeper behaviour on the session's anvil chain with the real contracts: when it sends, what it sends
(settlements of waiting requests included), pending and dropped transactions, failures of one token, metrics."""

from __future__ import annotations

import logging

from levtoken.keeper import GWEI, method_for
from levtoken.shapes import Action, Reason, Settlement, Status
from levtoken.units import DAY, WAD, to_units, to_wad
from tests.utils.chain import advance, head_time


def keeper_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "levtoken.keeper"]


def near(value, target, tolerance=to_wad("0.01")):
    return abs(value - target) <= tolerance


def test_on_block__nothing_due__sends_nothing(funded_token, make_keeper, keeper, set_price, chain):
    token = funded_token(3)
    set_price(30_300)  # +1%: 3x drifts to about 2.94x, inside the band, interval not over
    assert token.rebalanceStatus().action == Action.NONE
    bot = make_keeper(token)
    nonce = keeper.nonce

    for _ in range(3):
        bot.on_block(chain.blocks.height)
        chain.mine()

    assert keeper.nonce == nonce
    m = bot.metrics
    assert (m.blocks, m.checks, m.due, m.sent, m.failures) == (3, 3, 0, 0, 0)


def test_on_block__band__rebalances_once(funded_token, make_keeper, set_price, chain, caplog):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    token = funded_token(3)
    set_price(26_000)  # -13.3%: 3x becomes about 4.3x, above the 4x band edge
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.BAND)
    bot = make_keeper(token)
    block = chain.blocks.height

    bot.on_block(block)

    assert near(token.leverage(), 3 * WAD)
    assert token.rebalanceStatus().action == Action.NONE
    m = bot.metrics
    assert (m.sent, m.rebalances, m.ripcords, m.failures) == (1, 1, 0, 0)
    assert m.lag_last == 1  # due at `block`, mined in the next one
    assert m.gas_used > 50_000
    (line,) = [line for line in keeper_lines(caplog) if " rebalance " in line]
    assert line.startswith(f"{token.symbol()} rebalance reason=BAND leverage=4.")
    assert "tx=0x" in line and f"gas={m.gas_used}" in line

    bot.on_block(chain.blocks.height)  # done: nothing more is due
    assert bot.metrics.sent == 1


def test_on_block__interval_passed__time_rebalance(funded_token, make_keeper, set_price, chain):
    token = funded_token(3)
    set_price(29_000)  # 3x drifts to about 3.1x: inside the band
    bot = make_keeper(token)
    bot.on_block(chain.blocks.height)
    assert bot.metrics.sent == 0
    last = token.lastRebalance()

    chain.pending_timestamp += DAY + 60
    chain.mine()
    status = token.rebalanceStatus()
    assert (status.action, status.reason) == (Action.REBALANCE, Reason.TIME)
    bot.on_block(chain.blocks.height)

    assert bot.metrics.rebalances == 1
    assert near(token.leverage(), 3 * WAD)
    assert token.lastRebalance() >= last + DAY


def test_on_block__ripcord_level__ripcords_and_earns_bounty(funded_token, make_keeper, set_price, usd, keeper, chain,
                                                           caplog):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    token = funded_token(3)
    set_price(25_500)  # -15%: 3x becomes about 4.6x, past the 4.5x ripcord level
    assert token.rebalanceStatus().action == Action.RIPCORD
    bot = make_keeper(token)
    before = usd.balanceOf(keeper)

    bot.on_block(chain.blocks.height)

    assert (bot.metrics.ripcords, bot.metrics.rebalances) == (1, 0)
    assert near(token.leverage(), 3 * WAD)
    assert usd.balanceOf(keeper) - before == token.params().ripcordBounty
    assert any(line.startswith(f"{token.symbol()} ripcord reason=RIPCORD") for line in keeper_lines(caplog))


def test_on_block__pending__no_second_send_until_mined(funded_token, make_keeper, set_price, keeper, chain,
                                                       manual_mining):
    token = funded_token(3)
    set_price(26_000)
    bot = make_keeper(token)
    due_block = chain.blocks.height
    with manual_mining():
        _pending_then_mined(bot, token, keeper, chain, due_block)
    assert near(token.leverage(), 3 * WAD)


def _pending_then_mined(bot, token, keeper, chain, due_block):

    bot.on_block(due_block)
    assert bot.metrics.sent == 1 and bot.metrics.rebalances == 0
    pending = bot.tokens[token.symbol()].pending
    assert pending is not None
    # Still due on-chain, but a transaction is in flight: nothing new is sent.
    assert token.rebalanceStatus().action == Action.REBALANCE
    bot.on_block(due_block)
    bot.on_block(due_block)
    assert bot.metrics.sent == 1 and bot.metrics.pending_skips == 2
    assert chain.provider.web3.eth.get_transaction_count(keeper.address, "pending") == pending.nonce + 1

    chain.mine()
    bot.on_block(chain.blocks.height)
    m = bot.metrics
    assert (m.sent, m.rebalances, m.failures, m.lag_last) == (1, 1, 0, 1)
    assert bot.tokens[token.symbol()].pending is None


def test_on_block__dropped__sent_again_with_higher_fee(funded_token, make_keeper, set_price, chain, manual_mining):
    token = funded_token(3)
    set_price(26_000)
    bot = make_keeper(token)
    with manual_mining():
        _dropped_then_resent(bot, token, chain)
    assert near(token.leverage(), 3 * WAD)


def _dropped_then_resent(bot, token, chain):
    eth = chain.provider.web3.eth
    bot.on_block(chain.blocks.height)
    first = bot.tokens[token.symbol()].pending
    chain.provider.make_request("anvil_dropTransaction", [first.hashes[0]])
    bot.on_block(chain.blocks.height)

    second = bot.tokens[token.symbol()].pending
    assert second is not None and second.hashes[-1] != first.hashes[0]
    assert (bot.metrics.dropped, bot.metrics.retries, bot.metrics.sent) == (1, 1, 2)
    assert second.nonce == first.nonce
    assert eth.get_transaction(second.hashes[-1])["maxPriorityFeePerGas"] > first.priority_fee
    chain.mine()
    bot.on_block(chain.blocks.height)
    assert bot.metrics.rebalances == 1


def test_on_block__stuck__replaced_with_same_nonce_and_higher_fee(funded_token, make_keeper, set_price, chain,
                                                                   manual_mining):
    token = funded_token(3)
    set_price(26_000)
    bot = make_keeper(token, stuck_blocks=2)
    with manual_mining():
        _stuck_then_replaced(bot, token, chain)
    assert near(token.leverage(), 3 * WAD)


def _stuck_then_replaced(bot, token, chain):
    eth = chain.provider.web3.eth
    height = chain.blocks.height
    bot.on_block(height)
    first = bot.tokens[token.symbol()].pending
    # Blocks go by (as the block handler reports them) and the transaction is still not mined.
    bot.on_block(height + 1)
    assert bot.metrics.sent == 1
    bot.on_block(height + 2)

    replacement = bot.tokens[token.symbol()].pending
    assert replacement.nonce == first.nonce and replacement.hashes == [first.hashes[0], replacement.hashes[1]]
    assert replacement.priority_fee > first.priority_fee * 11 // 10
    assert eth.get_transaction(replacement.hashes[1])["maxPriorityFeePerGas"] == replacement.priority_fee
    assert (bot.metrics.sent, bot.metrics.retries) == (2, 1)
    chain.mine()
    bot.on_block(chain.blocks.height)
    m = bot.metrics
    assert (m.rebalances, m.sent, m.failures, m.lag_last) == (1, 2, 0, 1)


def test_on_block__priced_out_by_base_fee__sent_again_above_it_within_cap(funded_token, make_keeper, set_price, chain,
                                                                          manual_mining):
    token = funded_token(3)
    set_price(26_000)
    bot = make_keeper(token, max_fee=1_000 * GWEI)
    with manual_mining():
        bot.on_block(chain.blocks.height)
        first = bot.tokens[token.symbol()].pending
        chain.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(100 * GWEI)])
        chain.mine()  # the base fee jumps far above what the transaction offered: the node evicts it
        bot.on_block(chain.blocks.height)

        again = bot.tokens[token.symbol()].pending
        assert bot.metrics.dropped == 1 and again.nonce == first.nonce
        assert chain.provider.base_fee < again.max_fee <= 1_000 * GWEI
        chain.mine()
        bot.on_block(chain.blocks.height)
    assert (bot.metrics.rebalances, bot.metrics.retries) == (1, 1)
    assert near(token.leverage(), 3 * WAD)


def test_on_block__one_token_reverts__others_served(funded_token, make_keeper, set_price, gov, keeper, chain, caplog):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    long3 = funded_token(3)
    short3 = funded_token(-3)
    short2 = funded_token(-2)
    long3.revokeRole(long3.KEEPER_ROLE(), keeper, sender=gov)  # rebalance() now reverts for the keeper
    set_price(26_000)  # all three leave their bands
    assert all(t.rebalanceStatus().action == Action.REBALANCE for t in (long3, short3, short2))
    bot = make_keeper(long3, short3, short2, max_attempts=2, cooldown_blocks=5)

    bot.on_block(chain.blocks.height)

    assert (bot.metrics.failures, bot.metrics.rebalances, bot.metrics.sent) == (1, 2, 2)
    assert long3.rebalanceStatus().action == Action.REBALANCE
    assert near(short3.leverage(), -3 * WAD) and near(short2.leverage(), -2 * WAD)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith(f"{long3.symbol()} failed")
    assert f"rebalance would revert: AccessControlUnauthorizedAccount(account={keeper.address}" in errors[0]

    # A second failure in a row pauses the token for `cooldown_blocks`: no estimate, no log spam.
    chain.mine()
    bot.on_block(chain.blocks.height)
    assert bot.metrics.failures == 2
    for _ in range(3):
        chain.mine()
        bot.on_block(chain.blocks.height)
    assert bot.metrics.failures == 2
    assert bot.metrics.sent == 2


def test_on_block__out_of_gas__retried_with_more_gas(funded_token, make_keeper, set_price, chain, caplog):
    token = funded_token(3)
    set_price(26_000)
    bot = make_keeper(token, gas_margin=0.5)  # a limit far below what rebalance() needs

    for _ in range(3):
        bot.on_block(chain.blocks.height)
        if bot.metrics.rebalances:
            break

    m = bot.metrics
    assert m.failures >= 1 and m.rebalances == 1 and m.sent == m.failures + 1
    assert "out of gas" in caplog.text
    assert bot.tokens[token.symbol()].gas_factor >= 2
    assert near(token.leverage(), 3 * WAD)


def test_method_for__each_action__the_token_function_that_carries_it_out():
    assert [method_for(a) for a in Action] == ["rebalance", "rebalance", "rebalance", "ripcord", "settle"]


def test_on_block__requests__settled_in_the_block_after_the_newer_round(
    funded_token, make_keeper, request_deposit, fish, whale, feed, gov, chain, caplog
):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    token = funded_token(3)
    assets = request_deposit(token, fish, 1_000)
    shares = token.balanceOf(whale) // 4
    token.requestRedeem(shares, whale, whale, sender=whale)
    bot = make_keeper(token)

    # No round newer than the requests yet: the view does not report SETTLE and nothing is sent.
    bot.on_block(chain.blocks.height)
    assert token.rebalanceStatus().action == Action.NONE
    assert bot.metrics.sent == 0

    advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    round_block = chain.blocks.height
    status = Status.from_abi(token.rebalanceStatus())
    assert (status.action, status.reason) == (Action.SETTLE, Reason.REQUESTS)
    assert (status.deposit_assets, status.redeem_shares) == (assets, shares)
    bot.on_block(round_block)

    m = bot.metrics
    assert (m.sent, m.settlements, m.rebalances, m.failures) == (1, 1, 0, 0)
    assert (m.settle_lag, m.settle_lag_max, m.lag_last) == (1, 1, 1)
    (event,) = token.Settled.range(round_block, chain.blocks.height + 1)
    assert event.block_number == round_block + 1 and not event.fallback_
    settled = Settlement.from_abi(event.settlement)
    assert (settled.assets, settled.shares) == (assets, shares)
    assert token.pendingDepositRequest(0, fish) == 0 and token.maxMint(fish) == settled.shares_out > 0
    assert token.pendingRedeemRequest(0, whale) == 0 and token.maxWithdraw(whale) == settled.assets_out > 0
    (line,) = [line for line in keeper_lines(caplog) if " settle " in line]
    assert line.startswith(f"{token.symbol()} settle reason=REQUESTS") and "lag=1" in line

    bot.on_block(chain.blocks.height)  # settled: nothing more is due
    assert bot.metrics.sent == 1


def test_on_block__settle_lag__counted_from_the_first_block_the_view_reported_settle(
        funded_token, make_keeper, keeper, request_deposit, fish, settle, chain, manual_mining):
    token = funded_token(3)
    request_deposit(token, fish, 500)
    settle()  # a newer round only: no token given, nothing settled
    first_due = chain.blocks.height
    assert token.rebalanceStatus().action == Action.SETTLE
    # The keeper's first transaction is dropped: sent again a block later, mined a block after that.
    bot = make_keeper(token)
    with manual_mining():
        bot.on_block(first_due)
        first = bot.tokens[token.symbol()].pending
        chain.provider.make_request("anvil_dropTransaction", [first.hashes[0]])
        chain.mine()
        bot.on_block(chain.blocks.height)
        chain.mine()
        bot.on_block(chain.blocks.height)
    m = bot.metrics
    assert (m.settlements, m.settle_lag, m.settle_lag_max, m.sent, m.dropped) == (1, 2, 2, 2, 1)
    assert token.maxDeposit(fish) > 0


def test_on_block__already_settled__not_due_any_more_and_nothing_sent(
    funded_token, make_keeper, keeper, request_deposit, fish, settle, chain, caplog
):
    caplog.set_level(logging.INFO, "levtoken.keeper")
    token = funded_token(3)
    request_deposit(token, fish, 500)
    settle()
    bot = make_keeper(token)
    state = bot.tokens[token.symbol()]
    token.settle(sender=keeper)  # another keeper settled first
    nonce = keeper.nonce

    bot._send(state, chain.blocks.height, "settle", Reason.REQUESTS, 0, nonce=None)

    assert keeper.nonce == nonce and bot.metrics.failures == 0
    assert any("settle not due any more (NothingToSettle)" in line for line in keeper_lines(caplog))


def test_keeper__venue_orders__executed_once_a_newer_round_qualifies_them(
    funded_token, make_keeper, orders, venue, usd, feed, chain, gov, keeper, outsiders, fund
):
    """The keeper executes the venue's delayed orders for their fee: none while they wait for a round, each once
    one newer than it is published, oldest first."""
    token = funded_token()
    bot = make_keeper(token, orders=orders)
    outsider = outsiders[0]
    fund(outsider, 20_000, orders)
    t = head_time(chain) + 5
    chain.pending_timestamp = t
    orders.requestAddLiquidity(to_units(10_000), 0, sender=outsider)
    orders.requestAddLiquidity(to_units(5_000), 0, sender=outsider)
    chain.pending_timestamp = t + 1
    bot.on_block()
    assert bot.metrics.orders == 0 and venue.lpShares(outsider) == 0
    feed.submit(feed.latestRoundData()[1], sender=gov)
    chain.pending_timestamp = t + 2
    paid = usd.balanceOf(keeper)
    bot.on_block()
    assert bot.metrics.orders == 2 and venue.lpShares(outsider) > 0
    assert usd.balanceOf(keeper) - paid == 2 * orders.executionFee()
    bot.on_block()
    assert bot.metrics.orders == 2


def test_on_block__governance_change_scheduled__logged_once(gov, tmp_path, make_keeper, chain, caplog):
    """The keeper logs every pending governance change at its first block, and each new one once."""
    from levtoken.deploy_config import DeployConfig
    from levtoken.deployment import deploy
    from levtoken.governance import governance_lines, propose_settings

    caplog.set_level(logging.INFO, "levtoken.keeper")
    record = deploy(DeployConfig.load("config/local.toml"), gov, tmp_path / "record.json", log=lambda m: None)
    propose_settings(record, gov, "BTC3L", {"streaming_fee_per_day": "0.0002"})
    keeper = make_keeper(*record.token_contracts().values(), sender=gov,
                         changes=lambda start, end: governance_lines(record, start, end))
    keeper.on_block()
    keeper.on_block()
    propose_settings(record, gov, "BTC", {"taker_fee_bps": "6"})
    keeper.on_block()
    lines = [line for line in keeper_lines(caplog) if line.startswith("governance change pending")]
    assert len(lines) == 2, lines
    assert "BTC3L: streamingFeePerDay 0.0001 -> 0.0002" in lines[0]
    assert "market BTC: takerFeeBps 5 bps -> 6 bps" in lines[1]
