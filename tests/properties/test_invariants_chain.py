"""Invariants 1, 5 and 6 of test_invariants.py on the real contracts: about ten random steps (mints,
redeems, transfers, price moves within the band, time, keeper rebalances) on anvil, each followed by
the checks on the chain's own state."""

from __future__ import annotations

import random

import pytest
from eth_utils import to_hex

from levtoken.units import DAY, to_units

STEPS = 10


def _chain_redeem_error(chain, token, owner, shares) -> str | None:
    """eth_call of redeem(shares, owner, owner) from owner: None on success, else the revert data."""
    data = token.redeem.encode_input(shares, owner, owner)
    response = chain.provider.web3.provider.make_request(
        "eth_call", [{"from": str(owner.address), "to": str(token.address), "data": to_hex(data)}, "latest"]
    )
    if "error" in response:
        return str(response["error"].get("data") or response["error"])
    return None


@pytest.mark.parametrize("seed", [1, 2])
def test_invariants_on_chain(seed, chain, gov, keeper, whale, fish, stranger, fee_recipient, usd, feed, venue,
                             create_token, fund, set_price):
    rng = random.Random(seed)
    token = create_token(3)
    holders = [whale, fish, stranger, fee_recipient]
    for account in holders:
        fund(account, 1_000_000, token)
    token.deposit(to_units(50_000), whale, sender=whale)
    price = 30_000

    def check(label: str) -> None:
        # 1. claims never exceed equity
        equity = int(token.equity())
        claims = sum(int(token.convertToAssets(token.balanceOf(h))) for h in holders)
        assert claims <= max(equity, 0), f"{label}: invariant 1: claims {claims} > equity {equity}"
        # 5. supply consistency and the venue's collateral conservation (the token is its only trader)
        balances = [int(token.balanceOf(h)) for h in holders]
        assert int(token.totalSupply()) == sum(balances), f"{label}: invariant 5: totalSupply != sum of balances"
        margin = int(venue.position(1, token).margin)
        assert int(usd.balanceOf(venue)) == int(venue.poolCash()) + margin, (
            f"{label}: invariant 5: venue collateral {usd.balanceOf(venue)} != poolCash {venue.poolCash()} + margin {margin}"
        )
        # 6. every holder can redeem the whole balance now (equity stays positive: moves are within the band)
        for h, balance in zip(holders, balances):
            if balance == 0:
                continue
            error = _chain_redeem_error(chain, token, h, balance)
            if error is not None:
                assert int(token.previewRedeem(balance)) == 0, (
                    f"{label}: invariant 6: {h.address} cannot redeem {balance}: {error}"
                )

    check("start")
    for step in range(STEPS):
        kind = rng.choice(["deposit", "redeem", "transfer", "price", "time", "keeper"])
        who = rng.choice(holders)
        if kind == "deposit":
            token.deposit(to_units(rng.randint(10, 100_000)), who, sender=who)
        elif kind == "redeem":
            shares = int(token.balanceOf(who)) // rng.choice([1, 2, 3])
            if shares and int(token.previewRedeem(shares)) > 0:
                token.redeem(shares, who, who, sender=who)
        elif kind == "transfer":
            token.transfer(rng.choice(holders), int(token.balanceOf(who)) // 2, sender=who)
        elif kind == "price":
            price = price * (10_000 + rng.randint(-800, 800)) // 10_000  # within a 3x token's band
            set_price(price)
        elif kind == "time":
            chain.pending_timestamp += rng.choice([3_600, DAY, DAY + 1])
            set_price(price)  # re-published: never stale
        if kind in ("price", "time", "keeper") and int(token.rebalanceStatus().action) != 0:
            token.rebalance(sender=keeper)
        check(f"step {step} ({kind})")
