"""The first-depositor inflation attack: a dust deposit, a large donation, then a victim's deposit."""

import pytest

from levtoken.units import to_units


@pytest.mark.parametrize("donate_to", ["token", "venue_account"])
def test_deposit__after_donation_attack__victim_keeps_value_attacker_loses(
    token, fund, usd, venue, stranger, fish, donate_to, pin
):
    attacker, victim = stranger, fish
    dust = fund(attacker, "0.000001", token)
    assert dust == 1
    token.deposit(dust, attacker, sender=attacker)
    assert token.balanceOf(attacker) > 0

    donation = fund(attacker, 10_000, venue)
    if donate_to == "token":
        usd.transfer(token, donation, sender=attacker)
    else:
        venue.depositMargin(1, token, donation, sender=attacker)
    assert token.equity() > donation

    paid = fund(victim, 1_000, token)
    pin()
    tx = token.deposit(paid, victim, sender=victim)
    shares = token.balanceOf(victim)
    assert shares > 0
    hedge = tx.events.filter(token.HedgeExecuted)[0]
    contribution = paid - hedge.hedgeCost
    # The victim's shares and the mint fee's are worth the contribution, to a unit.
    assert token.convertToAssets(shares + hedge.feeShares) >= contribution - 1
    assert token.convertToAssets(shares) >= contribution * 999 // 1000 - 1

    # The attacker gets back well under what was put in: the virtual shares keep about half the donation.
    pin()
    back = token.previewRedeem(token.balanceOf(attacker))
    assert back < (dust + donation) * 6 // 10


def test_deposit__tiny_victim_after_donation__still_gets_shares(token, fund, usd, stranger, fish):
    token.deposit(fund(stranger, "0.000001", token), stranger, sender=stranger)
    usd.transfer(token, fund(stranger, 100_000), sender=stranger)
    token.deposit(fund(fish, 1, token), fish, sender=fish)
    shares = token.balanceOf(fish)
    assert shares > 0
    assert token.convertToAssets(shares) >= to_units("0.99")
