"""Reentrancy through the collateral token.

The collateral here is a HookStablecoin, which hands control to a hook contract after every transfer
(as an ERC-777-style or maliciously upgraded stablecoin would). A second venue and a token on it use it;
a ReentrancyAttacker is the hook and, in the middle of a deposit, redemption, ripcord or rebalance,
re-enters the token (deposit, redeem, rebalance, ripcord) or the venue (modifyPosition). Each re-entrant
call must revert with ReentrancyGuardReentrantCall; the outer call then either reverts with it too
(the attacker bubbles it up: nothing changes) or completes exactly as without the attack (the attacker
swallows it: the outer call pays what its preview said, nothing more, nothing lost).
"""

from enum import IntEnum

import pytest
from ape import project

from levtoken.shapes import UINT256_MAX, ZERO_ADDRESS
from levtoken.units import to_units
from tests.utils.constants import BTC
from tests.utils.reverts import error_selector


class Reentry(IntEnum):
    """ReentrancyAttacker.Reentry: the call the hook makes."""

    NONE = 0
    DEPOSIT = 1
    REDEEM = 2
    REBALANCE = 3
    RIPCORD = 4
    VENUE_MODIFY = 5


@pytest.fixture(scope="module")
def hooked(gov, lp, whale, stranger, make_venue, create_token):
    """(hook token, venue, leveraged token, attacker): a 3x long on a venue whose collateral calls back."""
    husd = gov.deploy(project.HookStablecoin)
    market = make_venue(10_000_000, lp, collateral=husd)
    token = create_token(3, on=gov.deploy(project.LeveragedTokenFactory, market, gov))
    husd.mint(whale, to_units(100_000), sender=whale)
    husd.approve(token, UINT256_MAX, sender=whale)
    token.deposit(to_units(100_000), whale, sender=whale)

    attacker = stranger.deploy(project.ReentrancyAttacker, token, market, BTC)
    husd.mint(attacker, to_units(100_000), sender=stranger)
    attacker.deposit(to_units(10_000), sender=stranger)  # shares to redeem
    attacker.depositMargin(to_units(1_000), sender=stranger)  # margin for its own venue trades
    husd.setHook(attacker, sender=stranger)
    return husd, market, token, attacker


def snapshot(husd, market, token, attacker, whale):
    position = market.position(BTC, token)
    return (
        token.totalSupply(), token.balanceOf(attacker), token.balanceOf(whale), husd.balanceOf(attacker),
        husd.balanceOf(token), husd.balanceOf(market), market.poolCash(),
        (position.margin, position.size, position.openNotional), tuple(market.position(BTC, attacker)),
    )


def _outer(name, hooked, keeper, stranger, set_price, husd_whale):
    husd, market, token, attacker = hooked
    if name == "deposit":
        return lambda: attacker.deposit(to_units(5_000), sender=stranger)
    if name == "redeem":
        return lambda: attacker.redeem(token.balanceOf(attacker) // 2, sender=stranger)
    if name == "ripcord":
        set_price(25_500)  # past the ripcord
        return lambda: attacker.ripcord(sender=stranger)
    # A keeper's rebalance that sweeps idle collateral (a donation) into margin.
    set_price(26_100)
    husd.mint(token, to_units(100), sender=husd_whale)
    return lambda: token.rebalance(sender=keeper)


def _expected(name, hooked, keeper):
    """What the outer call pays when nothing interferes: previewed before it, at the same timestamp."""
    husd, market, token, attacker = hooked
    if name == "deposit":
        return token.previewDeposit(to_units(5_000))
    if name == "redeem":
        return token.previewRedeem(token.balanceOf(attacker) // 2)
    if name == "ripcord":
        return min(token.params().ripcordBounty, token.rebalanceStatus().equity * 100 // 10_000)
    return token.rebalanceStatus().sizeDelta


# (outer call, re-entry, transfer that triggers it: from, to)
CASES = [
    ("deposit", Reentry.DEPOSIT, "attacker", "token"),
    ("deposit", Reentry.REBALANCE, "attacker", "token"),
    ("deposit", Reentry.VENUE_MODIFY, "token", "venue"),
    ("redeem", Reentry.REDEEM, "venue", "attacker"),
    ("redeem", Reentry.DEPOSIT, "venue", "attacker"),
    ("redeem", Reentry.VENUE_MODIFY, "venue", "attacker"),
    ("ripcord", Reentry.RIPCORD, "venue", "attacker"),
    ("rebalance", Reentry.DEPOSIT, "token", "venue"),
]
NAMES = {
    Reentry.DEPOSIT: "deposit", Reentry.REDEEM: "redeem", Reentry.REBALANCE: "rebalance", Reentry.RIPCORD: "ripcord",
    Reentry.VENUE_MODIFY: "venue.modifyPosition",
}
IDS = [f"{o}-reenters-{NAMES[r]}" for o, r, _, _ in CASES]


def _arm(hooked, reentry, src, dst, swallow, stranger):
    husd, market, token, attacker = hooked
    where = {"attacker": attacker.address, "token": token.address, "venue": market.address, "any": ZERO_ADDRESS}
    attacker.arm(reentry, where[src], where[dst], swallow, sender=stranger)


@pytest.mark.parametrize("outer, reentry, src, dst", CASES, ids=IDS)
def test_reentrant_call__bubbled_up__outer_call_reverts_state_unchanged(
    hooked, whale, keeper, stranger, set_price, pin, outer, reentry, src, dst, reverts
):
    husd, market, token, attacker = hooked
    call = _outer(outer, hooked, keeper, stranger, set_price, whale)
    _arm(hooked, reentry, src, dst, False, stranger)
    before = snapshot(*hooked, whale)
    with reverts(token.ReentrancyGuardReentrantCall):
        call()
    assert snapshot(*hooked, whale) == before


@pytest.mark.parametrize("outer, reentry, src, dst", CASES, ids=IDS)
def test_reentrant_call__swallowed__outer_call_completes_exactly_as_previewed(
    hooked, whale, keeper, stranger, set_price, pin, outer, reentry, src, dst
):
    husd, market, token, attacker = hooked
    call = _outer(outer, hooked, keeper, stranger, set_price, whale)
    _arm(hooked, reentry, src, dst, True, stranger)
    shares, cash, whale_shares = token.balanceOf(attacker), husd.balanceOf(attacker), token.balanceOf(whale)
    attacker_position = tuple(market.position(BTC, attacker))
    pin()
    expected = _expected(outer, hooked, keeper)
    pin()
    tx = call()

    # The hook fired once, in the transfer chosen, and the re-entrant call reverted on the guard.
    assert (attacker.attempts(), attacker.successes()) == (1, 0)
    assert "0x" + bytes(attacker.lastResult()).hex() == error_selector(token.ReentrancyGuardReentrantCall)
    assert tuple(market.position(BTC, attacker)) == attacker_position
    assert token.balanceOf(whale) == whale_shares
    if outer == "deposit":
        assert token.balanceOf(attacker) - shares == expected
        assert cash - husd.balanceOf(attacker) == to_units(5_000)
    elif outer == "redeem":
        assert husd.balanceOf(attacker) - cash == expected
        assert shares - token.balanceOf(attacker) == shares // 2
    elif outer == "ripcord":
        assert husd.balanceOf(attacker) - cash == expected == to_units(10)
        assert tx.events.filter(token.RipcordBountyPaid)[0].amount == expected
        assert token.balanceOf(attacker) == shares
    else:
        assert tx.events.filter(token.Rebalanced)[0].sizeDelta == expected
        assert (token.balanceOf(attacker), husd.balanceOf(attacker)) == (shares, cash)
        assert husd.balanceOf(token) == 0  # the idle collateral went into margin


def test_control__same_calls_without_a_guarded_caller__succeed(hooked, stranger):
    """The re-entrant calls are valid on their own: they fail only because of the guard."""
    husd, market, token, attacker = hooked
    # Armed on a plain transfer to the attacker: no protocol call is in progress.
    _arm(hooked, Reentry.VENUE_MODIFY, "any", "attacker", True, stranger)
    husd.mint(attacker, 1, sender=stranger)
    _arm(hooked, Reentry.DEPOSIT, "any", "attacker", True, stranger)
    husd.mint(attacker, 1, sender=stranger)
    assert (attacker.attempts(), attacker.successes()) == (2, 2)
    assert market.position(BTC, attacker).size == 10**15
