"""Griefing the request queue: a dust request in the same second as every round.

A request qualifies only at a round published strictly after it, and requests share an epoch until a round
closes it. A griefer who adds a dust deposit and a dust redemption in the second of every round (before the
round, the worst place) keeps the open epoch's latest request as late as the round itself, so that epoch
cannot qualify at that round: it is held and qualifies at the next one. The held slot takes it out of the
griefer's reach: the griefer's next dust starts a new epoch, and the held one settles at the next round with
whatever was in it. An earlier honest request is delayed by one round at most, however long the griefing
goes on, and each batch after it also settles one round late, never later.
"""

import pytest

from levtoken.units import to_feed
from tests.conftest import ROLES
from tests.utils.chain import head_time
from tests.utils.requests import settlement_of

P0 = 30_000
ROUNDS = 4
GAP = 60  # seconds between rounds


@pytest.mark.parametrize("griefing", [False, True], ids=["no-griefer", "dust-every-round"])
def test_dust_request_in_every_round_second__earlier_batch_delayed_one_round_at_most(
    create_token, deposit, fund, accounts, chain, feed, gov, keeper, whale, fish, stranger, reverts, griefing
):
    token = create_token(3)
    deposit(token, whale, 1_000_000)
    # The griefer's two accounts take turns: a controller cannot request again while its earlier request
    # waits in a closed epoch, and nobody may request under a controller that has not approved them.
    griefers = [stranger, accounts[len(ROLES)]]
    for griefer in griefers:
        deposit(token, griefer, 100)  # shares for dust redemptions
        fund(griefer, 1, token)
    assets = fund(fish, 10_000, token)
    redeemed = token.balanceOf(whale) // 10

    t0 = head_time(chain) + 1
    chain.pending_timestamp = t0
    token.requestDeposit(assets, fish, fish, sender=fish)
    token.requestRedeem(redeemed, whale, whale, sender=whale)

    settled_at = {}  # round index -> (deposit assets, redeemed shares) the keeper's settlement priced
    for k in range(1, ROUNDS + 1):
        t = t0 + k * GAP
        chain.pending_timestamp = t
        if griefing:
            griefer = griefers[k % 2]
            token.requestDeposit(1, griefer, griefer, sender=griefer)
            token.requestRedeem(1, griefer, griefer, sender=griefer)
        feed.submit(to_feed(P0), sender=gov)
        chain.pending_timestamp = t + 1  # the keeper settles in the block after the round
        if griefing and k == 1:
            # Everything waiting shares an epoch with the dust of the round's own second: held.
            with reverts(token.NoNewerPrice, lastRequest=t, priceTime=t):
                token.settle(sender=keeper)
            continue
        if not griefing and k > 1:
            break
        settlement = settlement_of(token, token.settle(sender=keeper))
        settled_at[k] = (settlement.assets, settlement.shares)

    if not griefing:
        assert settled_at == {1: (assets, redeemed)}
        assert token.maxDeposit(fish) == assets
        return
    # The honest requests settle at the second round, with the first dust; each later batch is the dust of
    # the round before: one round late, never more.
    assert settled_at[2] == (assets + 1, redeemed + 1)
    for k in range(3, ROUNDS + 1):
        assert settled_at[k] == (1, 1)
    assert token.maxDeposit(fish) == assets
    assert token.maxRedeem(whale) == redeemed
    # The dust of the last round waits in the held slot; the griefers' earlier dust settled one round late.
    assert token.pendingDepositRequest(0, griefers[ROUNDS % 2]) == 1
    assert token.maxDeposit(griefers[ROUNDS % 2]) == 1  # round 2's
    assert token.maxDeposit(griefers[(ROUNDS - 1) % 2]) == 2  # rounds 1 and 3
