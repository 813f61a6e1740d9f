"""The first-depositor inflation attack: a dust deposit, a large donation, then a victim's deposit."""

import pytest

from levtoken.units import to_units
from tests.utils.requests import settlement_of


@pytest.mark.parametrize("donate_to", ["token", "venue_account"])
def test_deposit__after_donation_attack__victim_keeps_value_attacker_loses(
    token, deposit, fund, request_deposit, settle, usd, venue, stranger, fish, donate_to, pin
):
    attacker, victim = stranger, fish
    deposit(token, attacker, "0.000001")
    assert token.balanceOf(attacker) > 0
    dust = 1

    donation = fund(attacker, 10_000, venue)
    if donate_to == "token":
        usd.transfer(token, donation, sender=attacker)
    else:
        venue.depositMargin(1, token, donation, sender=attacker)
    assert token.equity() > donation

    paid = request_deposit(token, victim, 1_000)
    t = settlement_of(token, settle(token)[0])
    token.deposit(paid, victim, sender=victim)
    shares = token.balanceOf(victim)
    assert shares == t.shares_out > 0
    contribution = paid - t.cost_d
    # The victim's shares and the mint fee's are worth the contribution, to a unit.
    pin()
    assert token.convertToAssets(shares + t.mint_fee) >= contribution - 1
    assert token.convertToAssets(shares) >= contribution * 999 // 1000 - 1

    # The attacker's shares are worth well under what was put in: the virtual shares keep about half the donation.
    assert token.convertToAssets(token.balanceOf(attacker)) < (dust + donation) * 6 // 10


def test_deposit__tiny_victim_after_donation__still_gets_shares(token, deposit, fund, usd, stranger, fish):
    deposit(token, stranger, "0.000001")
    usd.transfer(token, fund(stranger, 100_000), sender=stranger)
    deposit(token, fish, 1)
    shares = token.balanceOf(fish)
    assert shares > 0
    assert token.convertToAssets(shares) >= to_units("0.99")
