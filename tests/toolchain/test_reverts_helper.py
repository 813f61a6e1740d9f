"""The shared revert check (tests/utils/reverts.py) is as strict as it says: the wrong error, a wrong or
unknown input and no revert at all fail it, in transactions, view calls and nested calls alike, and an
error several contracts declare is accepted with either contract's class."""

import pytest
from ape import project

from tests.utils.constants import BTC, HEARTBEAT
from tests.utils.reverts import reverts


def test_reverts__no_revert__fails(venue, fish, fund):
    amount = fund(fish, 1, venue)
    with pytest.raises(AssertionError, match="did not revert"):
        with reverts(venue.ZeroAmount):
            venue.depositMargin(BTC, fish, amount, sender=fish)


def test_reverts__another_error__fails(venue, fish):
    with pytest.raises(AssertionError, match="expected InsufficientMargin"):
        with reverts(venue.InsufficientMargin):
            venue.depositMargin(BTC, fish, 0, sender=fish)


def test_reverts__wrong_or_unknown_input__fails(feed, gov):
    with pytest.raises(AssertionError, match="NonPositiveAnswer.answer"):
        with reverts(feed.NonPositiveAnswer, answer=1):
            feed.submit(0, sender=gov)
    with pytest.raises(AssertionError, match="no input 'price'"):
        with reverts(feed.NonPositiveAnswer, price=0):
            feed.submit(0, sender=gov)
    with reverts(feed.NonPositiveAnswer, answer=0):
        feed.submit(0, sender=gov)


def test_reverts__view_call__decoded_by_selector(feed, stranger):
    round_id = feed.latestRound() + 1
    with reverts(feed.NoDataPresent, roundId=round_id):
        feed.getRoundData(round_id)
    with pytest.raises(AssertionError, match="NoDataPresent.roundId"):
        with reverts(feed.NoDataPresent, roundId=round_id + 1):
            feed.getRoundData(round_id)


def test_reverts__error_of_a_nested_call__decoded_by_selector(create_token, deposit, feed, venue, whale, keeper, chain):
    token = create_token(3)
    deposit(token, whale, 1_000)
    token.requestRedeem(10**18, whale, whale, sender=whale)
    updated_at = feed.latestRoundData()[3]
    chain.mine(timestamp=updated_at + HEARTBEAT + 1)
    with reverts(venue.StalePrice, updatedAt=updated_at, heartbeat=HEARTBEAT):
        token.settle(sender=keeper)
    with pytest.raises(AssertionError, match="StalePrice.updatedAt"):
        with reverts(venue.StalePrice, updatedAt=updated_at + 1):
            token.settle(sender=keeper)
    with pytest.raises(AssertionError, match="expected InvalidPrice"):
        with reverts(venue.InvalidPrice):
            token.settle(sender=keeper)


def test_reverts__error_declared_by_several_contracts__either_class(create_token, factory, venue, fish):
    token = create_token(3)
    with reverts(token.ZeroAmount):
        venue.depositMargin(BTC, fish, 0, sender=fish)
    with reverts(venue.ZeroAmount):
        token.deposit(0, fish, sender=fish)
    logic = project.LeveragedTokenLogic.at(token.logic())
    with reverts(logic.LeverageOutOfRange, targetLeverage=0):  # declared by the token's logic and the factory
        factory.tokenName(BTC, 0)
