"""A stale, non-positive or incomplete oracle answer stops every state-changing entry point that needs a
price, with the venue's named error, and leaves the state as it was.

Answers a PriceFeed refuses to publish (zero, negative, a round without a timestamp) are written into
its storage, as a faulty or compromised feed would serve them. Already covered with the same error and
not repeated here: a stale price for deposit, redeem, rebalance, ripcord and performUpkeep
(tests/unit/token/test_token_oracle.py) and for a venue trade, and a zero answer for a venue trade
(tests/unit/venue/test_venue_oracle.py).
"""

import pytest

from levtoken.units import to_units, to_wad
from tests.utils.chain import write_round
from tests.utils.constants import BTC, FAR, HEARTBEAT


ENTRIES = {
    "deposit": lambda t, v, a, k: t.deposit(to_units(1_000), a, sender=a),
    "mint": lambda t, v, a, k: t.mint(10**18, a, sender=a),
    "withdraw": lambda t, v, a, k: t.withdraw(to_units(100), a, a, sender=a),
    "redeem": lambda t, v, a, k: t.redeem(10**18, a, a, sender=a),
    "depositWithMinShares": lambda t, v, a, k: t.depositWithMinShares(to_units(1_000), a, 0, FAR, sender=a),
    "redeemWithMinAssets": lambda t, v, a, k: t.redeemWithMinAssets(10**18, a, a, 0, FAR, sender=a),
    "rebalance": lambda t, v, a, k: t.rebalance(sender=k),
    "ripcord": lambda t, v, a, k: t.ripcord(sender=a),
    "performUpkeep": lambda t, v, a, k: t.performUpkeep(b"", sender=k),
    "venue-trade": lambda t, v, a, k: v.trade(BTC, to_wad("0.01"), 0, sender=a),
}
COVERED = {("stale", e) for e in ("deposit", "redeem", "rebalance", "ripcord", "performUpkeep", "venue-trade")}
COVERED.add(("zero", "venue-trade"))
CASES = [(c, e) for c in ("stale", "zero", "negative", "incomplete") for e in ENTRIES if (c, e) not in COVERED]


@pytest.fixture(scope="module")
def bad_price_token(create_token, fund, whale, fish, venue):
    token = create_token(3)
    for account in (whale, fish):
        token.deposit(fund(account, 10_000, token), account, sender=account)
    fund(fish, 10_000, token)  # for the deposits tried below
    venue.depositMargin(BTC, fish, fund(fish, 10_000, venue), sender=fish)
    return token


@pytest.mark.parametrize("condition, entry", CASES, ids=[f"{c}-{e}" for c, e in CASES])
def test_entry__bad_price__named_error_state_unchanged(
    bad_price_token, venue, feed, chain, fish, whale, keeper, state_of, condition, entry, reverts
):
    token = bad_price_token
    round_id = feed.latestRound()
    updated_at = feed.latestRoundData()[3]
    if condition == "stale":
        chain.mine(timestamp=updated_at + HEARTBEAT + 1)
        error, inputs = venue.StalePrice, {"updatedAt": updated_at, "heartbeat": HEARTBEAT}
    elif condition == "incomplete":
        write_round(chain, feed, round_id, feed.latestRoundData()[1], 0)
        error, inputs = venue.IncompleteRound, {"roundId": round_id}
    else:
        answer = 0 if condition == "zero" else -feed.latestRoundData()[1]
        write_round(chain, feed, round_id, answer, chain.blocks.head.timestamp)
        error, inputs = venue.InvalidPrice, {"answer": answer}
    before = state_of(token, fish, whale, keeper)
    fish_position = venue.position(BTC, fish)

    with reverts(error, **inputs):
        ENTRIES[entry](token, venue, fish, keeper)

    assert state_of(token, fish, whale, keeper) == before
    assert venue.position(BTC, fish) == fish_position
