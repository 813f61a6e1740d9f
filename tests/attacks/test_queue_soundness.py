"""The request queue under any AggregatorV3 feed: lagging `updatedAt`, a feed that reverts or dies, a feed the
venue replaces, a batch keepers left to expire, and amounts the books cannot hold.

A Pyth-, RedStone- or API3-style adapter publishes rounds whose `updatedAt` lags the block they land in. Such
a round can close the open epoch into the held slot while another epoch already waits there: the held epoch
absorbs it (it used to be replaced, orphaning its requests for ever). A feed that reverts or stops never traps
escrow: redemptions are still requested, and a deposit no round qualified for the feed's heartbeat plus the
settlement window can be cancelled.
"""

import pytest
from ape import project

from levtoken.shapes import MarketConfig
from levtoken.units import to_feed
from tests.utils.chain import head_time

P0 = 30_000


@pytest.fixture
def scripted(gov, venue):
    """A ScriptedFeed (rounds with any updatedAt; can revert); `_switch` makes it the BTC market's feed."""
    return gov.deploy(project.ScriptedFeed)


def _switch(venue, gov, feed, chain):
    """Publishes a fresh round on `feed` and makes it the venue's BTC feed."""
    feed.publish(to_feed(P0), head_time(chain), sender=gov)
    config = MarketConfig.from_abi(venue.marketConfig(1))
    venue.setMarketConfig(1, config.to_abi(feed=feed.address), sender=gov)


def _at(chain, t):
    """The next block's timestamp."""
    chain.pending_timestamp = t


def test_lagging_updatedAt__held_epoch_absorbs_the_next__no_deposit_orphaned(
    create_token, scripted, venue, fund, chain, gov, keeper, whale, fish
):
    token = create_token(3)
    _switch(venue, gov, scripted, chain)
    a_fish, a_whale = fund(fish, 5_000, token), fund(whale, 7_000, token)
    t = head_time(chain) + 20
    scripted.publish(to_feed(P0), t - 10, sender=gov)
    _at(chain, t)
    token.requestDeposit(a_fish, fish, fish, sender=fish)  # epoch 1, opened at round t - 10
    _at(chain, t + 2)
    scripted.publish(to_feed(P0), t - 5, sender=gov)  # lands after the request, timestamped before it
    _at(chain, t + 4)
    token.requestDeposit(a_whale, whale, whale, sender=whale)  # epoch 1 held; epoch 2 opens at round t - 5
    _at(chain, t + 6)
    scripted.publish(to_feed(P0), t - 2, sender=gov)  # newer than epoch 2's opening round, older than both requests
    token.poke(sender=keeper)  # epoch 2 joins the held slot: epoch 1 absorbs it
    assert token.pendingDepositRequest(0, fish) == a_fish
    assert token.pendingDepositRequest(0, whale) == a_whale
    _at(chain, t + 8)
    scripted.publish(to_feed(P0), t + 7, sender=gov)
    token.settle(sender=keeper)
    assert token.maxDeposit(fish) == a_fish and token.maxDeposit(whale) == a_whale
    assert token.maxMint(fish) > 0 and token.maxMint(whale) > 0


def test_feed_reverts__requests_to_redeem_work__old_deposit_cancellable_after_the_deadline(
    create_token, deposit, scripted, venue, fund, chain, gov, keeper, whale, fish, reverts
):
    token = create_token(3)
    deposit(token, whale, 100_000)
    _switch(venue, gov, scripted, chain)
    u0 = scripted.latestRoundData()[3]
    assets = fund(fish, 5_000, token)
    token.requestDeposit(assets, fish, fish, sender=fish)
    scripted.setReverts(True, sender=gov)
    shares = token.balanceOf(whale) // 2
    token.requestRedeem(shares, whale, whale, sender=whale)  # accepted, the feed notwithstanding
    token.poke(sender=keeper)
    deadline = u0 + venue.marketConfig(1).heartbeat + token.params().settlementWindow
    with reverts(token.CancelTooEarly, allowedAt=deadline):
        token.cancelDepositRequest(fish, fish, sender=fish)
    _at(chain, deadline)
    tx = token.cancelDepositRequest(fish, fish, sender=fish)
    assert tx.events.filter(token.DepositRequestCancelled)[0].assets == assets
    assert token.pendingDepositRequest(0, fish) == 0
    # The feed comes back: the redemption settles at its next round.
    scripted.setReverts(False, sender=gov)
    scripted.publish(to_feed(P0), deadline + 1, sender=gov)
    _at(chain, deadline + 2)
    token.settle(sender=keeper)
    assert token.maxRedeem(whale) == shares


def test_venue_replaces_the_feed__requests_follow_the_new_feed(
    create_token, scripted, venue, feed, fund, chain, gov, keeper, fish, reverts
):
    token = create_token(3)
    assets = fund(fish, 1_000, token)
    _switch(venue, gov, scripted, chain)
    t = head_time(chain) + 5
    _at(chain, t)
    token.requestDeposit(assets, fish, fish, sender=fish)
    _at(chain, t + 1)
    feed.submit(to_feed(P0), sender=gov)  # a round of the old feed no longer qualifies anything
    _at(chain, t + 2)
    with reverts(token.NoNewerPrice, lastRequest=t):
        token.settle(sender=keeper)
    scripted.publish(to_feed(P0), t + 2, sender=gov)
    _at(chain, t + 3)
    token.settle(sender=keeper)
    assert token.maxDeposit(fish) == assets


def test_batch_expires__epochs_that_qualify_in_the_same_roll_form_a_fresh_batch(
    create_token, request_deposit, feed, chain, gov, keeper, whale, fish
):
    token = create_token(3)
    window = token.params().settlementWindow
    first = request_deposit(token, whale, 10_000)
    t = head_time(chain) + 2
    _at(chain, t)
    feed.submit(to_feed(P0), sender=gov)
    _at(chain, t + 1)
    token.poke(sender=keeper)  # the whale's deposit forms the batch; keepers then miss its window
    second = request_deposit(token, fish, 1_000)
    _at(chain, t + window + 10)
    feed.submit(to_feed(P0), sender=gov)  # qualifies the fish's deposit as the whale's batch expires
    _at(chain, t + window + 11)
    tx = token.settle(sender=keeper)
    assert [e.assets for e in tx.events.filter(token.DepositsExpired)] == [first]
    assert token.maxDeposit(fish) == second
    refund = token.cancelDepositRequest(whale, whale, sender=whale)
    assert refund.events.filter(token.DepositRequestCancelled)[0].assets == first


def test_requestDeposit_of_2_128_units__reverts_and_takes_nothing(create_token, usd, fish, reverts):
    token = create_token(3)
    amount = 2**128
    usd.mint(fish, amount, sender=fish)
    usd.approve(token, amount, sender=fish)
    with reverts(token.SafeCastOverflowedUintDowncast, bits=128, value=amount):
        token.requestDeposit(amount, fish, fish, sender=fish)
    assert usd.balanceOf(fish) == amount and token.pendingDepositRequest(0, fish) == 0
    # Two requests that fit alone but not together: the second reverts whole as well.
    half = 2**127
    token.requestDeposit(half, fish, fish, sender=fish)
    with reverts(token.SafeCastOverflowedUintDowncast, bits=128, value=2 * half):
        token.requestDeposit(half, fish, fish, sender=fish)
    assert token.pendingDepositRequest(0, fish) == half
