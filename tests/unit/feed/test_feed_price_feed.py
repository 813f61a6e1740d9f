"""PriceFeed: a Chainlink AggregatorV3-compatible feed whose rounds are pushed by updaters."""

import pytest
from ape import project

from levtoken.units import to_feed
from tests.utils.constants import ADMIN_ROLE, UPDATER_ROLE

INT192_MAX = 2**191 - 1


@pytest.fixture
def fresh(gov):
    return gov.deploy(project.PriceFeed, 8, "ETH / USD", gov)


def test_constructor__metadata_and_roles__set(fresh, gov, stranger):
    assert fresh.decimals() == 8
    assert fresh.description() == "ETH / USD"
    assert fresh.version() == 4
    assert fresh.latestRound() == 0
    assert fresh.UPDATER_ROLE() == UPDATER_ROLE
    assert fresh.hasRole(ADMIN_ROLE, gov) and fresh.hasRole(UPDATER_ROLE, gov)
    assert not fresh.hasRole(UPDATER_ROLE, stranger)


def test_latestRoundData__no_round__all_zero(fresh):
    assert fresh.latestRoundData() == (0, 0, 0, 0, 0)


def test_submit__updater__publishes_new_round_and_emits(fresh, gov, chain):
    receipt = fresh.submit(to_feed("2000.12345678"), sender=gov)

    updated = chain.blocks[receipt.block_number].timestamp
    assert fresh.latestRound() == 1
    assert fresh.latestRoundData() == (1, 200_012_345_678, updated, updated, 1)
    assert fresh.getRoundData(1) == (1, 200_012_345_678, updated, updated, 1)
    events = receipt.events.filter(fresh.AnswerUpdated)
    assert len(events) == 1
    assert (events[0].current, events[0].roundId, events[0].updatedAt) == (200_012_345_678, 1, updated)


def test_submit__second_round__keeps_history(fresh, gov, chain):
    first = fresh.submit(100, sender=gov)
    chain.pending_timestamp = chain.blocks[first.block_number].timestamp + 3_600
    second = fresh.submit(200, sender=gov)

    t1 = chain.blocks[first.block_number].timestamp
    t2 = chain.blocks[second.block_number].timestamp
    assert t2 == t1 + 3_600
    assert fresh.latestRoundData() == (2, 200, t2, t2, 2)
    assert fresh.getRoundData(1) == (1, 100, t1, t1, 1)


def test_submit__largest_int192__accepted(fresh, gov):
    fresh.submit(INT192_MAX, sender=gov)
    assert fresh.latestRoundData()[1] == INT192_MAX


@pytest.mark.parametrize("answer", [0, -1, -to_feed(30_000), INT192_MAX + 1])
def test_submit__non_positive_or_too_large__reverts_NonPositiveAnswer(fresh, gov, answer, reverts):
    with reverts(fresh.NonPositiveAnswer, answer=answer):
        fresh.submit(answer, sender=gov)
    assert fresh.latestRound() == 0


def test_submit__not_updater__reverts_AccessControlUnauthorizedAccount(fresh, stranger, reverts):
    with reverts(fresh.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=UPDATER_ROLE):
        fresh.submit(100, sender=stranger)


def test_grantRole__updater__may_submit_until_revoked(fresh, gov, keeper, reverts):
    fresh.grantRole(UPDATER_ROLE, keeper, sender=gov)
    fresh.submit(123, sender=keeper)
    assert fresh.latestRoundData()[1] == 123

    fresh.revokeRole(UPDATER_ROLE, keeper, sender=gov)
    with reverts(fresh.AccessControlUnauthorizedAccount, account=keeper.address, neededRole=UPDATER_ROLE):
        fresh.submit(124, sender=keeper)


@pytest.mark.parametrize("round_id", [0, 2, 2**80 - 1])
def test_getRoundData__unknown_round__reverts_NoDataPresent(fresh, gov, stranger, round_id, reverts):
    fresh.submit(100, sender=gov)
    with reverts(fresh.NoDataPresent, roundId=round_id):
        fresh.getRoundData.transact(round_id, sender=stranger)


def test_feed_fixture__btc_at_30000(feed):
    assert feed.description() == "BTC / USD"
    assert feed.latestRoundData()[1] == to_feed(30_000)
