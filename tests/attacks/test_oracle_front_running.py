"""Trading ahead of a known oracle round: the attacker sees the next round (a move x) before it lands and
requests a deposit, then redeems.

With instant entry and exit at the oracle, this took the move from the holders whenever x exceeded the
round trip's costs (`instant_profit` below: the closed form that design's measurement matched to a few
units, printed beside each result for comparison).
Now a request is priced by the first round published strictly after it, so the attacker can only be
priced at the round it saw coming (requested in an earlier second) or at a later one (requested in the
same second, before or after the round): never at the round it knew. The keeper settles in the block after
each round; later rounds repeat the new price (whatever they bring is a bet, not knowledge). The attacker's
round trip then pays the fees and the trade costs and takes nothing from the move, in every timing, size
and direction measured here.
"""

import math

import pytest

from levtoken.units import BPS, to_feed, to_units
from tests.utils.chain import block_time, head_time
from tests.utils.constants import BTC
from tests.utils.requests import settled, settlement_of

P0 = 30_000
WHALE = 1_000_000
ATTACK = 10_000
MOVES = ["0.0005", "0.005", "0.05"]  # 0.05%, 0.5%, 5%, up and down
# When the attacker's deposit request lands relative to the round it saw coming: in the block before (one
# second earlier), or in the round's own second, before or after it (anvil mines a block per transaction;
# the contracts see only the timestamp, so the same second is the same block to them).
TIMINGS = ["block-before", "same-second-before", "same-second-after"]
# Every move in the block before; the largest, both ways, in the round's own second.
CASES = [(m, d, "block-before") for m in MOVES for d in (1, -1)] + [
    ("0.05", d, timing) for timing in TIMINGS[1:] for d in (1, -1)
]
# Seconds between the rounds after the move (a heartbeat or the next deviation; the exact gap only moves
# the streaming fee and funding by units).
NEXT_ROUND = 60


def instant_profit(leverage, x, a, f_m, f_r, t, depth):
    """What the same attacker made with an instant mint and redeem at the oracle (collateral units): entry at
    the old price, exit at the new one, the mint and redeem fees, and the hedge's taker fee and impact
    (notional^2 / depth) at entry and exit, the exit at the token's leverage after the move."""
    lev = abs(leverage)
    quad = leverage**2 / depth
    c = (-(1 + lev * t) + math.sqrt((1 + lev * t) ** 2 + 4 * quad * a)) / (2 * quad)
    gross = c * (1 - f_m) * (1 + leverage * x) * (1 - f_r)
    n = abs(leverage * (1 + x) / (1 + leverage * x)) * gross
    return gross - n * t - n * n / depth - a


def costs(token, venue):
    """(mint fee, redeem fee, taker fee, impact depth) as fractions and collateral units."""
    params, cfg = token.params(), venue.marketConfig(BTC)
    return params.mintFeeBps / BPS, params.redeemFeeBps / BPS, cfg.takerFeeBps / BPS, cfg.impactDepth


@pytest.fixture(scope="module", params=[3, -1], ids=["3x-long", "1x-short"])
def priced_token(request, create_token, deposit, whale):
    """A token of 1,000,000 USD at 30,000 (3x long or 1x short)."""
    token = create_token(request.param)
    deposit(token, whale, WHALE)
    return token


def _round_then_settle(chain, feed, gov, keeper, token, answer, at):
    """Publishes `answer` at time `at`, then the keeper settles in the next block (one second later)."""
    chain.pending_timestamp = at
    feed.submit(answer, sender=gov)
    chain.pending_timestamp = at + 1
    return token.settle(sender=keeper)


@pytest.mark.parametrize(
    "move, direction, timing", CASES, ids=[f"{'up' if d > 0 else 'down'}-{m}-{t}" for m, d, t in CASES]
)
def test_front_run_next_round__deposit_then_redeem__no_profit(
    priced_token, chain, feed, gov, keeper, venue, usd, fund, stranger, reverts, timing, direction, move
):
    token, attacker = priced_token, stranger
    leverage = token.targetLeverage() / 1e18
    x = direction * float(move)
    answer = to_feed(P0 * (1 + x))
    a = fund(attacker, ATTACK, token)
    t = head_time(chain) + 10  # the round the attacker saw coming lands at t

    if timing == "block-before":
        chain.pending_timestamp = t - 1
        request = token.requestDeposit(a, attacker, attacker, sender=attacker)
        chain.pending_timestamp = t
        feed.submit(answer, sender=gov)
    else:
        chain.pending_timestamp = t
        if timing == "same-second-before":
            request = token.requestDeposit(a, attacker, attacker, sender=attacker)
            feed.submit(answer, sender=gov)
        else:
            feed.submit(answer, sender=gov)
            request = token.requestDeposit(a, attacker, attacker, sender=attacker)
    requested_at = block_time(chain, request)

    # The keeper settles in the block after the round. A request of the round's own second waits for the next.
    chain.pending_timestamp = t + 1
    if timing == "block-before":
        entry = token.settle(sender=keeper)
    else:
        with reverts(token.NoNewerPrice, lastRequest=t, priceTime=t):
            token.settle(sender=keeper)
        entry = _round_then_settle(chain, feed, gov, keeper, token, answer, t + NEXT_ROUND)
    event, settlement = settled(token, entry), settlement_of(token, entry)
    # Priced at a round published after the request, at the new price: never the round it knew (P0).
    assert event.priceTime > requested_at
    assert settlement.price == answer * 10**10
    assert settlement.assets == a

    # Exit as soon as possible: claim, request the redemption, settled at the next round.
    shares = token.maxMint(attacker)
    token.mint(shares, attacker, sender=attacker)
    token.requestRedeem(shares, attacker, attacker, sender=attacker)
    exit_at = block_time(chain) + NEXT_ROUND
    _round_then_settle(chain, feed, gov, keeper, token, answer, exit_at)
    token.redeem(shares, attacker, attacker, sender=attacker)

    profit = usd.balanceOf(attacker) - a
    f_m, f_r, fee, depth = costs(token, venue)
    instant = instant_profit(leverage, x, a, f_m, f_r, fee, depth)
    print(f"L={leverage:+.0f} x={x:+.2%} {timing}: profit {profit / 1e6:+.2f} USD on {ATTACK} "
          f"(instant entry and exit: {instant / 1e6:+.2f})")
    assert token.balanceOf(attacker) == 0 and token.maxWithdraw(attacker) == 0
    assert profit <= 0
    # What it lost is the round trip's costs, not the move: the two fees and two trades of about |L| a each
    # (the exit trade at the token's leverage after the move, at most 1.4 |L| here), plus the seconds of
    # streaming fee and funding (well under a dollar).
    round_trip = a * (f_m + f_r + 2 * 1.4 * abs(leverage) * (fee + 1.4 * abs(leverage) * a / depth))
    assert -profit <= round_trip + to_units(1)
    assert -profit >= a * (f_m + f_r) * 0.99
