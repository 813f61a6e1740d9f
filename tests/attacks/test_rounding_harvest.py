"""Harvesting rounding: many tiny deposits and redemptions at one price and one timestamp.

Every amount rounds in favour of the holders who stay (shares down on entry, assets down on exit, the
exit trade charged a unit more, dust below a hedge's cost joining unhedged), so a loop of tiny operations
can only lose: the attacker's collateral never rises above what it started with, and no other holder's
claim (convertToAssets of their shares) ever falls.
"""

import random

from levtoken.units import to_units

ROUNDS = 50


def test_tiny_deposits_and_redeems__attacker_never_gains_holders_never_lose(
    create_token, deposit, fund, usd, whale, fish, stranger, fee_recipient, pin
):
    token = create_token(3)
    deposit(token, whale, 100_000)
    deposit(token, fish, 1_000)
    attacker = stranger
    start = fund(attacker, 1, token)  # 1 USD = 1,000,000 units, enough for every round
    holders = [whale, fish, fee_recipient]
    shares = {h: token.balanceOf(h) for h in holders}
    pin()
    claims = {h: token.convertToAssets(shares[h]) for h in holders}
    rng = random.Random(7)
    amounts = [1, 2, 3, 10, 999, 1_000] + [rng.randint(1, 1_000) for _ in range(ROUNDS - 6)]
    redeemed = 0

    for amount in amounts:
        pin()
        token.deposit(amount, attacker, sender=attacker)
        held = token.balanceOf(attacker)
        pin()
        if token.previewRedeem(held) > 0:
            token.redeem(held, attacker, attacker, sender=attacker)
            redeemed += 1
        assert usd.balanceOf(attacker) <= start
        for h in holders:
            if h != fee_recipient:  # the fee recipient's shares grow with every fee; its claim is checked below
                assert token.balanceOf(h) == shares[h]
            pin()
            now = token.convertToAssets(shares[h])
            assert now >= claims[h], f"claim of {h} fell from {claims[h]} to {now}"
            claims[h] = now

    # Whatever the attacker still holds, exiting now cannot bring back more than was put in.
    held = token.balanceOf(attacker)
    pin()
    assert usd.balanceOf(attacker) + token.previewRedeem(held) <= start
    assert redeemed > ROUNDS // 2  # most rounds really went in and out
    print(f"rounding harvest: {ROUNDS} rounds, {redeemed} redeemed, attacker lost "
          f"{start - usd.balanceOf(attacker) - token.previewRedeem(held)} units")
