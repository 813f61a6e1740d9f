"""A stale, non-positive or incomplete oracle answer stops every state-changing entry point that needs a
price, with the venue's named error, and leaves the state as it was; what needs no price goes on.

Answers a PriceFeed refuses to publish (zero, negative, a round without a timestamp) are written into
its storage, as a faulty or compromised feed would serve them. A keeper's settlement of qualified requests
reverts with the venue's StalePrice, InvalidPrice or IncompleteRound (it values the token first), so no
request is ever priced at a bad answer. Requests, claims of what was already settled and every view a
wallet or integrator reads keep working: totalAssets and convertTo* at the last recorded valuation,
rebalanceStatus and checkUpkeep report nothing to do. Already covered with the same error and not repeated
here: a stale price for rebalance, ripcord and performUpkeep (tests/unit/token/test_token_oracle.py) and
for a venue trade, and a zero answer for a venue trade (tests/unit/venue/test_venue_oracle.py).
"""

import pytest

from levtoken.shapes import Action
from levtoken.units import to_feed, to_units, to_wad
from tests.utils.chain import advance, write_round
from tests.utils.constants import BTC, HEARTBEAT

P0 = 30_000

ENTRIES = {
    "settle": lambda t, v, a, k: t.settle(sender=k),
    "rebalance": lambda t, v, a, k: t.rebalance(sender=k),
    "ripcord": lambda t, v, a, k: t.ripcord(sender=a),
    "performUpkeep": lambda t, v, a, k: t.performUpkeep(b"", sender=k),
    "venue-trade": lambda t, v, a, k: v.trade(BTC, to_wad("0.01"), 0, sender=a),
}
CONDITIONS = ("stale", "zero", "negative", "incomplete")
COVERED = {("stale", e) for e in ("rebalance", "ripcord", "performUpkeep", "venue-trade")}
COVERED.add(("zero", "venue-trade"))
CASES = [(c, e) for c in CONDITIONS for e in ENTRIES if (c, e) not in COVERED]


@pytest.fixture(scope="module")
def bad_price_token(create_token, deposit, fund, chain, feed, gov, keeper, whale, fish, stranger, venue):
    """A token with a settled, unclaimed deposit (fish) and redemption (whale), newer requests a round has
    qualified, and the equity its last settlement recorded."""
    token = create_token(3)
    for account in (whale, fish, stranger):
        deposit(token, account, 10_000)
    fund(fish, 10_000, token)
    fund(stranger, 10_000, token)
    venue.depositMargin(BTC, fish, fund(fish, 10_000, venue), sender=fish)
    token.requestDeposit(to_units(1_000), fish, fish, sender=fish)
    token.requestRedeem(token.balanceOf(whale) // 4, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(to_feed(P0), sender=gov)
    token.settle(sender=keeper)
    recorded = token.totalAssets()  # the block of the settlement: the equity it recorded
    token.requestDeposit(to_units(500), fish, fish, sender=fish)
    token.requestRedeem(token.balanceOf(whale) // 4, whale, whale, sender=whale)
    advance(chain, 1)
    feed.submit(to_feed(P0), sender=gov)
    return token, recorded


def _corrupt(condition, chain, feed, venue):
    """Makes the feed's latest answer bad; returns the venue's error and its inputs."""
    round_id = feed.latestRound()
    updated_at = feed.latestRoundData()[3]
    if condition == "stale":
        chain.mine(timestamp=updated_at + HEARTBEAT + 1)
        return venue.StalePrice, {"updatedAt": updated_at, "heartbeat": HEARTBEAT}
    if condition == "incomplete":
        write_round(chain, feed, round_id, feed.latestRoundData()[1], 0)
        return venue.IncompleteRound, {"roundId": round_id}
    answer = 0 if condition == "zero" else -feed.latestRoundData()[1]
    write_round(chain, feed, round_id, answer, updated_at)
    return venue.InvalidPrice, {"answer": answer}


@pytest.mark.parametrize("condition, entry", CASES, ids=[f"{c}-{e}" for c, e in CASES])
def test_entry__bad_price__named_error_state_unchanged(
    bad_price_token, venue, feed, chain, fish, whale, keeper, state_of, condition, entry, reverts
):
    token, _ = bad_price_token
    error, inputs = _corrupt(condition, chain, feed, venue)
    before = state_of(token, fish, whale, keeper)
    fish_position = venue.position(BTC, fish)
    pending = (token.pendingDepositRequest(0, fish), token.pendingRedeemRequest(0, whale))

    with reverts(error, **inputs):
        ENTRIES[entry](token, venue, fish, keeper)

    assert state_of(token, fish, whale, keeper) == before
    assert venue.position(BTC, fish) == fish_position
    assert (token.pendingDepositRequest(0, fish), token.pendingRedeemRequest(0, whale)) == pending


@pytest.mark.parametrize("condition", CONDITIONS)
def test_views_requests_claims__bad_price__do_not_revert(
    bad_price_token, venue, feed, chain, usd, fish, whale, stranger, condition
):
    token, recorded = bad_price_token
    _corrupt(condition, chain, feed, venue)
    # Views: the last recorded valuation, nothing due.
    supply = token.totalSupply()
    assert token.totalAssets() == recorded
    assert token.convertToAssets(supply) <= recorded
    assert token.convertToShares(recorded) > 0
    assert token.navPerToken() > 0
    status = token.rebalanceStatus()
    assert status.action == Action.NONE
    assert token.checkUpkeep(b"")[0] is False
    assert token.pendingDepositRequest(0, fish) == to_units(500)
    assert token.maxDeposit(fish) == to_units(1_000)
    claimable_shares, claimable_assets = token.maxRedeem(whale), token.maxWithdraw(whale)
    assert claimable_shares > 0 and claimable_assets > 0
    # Requests are taken (priced later, at a good round) and what was settled is claimed.
    token.requestDeposit(to_units(1_000), stranger, stranger, sender=stranger)
    token.requestRedeem(token.balanceOf(stranger) // 2, stranger, stranger, sender=stranger)
    shares = token.balanceOf(fish)
    token.deposit(to_units(1_000), fish, sender=fish)
    assert token.balanceOf(fish) > shares
    cash = usd.balanceOf(whale)
    token.redeem(claimable_shares, whale, whale, sender=whale)
    assert usd.balanceOf(whale) - cash == claimable_assets
