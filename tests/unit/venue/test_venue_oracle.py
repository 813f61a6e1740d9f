"""Oracle validation (OracleLib) as the venue uses it: stale, non-positive and incomplete answers stop
everything that needs a price, and nothing that does not.

Answers a PriceFeed refuses to publish (zero, negative, a round without a timestamp) are written into
the feed's storage with anvil_setStorageAt, as a faulty or compromised feed would serve them.
"""

import pytest
from ape import project

from levtoken.units import to_feed, to_units, to_wad
from tests.utils.chain import write_round
from tests.utils.constants import BTC


@pytest.fixture
def updated_at(feed):
    return feed.latestRoundData()[3]


@pytest.fixture
def go_stale(chain, cfg, feed):
    """go_stale(): mines a block one second past the heartbeat of the latest answer."""

    def _go():
        chain.mine(timestamp=feed.latestRoundData()[3] + cfg["heartbeat"] + 1)

    return _go


def test_write_round__storage_layout__matches_feed(feed, chain):
    write_round(chain, feed, 1, to_feed(12_345), 777)
    assert feed.latestRoundData() == (1, to_feed(12_345), 777, 777, 1)


def test_indexPrice__at_heartbeat__accepted_one_second_later_StalePrice(
    venue, stranger, chain, cfg, updated_at, price0, reverts
):
    chain.mine(timestamp=updated_at + cfg["heartbeat"])
    assert venue.indexPrice(BTC) == price0
    chain.mine(timestamp=updated_at + cfg["heartbeat"] + 1)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=cfg["heartbeat"]):
        venue.indexPrice.transact(BTC, sender=stranger)


def test_trade__stale_price__reverts_StalePrice(venue, fish, open_account, cfg, updated_at, chain, reverts):
    open_account(fish, 10_000)
    chain.mine(timestamp=updated_at + cfg["heartbeat"] + 1)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=cfg["heartbeat"]):
        venue.trade(BTC, to_wad("0.1"), 0, sender=fish)


def test_trade__fresh_answer_after_stale__accepted(venue, fish, open_account, go_stale, set_price, reverts):
    open_account(fish, 10_000)
    go_stale()
    with reverts(venue.StalePrice):
        venue.trade(BTC, to_wad("0.1"), 0, sender=fish)
    set_price(31_000)
    venue.trade(BTC, to_wad("0.1"), 0, sender=fish)
    assert venue.accountState(BTC, fish)[1:] == (to_wad("0.1"), to_wad(31_000))


def test_withdrawMargin__position_and_stale_price__reverts_StalePrice(
    venue, fish, open_account, cfg, updated_at, chain, reverts
):
    open_account(fish, 10_000, to_wad("0.1"))
    chain.mine(timestamp=updated_at + cfg["heartbeat"] + 1)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=cfg["heartbeat"]):
        venue.withdrawMargin(BTC, 1, fish, sender=fish)


def test_withdrawMargin__no_position_and_stale_price__succeeds(venue, usd, fish, whale, open_account, go_stale):
    open_account(whale, 10_000, to_wad("0.1"))  # the market has open interest, fish has none
    units = open_account(fish, 1_000)
    go_stale()
    assert venue.accountState(BTC, fish) == (units, 0, 0)

    venue.withdrawMargin(BTC, units, fish, sender=fish)

    assert usd.balanceOf(fish) == units
    assert venue.position(BTC, fish).margin == 0


def test_depositMargin__stale_price__succeeds(venue, fish, whale, open_account, fund, go_stale):
    open_account(whale, 10_000, to_wad("0.1"))
    go_stale()
    amount = fund(fish, 100, venue)
    venue.depositMargin(BTC, whale, amount, sender=fish)
    assert venue.position(BTC, whale).margin > to_units(10_000)


def test_liquidate__stale_price__reverts_StalePrice(
    venue, fish, stranger, open_account, set_price, cfg, chain, reverts
):
    open_account(fish, 3_100, to_wad(1))
    receipt = set_price(26_000)
    updated = chain.blocks[receipt.block_number].timestamp
    assert venue.isLiquidatable(BTC, fish)
    chain.mine(timestamp=updated + cfg["heartbeat"] + 1)
    with reverts(venue.StalePrice, updatedAt=updated, heartbeat=cfg["heartbeat"]):
        venue.liquidate(BTC, fish, sender=stranger)


@pytest.mark.parametrize(
    "view",
    [
        lambda v, a: v.indexPrice.transact(BTC, sender=a),
        lambda v, a: v.accountValue.transact(BTC, a, sender=a),
        lambda v, a: v.isLiquidatable.transact(BTC, a, sender=a),
        lambda v, a: v.fundingOwed.transact(BTC, a, sender=a),
        lambda v, a: v.quoteTrade.transact(BTC, 1, sender=a),
        lambda v, a: v.quoteModify.transact(BTC, a, 0, 1, sender=a),
        lambda v, a: v.poolValue.transact(sender=a),
    ],
    ids=["indexPrice", "accountValue", "isLiquidatable", "fundingOwed", "quoteTrade", "quoteModify", "poolValue"],
)
def test_views__position_and_stale_price__revert_StalePrice(
    venue, fish, open_account, cfg, updated_at, chain, view, reverts
):
    open_account(fish, 10_000, to_wad("0.1"))
    chain.mine(timestamp=updated_at + cfg["heartbeat"] + 1)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=cfg["heartbeat"]):
        view(venue, fish)


def test_removeLiquidity__open_interest_and_stale_price__reverts_StalePrice(
    venue, lp, fish, open_account, go_stale, reverts
):
    open_account(fish, 10_000, to_wad("0.1"))
    go_stale()
    with reverts(venue.StalePrice):
        venue.removeLiquidity(10**20, 0, sender=lp)


def test_removeLiquidity__no_open_interest_and_stale_price__succeeds(venue, usd, lp, go_stale):
    go_stale()
    venue.removeLiquidity(10**20, 0, sender=lp)
    assert usd.balanceOf(lp) == 10**20 * (to_units(10_000_000) + 1) // (10**25 + 10**12)


def test_setMarketConfig__open_interest_and_stale_price__reverts_StalePrice(
    venue, gov, cfg, fish, open_account, go_stale, reverts
):
    open_account(fish, 10_000, to_wad("0.1"))
    go_stale()
    with reverts(venue.StalePrice):
        venue.setMarketConfig(BTC, cfg, sender=gov)


def test_setMarketConfig__no_open_interest_and_stale_price__succeeds(venue, gov, cfg, go_stale):
    go_stale()
    venue.setMarketConfig(BTC, {**cfg, "takerFeeBps": 1}, sender=gov)
    assert venue.marketConfig(BTC).takerFeeBps == 1


@pytest.mark.parametrize("answer", [0, -1, -to_feed(30_000)], ids=["zero", "minus-one", "negative"])
def test_indexPrice__non_positive_answer__reverts_InvalidPrice(
    venue, stranger, feed, chain, block_time, answer, reverts
):
    write_round(chain, feed, feed.latestRound(), answer, block_time())
    assert feed.latestRoundData()[1] == answer
    with reverts(venue.InvalidPrice, answer=answer):
        venue.indexPrice.transact(BTC, sender=stranger)


def test_trade__non_positive_answer__reverts_InvalidPrice(venue, feed, fish, open_account, chain, block_time, reverts):
    open_account(fish, 10_000)
    write_round(chain, feed, feed.latestRound(), 0, block_time())
    with reverts(venue.InvalidPrice, answer=0):
        venue.trade(BTC, to_wad("0.1"), 0, sender=fish)


def test_indexPrice__round_without_timestamp__reverts_IncompleteRound(venue, stranger, feed, chain, reverts):
    round_id = feed.latestRound()
    write_round(chain, feed, round_id, to_feed(30_000), 0)
    with reverts(venue.IncompleteRound, roundId=round_id):
        venue.indexPrice.transact(BTC, sender=stranger)


def test_indexPrice__feed_without_rounds__reverts_IncompleteRound(venue, stranger, gov, cfg, reverts):
    fresh = gov.deploy(project.PriceFeed, 8, "ETH / USD", gov)
    venue.listMarket("ETH", {**cfg, "feed": fresh.address}, sender=gov)
    assert fresh.latestRoundData() == (0, 0, 0, 0, 0)
    with reverts(venue.IncompleteRound, roundId=0):
        venue.indexPrice.transact(2, sender=stranger)
