"""The liveness fallback: what a requester can take when keepers stop.

Redemptions. Once a redemption batch has waited `settlementWindow` without a keeper, anyone may settle it
(redemptions only) at the latest round. A holder who sees an adverse round in the mempool can settle its
own redemption just before it lands, at the previous price, instead of after it. Against an honest
redeemer settled after the round its gain is about |L| x v on redeemed value v (x the move, at most the
feed's deviation threshold, since a larger move would have been published already), less the redeem fee.
The venue's pool pays it: the token's pro-rata close of the redeemed part happens at the old price, and
the remaining holders' claims are the same to the unit as in the honest order.

Deposits. A depositor never holds both a settlement and a refund: before the window, cancelling reverts
CancelTooEarly and only keepers settle; after it, the batch expires, a keeper's settlement leaves it out
and the depositor can only take its assets back, at par.
"""

import pytest

from levtoken.units import BPS, to_feed
from tests.utils.chain import head_time, mine_at
from tests.utils.requests import settled, settlement_of

P0 = 30_000
WHALE = 1_000_000
HOLDING = 100_000  # the attacker's and the honest holder's deposits, USD
MOVES = ["0.005", "0.01"]  # adverse moves the attacker escapes: 0.5% and 1%


@pytest.fixture(scope="module", params=[3, -1], ids=["3x-long", "1x-short"])
def held_token(request, create_token, deposit, whale, fish, stranger):
    """A token with a whale (1,000,000 USD) and two holders of 100,000 USD: fish and the attacker."""
    token = create_token(request.param)
    deposit(token, whale, WHALE)
    deposit(token, fish, HOLDING)
    deposit(token, stranger, HOLDING)
    return token


@pytest.fixture(scope="module")
def deposit_token(create_token, deposit, whale):
    """A 2x token with a whale of 1,000,000 USD (the deposit side does not depend on the leverage; the
    factory takes one token per market and leverage, and the 3x one is held_token's)."""
    token = create_token(2)
    deposit(token, whale, WHALE)
    return token


def _request_deposit(token, chain, fund, fish):
    """`fish` requests a deposit of 10,000 USD in a block of its own; returns the settlement window, the assets
    and that block's time."""
    window = token.params().settlementWindow
    assets = fund(fish, 10_000, token)
    t0 = head_time(chain) + 1
    chain.pending_timestamp = t0
    token.requestDeposit(assets, fish, fish, sender=fish)
    return window, assets, t0


def _cancel_refunds_at_par(token, usd, fish, assets):
    """`fish` cancels its deposit request and gets exactly its `assets` back."""
    before = usd.balanceOf(fish)
    token.cancelDepositRequest(fish, fish, sender=fish)
    assert usd.balanceOf(fish) - before == assets


def _holder_claims(token, *holders):
    return [token.convertToAssets(token.balanceOf(h)) for h in holders]


@pytest.mark.parametrize("move", MOVES)
def test_fallback__redeemer_settles_just_before_adverse_round__gains_L_x_v_paid_by_pool(
    held_token, chain, feed, gov, keeper, venue, whale, fish, stranger, reverts, move
):
    token, attacker = held_token, stranger
    leverage = token.targetLeverage() / 1e18
    window = token.params().settlementWindow
    shares = token.balanceOf(attacker)
    value = token.convertToAssets(shares)
    adverse = to_feed(P0 * (1 - float(move) * (1 if leverage > 0 else -1)))

    t0 = head_time(chain) + 1
    chain.pending_timestamp = t0
    token.requestRedeem(shares, attacker, attacker, sender=attacker)
    t1 = t0 + 1  # the round that qualifies the batch; the keeper is down from here on
    chain.pending_timestamp = t1
    feed.submit(to_feed(P0), sender=gov)
    chain.pending_timestamp = t1 + 60
    with reverts(token.FallbackNotOpen, opensAt=t1 + window):
        token.settle(sender=attacker)

    # An hour later, without a round in between (the price stayed within the feed's deviation), the
    # attacker sees an adverse round coming at t2.
    t2 = t1 + window + 60
    snapshot = chain.snapshot()
    results = {}
    for order in ("attacker-first", "round-first"):
        if results:
            chain.restore(snapshot)
        chain.pending_timestamp = t2
        if order == "attacker-first":
            tx = token.settle(sender=attacker)  # the fallback: a stranger to KEEPER_ROLE
            feed.submit(adverse, sender=gov)
        else:
            feed.submit(adverse, sender=gov)
            tx = token.settle(sender=keeper)  # the honest order: settled after the round
        event, settlement = settled(token, tx), settlement_of(token, tx)
        assert event.fallback_ == (order == "attacker-first")
        assert settlement.price == (to_feed(P0) if order == "attacker-first" else adverse) * 10**10
        assert (settlement.shares, settlement.assets) == (shares, 0)
        assets = token.maxWithdraw(attacker)
        token.redeem(shares, attacker, attacker, sender=attacker)
        funding = sum(e.amount for e in tx.events.filter(venue.FundingSettled) if e.account == token.address)
        results[order] = (assets, _holder_claims(token, whale, fish), venue.poolValue(), settlement.cost, funding)

    (a_early, claims_early, pool_early, cost_early, funding_early) = results["attacker-first"]
    (a_late, claims_late, pool_late, cost_late, funding_late) = results["round-first"]
    gain = a_early - a_late
    f_r = token.params().redeemFeeBps / BPS
    bound = abs(leverage) * float(move) * value * (1 - f_r)
    print(f"L={leverage:+.0f} adverse move {float(move):.2%}: redeemed {value / 1e6:,.2f} USD, settled before "
          f"the round {a_early / 1e6:,.2f}, after it {a_late / 1e6:,.2f}: gain {gain / 1e6:+,.2f} USD "
          f"(|L| x v (1 - f_r) = {bound / 1e6:,.2f}); trade cost {cost_early / 1e6:.2f} vs {cost_late / 1e6:.2f}")
    # The gain is the move on the redeemed exposure, to within the difference of the two trades' costs.
    assert gain > 0
    assert abs(gain - bound) <= abs(cost_early - cost_late) + value * 1e-5
    # The remaining holders' claims do not depend on the order beyond rounding and the venue's funding: it
    # accrues the hour's funding at the price of the moment it is touched, before or after the round, so
    # the token pays |funding x| more or less (a few cents; any venue trade just before a round does the same).
    funding_shift = abs(funding_early - funding_late)
    print(f"  remaining holders' claims, attacker first minus round first: "
          f"{[e - l for e, l in zip(claims_early, claims_late)]} units; funding shift {funding_shift} units")
    for early, late in zip(claims_early, claims_late):
        assert abs(early - late) <= funding_shift + 2
    assert abs(sum(claims_early) - sum(claims_late)) <= funding_shift + 2
    # The venue's pool, which took the pro-rata close at the old price, paid it.
    assert pool_late - pool_early == pytest.approx(gain, rel=0.01)


def test_deposit__cancel_before_window__CancelTooEarly__settled__RequestAlreadySettled(
    deposit_token, venue, chain, feed, gov, keeper, fund, fish, reverts
):
    token = deposit_token
    window, assets, t0 = _request_deposit(token, chain, fund, fish)
    # No round after it yet: cancellable only if the feed stays silent past its heartbeat and the window.
    deadline = feed.latestRoundData()[3] + venue.marketConfig(1).heartbeat + window
    with reverts(token.CancelTooEarly, allowedAt=deadline):
        token.cancelDepositRequest(fish, fish, sender=fish)
    chain.pending_timestamp = t0 + 1
    feed.submit(to_feed(P0), sender=gov)
    # Qualified: only a keeper settles it until the window ends, and it cannot be cancelled before then.
    chain.pending_timestamp = t0 + window
    with reverts(token.CancelTooEarly, allowedAt=t0 + 1 + window):
        token.cancelDepositRequest(fish, fish, sender=fish)
    with reverts(token.NothingToSettle):
        token.settle(sender=fish)  # a stranger's settlement never takes deposits
    tx = token.settle(sender=keeper)
    event = settled(token, tx)
    # Settled within the window: the refund option is gone for good.
    chain.pending_timestamp = t0 + 1 + 2 * window
    with reverts(token.RequestAlreadySettled, epoch=event.depositEpoch):
        token.cancelDepositRequest(fish, fish, sender=fish)
    assert token.maxDeposit(fish) == assets


def test_deposit__after_window__keeper_settles_redemptions_only__deposit_refunded_at_par(
    deposit_token, chain, feed, gov, keeper, usd, fund, fish, whale, reverts
):
    token = deposit_token
    window, assets, t0 = _request_deposit(token, chain, fund, fish)
    token.requestRedeem(token.balanceOf(whale) // 10, whale, whale, sender=whale)
    chain.pending_timestamp = t0 + 1
    feed.submit(to_feed(P0), sender=gov)

    # The keeper comes back once the window has passed (no round since): redemptions settle, deposits expire.
    chain.pending_timestamp = t0 + 1 + window
    tx = token.settle(sender=keeper)
    event, settlement = settled(token, tx), settlement_of(token, tx)
    (expired,) = tx.events.filter(token.DepositsExpired)
    assert (expired.assets, event.depositEpoch, settlement.assets) == (assets, 0, 0)
    assert event.redeemEpoch != 0 and settlement.shares > 0
    assert (token.maxDeposit(fish), token.maxMint(fish), token.pendingDepositRequest(0, fish)) == (0, 0, assets)
    # Not later either, even at a price in the depositor's favour: it can only be cancelled, at par.
    feed.submit(to_feed(P0 * 0.95 if token.targetLeverage() > 0 else P0 * 1.05), sender=gov)
    with reverts(token.NothingToSettle):
        token.settle(sender=keeper)
    _cancel_refunds_at_par(token, usd, fish, assets)
    assert token.pendingDepositRequest(0, fish) == 0
    with reverts(token.NoPendingRequest, controller=fish.address):
        token.cancelDepositRequest(fish, fish, sender=fish)


def test_deposit__paused_rounds_every_half_window__cancel_opens_after_the_window(
    deposit_token, chain, feed, gov, keeper, usd, fund, fish, reverts
):
    token = deposit_token
    window, assets, t0 = _request_deposit(token, chain, fund, fish)
    token.pause(sender=gov)
    # Keepers are live but cannot settle deposits while paused; the feed publishes every half window. Every
    # call that would keep the roll reverts (settle: NothingToSettle), so the depositor pokes once after the
    # first round: the window starts there, not at whichever round a later transaction sees.
    t = t0
    for index in range(3):
        t += window // 2
        chain.pending_timestamp = t
        feed.submit(to_feed(P0), sender=gov)
        with reverts(token.NothingToSettle):
            token.settle(sender=keeper)
        if index == 0:
            token.poke(sender=fish)
            opens = t + window
        elif t < opens:
            with reverts(token.CancelTooEarly, allowedAt=opens):
                token.cancelDepositRequest(fish, fish, sender=fish)
    mine_at(chain, t + 1)
    # One window after its first round, the depositor takes its assets back.
    _cancel_refunds_at_par(token, usd, fish, assets)
