"""The redemptions' liveness fallback (DESIGN.md 7): once keepers leave a redemption batch unsettled for
`settlementWindow` seconds, a redeemer with a request in the batch may settle it (nobody else: NotInRedemptionBatch).
Checked on the contracts and on the model, which agree."""

from __future__ import annotations

import pytest

from levtoken.model import default_params, errors, standard_model
from levtoken.units import WAD, to_units
from tests.utils.chain import advance
from tests.utils.model_flows import model_deposit

HALF_HOUR = 1_800


def test_fallback_opens_after_the_window_once_a_later_request_rolled_the_batch(
    chain, feed, gov, keeper, whale, fish, stranger, create_token, fund, deposit, reverts
):
    """Keepers down: whale's redemption qualifies, fish's later request stores the batch, and one window
    later (rounds every 30 minutes) a redeemer settles the redemptions; a stranger may not."""
    token = create_token(3)
    deposit(token, whale, 10_000)
    token.transfer(fish, token.balanceOf(whale) // 10, sender=whale)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    token.requestRedeem(token.balanceOf(fish), fish, fish, sender=fish)  # rolls: the batch forms now
    for _ in range(2):
        advance(chain, HALF_HOUR)
        feed.submit(feed.latestRoundData()[1], sender=gov)
    with reverts(token.NotInRedemptionBatch, caller=stranger.address):
        token.settle(sender=stranger)
    token.settle(sender=fish)
    assert token.maxRedeem(whale) > 0 and token.maxRedeem(fish) > 0


def test_fallback_opens_a_window_after_a_poke_whatever_the_rounds(chain, feed, gov, whale, stranger, create_token,
                                                                    deposit, reverts):
    """Keepers down and no later request: a stranger's settle() that reverts FallbackNotOpen undoes its own roll,
    so with rounds every 30 minutes its opensAt moves with each round. A poke() after the qualifying round keeps
    the roll: the window then starts at that round and the fallback opens one window later."""
    token = create_token(3)
    deposit(token, whale, 10_000)
    token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    qualified = int(feed.latestRoundData()[3])
    advance(chain, HALF_HOUR)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    with reverts(token.FallbackNotOpen, opensAt=int(feed.latestRoundData()[3]) + token.params().settlementWindow):
        token.settle(sender=stranger)
    token.poke(sender=whale)
    with reverts(token.FallbackNotOpen, opensAt=int(feed.latestRoundData()[3]) + token.params().settlementWindow):
        token.settle(sender=stranger)
    opens = int(feed.latestRoundData()[3]) + token.params().settlementWindow
    advance(chain, HALF_HOUR)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    with reverts(token.FallbackNotOpen, opensAt=opens):
        token.settle(sender=stranger)
    advance(chain, HALF_HOUR)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    assert int(feed.latestRoundData()[3]) >= opens > qualified
    token.settle(sender=whale)
    assert token.maxRedeem(whale) > 0


def test_model_fallback_opens_a_window_after_a_stored_roll():
    """The model mirrors the contracts: without a stored roll each stranger settle() reverts FallbackNotOpen
    one window after the latest round; after a poke() (or a later request) it opens one window later."""
    model = standard_model(30_000 * WAD)
    token = model.add_token("long", 1, 3 * WAD, default_params(3 * WAD, "fees"))
    for who in ("whale", "fish"):
        model.collateral.mint(who, to_units(10_000))
        model_deposit(model, token, who, to_units(10_000))
    token.request_redeem("whale", token.balance_of("whale") // 2, "whale", "whale")
    model.advance(1)
    model.set_answer(model.feeds["feed"].answer)
    for _ in range(6):
        model.advance(HALF_HOUR)
        model.set_answer(model.feeds["feed"].answer)
        with pytest.raises(errors.FallbackNotOpen) as info:
            token.settle("stranger")
        assert info.value.args == (model.now + token.params.settlement_window,)
    token.poke("whale")
    for _ in range(2):
        model.advance(HALF_HOUR)
        model.set_answer(model.feeds["feed"].answer)
    with pytest.raises(errors.NotInRedemptionBatch):
        token.settle("stranger")
    token.settle("whale")
    assert token.max_redeem("whale") > 0
