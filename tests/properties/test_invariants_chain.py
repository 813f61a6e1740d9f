"""The request book's invariants on the real contracts: hypothesis draws short sequences of requests, claims,
cancellations, oracle rounds (some in the second of a request), time, settlements (by the keeper and, for
redemptions past their window, by anyone) and keeper upkeeps on
anvil, and after every step the chain's own state must keep:

- escrowAssets == pending deposits + claimable redemption assets + dust, 0 <= dust < the redemption requests
  made (each claimable amount is floored once per controller and settled epoch), and escrowAssets <= the
  token's collateral balance;
- the token's own shares (escrow) >= pending redemptions + claimable deposit shares;
- totalSupply == the sum of every balance, claims at NAV <= equity, and the venue's collateral conserved;
- every action rebalanceStatus reports as due succeeds when a keeper performs it;
- at the end, every holder's redemption of all its shares settles within one settlement window, by the fallback.

Each example starts from the same snapshot (a 3x long with 50,000 deposited) and few examples run:
every step is a transaction on anvil."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from levtoken.shapes import Action
from tests.utils import chain as chain_helpers
from tests.utils.reverts import attempt
from tests.utils.strategies import HEALTH

ACCOUNTS = 3  # whale, fish, stranger request; the fee recipient only receives fees

step = st.one_of(
    st.tuples(st.just("request_deposit"), st.integers(0, ACCOUNTS - 1), st.integers(1, 200_000 * 10**6)),
    st.tuples(st.just("request_redeem"), st.integers(0, ACCOUNTS - 1), st.sampled_from([1, 2, 3, 10**6])),
    st.tuples(st.just("claim"), st.integers(0, ACCOUNTS - 1), st.sampled_from(["deposit", "mint", "redeem", "withdraw"])),
    st.tuples(st.just("cancel"), st.integers(0, ACCOUNTS - 1), st.just(0)),
    st.tuples(st.just("round"), st.sampled_from([0, 1, 60]), st.integers(-500, 500)),
    st.tuples(st.just("time"), st.sampled_from([300, 3_600, 4_000]), st.just(0)),
    st.tuples(st.just("settle"), st.sampled_from([0, 1]), st.just(0)),
    st.tuples(st.just("upkeep"), st.just(0), st.just(0)),
    st.tuples(st.just("fallback"), st.integers(0, ACCOUNTS - 1), st.just(0)),
)


@pytest.fixture(scope="module")
def book(create_token, deposit, fund, whale, fish, stranger):
    """A 3x long (factory defaults: 1-hour settlement window) with 50,000 of the whale's deposit, and the three
    requesters funded with approvals."""
    token = create_token(3)
    deposit(token, whale, 50_000)
    for account in (whale, fish, stranger):
        fund(account, 10_000_000, token)
    return token


@settings(max_examples=8, deadline=None, suppress_health_check=HEALTH)
@given(steps=st.lists(step, min_size=5, max_size=12))
def test_request_book__random_steps__escrow_and_supply_invariants(
    book, steps, chain, gov, keeper, whale, fish, stranger, fee_recipient, usd, feed, venue
):
    token = book
    requesters = [whale, fish, stranger]
    holders = [*requesters, fee_recipient, token]
    snapshot = chain.snapshot()
    redeem_requests = 0
    try:
        for index, (kind, a, b) in enumerate(steps):
            label = f"step {index} {kind}"
            if kind == "request_deposit":
                who = requesters[a]
                attempt(token, lambda: token.requestDeposit(b, who, who, sender=who), "EarlierRequestPending", "SupplyCapExceeded")
            elif kind == "request_redeem":
                who = requesters[a]
                shares = int(token.balanceOf(who)) // b
                if shares and attempt(token, lambda: token.requestRedeem(shares, who, who, sender=who), "EarlierRequestPending"):
                    redeem_requests += 1
            elif kind == "claim":
                who = requesters[a]
                if b == "deposit" and token.maxDeposit(who):
                    token.deposit(token.maxDeposit(who), who, sender=who)
                elif b == "mint" and token.maxMint(who) > 1:
                    token.mint(int(token.maxMint(who)) // 2, who, sender=who)
                elif b == "redeem" and token.maxRedeem(who):
                    token.redeem(token.maxRedeem(who), who, who, sender=who)
                elif b == "withdraw" and token.maxWithdraw(who) > 1:
                    token.withdraw(int(token.maxWithdraw(who)) // 3, who, who, sender=who)
            elif kind == "cancel":
                who = requesters[a]
                if attempt(token, lambda: token.cancelDepositRequest(who, who, sender=who),
                           "CancelTooEarly", "NoPendingRequest", "RequestAlreadySettled"):
                    event("a deposit cancelled")
            elif kind == "round":
                chain_helpers.advance(chain, a)
                answer = int(feed.latestRoundData()[1])
                feed.submit(answer * (10_000 + b) // 10_000, sender=gov)
            elif kind == "time":
                chain_helpers.advance(chain, a)
                feed.submit(feed.latestRoundData()[1], sender=gov)
            elif kind == "settle":  # after a round 1 s later (a = 1) or at the latest round (a = 0)
                if a:
                    chain_helpers.advance(chain, 1)
                    feed.submit(feed.latestRoundData()[1], sender=gov)
                if attempt(token, lambda: token.settle(sender=keeper), "NoNewerPrice", "NothingToSettle"):
                    event("a keeper settled")
            elif kind == "fallback":  # a redeemer in the batch, for redemptions only, once its window passed
                who = requesters[a]
                if attempt(token, lambda: token.settle(sender=who), "FallbackNotOpen", "NoNewerPrice", "NothingToSettle",
                           "NotInRedemptionBatch"):
                    event("fallback settled")
            elif kind == "upkeep":
                upkeep(token, keeper)
            check(label, token, requesters, holders, redeem_requests, usd, venue)
        # Finally a newer round, and the keeper does everything then reported due.
        chain_helpers.advance(chain, 1)
        feed.submit(feed.latestRoundData()[1], sender=gov)
        upkeep(token, keeper)
        check("end", token, requesters, holders, redeem_requests, usd, venue)
        every_holder_exits_within_a_window(token, requesters, chain, feed, gov, stranger)
    finally:
        chain.restore(snapshot)


def every_holder_exits_within_a_window(token, requesters, chain, feed, gov, stranger) -> None:
    """Every holder asks to redeem all its shares, keepers are down, and one settlement window after the round
    that qualifies them one redeemer's fallback settles them all: each holder's claimable redemption grows by what
    it asked (a token with positive equity never keeps anyone in)."""
    asked = {}
    for who in requesters:
        shares = int(token.balanceOf(who))
        if shares and attempt(token, lambda: token.requestRedeem(shares, who, who, sender=who), "EarlierRequestPending"):
            asked[who] = (shares, int(token.maxRedeem(who)))
    if not asked or int(token.totalAssets()) <= 0:
        return
    chain_helpers.advance(chain, 1)
    feed.submit(feed.latestRoundData()[1], sender=gov)
    token.poke(sender=stranger)  # the window starts at this round
    chain_helpers.advance(chain, int(token.params().settlementWindow))
    feed.submit(feed.latestRoundData()[1], sender=gov)
    token.settle(sender=next(iter(asked)))
    for who, (shares, before) in asked.items():
        assert int(token.maxRedeem(who)) == before + shares, f"{who} asked {shares} shares and cannot redeem them"
    event("every holder exited by the fallback")


def upkeep(token, keeper) -> None:
    """Performs, as the keeper, every action rebalanceStatus reports due (a settlement, then a rebalance):
    each must succeed."""
    for _ in range(3):
        action = int(token.rebalanceStatus().action)
        if action == Action.NONE:
            return
        token.performUpkeep(b"", sender=keeper)
        event(f"upkeep performed {Action(action).name}")


def check(label, token, requesters, holders, redeem_requests, usd, venue) -> None:
    """The invariants of the module docstring on the chain's current state."""
    escrow = int(token.escrowAssets())
    pending_assets = sum(int(token.pendingDepositRequest(0, r)) for r in requesters)
    claimable_assets = sum(int(token.maxWithdraw(r)) for r in requesters)
    dust = escrow - pending_assets - claimable_assets
    assert 0 <= dust < max(redeem_requests, 1), f"{label}: escrow {escrow}, dust {dust}"
    assert escrow <= int(usd.balanceOf(token)), f"{label}: escrow above the token's collateral"
    escrow_shares = int(token.balanceOf(token))
    owed_shares = sum(int(token.pendingRedeemRequest(0, r)) + int(token.maxMint(r)) for r in requesters)
    assert escrow_shares >= owed_shares, f"{label}: escrowed shares {escrow_shares} < owed {owed_shares}"
    balances = [int(token.balanceOf(h)) for h in holders]
    assert int(token.totalSupply()) == sum(balances), f"{label}: totalSupply != sum of balances"
    equity = int(token.totalAssets())
    claims = sum(int(token.convertToAssets(b)) for b in balances)
    assert claims <= equity, f"{label}: claims {claims} > equity {equity}"
    margin = int(venue.position(1, token).margin)
    assert int(usd.balanceOf(venue)) == int(venue.poolCash()) + margin, f"{label}: venue collateral not conserved"
    # The rebalance decision never reverts, and reports SETTLE only with something to settle.
    status = token.rebalanceStatus()
    if int(status.action) == Action.SETTLE:
        assert status.depositAssets or status.redeemShares, f"{label}: SETTLE with nothing in it"
