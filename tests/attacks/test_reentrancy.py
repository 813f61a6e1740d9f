"""Reentrancy through the collateral token.

The collateral here is a HookStablecoin, which hands control to a hook contract after every transfer
(as an ERC-777-style or maliciously upgraded stablecoin would). A second venue and a token on it use it;
a ReentrancyAttacker is the hook. It holds a claimable deposit and a claimable redemption of the token
(requested for it by its owner, who names it as controller) and, in the middle of a keeper's settlement, a
deposit request, a redemption claim, a ripcord or a rebalance, re-enters the token (a deposit or redemption
claim, rebalance, ripcord) or the venue (modifyPosition). Each re-entrant call must revert with
ReentrancyGuardReentrantCall; the outer call then either reverts with it too (the attacker bubbles it up:
nothing changes) or completes exactly as without the attack (the attacker swallows it).

The attacker contract predates requests: it cannot re-enter requestDeposit, requestRedeem, settle or
cancelDepositRequest (all four carry the same guard as the calls it does re-enter).
"""

from enum import IntEnum

import pytest
from ape import project

from levtoken.deployment import deploy_factory
from levtoken.shapes import UINT256_MAX, ZERO_ADDRESS
from levtoken.units import to_feed, to_units
from tests.utils.chain import advance
from tests.utils.constants import BTC
from tests.utils.reverts import error_selector
from tests.utils.requests import settlement_of

P0 = 30_000


class Reentry(IntEnum):
    """ReentrancyAttacker.Reentry: the call the hook makes."""

    NONE = 0
    DEPOSIT = 1
    REDEEM = 2
    REBALANCE = 3
    RIPCORD = 4
    VENUE_MODIFY = 5


def _settle_now(chain, feed, gov, keeper, token):
    """Publishes a round one second later and settles as the keeper."""
    advance(chain, 1)
    feed.submit(to_feed(P0), sender=gov)
    return token.settle(sender=keeper)


@pytest.fixture(scope="module")
def hooked(chain, feed, gov, keeper, lp, whale, stranger, make_venue, create_token):
    """(hook token, venue, leveraged token, attacker): a 3x long on a venue whose collateral calls back; the
    attacker contract has 20,000 USD of claimable deposit and half of 10,000 USD of shares claimable as a
    redemption."""
    husd = gov.deploy(project.HookStablecoin)
    market = make_venue(10_000_000, lp, collateral=husd)
    token = create_token(3, on=deploy_factory(gov, market.address, gov.address))
    attacker = stranger.deploy(project.ReentrancyAttacker, token, market, BTC)
    market.register(attacker, True, sender=gov)  # it trades on the venue in one step, as a token does
    for account in (whale, stranger):
        husd.mint(account, to_units(200_000), sender=account)
        husd.approve(token, UINT256_MAX, sender=account)
    token.requestDeposit(to_units(100_000), whale, whale, sender=whale)
    token.requestDeposit(to_units(20_000), attacker, stranger, sender=stranger)
    token.requestDeposit(to_units(10_000), stranger, stranger, sender=stranger)
    _settle_now(chain, feed, gov, keeper, token)
    token.mint(token.maxMint(whale), whale, sender=whale)
    token.mint(token.maxMint(stranger), stranger, sender=stranger)
    token.requestRedeem(token.balanceOf(stranger) // 2, attacker, stranger, sender=stranger)
    _settle_now(chain, feed, gov, keeper, token)

    husd.mint(attacker, to_units(10_000), sender=stranger)
    attacker.depositMargin(to_units(1_000), sender=stranger)  # margin for its own venue trades
    husd.setHook(attacker, sender=stranger)
    return husd, market, token, attacker


def snapshot(husd, market, token, attacker, whale, stranger):
    position = market.position(BTC, token)
    return (
        token.totalSupply(), token.balanceOf(attacker), token.balanceOf(whale), husd.balanceOf(attacker),
        husd.balanceOf(token), husd.balanceOf(market), market.poolCash(), token.escrowAssets(),
        token.maxDeposit(attacker), token.maxRedeem(attacker), token.pendingDepositRequest(0, stranger),
        token.pendingDepositRequest(0, whale), token.pendingRedeemRequest(0, whale),
        (position.margin, position.size, position.openNotional), tuple(market.position(BTC, attacker)),
    )


def _outer(name, hooked, chain, feed, gov, keeper, whale, stranger, set_price):
    """Prepares the outer call `name` and returns it."""
    husd, market, token, attacker = hooked
    if name == "claim-redeem":
        return lambda: attacker.redeem(token.maxRedeem(attacker) // 2, sender=stranger)
    if name == "request-deposit":
        return lambda: token.requestDeposit(to_units(5_000), stranger, stranger, sender=stranger)
    if name.startswith("settle"):
        # A deposit (margin into the venue) or a redemption (margin out of it) waits, and a round qualifies it.
        if name == "settle-deposit":
            token.requestDeposit(to_units(10_000), whale, whale, sender=whale)
        else:
            token.requestRedeem(token.balanceOf(whale) // 2, whale, whale, sender=whale)
        advance(chain, 1)
        feed.submit(to_feed(P0), sender=gov)
        return lambda: token.settle(sender=keeper)
    if name == "ripcord":
        set_price(25_500)  # past the ripcord
        return lambda: attacker.ripcord(sender=stranger)
    # A keeper's rebalance that sweeps idle collateral (a donation) into margin.
    set_price(26_100)
    husd.mint(token, to_units(100), sender=whale)
    return lambda: token.rebalance(sender=keeper)


def _expected(name, hooked):
    """What the outer call gives when nothing interferes, read before it at the same timestamp."""
    husd, market, token, attacker = hooked
    if name == "claim-redeem":
        half = token.maxRedeem(attacker) // 2
        return half, token.maxWithdraw(attacker) * half // token.maxRedeem(attacker)
    if name == "request-deposit":
        return to_units(5_000)
    if name.startswith("settle"):
        status = token.rebalanceStatus()
        return status.depositAssets, status.redeemShares, status.sizeDelta
    if name == "ripcord":
        return min(token.params().ripcordBounty, token.rebalanceStatus().equity * 100 // 10_000)
    return token.rebalanceStatus().sizeDelta


# (outer call, re-entry, transfer that triggers it: from, to)
CASES = [
    ("claim-redeem", Reentry.DEPOSIT, "token", "attacker"),
    ("claim-redeem", Reentry.REDEEM, "token", "attacker"),
    ("request-deposit", Reentry.DEPOSIT, "stranger", "token"),
    ("request-deposit", Reentry.REDEEM, "stranger", "token"),
    ("settle-deposit", Reentry.DEPOSIT, "token", "venue"),
    ("settle-deposit", Reentry.REBALANCE, "token", "venue"),
    ("settle-deposit", Reentry.VENUE_MODIFY, "token", "venue"),
    ("settle-redeem", Reentry.REDEEM, "venue", "token"),
    ("settle-redeem", Reentry.VENUE_MODIFY, "venue", "token"),
    ("ripcord", Reentry.RIPCORD, "venue", "attacker"),
    ("rebalance", Reentry.DEPOSIT, "token", "venue"),
]
NAMES = {
    Reentry.DEPOSIT: "deposit-claim", Reentry.REDEEM: "redeem-claim", Reentry.REBALANCE: "rebalance",
    Reentry.RIPCORD: "ripcord", Reentry.VENUE_MODIFY: "venue.modifyPosition",
}
IDS = [f"{o}-reenters-{NAMES[r]}" for o, r, _, _ in CASES]


def _arm(hooked, reentry, src, dst, swallow, stranger):
    husd, market, token, attacker = hooked
    where = {
        "attacker": attacker.address, "token": token.address, "venue": market.address,
        "stranger": stranger.address, "any": ZERO_ADDRESS,
    }
    attacker.arm(reentry, where[src], where[dst], swallow, sender=stranger)


@pytest.fixture(params=CASES, ids=IDS)
def case(request, hooked, chain, feed, gov, keeper, whale, stranger, set_price):
    """One case of CASES: (the outer call's name, the outer call prepared, `arm(swallow)`, which sets the
    attacker's re-entry for it, to bubble the guard's revert up or to swallow it)."""
    outer, reentry, src, dst = request.param
    call = _outer(outer, hooked, chain, feed, gov, keeper, whale, stranger, set_price)
    return outer, call, lambda swallow: _arm(hooked, reentry, src, dst, swallow, stranger)


def test_reentrant_call__bubbled_up__outer_call_reverts_state_unchanged(case, hooked, whale, stranger, reverts):
    token = hooked[2]
    _, call, arm = case
    arm(False)
    before = snapshot(*hooked, whale, stranger)
    with reverts(token.ReentrancyGuardReentrantCall):
        call()
    assert snapshot(*hooked, whale, stranger) == before


def test_reentrant_call__swallowed__outer_call_completes_exactly_as_without_it(case, hooked, whale, stranger, pin):
    husd, market, token, attacker = hooked
    outer, call, arm = case
    arm(True)
    shares, cash, whale_shares = token.balanceOf(attacker), husd.balanceOf(attacker), token.balanceOf(whale)
    claimable = (token.maxDeposit(attacker), token.maxRedeem(attacker))
    pending, stranger_cash = token.pendingDepositRequest(0, stranger), husd.balanceOf(stranger)
    attacker_position = tuple(market.position(BTC, attacker))
    pin()
    expected = _expected(outer, hooked)
    pin()
    tx = call()

    # The hook fired once, in the transfer chosen, and the re-entrant call reverted on the guard.
    assert (attacker.attempts(), attacker.successes()) == (1, 0)
    assert "0x" + bytes(attacker.lastResult()).hex() == error_selector(token.ReentrancyGuardReentrantCall)
    assert tuple(market.position(BTC, attacker)) == attacker_position
    assert token.balanceOf(whale) == whale_shares
    if outer == "claim-redeem":
        half, assets = expected
        assert husd.balanceOf(attacker) - cash == assets
        assert (token.maxDeposit(attacker), claimable[1] - token.maxRedeem(attacker)) == (claimable[0], half)
        return
    assert (token.maxDeposit(attacker), token.maxRedeem(attacker)) == claimable
    if outer == "request-deposit":
        assert token.pendingDepositRequest(0, stranger) - pending == expected
        assert stranger_cash - husd.balanceOf(stranger) == expected
    elif outer.startswith("settle"):
        settlement = settlement_of(token, tx)
        assert (settlement.assets, settlement.shares, settlement.size_delta) == expected
        assert (token.balanceOf(attacker), husd.balanceOf(attacker)) == (shares, cash)
    elif outer == "ripcord":
        assert husd.balanceOf(attacker) - cash == expected == to_units(10)
        assert tx.events.filter(token.RipcordBountyPaid)[0].amount == expected
        assert token.balanceOf(attacker) == shares
    else:
        assert tx.events.filter(token.Rebalanced)[0].sizeDelta == expected
        assert (token.balanceOf(attacker), husd.balanceOf(attacker)) == (shares, cash)
        assert husd.balanceOf(token) == token.escrowAssets()  # the idle collateral went into margin


def test_control__same_calls_without_a_guarded_caller__succeed(hooked, stranger):
    """The re-entrant calls are valid on their own: they fail only because of the guard."""
    husd, market, token, attacker = hooked
    claimable = (token.maxDeposit(attacker), token.maxRedeem(attacker))
    # Armed on a plain transfer to the attacker: no protocol call is in progress.
    for reentry in (Reentry.VENUE_MODIFY, Reentry.DEPOSIT, Reentry.REDEEM):
        _arm(hooked, reentry, "any", "attacker", True, stranger)
        husd.mint(attacker, 1, sender=stranger)
    assert (attacker.attempts(), attacker.successes()) == (3, 3)
    assert market.position(BTC, attacker).size == 10**15
    assert token.maxDeposit(attacker) == claimable[0] - 10**6  # the deposit claim took 1 USD
    assert token.maxRedeem(attacker) == claimable[1] - 10**12  # the redemption claim took 1e12 shares
